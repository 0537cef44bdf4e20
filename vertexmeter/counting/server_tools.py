"""The calls a model writes to server-side tools that run (googleSearch, urlContext), billed in its output
(accounting.yaml `server_tool_calls`, docs/counting.md "Server-side tool calls"): a known call's text, or bounds
where the call's size is not known (a 3.5 search)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from vertexmeter.registry import ServerToolCall, server_tool_call_rules
from vertexmeter.requests import Prompt, plain, response_candidates, response_tool_runs, snake_case
from vertexmeter.tokenizing import Tokenizer

# A URL in a user's text, up to whitespace or a bracket or quote; trailing sentence punctuation is not part of it.
_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+")
_URL_TAIL = ".,;:!?"
# The end of a sentence: its punctuation followed by whitespace or the end of the line (not a version's "4.0.6").
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")


def server_tool_rules(prompt: Prompt, call: str, day: dt.date | None = None) -> list[ServerToolCall]:
    """The rules for the server-side tools `prompt` declares, on its API, call and generation, on `day` (a rule with
    a `since` holds from that day; None: today). A rule that reads toolCall parts applies undeclared too: a part
    shows its tool ran."""
    declared = {name for tool in prompt.tools for name in tool}
    generation = prompt.model.rules_generation
    on = day or dt.date.today()
    return [
        rule
        for rule in server_tool_call_rules()
        if (rule.tool in declared or rule.reads == "tool_calls")
        and prompt.api in rule.apis
        and call in rule.calls
        and generation in rule.generations
        and (not rule.models or prompt.model.rules_id.startswith(rule.models))
        and (rule.since is None or rule.since <= on)
    ]


def request_urls(prompt: Prompt) -> list[str]:
    """The distinct URLs of the request's user texts, in order."""
    out: list[str] = []
    for turn in prompt.contents:
        if turn.role not in ("user", ""):
            continue
        for part in turn.parts:
            text = part.get("text") if isinstance(part, dict) else None
            for match in _URL.findall(text if isinstance(text, str) else ""):
                url = match.rstrip(_URL_TAIL)
                if url and url not in out:
                    out.append(url)
    return out


def last_user_text(prompt: Prompt) -> str:
    """The text parts of the request's last user Content that has any, joined."""
    for turn in reversed(prompt.contents):
        if turn.role not in ("user", ""):
            continue
        texts = [part["text"] for part in turn.parts if isinstance(part.get("text"), str)]
        if any(texts):
            return "".join(texts)
    return ""


def _field(message: Any, name: str) -> Any:
    """A field of a JSON object by its camelCase or snake_case name (None when absent or not an object)."""
    if not isinstance(message, dict):
        return None
    return message[name] if name in message else message.get(snake_case(name))


def response_citations(response: Any) -> dict[int, list[str]]:
    """Per candidate index: one item per grounding chunk a groundingSupport of its groundingMetadata cites
    (`start:end:chunk`, each once over a stream's chunks). Only for a whole response (or its chunks)."""
    out: dict[int, list[str]] = {}
    chunks = plain(response, "response")
    for chunk in chunks if isinstance(chunks, list) else [chunks]:
        candidates = _field(chunk, "candidates")
        for k, candidate in enumerate(candidates if isinstance(candidates, list) else []):
            index = _field(candidate, "index")
            cited = out.setdefault(index if isinstance(index, int) else k, [])
            supports = _field(_field(candidate, "groundingMetadata"), "groundingSupports")
            for support in supports if isinstance(supports, list) else []:
                segment = _field(support, "segment")
                start, end = _field(segment, "startIndex") or 0, _field(segment, "endIndex") or 0
                indices = _field(support, "groundingChunkIndices")
                for chunk_index in indices if isinstance(indices, list) else []:
                    item = f"{start}:{end}:{chunk_index}"
                    if item not in cited:
                        cited.append(item)
    return out


def response_grounding_chunks(response: Any) -> dict[int, int]:
    """Per candidate index: how many groundingChunks its groundingMetadata lists (a stream's chunks: the most any
    one states, as each repeats the list so far)."""
    out: dict[int, int] = {}
    chunks = plain(response, "response")
    for chunk in chunks if isinstance(chunks, list) else [chunks]:
        candidates = _field(chunk, "candidates")
        for k, candidate in enumerate(candidates if isinstance(candidates, list) else []):
            index = _field(candidate, "index")
            listed = _field(_field(candidate, "groundingMetadata"), "groundingChunks")
            key = index if isinstance(index, int) else k
            out[key] = max(out.get(key, 0), len(listed) if isinstance(listed, list) else 0)
    return out


