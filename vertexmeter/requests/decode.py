"""The one JSON decoder of request bodies: library, CLI and server all call `decode_json`.

One policy, Google's where it is known: UTF-8 only; `NaN` / `Infinity` literals refused (they are not
JSON; proto3 JSON writes those doubles as the strings "NaN" / "Infinity"); nesting bounded before the
recursive decoder runs (no RecursionError); numbers beyond a double's range refused; `\\ud800`-style
escapes that leave a lone surrogate refused (no tokenizer can encode one); an empty body is the empty
message, as Google's front end reads it. Every refusal is INVALID_ARGUMENT ("Invalid JSON payload
received. …"), never another exception.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

from vertexmeter.errors import VertexMeterError, invalid_argument

MAX_DEPTH = 100  # Google's JSON parser refuses deeper nesting too.
_MAX_NUMBER_CHARS = 400  # longer than any double's shortest form with exponent; bounds int() work
_DOUBLE_MAX = 1.7976931348623157e308
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def too_deep(path: str | None = None) -> VertexMeterError:
    return invalid_argument(f"Invalid JSON payload received. Nesting is deeper than {MAX_DEPTH} levels.", path)


def invalid_json(reason: str) -> VertexMeterError:
    return invalid_argument(f"Invalid JSON payload received. {reason}")


def has_lone_surrogate(text: str) -> bool:
    """Whether `text` holds a surrogate code point: what strict UTF-8 alone refuses, so encoding it is
    the test (several times the regex's speed on a 2 KB text; an ASCII text, flagged by CPython, needs
    no look at all)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def decode_json(raw: bytes | bytearray | memoryview | str, *, decimals: bool = False) -> Any:
    """The JSON value of a request body, or INVALID_ARGUMENT. Empty (or blank) input is `{}`.

    decimals: fractional numbers as `Decimal` (money in scenario files and billed logs), same limits.
    """
    if isinstance(raw, str):
        text = raw
    else:
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise invalid_json(f"Invalid UTF-8 at byte {exc.start}.") from None
    if not text or text.isspace():  # (isspace stops at the first other character; strip() copies)
        return {}
    _check_nesting(text)
    try:
        if text.startswith("\ufeff"):  # what json.loads says of it (a decoder's own decode does not look)
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = (_DECIMAL_DECODER if decimals else _DECODER).decode(text)
    except VertexMeterError:
        raise
    except RecursionError:  # unreachable after _check_nesting; kept so the contract cannot break
        raise too_deep() from None
    except ValueError as exc:  # JSONDecodeError
        raise invalid_json(f"{exc}.") from None
    # Strict UTF-8 decoding never yields a surrogate: only a str argument or a \u escape can hold one.
    maybe_lone = _SURROGATE_ESCAPE.search(text) or (isinstance(raw, str) and has_lone_surrogate(text))
    if maybe_lone and _holds_lone_surrogate(value):
        raise invalid_json("A \\u escape leaves a lone UTF-16 surrogate; the text is not valid Unicode.")
    return value


def require_object(value: Any) -> dict[str, Any]:
    """A request body is a JSON object (what Google's front end takes on the wire)."""
    if not isinstance(value, dict):
        raise invalid_argument("Invalid JSON payload received. The request body must be a JSON object.", "request")
    return value


def _check_nesting(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH by a scan that skips strings (bodies with few brackets skip it)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise too_deep()
        elif token in ("]", "}"):
            depth -= 1


def _refuse_constant(name: str) -> Any:
    raise invalid_json(f'{name} is not a JSON value (proto3 JSON writes it as the string "{name}").')


def _float(literal: str) -> float:
    value = float(literal) if len(literal) <= _MAX_NUMBER_CHARS else math.inf
    if math.isinf(value):
        raise invalid_json(f"The number {_shown(literal)} is out of range for a double.")
    return value


def _decimal(literal: str) -> Decimal:
    _float(literal)  # the same range as a double
    return Decimal(literal)


def _int(literal: str) -> int | float:
    if len(literal) > _MAX_NUMBER_CHARS or abs(value := int(literal)) > _DOUBLE_MAX:
        raise invalid_json(f"The number {_shown(literal)} is out of range for a double.")
    return value


# Built once: json.loads with hooks builds a decoder and its scanner on every call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_float, parse_int=_int)
_DECIMAL_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_decimal, parse_int=_int)


def _shown(literal: str) -> str:
    return literal if len(literal) <= 40 else f"{literal[:20]}…({len(literal)} digits)"


def _holds_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if has_lone_surrogate(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
