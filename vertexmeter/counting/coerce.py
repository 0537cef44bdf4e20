"""Accept what Python users hold: a REST dict, a JSON string, or google-genai `types` objects."""

from __future__ import annotations

import json
from typing import Any

from vertexmeter.errors import invalid_argument


def _dump(obj: Any) -> Any:
    """google-genai types are pydantic models with camelCase aliases; dump them to REST JSON."""
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_none=True, by_alias=True)
    return obj


def _looks_like_content(obj: Any) -> bool:
    return isinstance(obj, dict) and "parts" in obj and set(obj) <= {"parts", "role"}


def coerce_request(request: Any) -> Any:
    """A request body as plain JSON data. Content objects (or lists of them) become `{"contents": …}`."""
    if isinstance(request, str | bytes | bytearray):
        try:
            request = json.loads(request)
        except ValueError as exc:
            raise invalid_argument(f"Invalid JSON payload received. {exc}.", "request") from exc
    if isinstance(request, list | tuple):
        items = [_dump(item) for item in request]
        if all(_looks_like_content(item) for item in items):
            return {"contents": items}
        raise invalid_argument(
            "A request is a JSON object (a countTokens / computeTokens body) or a list of Content objects.",
            "request",
        )
    request = _dump(request)
    if _looks_like_content(request):
        return {"contents": [request]}
    return request
