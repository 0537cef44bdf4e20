"""A proto3-JSON parser as lenient as Google's front end, and as strict where it is strict.

It accepts camelCase and snake_case keys, a single object where a list is expected, int64 as a
string, and standard or URL-safe base64 with or without padding. It refuses unknown keys and
ill-typed values with Google's wording and the snake_case field path. The result is a canonical
dict: camelCase keys, bytes decoded, numbers as numbers, repeated fields as lists.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from functools import cache
from typing import Any

from vertexmeter.errors import FieldViolation, VertexMeterError, invalid_argument
from vertexmeter.requests.decode import MAX_DEPTH, too_deep
from vertexmeter.requests.schema import (
    ALL_ENUMS,
    MESSAGES,
    NUMBERED_ENUMS,
    SCALAR_TYPE_NAMES,
    Field,
)

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_DURATION = re.compile(r"^(-)?(\d+)(?:\.(\d{1,9}))?s$")
_B64_ALPHABET = re.compile(r"^[A-Za-z0-9+/\-_]*={0,2}$")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def lookup_field(message: str, key: str) -> Field | None:
    return _fields_by_key(message).get(key)


@cache
def _fields_by_key(message: str) -> dict[str, Field]:
    """A message's fields by either name: the JSON name first, else the first field of that proto name (one dict
    look-up per key, where a snake_case key scanned the message's fields)."""
    fields = MESSAGES[message]
    by_key = {f.proto_name: f for f in reversed(fields.values())}
    by_key.update(fields)
    return by_key


def parse_message(message: str, obj: Any, path: str = "", depth: int = 0) -> dict[str, Any]:
    """Parse one JSON object as `message`; raise INVALID_ARGUMENT on anything Google would refuse."""
    if depth > MAX_DEPTH:
        raise too_deep(path or "request")
    if not isinstance(obj, dict):
        raise _invalid_value(path, f"type.googleapis.com/{message}", obj)
    out: dict[str, Any] = {}
    fields = _fields_by_key(message)
    for key, value in obj.items():
        spec = fields.get(key)
        if spec is None:
            where = f" at '{path}'" if path else ""
            raise VertexMeterError(
                "INVALID_ARGUMENT",
                f'Invalid JSON payload received. Unknown name "{key}"{where}: Cannot find field.',
                [
                    FieldViolation(
                        path, f'Invalid JSON payload received. Unknown name "{key}"{where}: Cannot find field.'
                    )
                ],
            )
        name, kind = spec.json_name, spec.kind
        if name in out:
            raise invalid_argument(
                f"Invalid JSON payload received. Duplicate field \"{key}\" at '{_join(path, spec.proto_name)}'.",
                _join(path, spec.proto_name),
            )
        if value is None:  # proto3 JSON: null means "default"
            continue
        if kind == "string" and not spec.repeated and type(value) is str:
            out[name] = value  # the commonest field (what _parse_value gives back), read in place
            continue
        field_path = f"{path}.{spec.proto_name}" if path else spec.proto_name
        # A message (repeated or not) is parsed here, as _parse_value would: one call fewer per message.
        if spec.repeated:
            items = value if isinstance(value, list) else [value]
            if kind in MESSAGES:
                for item in items:
                    if isinstance(item, list):
                        # A list inside a repeated message field is read as its items: the Gemini API answered
                        # `"parts": [[{text}, {text}, {file_data}]]` as three parts (llmrb/llm's cassettes,
                        # docs/media.md).
                        items = [inner for item in items for inner in (item if isinstance(item, list) else [item])]
                        break
                out[name] = [parse_message(kind, item, f"{field_path}[{i}]", depth + 1) for i, item in enumerate(items)]
            else:
                out[name] = [_parse_value(spec, item, f"{field_path}[{i}]", depth + 1) for i, item in enumerate(items)]
        elif kind in MESSAGES:
            out[name] = parse_message(kind, value, field_path, depth + 1)
        else:
            out[name] = _parse_value(spec, value, field_path, depth + 1)
    return out


def _parse_value(spec: Field, value: Any, path: str, depth: int) -> Any:
    kind = spec.kind
    if kind in MESSAGES:
        return parse_message(kind, value, path, depth)
    if kind == "bytes":  # the kinds are apart: the commonest (thought signatures, payloads) are tested first
        return decode_bytes(value, path)
    if kind == "struct":
        if not isinstance(value, dict):
            raise _invalid_value(path, SCALAR_TYPE_NAMES["struct"], value)
        _check_depth(value, path, depth)
        return value
    if kind.startswith("map:"):
        if not isinstance(value, dict):
            raise _invalid_value(path, f"map<string, {kind[4:]}>", value)
        return {k: parse_message(kind[4:], v, f'{path}["{k}"]', depth + 1) for k, v in value.items()}
    if kind.startswith("enum:"):
        return _parse_enum(kind[5:], value, path)
    if kind == "string":
        if not isinstance(value, str):
            raise _invalid_value(path, "TYPE_STRING", value)
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _invalid_value(path, "TYPE_BOOL", value)
        return value
    if kind in ("int32", "int64"):
        return _parse_int(kind, value, path)
    if kind == "double":
        return _parse_double(value, path)
    if kind == "duration":
        return _parse_duration(value, path)
    if kind == "value":
        _check_depth(value, path, depth)
        return value
    raise AssertionError(f"unhandled field kind {kind}")


