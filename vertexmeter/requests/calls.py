"""Function calls streamed in pieces (toolConfig.functionCallingConfig.streamFunctionCallArguments): the call a run
of functionCall parts makes when joined, and which of its arguments came as pieces.

A streamed call comes as a part naming the function (`willContinue`: more follows), then parts whose functionCall
carries `partialArgs` (each `{jsonPath, stringValue | numberValue | boolValue | nullValue, willContinue}`: a string
value comes in pieces, then an empty piece that ends it) and an empty functionCall that ends the call. A response's
chunks, joined by candidate, hold them in order; an agent that keeps them replays them so in a model turn.
"""

from __future__ import annotations

import copy
import re
from typing import Any

_FIELD = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def streamed_piece(part: dict[str, Any]) -> bool:
    """A functionCall part that is a piece of a streamed call: it says more follows or carries partial args."""
    call = part.get("functionCall")
    return isinstance(call, dict) and ("partialArgs" in call or "willContinue" in call)


def join_streamed_calls(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`parts` with each streamed call's pieces joined into one functionCall part: the first piece's name, id and
    part fields (its thoughtSignature), `args` built from every piece's partialArgs by jsonPath (string pieces
    concatenated), and `partialArgs` keeping every piece (which arguments were streamed, `streamed_arguments`).
    Parts without a streamed piece come back as they are (the same list)."""
    if not any(streamed_piece(part) for part in parts):
        return parts
    out: list[dict[str, Any]] = []
    open_call: dict[str, Any] | None = None  # the joined call still expecting pieces
    for part in parts:
        if not streamed_piece(part) and not (open_call is not None and _empty_call(part)):
            open_call = None
            out.append(part)
            continue
        call = part["functionCall"]
        name = call.get("name")
        if open_call is None or (name and name != open_call["functionCall"].get("name")):
            joined_call = {key: value for key, value in call.items() if key not in ("partialArgs", "willContinue")}
            joined_call["args"] = copy.deepcopy(call.get("args") or {})  # the pieces nest into it
            joined_call["partialArgs"] = []
            open_call = {**{k: v for k, v in part.items() if k != "functionCall"}, "functionCall": joined_call}
            out.append(open_call)
        elif "thoughtSignature" in part and "thoughtSignature" not in open_call:
            open_call["thoughtSignature"] = part["thoughtSignature"]
        joined = open_call["functionCall"]
        for piece in call.get("partialArgs") or []:
            if isinstance(piece, dict):
                joined["partialArgs"].append(piece)
                _put(joined["args"], piece)
        if not call.get("willContinue"):
            open_call = None
    return out


def streamed_arguments(call: dict[str, Any]) -> tuple[int, int]:
    """(arguments streamed as string pieces, other arguments streamed) of a joined call: distinct jsonPaths, a path
    that had a stringValue piece counted as a string."""
    kinds: dict[str, bool] = {}
    for piece in call.get("partialArgs") or []:
        if isinstance(piece, dict):
            path = str(piece.get("jsonPath", ""))
            kinds[path] = kinds.get(path, False) or "stringValue" in piece
    strings = sum(kinds.values())
    return strings, len(kinds) - strings


def _empty_call(part: dict[str, Any]) -> bool:
    """The empty functionCall that ends a streamed call."""
    return set(part) == {"functionCall"} and part["functionCall"] == {}


def _value(piece: dict[str, Any]) -> Any:
    for key in ("stringValue", "numberValue", "boolValue"):
        if key in piece:
            return piece[key]
    return None  # nullValue


def _put(args: dict[str, Any], piece: dict[str, Any]) -> None:
    """Set the piece's value at its jsonPath in `args` (`$.a.b`, `$.a[0]`, `$['a']`); a string piece appends to the
    string there. A path that is not of that form is kept as one key."""
    path = str(piece.get("jsonPath", ""))
    rest = path[1:] if path.startswith("$") else path
    steps: list[str | int] = []
    position = 0
    for match in _FIELD.finditer(rest):
        if match.start() != position:
            steps = []
            break
        key, index, quoted, double = match.groups()
        steps.append(int(index) if index is not None else (key or quoted or double or ""))
        position = match.end()
    if not steps or position != len(rest):
        steps = [path]
    target: Any = args
    for step, after in zip(steps, [*steps[1:], None], strict=True):
        if after is None:
            break
        fresh: Any = [] if isinstance(after, int) else {}
        target = _child(target, step, fresh)
    last = steps[-1]
    value = _value(piece)
    current = _get(target, last)
    if isinstance(value, str) and isinstance(current, str):
        value = current + value
    _set(target, last, value)


def _get(target: Any, step: str | int) -> Any:
    if isinstance(target, dict):
        return target.get(step)
    if isinstance(target, list) and isinstance(step, int) and step < len(target):
        return target[step]
    return None


def _set(target: Any, step: str | int, value: Any) -> None:
    if isinstance(target, dict):
        target[step] = value
    elif isinstance(target, list) and isinstance(step, int):
        target.extend([None] * (step + 1 - len(target)))
        target[step] = value


def _child(target: Any, step: str | int, fresh: Any) -> Any:
    current = _get(target, step)
    if isinstance(current, dict | list):
        return current
    _set(target, step, fresh)
    return fresh
