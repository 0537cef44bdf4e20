"""Calls whose arguments were streamed in pieces (accounting.yaml `streamed_call_arguments`): what each streamed
argument bills beside the joined call, in a response's output and in a model turn of the history, and how far the
point value may lie above the bill where the recorded answers leave it open."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vertexmeter.registry import StreamedArguments, streamed_arguments_for
from vertexmeter.requests import Prompt, streamed_arguments
from vertexmeter.vocabulary import GENERATE_CONTENT


@dataclass(frozen=True)
class StreamedCalls:
    """What streamed arguments add (`tokens`), how many of those the bill may not hold (`spread`: the count lies in
    [point - spread, point]) and the entries that weighed them."""

    tokens: int
    spread: int
    rules: tuple[StreamedArguments, ...]

    @property
    def reason(self) -> str:
        return " ".join(
            f"{rule.reason} (accounting.yaml streamed_call_arguments)" for rule in self.rules if not rule.exact
        )


def streamed_call_tokens(calls: Iterable[dict[str, Any]], rules: tuple[StreamedArguments, ...]) -> StreamedCalls | None:
    """The weights of `rules` over the joined `calls` (functionCall values), or None when none was streamed."""
    tokens = spread = 0
    applied: list[StreamedArguments] = []
    for call in calls:
        if not call.get("partialArgs"):
            continue
        strings, others = streamed_arguments(call)
        for rule in rules:
            n = strings if rule.values == "string" else others
            if n:
                tokens += rule.per_argument * n
                spread += (rule.per_argument - rule.low) * n
                if rule not in applied:
                    applied.append(rule)
    return StreamedCalls(tokens, spread, tuple(applied)) if applied else None


def history_streamed_calls(prompt: Prompt, day: dt.date | None) -> StreamedCalls | None:
    """The streamed calls a generateContent request replays in its history, as `streamed_call_arguments` weighs them
    there (none for countTokens: no entry names it)."""
    rules = streamed_arguments_for(prompt.api, prompt.call, prompt.model.rules_generation, day, "history")
    if not rules:
        return None
    calls = (
        call for turn in prompt.contents for part in turn.parts if isinstance(call := part.get("functionCall"), dict)
    )
    return streamed_call_tokens(calls, rules)


def output_rules(prompt: Prompt, day: dt.date | None) -> tuple[StreamedArguments, ...]:
    """The `streamed_call_arguments` entries that weigh a response's streamed calls for this request's model."""
    return streamed_arguments_for(prompt.api, GENERATE_CONTENT, prompt.model.rules_generation, day, "output")
