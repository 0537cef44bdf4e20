"""Sums over result lines: the job summary. Built from the result JSON objects themselves, so a resumed
run re-reads its results file into the same tally, and workers' partial tallies merge in input order."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vertexmeter.pricing import money
from vertexmeter.vocabulary import MODALITIES

FIRST_LINES = 10  # line numbers kept per error reason
# How result lines and their costs are written; one encoder (json.dumps with options builds one per call).
to_json_line = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# A summary line item: (entryId, description, unitPrice, priceUnit, tier, adjustment, bound)
ItemKey = tuple[str, str, str, str, str | None, str | None, str | None]


@dataclass(frozen=True)
class LineCost:
    """A line's `cost` JSON together with its Decimal sums: built once per distinct cost, reused per line."""

    json: dict[str, Any]
    text: str  # the JSON, serialised as result lines are
    low: Decimal
    high: Decimal
    output_max: int
    items: tuple[tuple[ItemKey, Decimal, Decimal], ...]  # (key, quantity, amount)
    notes: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, cost: dict[str, Any]) -> LineCost:
        output = cost["outputTokens"]
        return cls(
            json=cost,
            text=to_json_line(cost),
            low=Decimal(cost["min"]),
            high=Decimal(cost["max"]),
            output_max=output["max"] if isinstance(output, dict) else output,
            items=tuple(
                (
                    (
                        item["entryId"],
                        item["description"],
                        item["unitPrice"],
                        item["priceUnit"],
                        item.get("tier"),
                        item.get("adjustment"),
                        item.get("bound"),
                    ),
                    Decimal(item["quantity"]),
                    Decimal(item["amount"]),
                )
                for item in cost["lineItems"]
            ),
            notes=tuple(cost.get("notes", ())),
        )


@dataclass
class ReasonTally:
    lines: int = 0
    first_lines: list[int] = field(default_factory=list)

    def add(self, line: int) -> None:
        self.lines += 1
        if len(self.first_lines) < FIRST_LINES:
            self.first_lines.append(line)

    def merge(self, other: ReasonTally) -> None:
        self.lines += other.lines
        self.first_lines = (self.first_lines + other.first_lines)[:FIRST_LINES]


@dataclass
class ModelTally:
    lines: int = 0
    prompt_tokens: int = 0
    output_tokens_max: int = 0
    low: Decimal = Decimal(0)
    high: Decimal = Decimal(0)
    items: dict[ItemKey, list[Decimal]] = field(default_factory=dict)  # key -> [quantity, amount]

    def merge(self, other: ModelTally) -> None:
        self.lines += other.lines
        self.prompt_tokens += other.prompt_tokens
        self.output_tokens_max += other.output_tokens_max
        self.low += other.low
        self.high += other.high
        for key, (quantity, amount) in other.items.items():
            mine = self.items.setdefault(key, [Decimal(0), Decimal(0)])
            mine[0] += quantity
            mine[1] += amount


