"""`:estimateCost`: the request body and its `estimateOptions` -> `pricing.estimate` (a typed Estimate)."""

from __future__ import annotations

from typing import Any

from vertexmeter.media import MediaOptions
from vertexmeter.pricing import Estimate, estimate
from vertexmeter.server.adapters import boolean_option, split_options

# The `estimateOptions` of :estimateCost, name -> what it takes ("count": a whole number; else a string
# described so). The OpenAPI schema is built from this table.
ESTIMATE_OPTIONS: dict[str, str] = {
    "mode": "online (default), batch, flex, priority",
    "outputTokens": "count",
    "outputCharacters": "count",
    "thinkingTokens": "count",
    "date": "YYYY-MM-DD: price with the rates of that day",
    "asOf": "YYYY-MM-DD: count with the rules of that day",
    "cachedContentTokens": "count",
    "history": "the conversation's earlier generateContent responses (replayed thought signatures)",
    "streamed": "true or false: the conversation's earlier answers came from streamGenerateContent",
}
ESTIMATE_OPTION_KEYS = tuple(ESTIMATE_OPTIONS)


def estimate_from_body(
    model: str, body: Any, *, api: str = "vertex", media_options: MediaOptions | None = None
) -> Estimate:
    """The estimate `:estimateCost` answers (its JSON: `.to_json()`): `body` is a countTokens/generateContent
    body plus optional `estimateOptions` (ESTIMATE_OPTIONS). `api` (the route's) says how the body is counted
    and whose price list prices it. Errors are VertexMeterError (Google's error shape via `.to_json()`)."""
    request, options = split_options(body, "estimateOptions", ESTIMATE_OPTION_KEYS)
    return estimate(
        model,
        request,
        api=api,
        mode=options.get("mode", "online"),
        output_tokens=options.get("outputTokens"),
        output_characters=options.get("outputCharacters"),
        thinking_tokens=options.get("thinkingTokens"),
        date=options.get("date"),
        media_options=media_options,
        as_of=options.get("asOf"),
        cached_content_tokens=options.get("cachedContentTokens"),
        history=options.get("history"),
        streamed=boolean_option(options, "estimateOptions", "streamed"),
    )
