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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.requests import decode_json

KEY_FIELDS = ("key", "custom_id")
REQUEST_FIELDS = ("contents", "instances")
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


class LineError(Exception):
    """A refused line: Google's error, a reason for the summary, and the key when it could be read."""

    def __init__(self, error: VertexMeterError, reason: str, key: tuple[str, Any] | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.reason = reason
        self.key = key


def parse_line(raw: bytes | str, default_model: str | None) -> BatchLine:
    """Read one JSONL line; raise LineError (INVALID_ARGUMENT) when it is not a batch line."""
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
    elif any(name in obj for name in REQUEST_FIELDS):
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
