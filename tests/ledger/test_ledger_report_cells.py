"""A report from rows the database groups (report_of) is the report from every row in time order (summarize).

The grouped report sums the rows without a free allowance per cell in the database's order; the row-by-row
one sums them in time order. Both must give the same totals, breakdowns, budgets' scopes and allowances, on
real SQLite and PostgreSQL; and where an addition would round (a sum past the context's precision), the report
is made row by row.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal as D
from decimal import Inexact
from pathlib import Path
from typing import Any

import pytest

from vertexmeter.ledger import bill, engine_for
from vertexmeter.ledger.bill import report_of, summarize
from vertexmeter.ledger.store import LedgerRow, insert_new, read_report_cells, read_report_rows

DAYS = ("2025-12-01", "2025-12-02", "2025-12-21", "2026-01-05")
BREAKDOWNS = (("model",), ("day", "label"), ("project", "model"), ("month", "mode", "api"))


def _line(i: int, rng: random.Random) -> dict[str, Any]:
    prompt = rng.randint(0, 300_000)
    item: dict[str, Any] = {
        "responseId": f"r{i}",
        "modelVersion": rng.choice(("gemini-2.5-flash", "gemini-2.5-pro", "gemini-3-pro-preview")),
        "createTime": f"{rng.choice(DAYS)}T{rng.randint(0, 23):02d}:00:{i % 60:02d}Z",
        "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": rng.randint(0, 5000)},
    }
    if rng.random() < 0.3:
        item["project"] = rng.choice(("p1", "p2"))
    if rng.random() < 0.3:
        item["labels"] = {"team": rng.choice(("a", "b")), "env": "prod"}
    if rng.random() < 0.1:
        item["usageMetadata"]["trafficType"] = "ON_DEMAND_FLEX"
    if rng.random() < 0.4:  # grounded: free within the day's (2.5) or month's (3) allowance, then billed
        item["candidates"] = [{"groundingMetadata": {"webSearchQueries": ["q"] * rng.randint(1, 3)}}]
    return item


def _same(db: str, month: str | None) -> None:
    engine = engine_for(db)
    grouped = report_of(engine, month, BREAKDOWNS, {})
    in_order = summarize(read_report_rows(engine, month), month, BREAKDOWNS, {})
    assert grouped.to_json() == in_order.to_json()
    assert (str(grouped.total), str(grouped.billed_total), str(grouped.allowance_credit)) == (
        str(in_order.total),
        str(in_order.billed_total),
        str(in_order.allowance_credit),
    )
    assert {k: str(v) for k, v in grouped.scope_totals.items()} == {k: str(v) for k, v in in_order.scope_totals.items()}


def test_the_grouped_report_is_the_row_by_row_report(db: str, tmp_path: Path) -> None:
    rng = random.Random(7)
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(_line(i, rng)) + "\n" for i in range(1500)))
    report = bill(str(log), db=db, by="model")
    assert report.imported["new"] == 1500 and report.free_grounded_prompts > 0
    assert report.allowance_credit > 0 and report.total > 0
    engine = engine_for(db)
    cells = list(read_report_cells(engine))
    grounded = list(read_report_rows(engine, grounded=True))
    assert 0 < len(cells) < 1500 and 0 < len(grounded) < 1500
    assert sum(c.requests for c in cells) + len(grounded) == 1500
    for month in (None, "2025-11", "2025-12", "2026-01"):  # (none in November)
        _same(db, month)


def _row(key: str, amount: str, day: int) -> LedgerRow:
    return LedgerRow(
        dedupe_key=key,
        response_id=key,
        source=f"x:{key}",
        model="gemini-2.5-flash",
        priced_model="gemini-2.5-flash",
        api="vertex",
        mode="online",
        created_at=dt.datetime(2025, 11, day, tzinfo=dt.UTC),
        project=None,
        labels={},
        amount=D(amount),
        grounding_entry=None,
        grounding_amount=D(0),
        line_items=[],
    )


def test_a_sum_that_would_round_makes_the_report_row_by_row(db: str) -> None:
    """28 digits (the default context's) cannot hold 1E+20 + 3E-10: each order rounds its own way, so the
    grouped report gives way to the report in time order."""
    engine = engine_for(db)
    insert_new(engine, [_row("a", "3E-10", 1), _row("b", "1E+20", 2), _row("c", "3E-10", 3), _row("d", "1", 1)])
    with pytest.raises(Inexact):
        summarize(read_report_rows(engine, grounded=True), None, BREAKDOWNS, {}, read_report_cells(engine))
    _same(db, None)
    assert report_of(engine, None, BREAKDOWNS, {}).total == summarize(read_report_rows(engine), None, (), {}).total


def test_exact_sums_in_any_order_are_the_same_text(db: str) -> None:
    """Amounts of many exponents: the grouped sums keep the text of the sums in time order."""
    engine = engine_for(db)
    amounts = ["0.1", "0.00000012", "3E+2", "0", "0E-8", "12.5000", "7E-12", "0.000"]
    insert_new(engine, [_row(f"k{i}", a, 1 + i % 3) for i, a in enumerate(amounts)])
    _same(db, None)
    assert bill([], db=db).total == sum((D(a) for a in amounts), D(0))
