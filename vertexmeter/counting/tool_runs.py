"""The run of a built-in tool billed inside the prompt (accounting.yaml `tool_runs_in_prompt`, docs/counting.md
"Built-in tool runs in the prompt"): on the Gemini API's 3.x a tool that runs server-side for the answer bills what it
ran (search results, fetched pages, the code's run) in promptTokenCount. How much is not in the request, so such a
prompt is not exact: it carries bounds from the point value (the tool may not run) up to the entry's `per_run` per
run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from vertexmeter.registry import ToolRunBounds, tool_run_bounds_for
from vertexmeter.requests import Prompt, response_shows_tool_run
from vertexmeter.vocabulary import SERVER_TOOL_PARTS


@dataclass(frozen=True)
class ToolRunSpan:
    """How far a prompt's bill can lie above its point value because built-in tools may run for the answer: up to
    `high` more tokens, from `rules` (the entries of the declared `tools`) and `replayed` earlier runs in the
    request."""

    rules: tuple[ToolRunBounds, ...]
    tools: tuple[str, ...]
    replayed: int
    high: int

    @property
    def reason(self) -> str:
        reasons = " ".join(dict.fromkeys(rule.reason for rule in self.rules))
        again = f" and {self.replayed} earlier run(s) the request replays" if self.replayed else ""
        return (
            f"The request declares {', '.join(self.tools)}: when the service runs it for the answer, promptTokenCount "
            f"also bills the run, which the request does not hold (here up to {self.high} tokens: the answer's own "
            f"run{again}; accounting.yaml tool_runs_in_prompt). {reasons}"
        )


def tool_run_span(prompt: Prompt, call: str, day: dt.date | None, response: Any = None) -> ToolRunSpan | None:
    """The bounds the request's built-in tools put on its prompt, or None: no entry for the declared tools (2.x,
    Vertex, no built-in tool), or a whole response given that shows no tool ran."""
    declared = {name for tool in prompt.tools for name in tool}
    rules = tuple(
        rule
        for rule in tool_run_bounds_for(prompt.api, call, prompt.model.rules_generation, day)
        if declared & set(rule.tools)
    )
    if not rules or (response is not None and response_shows_tool_run(response) is False):
        return None
    replayed = sum(
        1
        for turn in prompt.contents
        if turn.role == "model" and any(field in part for part in turn.parts for field in SERVER_TOOL_PARTS)
    )
    most = max(rule.per_run for rule in rules)
    high = sum(rule.per_run for rule in rules) + most * replayed
    tools = tuple(tool for rule in rules for tool in rule.tools if tool in declared)
    return ToolRunSpan(rules, tools, replayed, high)
