"""The server's own methods on Google's request bodies: an options object beside Google's fields
(`usageOptions` of `:usageMetadata`, `estimateOptions` of `:estimateCost`), split off here so that the
library functions take plain arguments and return typed results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vertexmeter.counting import UsageResult, interactions_rest, interactions_result, usage
from vertexmeter.errors import invalid_argument
from vertexmeter.media import MediaOptions
from vertexmeter.requests import require_object

# The `usageOptions` of :usageMetadata.
USAGE_OPTION_KEYS = ("response", "asOf", "cachedContentTokens", "history", "streamed", "explain")
# The `usageOptions` of interactions:usage: the same name and keys, those `interactions_usage` takes.
INTERACTIONS_OPTION_KEYS = ("response", "history", "asOf")


def split_options(body: Any, name: str, allowed: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Google's request, the options) of `body`; unknown option keys are refused by name."""
    body = require_object(body)
    options = body.get(name)
    if options is None:  # absent, or JSON null: the default, as proto3 JSON reads a message field
        options = {}
    if not isinstance(options, dict):
        raise invalid_argument(f"{name} must be an object.", name)
    for key in options:
        if key not in allowed:
            raise invalid_argument(f"Unknown key '{name}.{key}'. Valid keys: {', '.join(allowed)}.", f"{name}.{key}")
    return {k: v for k, v in body.items() if k != name}, options


@dataclass(frozen=True)
class UsageAnswer:
    """What `:usageMetadata` answers: the typed usage, and whether its JSON explains itself."""

    usage: UsageResult
    explain: bool = False

    def to_json(self) -> dict[str, Any]:
        """`{"usageMetadata": …, "modelVersion": …}`, as a GenerateContentResponse carries it."""
        return {"usageMetadata": self.usage.to_rest(explain=self.explain), "modelVersion": self.usage.model_version}


def usage_from_body(
    model: str, body: Any, *, api: str = "vertex", media_options: MediaOptions | None = None
) -> UsageAnswer:
    """The `:usageMetadata` answer of a generateContent body plus optional `usageOptions` {response, asOf,
    cachedContentTokens, history, streamed, explain}."""
    request, options = split_options(body, "usageOptions", USAGE_OPTION_KEYS)
    result = usage(
        model,
        request,
        api=api,
        response=options.get("response"),
        as_of=options.get("asOf"),
        media_options=media_options,
        cached_content_tokens=options.get("cachedContentTokens"),
        history=options.get("history"),
        streamed=boolean_option(options, "usageOptions", "streamed"),
    )
    explain = boolean_option(options, "usageOptions", "explain") or False
    return UsageAnswer(result, explain)


def boolean_option(options: dict[str, Any], name: str, key: str) -> bool | None:
    """`options[key]`: true, false, or None when not given; anything else is refused with its field path."""
    value = options.get(key)
    if value is not None and not isinstance(value, bool):
        field = "".join("_" + c.lower() if c.isupper() else c for c in name)
        raise invalid_argument(f"{name}.{key} is true or false, not {value!r}.", f"{field}.{key}")
    return value


@dataclass(frozen=True)
class InteractionsAnswer:
    """What `interactions:usage` answers: the typed bill, written in the Interactions API's `usage` shape."""

    usage: UsageResult

    def to_json(self) -> dict[str, Any]:
        return interactions_rest(self.usage)


def interactions_from_body(body: Any, *, media_options: MediaOptions | None = None) -> InteractionsAnswer:
    """The `interactions:usage` answer of an Interactions API body (`POST /v1beta/interactions`) plus optional
    `usageOptions` {response, history, asOf}: the interaction's own answer and the conversation's earlier ones,
    each an Interactions answer's JSON (`interactions_usage`)."""
    request, options = split_options(body, "usageOptions", INTERACTIONS_OPTION_KEYS)
    result = interactions_result(
        request,
        response=options.get("response"),
        history=options.get("history"),
        as_of=options.get("asOf"),
        media_options=media_options,
    )
    return InteractionsAnswer(result)