def answer_segments(response: Any) -> int:
    """The lines and sentences of a response's answer text (its thought parts left out) that hold a letter or digit:
    where a grounded answer may cite its sources; at least 1."""
    count = 0
    for parts, _ in response_candidates(response):
        text = "".join(p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought"))
        for line in text.splitlines():
            count += sum(1 for piece in _SENTENCE_END.split(line) if any(ch.isalnum() for ch in piece))
    return max(count, 1)


@dataclass(frozen=True)
class ServerToolCalls:
    """What a response's server-side tool calls bill: `tokens` (in candidatesTokenCount), the rules applied, and
    for calls the response cannot tell: `estimate`, the tokens of the typical call counted in the point value, and
    `unknown_high`, the most they may bill (the bounds reach it; 0 when every call is known)."""

    tokens: int = 0
    rules: tuple[ServerToolCall, ...] = ()
    unknown_high: int = 0
    unknown: tuple[ServerToolCall, ...] = ()
    estimate: int = 0
    # Why the bounds of calls whose size is not known (`reads: citations`) reach where they do.
    bounded_reasons: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        # The rules bounded for want of the response's metadata alone (the others say their own reason).
        tools = ", ".join(rule.tool for rule in self.unknown if rule.bound_without_response == "last_user_text_twice")
        if not tools:
            return " ".join(self.bounded_reasons)
        counted = (
            f"; the count takes a typical call ({self.estimate} tokens: one query of the typical length)"
            if self.estimate
            else ""
        )
        return " ".join(
            (
                f"The response is given without its metadata: whether {tools} ran, and what its call listed, is not "
                f"in it; a call is billed in candidatesTokenCount (accounting.yaml server_tool_calls), here up to "
                f"{self.unknown_high} tokens{counted}. Give the whole GenerateContentResponse for the exact count.",
                *self.bounded_reasons,
            )
        )


def server_tool_calls(
    prompt: Prompt,
    response: Any,
    tokenizer: Tokenizer,
    call: str,
    answer_tokens: int = 0,
    day: dt.date | None = None,
) -> ServerToolCalls:
    """The output tokens of the calls the model wrote to the request's server-side tools (see ServerToolCalls).
    `answer_tokens`: the response's own text tokens (a follow-up's estimate may depend on them); `day`: the day of
    the answer."""
    rules = server_tool_rules(prompt, call, day)
    if not rules:
        return ServerToolCalls()
    runs = response_tool_runs(response)
    tokens, high, estimate = 0, 0, 0
    applied: list[ServerToolCall] = []
    unknown: list[ServerToolCall] = []
    reasons: list[str] = []
    for rule in rules:
        if rule.reads in ("citations", "grounding_chunks", "tool_calls"):
            if rule.reads != "tool_calls":
                span = _citation_bounds(rule, runs, response)
            else:
                span = _call_bounds(rule, prompt, response)
            if span is not None:
                estimate += span[0]
                high += span[1]
                unknown.append(rule)
                reasons.append(span[2])
            continue
        if runs is not None:
            lists = [ran[rule.reads] for ran in runs.values() if ran[rule.reads]]
        elif rule.request_fallback == "user_text_urls":
            urls = request_urls(prompt)
            lists = [urls] if urls else []
        else:
            lists = []
            if rule.bound_without_response == "last_user_text_twice":
                text = last_user_text(prompt)
                first_turn = all(turn.role not in ("model", "assistant") for turn in prompt.contents)
                # A follow-up answered at length searched in every recorded case; a short one restated.
                reports = 0 < rule.estimate_follow_up_min_tokens <= answer_tokens
                typical = (
                    tokenizer.count(rule.text([""])) + rule.estimate_query_tokens + rule.per_call
                    if rule.estimate_query_tokens and (rule.estimate_when == "always" or first_turn or reports)
                    else 0
                )
                # An answer that reports many findings searched more: the bounds widen with its lines and sentences.
                widen = rule.per_segment_high * answer_segments(response) if rule.per_segment_high else 0
                high += max(tokenizer.count(rule.text([text, text])) + rule.per_call, typical) + widen
                estimate += typical
                unknown.append(rule)
            elif rule.bound_without_response == "answer_segments":
                span = _segment_bounds(rule, response)
                high += span[1]
                unknown.append(rule)
                reasons.append(span[2])
        if rule.per_call_high is not None:
            # A call text near what bills, not exactly it: counted, and bounded from no call to per_call_high over it.
            sizes = [tokenizer.count(rule.text(items)) for items in lists]
            estimate += sum(size + rule.per_call for size in sizes)
            high += sum(size + rule.per_call_high for size in sizes)
            if sizes:
                unknown.append(rule)
                reasons.append(_near_reason(rule, sum(sizes)))
            continue
        for items in lists:
            tokens += tokenizer.count(rule.text(items)) + rule.per_call
        if lists:
            applied.append(rule)
    return ServerToolCalls(tokens, tuple(applied), high, tuple(unknown), estimate, tuple(reasons))


def _citation_bounds(
    rule: ServerToolCall, runs: dict[int, dict[str, list[str]]] | None, response: Any
) -> tuple[int, int, str] | None:
    """(the tokens the point value counts, the most the calls may bill, why) for a tool whose call's size is not
    known; None when a whole response says the tool did not run."""
    where = f"accounting.yaml server_tool_calls ({rule.tool})"
    if runs is None:
        return _segment_bounds(rule, response)
    if rule.reads == "grounding_chunks":
        found = response_grounding_chunks(response)
        ran = [index for index in runs if found.get(index)]
        what = "retrieved"
    else:
        found = {index: len(items) for index, items in response_citations(response).items()}
        ran = [index for index, r in runs.items() if r["webSearchQueries"] or found.get(index)]
        what = "cites"
    if not ran:
        return None
    cited = sum(found.get(index, 0) for index in ran)
    # A run that cites nothing is bounded as one citation: no recorded answer shows what it bills.
    high = rule.per_item_high * max(cited, 1)
    return (
        rule.per_item * cited,
        high,
        f"{rule.reason} The response's grounding {what} {cited} chunk(s): the count takes {rule.per_item} "
        f"tokens for each ({rule.per_item * cited}), the bounds none up to {high} ({where}).",
    )


def _segment_bounds(rule: ServerToolCall, response: Any) -> tuple[int, int, str]:
    """(0, the most the calls may bill, why) for a response given without its metadata: up to `per_segment_high`
    for each line or sentence of its answer."""
    segments = answer_segments(response)
    high = rule.per_segment_high * segments
    return (
        0,
        high,
        f"{rule.reason} The response is given without its metadata, so whether {rule.tool} ran is not in it: "
        f"the count takes no call, the bounds up to {rule.per_segment_high} tokens for each of the answer's "
        f"{segments} lines or sentences ({high}; accounting.yaml server_tool_calls ({rule.tool})). Give the whole "
        "GenerateContentResponse for narrower bounds.",
    )


def _near_reason(rule: ServerToolCall, size: int) -> str:
    """Why a call text that is only near what bills (`size` tokens as written) is bounded."""
    return (
        f"{rule.reason} The count takes the call `{rule.template}` with what the response says ran ({size} tokens"
        f"{f' + {rule.per_call}' if rule.per_call else ''}), the bounds none up to {rule.per_call_high} over it "
        f"(accounting.yaml server_tool_calls ({rule.tool}))."
    )


def _call_bounds(rule: ServerToolCall, prompt: Prompt, response: Any) -> tuple[int, int, str] | None:
    """(the tokens the point value counts, the most the calls may bill, why) for the toolCall parts of `rule`'s tool
    types a response shows; a text cannot show them: bounded by one call when the request asks for the server-side
    invocations, else None (none shown, none billed)."""
    where = f"accounting.yaml server_tool_calls ({rule.tool})"
    if isinstance(response, str):
        declared = any(rule.tool in tool for tool in prompt.tools)
        if not declared or prompt.tool_config.get("includeServerSideToolInvocations") is not True:
            return None
        return (
            0,
            rule.per_item_high,
            f"{rule.reason} The response is given as text, without the toolCall parts the request asks for "
            f"(includeServerSideToolInvocations): the count takes none, the bounds up to one call "
            f"({rule.per_item_high}; {where}). Give the whole GenerateContentResponse for narrower bounds.",
        )
    calls = sum(
        1
        for parts, _ in response_candidates(response)
        for part in parts
        if isinstance(tool_call := part.get("toolCall"), dict) and tool_call.get("toolType") in rule.tool_types
    )
    if not calls:
        return None
    return (
        rule.per_item * calls,
        rule.per_item_high * calls,
        f"{rule.reason} The response shows {calls} toolCall part(s): the count takes {rule.per_item} tokens for "
        f"each ({rule.per_item * calls}), the bounds none up to {rule.per_item_high * calls} ({where}).",
    )
