"""The bill of a Gemini Interactions API request (`POST /v1beta/interactions`), in the Interactions usage shape.

The request is read as the Gemini API generateContent body it bills like (`requests.interactions_request`) and
counted by `usage`; the answer is written with the Interactions usage fields (`total_input_tokens`, ...). The
mapping of the fields is what recorded answers show side by side (docs/counting.md, "Interactions API").
"""

from __future__ import annotations

from typing import Any

from vertexmeter.counting.usage import UsageResult, usage
from vertexmeter.media import MediaOptions
from vertexmeter.requests import interactions_request, interactions_response, plain
from vertexmeter.vocabulary import GEMINI

# generateContent usageMetadata field -> the Interactions usage field it is reported as.
_FIELDS = {
    "promptTokenCount": "total_input_tokens",
    "candidatesTokenCount": "total_output_tokens",
    "thoughtsTokenCount": "total_thought_tokens",
    "toolUsePromptTokenCount": "total_tool_use_tokens",
    "cachedContentTokenCount": "total_cached_tokens",
    "totalTokenCount": "total_tokens",
}
# The Interactions API's usage counts, in its order.
INTERACTIONS_USAGE_FIELDS = tuple(_FIELDS.values())


def _as_response(answer: Any, path: str) -> dict[str, Any]:
    """An interaction's answer as a generateContent response, its stated thoughts as usageMetadata."""
    answer = plain(answer, path)
    response = interactions_response(answer)
    stated = answer.get("usage") if isinstance(answer, dict) else None
    if isinstance(stated, dict) and isinstance(stated.get("total_thought_tokens"), int):
        response["usageMetadata"] = {"thoughtsTokenCount": stated["total_thought_tokens"]}
    return response


def interactions_history(history: Any) -> list[dict[str, Any]] | None:
    """The conversation's earlier Interactions answers (their JSON; one answer or a list) as the generateContent
    responses `usage(history=...)` takes, their stated thoughts as usageMetadata; None stays None."""
    if history is None:
        return None
    items = plain(history, "history")
    items = items if isinstance(items, list) else [items]
    return [_as_response(item, f"history[{i}]") for i, item in enumerate(items)]


def interactions_result(
    body: Any,
    *,
    response: Any = None,
    history: Any = None,
    as_of: Any = None,
    media_options: MediaOptions | None = None,
) -> UsageResult:
    """The typed bill (`UsageResult`, Gemini API) of an Interactions request body; arguments as `interactions_usage`."""
    model, generate_body = interactions_request(plain(body, "body"))
    earlier = interactions_history(history)
    return usage(
        model,
        generate_body,
        api=GEMINI,
        response=None if response is None else _as_response(response, "response"),
        history=earlier,
        as_of=as_of,
        media_options=media_options,
    )


def interactions_usage(
    body: Any,
    *,
    response: Any = None,
    history: Any = None,
    as_of: Any = None,
    media_options: MediaOptions | None = None,
) -> dict[str, Any]:
    """The `usage` an Interactions API answer reports for `body` (a `POST /v1beta/interactions` request body).

    response: the interaction's answer (its JSON, with `steps`): its model output and calls fill
        total_output_tokens; its stated total_thought_tokens is kept.
    history: the earlier interactions' answers of the conversation (their JSON): the thoughts their signatures
        stand for, replayed in `input`, are billed exactly from their stated total_thought_tokens; without them
        the answer carries `bounds` (docs/counting.md, "Replayed thoughts").
    as_of: the date whose rules apply; default: today's service.
    A request naming `previous_interaction_id` (a history kept on Google's server) is refused with why.
    """
    result = interactions_result(body, response=response, history=history, as_of=as_of, media_options=media_options)
    return interactions_rest(result)


def interactions_rest(result: UsageResult) -> dict[str, Any]:
    """A bill (`UsageResult`) written as the Interactions API's `usage` JSON; `bounds` (not Google's) on a count
    that cannot be exact offline."""
    rest = result.to_rest()
    out: dict[str, Any] = {name: rest.get(field, 0) for field, name in _FIELDS.items()}
    out["input_tokens_by_modality"] = [
        {"modality": d["modality"].lower(), "tokens": d["tokenCount"]} for d in rest.get("promptTokensDetails", [])
    ]
    if "rawPromptTokenCount" in rest:
        out["raw_prompt_token"] = rest["rawPromptTokenCount"]
    if "serviceTier" in rest:
        out["service_tier"] = rest["serviceTier"]
    if "bounds" in rest:
        bounds = {_FIELDS[k]: v for k, v in rest["bounds"].items() if k in _FIELDS}
        out["bounds"] = {**bounds, "reason": rest["bounds"].get("reason", "")}
    return out
