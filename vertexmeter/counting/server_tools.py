"""The calls a model writes to server-side tools that run (googleSearch, urlContext), billed in its output
(accounting.yaml `server_tool_calls`, docs/counting.md "Server-side tool calls")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from vertexmeter.registry import ServerToolCall, server_tool_call_rules
from vertexmeter.requests import Prompt, response_tool_runs
from vertexmeter.tokenizing import Tokenizer

# A URL in a user's text, up to whitespace or a bracket or quote; trailing sentence punctuation is not part of it.
_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+")
_URL_TAIL = ".,;:!?"


def server_tool_rules(prompt: Prompt, call: str) -> list[ServerToolCall]:
    """The rules for the server-side tools `prompt` declares, on its API, call and generation."""
    declared = {name for tool in prompt.tools for name in tool}
    generation = prompt.model.rules_generation
    return [
        rule
        for rule in server_tool_call_rules()
        if rule.tool in declared
        and prompt.api in rule.apis
        and call in rule.calls
        and generation in rule.generations
        and (not rule.models or prompt.model.rules_id.startswith(rule.models))
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

    @property
    def reason(self) -> str:
        tools = ", ".join(rule.tool for rule in self.unknown)
        counted = (
            f"; the count takes a typical call ({self.estimate} tokens: one query of the typical length)"
            if self.estimate
            else ""
        )
        return (
            f"The response is given without its metadata: whether {tools} ran, and what its call listed, is not "
            f"in it; a call is billed in candidatesTokenCount (accounting.yaml server_tool_calls), here up to "
            f"{self.unknown_high} tokens{counted}. Give the whole GenerateContentResponse for the exact count."
        )


def server_tool_calls(
    prompt: Prompt, response: Any, tokenizer: Tokenizer, call: str, answer_tokens: int = 0
) -> ServerToolCalls:
    """The output tokens of the calls the model wrote to the request's server-side tools (see ServerToolCalls).
    `answer_tokens`: the response's own text tokens (a follow-up's estimate may depend on them)."""
    rules = server_tool_rules(prompt, call)
    if not rules:
        return ServerToolCalls()
    runs = response_tool_runs(response)
    tokens, high, estimate = 0, 0, 0
    applied: list[ServerToolCall] = []
    unknown: list[ServerToolCall] = []
    for rule in rules:
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
                high += max(tokenizer.count(rule.text([text, text])) + rule.per_call, typical)
                estimate += typical
                unknown.append(rule)
        for items in lists:
            tokens += tokenizer.count(rule.text(items)) + rule.per_call
        if lists:
            applied.append(rule)
    return ServerToolCalls(tokens, tuple(applied), high, tuple(unknown), estimate)
