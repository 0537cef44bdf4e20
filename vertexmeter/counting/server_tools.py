"""The calls a model writes to server-side tools that run (googleSearch, urlContext), billed in its output
(accounting.yaml `server_tool_calls`, docs/counting.md "Server-side tool calls")."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from vertexmeter.datafiles import load_yaml
from vertexmeter.requests import Prompt, response_tool_runs
from vertexmeter.tokenizing import Tokenizer

# A URL in a user's text, up to whitespace or a bracket or quote; trailing sentence punctuation is not part of it.
_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+")
_URL_TAIL = ".,;:!?"
_FALLBACKS = {"user_text_urls"}
_BOUNDS = {"last_user_text_twice"}
_READS = {"webSearchQueries", "retrievedUrls"}


@dataclass(frozen=True)
class ServerToolCall:
    """One accounting.yaml `server_tool_calls` entry."""

    apis: tuple[str, ...]
    calls: tuple[str, ...]
    generations: tuple[str, ...]
    tool: str  # the Tool field that declares it: googleSearch, urlContext
    template: str  # the call's text; `{list}` is the JSON list of what it ran
    reads: str  # what the response says it ran: webSearchQueries or retrievedUrls
    request_fallback: str | None
    # Without a response that says what ran: the call is not counted, and the output's bounds reach this text
    # ("last_user_text_twice": the call listing the user's last text twice), None: no bounds.
    bound_without_response: str | None
    confidence: str
    evidence: tuple[str, ...]

    def text(self, items: list[str]) -> str:
        return self.template.replace("{list}", json.dumps(items, ensure_ascii=False))


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def _optional(value: Any) -> str | None:
    return str(value) if value else None


@cache
def _rules() -> tuple[ServerToolCall, ...]:
    raw = load_yaml("vertexmeter.registry", "accounting.yaml").get("server_tool_calls") or []
    out = []
    for entry in raw:
        rule = ServerToolCall(
            apis=_strings(entry["api"]),
            calls=_strings(entry["call"]),
            generations=_strings(entry["generations"]),
            tool=str(entry["tool"]),
            template=str(entry["template"]),
            reads=str(entry["reads"]),
            request_fallback=_optional(entry.get("request_fallback")),
            bound_without_response=_optional(entry.get("bound_without_response")),
            confidence=str(entry.get("confidence", "")),
            evidence=_strings(entry.get("evidence") or []),
        )
        if "{list}" not in rule.template or rule.reads not in _READS or not rule.evidence:
            raise ValueError(
                f"accounting.yaml server_tool_calls: {rule.tool} needs a {{list}} template, reads, evidence"
            )
        if rule.request_fallback is not None and rule.request_fallback not in _FALLBACKS:
            raise ValueError(f"accounting.yaml server_tool_calls: unknown request_fallback {rule.request_fallback!r}")
        if rule.bound_without_response is not None and rule.bound_without_response not in _BOUNDS:
            raise ValueError(f"accounting.yaml server_tool_calls: unknown bound {rule.bound_without_response!r}")
        out.append(rule)
    return tuple(out)


def server_tool_rules(prompt: Prompt, call: str) -> list[ServerToolCall]:
    """The rules for the server-side tools `prompt` declares, on its API, call and generation."""
    declared = {name for tool in prompt.tools for name in tool}
    generation = prompt.model.rules_generation
    return [
        rule
        for rule in _rules()
        if rule.tool in declared and prompt.api in rule.apis and call in rule.calls and generation in rule.generations
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
    `unknown_high`: how many more tokens calls the response cannot tell may bill (0 when none)."""

    tokens: int = 0
    rules: tuple[ServerToolCall, ...] = ()
    unknown_high: int = 0
    unknown: tuple[ServerToolCall, ...] = ()

    @property
    def reason(self) -> str:
        tools = ", ".join(rule.tool for rule in self.unknown)
        return (
            f"The response is given without its metadata: whether {tools} ran, and what its call listed, is not "
            f"in it; a call is billed in candidatesTokenCount (accounting.yaml server_tool_calls), here up to "
            f"{self.unknown_high} tokens. Give the whole GenerateContentResponse for the exact count."
        )


def server_tool_calls(prompt: Prompt, response: Any, tokenizer: Tokenizer, call: str) -> ServerToolCalls:
    """The output tokens of the calls the model wrote to the request's server-side tools (see ServerToolCalls)."""
    rules = server_tool_rules(prompt, call)
    if not rules:
        return ServerToolCalls()
    runs = response_tool_runs(response)
    tokens, high = 0, 0
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
                high += tokenizer.count(rule.text([text, text]))
                unknown.append(rule)
        for items in lists:
            tokens += tokenizer.count(rule.text(items))
        if lists:
            applied.append(rule)
    return ServerToolCalls(tokens, tuple(applied), high, tuple(unknown))
