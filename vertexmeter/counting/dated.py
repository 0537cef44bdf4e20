"""Weights of accounting.yaml's tables that were different for a span of days (registry `dated_weights`): the
service changed how it bills a request shape, and the recorded answers date the change."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from vertexmeter.registry import (
    ACCOUNTING_WEIGHTS,
    DATED_TABLES,
    TABLE_FIELD_NAMES,
    Accounting,
    DatedWeights,
    dated_weights_on,
)


def dated_entries(rules: Accounting, day: dt.date | None) -> list[DatedWeights]:
    """The dated entries in force for `rules`' API, call and generation on `day` (None: today, which none is)."""
    return dated_weights_on(rules.api, rules.call, rules.generation, day)


def rules_on(rules: Accounting, day: dt.date | None) -> Accounting:
    """`rules` with the weights of the dated entries in force on `day`."""
    return rules_with(rules, dated_entries(rules, day))


def rules_with(rules: Accounting, entries: list[DatedWeights]) -> Accounting:
    """`rules` with the weights of `entries` in place of today's."""
    for entry in entries:
        name = DATED_TABLES[entry.table]
        if not name:  # Accounting's own weights (names checked when the data loads), each of its field's type
            fields = ACCOUNTING_WEIGHTS[entry.table]
            weights: dict[str, Any] = {
                fields[key]: type(getattr(rules, fields[key]))(value) for key, value in entry.weights
            }
            rules = dataclasses.replace(rules, **weights)
            continue
        current = getattr(rules, name)
        fields = TABLE_FIELD_NAMES.get(entry.table, {})
        # Each weight of its field's type (a flag such as json_schemas_counted is given as 0 / 1).
        table = dataclasses.replace(
            current,
            **{fields.get(k, k): type(getattr(current, fields.get(k, k)))(value) for k, value in entry.weights},
        )
        rules = dataclasses.replace(rules, **{name: table})
    return rules