def _check_depth(value: Any, path: str, depth: int) -> None:
    """Refuses a value with a node below MAX_DEPTH. Only containers are stacked: a scalar's level is its parent's
    plus one, so a non-empty container at MAX_DEPTH is the refusal a deeper scalar would be."""
    stack = [(value, depth)]
    while stack:
        item, level = stack.pop()
        if level > MAX_DEPTH:
            raise too_deep(path)
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level == MAX_DEPTH and item:
            raise too_deep(path)
        stack.extend((v, level + 1) for v in children if isinstance(v, dict | list))


def _invalid_value(path: str, type_name: str, value: Any) -> VertexMeterError:
    shown = json.dumps(value, ensure_ascii=False)
    if len(shown) > 100:
        shown = shown[:97] + "..."
    where = f"'{path}'" if path else "the request"
    message = f"Invalid value at {where} ({type_name}), {shown}"
    return invalid_argument(message, path or "request", message)


def _parse_enum(enum: str, value: Any, path: str) -> str | int:
    """A name, or an integer (proto3 JSON takes enum numbers; proto3 enums are open, so any int32 is kept):
    read as its name where the numbering is known (schema.NUMBERED_ENUMS), else kept as the number."""
    names = ALL_ENUMS[enum]
    if isinstance(value, bool):
        raise _invalid_value(path, f"TYPE_ENUM {enum}", value)
    if isinstance(value, int):
        if enum in NUMBERED_ENUMS and 0 <= value < len(names):
            return names[value]
        if enum not in NUMBERED_ENUMS and _INT32[0] <= value <= _INT32[1]:
            return value
    elif isinstance(value, str):
        # Google's parser takes enum names in lower case too (OpenAPI's type names in its own REST samples; "low"
        # thinking levels and "none" calling modes in recorded answers: elmr-0040, rllm-0600, rllm-0620).
        candidate = value.upper()
        if candidate in names:
            return candidate
    raise invalid_argument(
        f"Invalid value at '{path}' (type.googleapis.com/{enum}), {json.dumps(value)}. "
        f"Valid values: {', '.join(names)}.",
        path,
    )


def _parse_int(kind: str, value: Any, path: str) -> int:
    low, high = _INT32 if kind == "int32" else _INT64
    result: int | None = None
    if isinstance(value, bool):
        result = None
    elif isinstance(value, int):
        result = value
    elif isinstance(value, float) and value.is_integer():
        result = int(value)
    elif isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        result = int(value.strip())
    if result is None or not low <= result <= high:
        raise _invalid_value(path, f"TYPE_{kind.upper()}", value)
    return result


def _parse_double(value: Any, path: str) -> float:
    if isinstance(value, bool):
        raise _invalid_value(path, "TYPE_DOUBLE", value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
        if value in special:
            return special[value]
        try:
            return float(value)
        except ValueError:
            pass
    raise _invalid_value(path, "TYPE_DOUBLE", value)


def _parse_duration(value: Any, path: str) -> float:
    """Duration strings ("1.5s"); the result is seconds as a float for media arithmetic only."""
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match:
            seconds = int(match.group(2)) + int((match.group(3) or "0").ljust(9, "0")) / 1e9
            return -seconds if match.group(1) else seconds
    raise invalid_argument(
        f"Invalid value at '{path}' (type.googleapis.com/google.protobuf.Duration), {json.dumps(value)}",
        path,
    )


def decode_bytes(value: Any, path: str) -> bytes:
    """Standard or URL-safe base64, with or without padding, as proto3 JSON allows."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        text = "".join(value.split())
        if _B64_ALPHABET.match(text) and len(text.rstrip("=")) % 4 != 1:
            unpadded = text.rstrip("=")
            padded = unpadded + "=" * (-len(unpadded) % 4)
            try:
                return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
            except (binascii.Error, ValueError):
                pass
    shown = value if isinstance(value, str) else json.dumps(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    message = f"Invalid value at '{path}' (TYPE_BYTES), Base64 decoding failed for \"{shown}\""
    raise invalid_argument(message, path, message)
