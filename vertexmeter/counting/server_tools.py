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
    confidence: str
    evidence: tuple[str, ...]

    def text(self, items: list[str]) -> str:
        return self.template.replace("{list}", json.dumps(items, ensure_ascii=False))


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


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
            request_fallback=str(entry["request_fallback"]) if entry.get("request_fallback") else None,
            confidence=str(entry.get("confidence", "")),
            evidence=_strings(entry.get("evidence") or []),
        )
        if "{list}" not in rule.template or rule.reads not in _READS or not rule.evidence:
            raise ValueError(
                f"accounting.yaml server_tool_calls: {rule.tool} needs a {{list}} template, reads, evidence"
            )
        if rule.request_fallback is not None and rule.request_fallback not in _FALLBACKS:
            raise ValueError(f"accounting.yaml server_tool_calls: unknown request_fallback {rule.request_fallback!r}")
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


def server_tool_call_tokens(
    prompt: Prompt, response: Any, tokenizer: Tokenizer, call: str
) -> tuple[int, list[ServerToolCall]]:
    """(the output tokens of the calls the model wrote to the request's server-side tools, the rules applied)."""
    rules = server_tool_rules(prompt, call)
    if not rules:
        return 0, []
    runs = response_tool_runs(response)
    tokens, applied = 0, []
    for rule in rules:
        if runs is not None:
            lists = [ran[rule.reads] for ran in runs.values() if ran[rule.reads]]
        elif rule.request_fallback == "user_text_urls":
            urls = request_urls(prompt)
            lists = [urls] if urls else []
        else:
            lists = []
        for items in lists:
            tokens += tokenizer.count(rule.text(items))
        if lists:
            applied.append(rule)
    return tokens, applied
