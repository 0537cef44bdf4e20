"""vertexmeter's own request extensions: a body with one extra object of options beside Google's fields."""

from __future__ import annotations

from typing import Any

from vertexmeter.errors import invalid_argument


def split_options(body: Any, name: str, allowed: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Google's request, the options) of `body`; unknown option keys are refused by name."""
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload received. The request body must be a JSON object.", "request")
    options = body.get(name) or {}
    if not isinstance(options, dict):
        raise invalid_argument(f"{name} must be an object.", name)
    for key in options:
        if key not in allowed:
            raise invalid_argument(f"Unknown key '{name}.{key}'. Valid keys: {', '.join(allowed)}.", f"{name}.{key}")
    return {k: v for k, v in body.items() if k != name}, options
