"""One line of a batch file -> (its key, the model it names, the request body), or a refusal.

Formats (docs/batch.md):
- Vertex AI batch prediction: `{"request": {GenerateContentRequest}, ...other fields}`;
- Gemini API Batch: `{"key": "...", "request": {...}}` (also `custom_id`, as in Claude/OpenAI files);
- a bare request line: `{"contents": [...]}` or `{"instances": [...]}`;
- legacy PaLM / text-bison batch lines: one instance per line, `{"prompt": "..."}` (any instance field
  of the model's :predict schema).
A request may name its model (`"model": "models/gemini-2.5-flash"` or a Vertex resource name); that
wins over the job's model. A `{"request": …}` line may carry `"history"`: the conversation's earlier
generateContent responses, for the thoughts its replayed thought signatures bill (docs/counting.md), and
`"config"`: google-genai's GenerateContentConfig as a dict, joined to the request as generate_content joins it.
A request with `input` and no `contents` is a Gemini Interactions API body (`POST /v1beta/interactions`): kept
whole and read as the generateContent body it bills like when the line is counted; its `"history"` holds the
conversation's earlier Interactions answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from vertexmeter.counting import text_turns
from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.requests import decode_json

KEY_FIELDS = ("key", "custom_id")
REQUEST_FIELDS = ("contents", "instances")
INTERACTIONS_FIELD = "input"  # an Interactions API body's prompt (it has no `contents`)
# The first field of each legacy :predict instance schema that marks a line as one instance.
INSTANCE_FIELDS = (
    "prompt",
    "prefix",
    "messages",
    "content",
    "context",
    "examples",
    "suffix",
    "title",
    "text",
    "image",
    "video",
    "task_type",
)


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs ~1 us a line more
class BatchLine:
    """A parsed line: its key (if any), the fields kept from the line, the model to count with, the request."""

    model: str | None
    request: dict[str, Any]
    key: tuple[str, Any] | None = None  # (field name, value)
    kept: dict[str, Any] = field(default_factory=dict)
    history: Any = None  # the conversation's earlier responses (replayed thought signatures)
    config: Any = None  # a GenerateContentConfig dict (docs/inputs.md)
    interactions: bool = False  # `request` is an Interactions API body, whole (its model in it)


class LineError(Exception):
    """A refused line: Google's error, a reason for the summary, and the key when it could be read."""

    def __init__(self, error: VertexMeterError, reason: str, key: tuple[str, Any] | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.reason = reason
        self.key = key


UNDECODED: Any = object()  # `read_line`'s answer for a line only decode_json may read


def parse_line(raw: bytes | str, default_model: str | None, value: Any = UNDECODED) -> BatchLine:
    """Read one JSONL line; raise LineError (INVALID_ARGUMENT) when it is not a batch line. `value`: the line's
    JSON value as `read_line` gave it, when it did (what decode_json gives for the line)."""
    if value is not UNDECODED:
        obj = value
    else:
        if not raw or raw.isspace():  # a blank body is the empty message, but a blank batch line is a mistake
            raise LineError(invalid_argument("Invalid JSON payload received. the line is empty."), "INVALID_JSON")
        try:
            obj = decode_json(raw)  # the one decoder: a line is a request body like any other
        except VertexMeterError as error:
            raise LineError(error, "INVALID_JSON") from None
    if not isinstance(obj, dict):
        raise LineError(
            invalid_argument(
                f"Invalid JSON payload received. A batch line must be a JSON object, got {type(obj).__name__}."
            ),
            "INVALID_LINE",
        )
    key = None
    for name in KEY_FIELDS:
        if name in obj:
            key = (name, obj[name])
            break
    wrapped = "request" in obj
    if wrapped:
        request = obj["request"]
        if not isinstance(request, dict):
            raise LineError(invalid_argument("`request` must be a JSON object.", "request"), "INVALID_LINE", key)
        kept = (
            {k: v for k, v in obj.items() if k not in ("request", "history", "config") and (key is None or k != key[0])}
            if len(obj) > 1
            else {}
        )
    elif any(name in obj for name in REQUEST_FIELDS) or INTERACTIONS_FIELD in obj:
        request, kept = obj, {}
    elif any(name in obj for name in INSTANCE_FIELDS):
        request, kept = {"instances": [obj]}, {}
    else:
        fields = ", ".join(sorted(obj)[:8]) or "none"
        raise LineError(
            invalid_argument(
                'Not a batch line: expected {"request": {...}} (Vertex AI / Gemini API batch), a bare request '
                f'with `contents` or `instances`, or a PaLM instance like {{"prompt": ...}}; fields found: {fields}.'
            ),
            "INVALID_LINE",
            key,
        )
    if INTERACTIONS_FIELD in request and not any(name in request for name in REQUEST_FIELDS):
        return _interactions_line(obj, request, default_model, key, kept if wrapped else {})
    model = request.get("model")
    if model is not None:
        if not isinstance(model, str):
            raise LineError(invalid_argument("`model` must be a string.", "model"), "INVALID_LINE", key)
        request = {k: v for k, v in request.items() if k != "model"}
    model = model or default_model
    if not model:
        raise LineError(
            invalid_argument("The line names no model and the job has none: give -m MODEL.", "model"),
            "UNKNOWN_MODEL",
            key,
        )
    if wrapped and len(obj) > 1:
        return BatchLine(model, request, key, kept, obj.get("history"), obj.get("config"))
    return BatchLine(model, request, key, kept)


def _interactions_line(
    obj: dict[str, Any], request: dict[str, Any], default_model: str | None, key: tuple[str, Any] | None, kept: Any
) -> BatchLine:
    """An Interactions API body's line: the body whole, the job's model filled in when it names none."""
    model = request.get("model", default_model)
    if model is None:
        raise LineError(
            invalid_argument("The line names no model and the job has none: give -m MODEL.", "model"),
            "UNKNOWN_MODEL",
            key,
        )
    if not isinstance(model, str):
        raise LineError(invalid_argument("`model` must be a string.", "model"), "INVALID_LINE", key)
    if "config" in obj and "request" in obj:
        message = "`config` is a GenerateContentConfig: an Interactions body carries its settings itself."
        raise LineError(invalid_argument(message, "config"), "INVALID_LINE", key)
    history = obj.get("history") if "request" in obj else None
    return BatchLine(model, {**request, "model": model}, key, kept, history, None, True)


# ---- lines read by orjson; the plain line, read without building the request ----------------------------
# The commonest batch line is one user turn (or a conversation of user and model turns) of non-empty text parts,
# with at most a system instruction of text parts and a generationConfig of scalars (and flat objects of them):
#   {"request": {"contents": [{"role": "user", "parts": [{"text": …}, …]}, …], "systemInstruction": {"parts": […]},
#                "generationConfig": {…}}, "key": …, "labels": {…}}
# (or the same request bare). `read_line` reads every line with orjson, gives such a line's texts and what
# else counting needs, and any other line's JSON value for `parse_line`. Only where decode_json would give the
# same: orjson and decode_json give the same value for strings, 64-bit integers, booleans, null, objects and
# arrays (orjson refuses every lone surrogate, control character, BOM, NaN and non-UTF-8 byte that decode_json
# refuses); a float can come from a literal that decode_json reads otherwise (an integer beyond 64 bits, a
# literal of over 400 characters), and decode_json refuses nesting beyond its limit: a line holding a float, or
# nested deeper than `ORJSON_DEPTH`, is decoded by decode_json (and refused by it, in its own words).
ORJSON_DEPTH = 64  # at most decode_json's limit (100), which refuses deeper nesting
_LINE_SCALARS = (str, int, bool, type(None))  # (exact types: a bool is an int, a float is not taken as one)
_PLAIN_REQUEST_FIELDS = frozenset(("contents", "systemInstruction", "generationConfig", "model"))


@dataclass(slots=True)
class PlainLine:
    """A plain line's parts: what `parse_line` gives for it, with the request reduced to its texts."""

    model: str
    texts: list[str]  # the turns' texts, then the system instruction's (the order the full path counts them in)
    turns: tuple[tuple[str, int], ...]  # (role, text parts) of each turn
    system: int  # how many of the texts are the system instruction's
    config_key: bytes  # the generationConfig as JSON (b"" when the request has none): it keys the counting plan
    config: dict[str, Any] | None
    key: tuple[str, Any] | None = None
    kept: dict[str, Any] = field(default_factory=dict)


class _Float(Exception):
    """A float in a line read by orjson: decode_json reads the line instead."""


def read_line(raw: bytes, default_model: str | None) -> tuple[PlainLine | None, Any]:
    """(the plain line's parts or None, the line's JSON value or UNDECODED): see above. UNDECODED: orjson
    refused the line or may read it otherwise than decode_json, which `parse_line` then runs."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, UNDECODED  # decode_json says why, in its own words
    try:
        plain = _plain(value, default_model, floats=False)
    except _Float:
        try:
            value = decode_json(raw)
        except VertexMeterError:
            return None, UNDECODED
        return _plain(value, default_model, floats=True), value
    if plain is not None or _as_decode_json_reads(value, raw):
        return plain, value
    return None, UNDECODED


def plain_line(raw: bytes, default_model: str | None) -> PlainLine | None:
    """The plain line's parts (see above), else None (the line is not plain, or is refused: `parse_line` says why)."""
    return read_line(raw, default_model)[0]


def _as_decode_json_reads(value: Any, raw: bytes) -> bool:
    """Whether orjson's `value` of `raw` is what decode_json gives for it: no float, nesting within bounds."""
    if type(value) is not dict and type(value) is not list:
        return type(value) is not float
    if type(value) is dict:  # where floats mostly are (temperature, topP): looked at first
        request = value.get("request", value)
        config = request.get("generationConfig") if type(request) is dict else None
        if type(config) is dict and float in map(type, config.values()):
            return False
    if raw.count(b"[") + raw.count(b"{") <= ORJSON_DEPTH:  # (brackets in strings count too: an upper bound)
        stack = [value]
        while stack:
            item = stack.pop()
            for child in item.values() if type(item) is dict else item:
                kind = type(child)
                if kind is dict or kind is list:
                    stack.append(child)
                elif kind is float:
                    return False
        return True
    deep: list[tuple[Any, int]] = [(value, 1)]
    while deep:
        item, depth = deep.pop()
        if depth > ORJSON_DEPTH:
            return False
        for child in item.values() if type(item) is dict else item:
            kind = type(child)
            if kind is dict or kind is list:
                deep.append((child, depth + 1))
            elif kind is float:
                return False
    return True


def _plain(obj: Any, default_model: str | None, *, floats: bool) -> PlainLine | None:
    if type(obj) is not dict:
        return None
    key = None
    kept: dict[str, Any] = {}
    request = obj.get("request")
    if request is None:  # a bare request: nothing else on the line (a key would be an unknown request field)
        if "request" in obj or "contents" not in obj or not obj.keys() <= _PLAIN_REQUEST_FIELDS:
            return None
        request = obj
    else:
        if type(request) is not dict or "history" in obj or "config" in obj:
            return None
        for name in KEY_FIELDS:
            if name in obj:
                key = (name, obj[name])
                break
        for name, value in obj.items():
            if name == "request":
                continue
            if not _kept_value(value, floats):
                return None
            if key is None or name != key[0]:
                kept[name] = value
    if not request.keys() <= _PLAIN_REQUEST_FIELDS:
        return None
    found = text_turns(request)
    if found is None:
        return None
    texts, turns, system = found
    model = request.get("model")
    if "model" in request and type(model) is not str:  # (a null model stays in the request: the full path reads it)
        return None
    model = model or default_model
    if not model:
        return None
    config = request.get("generationConfig")
    if config is None:
        if "generationConfig" in request:
            return None
        return PlainLine(model, texts, turns, system, b"", None, key, kept)
    if type(config) is not dict:
        return None
    for value in config.values():
        if type(value) is dict:
            for item in value.values():
                if not _config_scalar(item, floats):
                    return None
        elif not _config_scalar(value, floats):
            return None
    try:
        config_key = orjson.dumps(config)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits (from decode_json): the full path reads it
        return None
    return PlainLine(model, texts, turns, system, config_key, config, key, kept)


def _config_scalar(value: Any, floats: bool) -> bool:
    if type(value) in _LINE_SCALARS:
        return True
    if type(value) is float:
        if not floats:
            raise _Float
        return True
    return False


def _kept_value(value: Any, floats: bool) -> bool:
    """A field kept from the line (a key, labels): scalars and flat string maps only."""
    if type(value) is dict:
        return all(type(item) is str for item in value.values())
    return _config_scalar(value, floats)
