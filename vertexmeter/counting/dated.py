"""Weights of accounting.yaml's tables that were different before a day (accounting.yaml `dated_weights`): the
service changed how it bills a request shape, and the recorded answers date the change."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from vertexmeter.datafiles import load_yaml
from vertexmeter.registry import Accounting

# The tables whose weights a dated entry may replace, and the Accounting field that holds each.
_TABLES = {"tool_templates": "tools", "function_history": "function_history"}


@dataclass(frozen=True)
class DatedWeights:
    """One accounting.yaml `dated_weights` entry: `weights` of `table` in force up to and including `until`."""

    apis: tuple[str, ...]
    calls: tuple[str, ...]
    generations: tuple[str, ...]
    until: dt.date
    table: str
    weights: tuple[tuple[str, int], ...]
    confidence: str
    evidence: tuple[str, ...]


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


@cache
def dated_weights() -> tuple[DatedWeights, ...]:
    out = []
    for entry in load_yaml("vertexmeter.registry", "accounting.yaml").get("dated_weights") or []:
        table = str(entry["table"])
        if table not in _TABLES:
            raise ValueError(f"accounting.yaml dated_weights: unknown table {table!r}")
        weights = tuple((str(k), int(v)) for k, v in (entry.get("weights") or {}).items())
        if not weights or not entry.get("evidence"):
            raise ValueError("accounting.yaml dated_weights: each entry needs weights and evidence")
        until = entry["until"]
        out.append(
            DatedWeights(
                apis=_strings(entry["api"]),
                calls=_strings(entry["call"]),
                generations=_strings(entry["generations"]),
                until=until if isinstance(until, dt.date) else dt.date.fromisoformat(str(until)),
                table=table,
                weights=weights,
                confidence=str(entry.get("confidence", "")),
                evidence=_strings(entry["evidence"]),
            )
        )
    return tuple(out)


def dated_entries(rules: Accounting, day: dt.date | None) -> list[DatedWeights]:
    """The dated entries in force for `rules`' API, call and generation on `day` (None: today, which none is)."""
    if day is None:
        return []
    return [
        entry
        for entry in dated_weights()
        if day <= entry.until
        and rules.api in entry.apis
        and rules.call in entry.calls
        and rules.generation in entry.generations
    ]


def rules_on(rules: Accounting, day: dt.date | None) -> Accounting:
    """`rules` with the weights of the dated entries in force on `day`."""
    return rules_with(rules, dated_entries(rules, day))


def rules_with(rules: Accounting, entries: list[DatedWeights]) -> Accounting:
    """`rules` with the weights of `entries` in place of today's."""
    for entry in entries:
        name = _TABLES[entry.table]
        table = dataclasses.replace(getattr(rules, name), **dict(entry.weights))
        rules = dataclasses.replace(rules, **{name: table})
    return rules


@dataclass(frozen=True)
class DatedRule:
    """A dated accounting.yaml entry without weights (e.g. `thoughts_in_candidates`): in force up to `until`."""

    apis: tuple[str, ...]
    calls: tuple[str, ...]
    generations: tuple[str, ...]
    until: dt.date
    confidence: str
    evidence: tuple[str, ...]


@cache
def _dated_rules(section: str) -> tuple[DatedRule, ...]:
    out = []
    for entry in load_yaml("vertexmeter.registry", "accounting.yaml").get(section) or []:
        if not entry.get("evidence"):
            raise ValueError(f"accounting.yaml {section}: each entry needs evidence")
        until = entry["until"]
        out.append(
            DatedRule(
                apis=_strings(entry["api"]),
                calls=_strings(entry["call"]),
                generations=_strings(entry["generations"]),
                until=until if isinstance(until, dt.date) else dt.date.fromisoformat(str(until)),
                confidence=str(entry.get("confidence", "")),
                evidence=_strings(entry["evidence"]),
            )
        )
    return tuple(out)


def dated_rule(section: str, api: str, call: str, generation: str, day: dt.date | None) -> DatedRule | None:
    """The entry of accounting.yaml `section` in force for this API, call and generation on `day` (None: today)."""
    if day is None:
        return None
    return next(
        (
            rule
            for rule in _dated_rules(section)
            if day <= rule.until and api in rule.apis and call in rule.calls and generation in rule.generations
        ),
        None,
    )