@dataclass
class Tally:
    lines: int = 0  # result lines (blank input lines have none)
    counted: int = 0  # counted, inside the context window and priced
    blank_lines: int = 0  # skipped: empty or whitespace only, counted here once rather than one error each
    prompt_tokens: int = 0
    billable_characters: int = 0
    by_modality: dict[str, int] = field(default_factory=dict)
    errors: dict[str, ReasonTally] = field(default_factory=dict)
    over_window_tokens: int = 0
    models: dict[str, ModelTally] = field(default_factory=dict)
    notes: dict[str, None] = field(default_factory=dict)  # an ordered set

    @property
    def refused(self) -> int:
        return sum(reason.lines for reason in self.errors.values())

    def add(self, result: dict[str, Any], cost: LineCost | None = None) -> None:
        """Add one result line (as written to the results file); `cost`: its parsed cost, when at hand."""
        self.lines += 1
        line = result["line"]
        error = result.get("error")
        if error is not None:
            reason = next(
                (d.get("reason") for d in error.get("details", []) if str(d.get("@type", "")).endswith("ErrorInfo")),
                None,
            ) or error.get("status", "UNKNOWN")
            self.errors.setdefault(reason, ReasonTally()).add(line)
            if reason == "OVER_CONTEXT_WINDOW":
                self.over_window_tokens += result.get("promptTokenCount", 0)
            return
        self._priced(
            result["model"],
            result["promptTokenCount"],
            ((d["modality"], d["tokenCount"]) for d in result.get("promptTokensDetails", ())),
            result.get("totalBillableCharacters"),
            LineCost.from_json(result["cost"]) if cost is None else cost,
        )

    def add_counted(
        self, model_id: str, tokens: int, by_modality: Iterable[tuple[str, int]], billable: int | None, cost: LineCost
    ) -> None:
        """Add a counted, priced line from its values (what `add` reads off its result line)."""
        self.lines += 1
        self._priced(model_id, tokens, by_modality, billable, cost)

    def _priced(
        self, model_id: str, tokens: int, by_modality: Iterable[tuple[str, int]], billable: int | None, cost: LineCost
    ) -> None:
        self.counted += 1
        self.prompt_tokens += tokens
        if billable is not None:
            self.billable_characters += billable
        sums_by_modality = self.by_modality
        for modality, count in by_modality:
            sums_by_modality[modality] = sums_by_modality.get(modality, 0) + count
        model = self.models.get(model_id)
        if model is None:
            model = self.models[model_id] = ModelTally()
        model.lines += 1
        model.prompt_tokens += tokens
        model.output_tokens_max += cost.output_max
        model.low += cost.low
        model.high += cost.high
        for key, quantity, amount in cost.items:
            sums = model.items.get(key)
            if sums is None:
                model.items[key] = [quantity, amount]
            else:
                sums[0] += quantity
                sums[1] += amount
        for note in cost.notes:
            self.notes[note] = None

    def merge(self, other: Tally) -> None:
        """Add a later part of the job (parts must be merged in input order for first_lines)."""
        self.lines += other.lines
        self.counted += other.counted
        self.blank_lines += other.blank_lines
        self.prompt_tokens += other.prompt_tokens
        self.billable_characters += other.billable_characters
        for modality, tokens in other.by_modality.items():
            self.by_modality[modality] = self.by_modality.get(modality, 0) + tokens
        for reason, errors in other.errors.items():
            self.errors.setdefault(reason, ReasonTally()).merge(errors)
        self.over_window_tokens += other.over_window_tokens
        for model, sums in other.models.items():
            self.models.setdefault(model, ModelTally()).merge(sums)
        self.notes.update(other.notes)

    def to_json(self, *, mode: str, date: str, output_tokens: int | None) -> dict[str, Any]:
        """The job summary (docs/batch.md, "Summary")."""
        models = [
            {
                "model": name,
                "lines": sums.lines,
                "prompt_tokens": sums.prompt_tokens,
                "total": {"min": money(sums.low), "max": money(sums.high)},
                "lineItems": [  # spelled as a line's lineItems (LineItem.to_rest)
                    {
                        "description": key[1],
                        "quantity": money(quantity),
                        "unitPrice": key[2],
                        "priceUnit": key[3],
                        "amount": money(amount),
                        "entryId": key[0],
                        **({"tier": key[4]} if key[4] else {}),
                        **({"adjustment": key[5]} if key[5] else {}),
                        **({"bound": key[6]} if key[6] else {}),
                    }
                    for key, (quantity, amount) in sums.items.items()
                ],
            }
            for name, sums in sorted(self.models.items())
        ]
        low = sum((m.low for m in self.models.values()), Decimal(0))
        high = sum((m.high for m in self.models.values()), Decimal(0))
        max_output = sum(m.output_tokens_max for m in self.models.values())
        if output_tokens is not None:
            output: dict[str, Any] = {"tokens_per_line": output_tokens, "tokens": max_output}
        else:
            output = {
                "range": {"min_tokens": 0, "max_tokens": max_output},
                "max_from": "each line's generationConfig.maxOutputTokens, else the model's output limit",
            }
        over = self.errors.get("OVER_CONTEXT_WINDOW", ReasonTally())
        summary: dict[str, Any] = {
            "lines": self.lines,
            "counted": self.counted,
            **({"blank_lines": self.blank_lines} if self.blank_lines else {}),
            "errors": {
                "lines": self.refused,
                "by_reason": {
                    reason: {"lines": t.lines, "first_lines": t.first_lines}
                    for reason, t in sorted(self.errors.items())
                },
            },
            "prompt_tokens": self.prompt_tokens,
            "tokens_by_modality": {m: self.by_modality[m] for m in sorted(self.by_modality, key=_modality_rank)},
        }
        if self.billable_characters:
            summary["billable_characters"] = self.billable_characters
        summary["over_context_window"] = {
            "lines": over.lines,
            "first_lines": over.first_lines,
            "prompt_tokens": self.over_window_tokens,
        }
        summary["output"] = output
        summary["cost"] = {
            "currency": "USD",
            "mode": mode,
            "date": date,
            "total": {"min": money(low), "max": money(high)},
            "models": models,
        }
        if self.notes:
            summary["cost"]["notes"] = list(self.notes)
        return summary


def _modality_rank(modality: str) -> int:
    return MODALITIES.index(modality) if modality in MODALITIES else len(MODALITIES)
