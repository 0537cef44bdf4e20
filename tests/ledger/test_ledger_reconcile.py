"""Reconciliation with Google's invoice: a synthetic Cloud Billing export, one SKU on one day deliberately off,
shows exactly that SKU and day; CSV and JSON-lines exports alike; bad export rows reported by line."""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vertexmeter.cli import main
from vertexmeter.ledger import bill

M = Decimal(1_000_000)
FLASH_IN, FLASH_CACHED, FLASH_OUT = (
    "Gemini 2.5 Flash GA Text Input - Predictions",
    "Gemini 2.5 Flash GA Cached Text Input - Predictions",
    "Gemini 2.5 Flash GA Text Output - Predictions",
)
FLASH_BATCH_IN, FLASH_BATCH_OUT = (
    "Gemini 2.5 Flash GA Text Input - Batch Predictions",
    "Gemini 2.5 Flash GA Text Output - Batch Predictions",
)
CLAUDE_IN, CLAUDE_OUT, CLAUDE_WRITE, CLAUDE_READ = (
    "Claude Sonnet 4.5 Input Tokens",
    "Claude Sonnet 4.5 Output Tokens",
    "Claude Sonnet 4.5 Cache Write Input Tokens",
    "Claude Sonnet 4.5 Cache Read Input Tokens",
)
RATE = {
    FLASH_IN: Decimal("0.30"),
    FLASH_CACHED: Decimal("0.03"),
    FLASH_OUT: Decimal("2.50"),
    FLASH_BATCH_IN: Decimal("0.15"),
    FLASH_BATCH_OUT: Decimal("1.25"),
    CLAUDE_IN: Decimal(3),
    CLAUDE_OUT: Decimal(15),
    CLAUDE_WRITE: Decimal("3.75"),
    CLAUDE_READ: Decimal("0.30"),
}
OFF_DAY, OFF_SKU, OFF_BY = "2026-11-03", CLAUDE_WRITE, Decimal("0.75")


def month_of_usage(tmp_path: Path) -> tuple[str, dict[tuple[str, str], int]]:
    """A log over five days and the tokens per (day, SKU) it should be billed for."""
    rng = random.Random(5)
    tokens: dict[tuple[str, str], int] = defaultdict(int)
    lines: list[dict[str, Any]] = []
    for day in range(1, 6):
        date = f"2026-11-0{day}"
        for i in range(30):
            when = f"{date}T{i % 24:02d}:00:00Z"
            fresh, cached, out = rng.randint(1, 90_000), rng.randint(0, 50_000), rng.randint(1, 5000)
            lines.append(
                {
                    "responseId": f"g{day}-{i}",
                    "modelVersion": "gemini-2.5-flash",
                    "createTime": when,
                    "usageMetadata": {
                        "promptTokenCount": fresh + cached,
                        "cachedContentTokenCount": cached,
                        "candidatesTokenCount": out,
                    },
                }
            )
            tokens[(date, FLASH_IN)] += fresh
            tokens[(date, FLASH_CACHED)] += cached
            tokens[(date, FLASH_OUT)] += out
            usage = (rng.randint(1, 50_000), rng.randint(0, 50_000), rng.randint(0, 50_000), rng.randint(1, 2000))
            lines.append(
                {
                    "time": when,
                    "request": {},
                    "response": {
                        "id": f"msg-{day}-{i}",
                        "type": "message",
                        "model": "claude-sonnet-4-5-20250929",
                        "usage": {
                            "input_tokens": usage[0],
                            "cache_read_input_tokens": usage[1],
                            "cache_creation_input_tokens": usage[2],
                            "output_tokens": usage[3],
                        },
                    },
                }
            )
            for sku, count in zip((CLAUDE_IN, CLAUDE_READ, CLAUDE_WRITE, CLAUDE_OUT), usage, strict=True):
                tokens[(date, sku)] += count
        batch_in, batch_out = rng.randint(1, 10**6), rng.randint(1, 10**5)
        lines.append(
            {
                "status": "",
                "processed_time": f"{date}T23:00:00Z",
                "request": {},
                "response": {
                    "responseId": f"b{day}",
                    "modelVersion": "gemini-2.5-flash",
                    "usageMetadata": {"promptTokenCount": batch_in, "candidatesTokenCount": batch_out},
                },
            }
        )
        tokens[(date, FLASH_BATCH_IN)] += batch_in
        tokens[(date, FLASH_BATCH_OUT)] += batch_out
    log = tmp_path / "usage.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(log), dict(tokens)


def export_rows(tokens: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    """What Google would charge: per day and SKU, split in hourly-like rows (cost to the micro-dollar, as the
    export writes it), one promotional credit, one SKU on one day deliberately off, and another service."""
    rows = []
    for (day, sku), count in sorted(tokens.items()):
        exact = count * RATE[sku] / M
        halves = [count // 2, count - count // 2]
        costs = [(h * RATE[sku] / M).quantize(Decimal("0.000001")) for h in halves]
        costs[-1] += exact - sum(costs)  # the rows' micro-rounding adds up to the exact cost here
        if (day, sku) == (OFF_DAY, OFF_SKU):
            costs[0] += OFF_BY
        for hour, (amount, cost) in enumerate(zip(halves, costs, strict=True)):
            rows.append(
                {
                    "service": {"id": "C7E2-9256-1C43", "description": "Vertex AI"},
                    "sku": {"id": "", "description": sku},
                    "usage_start_time": f"{day} {hour:02d}:00:00 UTC",
                    "usage": {"amount": str(amount), "unit": "count"},
                    "cost": str(cost),
                    "credits": [],
                    "project": {"id": "my-project"},
                    "labels": [{"key": "team", "value": "a"}],
                }
            )
    rows[0]["credits"] = [{"name": "Free trial", "amount": "-0.000001"}]
    rows[0]["cost"] = str(Decimal(rows[0]["cost"]) + Decimal("0.000001"))  # credited back: charged unchanged
    rows.append(
        {
            "service": {"description": "Compute Engine"},
            "sku": {"id": "X", "description": "N2 Core"},
            "usage_start_time": "2026-11-02 00:00:00 UTC",
            "usage": {"amount": "1", "unit": "hour"},
            "cost": "3.5",
            "credits": [],
            "project": {"id": "my-project"},
            "labels": [],
        }
    )
    return rows


def write_export(rows: list[dict[str, Any]], path: Path, kind: str) -> str:
    if kind == "jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows) + "{broken\n")
        return str(path)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "service.description",
                "sku_id",
                "sku.description",
                "usage.amount",
                "usage_unit",
                "cost",
                "credits",
                "project.id",
                "labels",
                "usage_start_time",
            ]
        )
        for row in rows:
            writer.writerow(
                [
                    row["service"]["description"],
                    row["sku"]["id"],
                    row["sku"]["description"],
                    row["usage"]["amount"],
                    row["usage"]["unit"],
                    row["cost"],
                    json.dumps(row["credits"]),
                    row["project"]["id"],
                    json.dumps(row["labels"]),
                    row["usage_start_time"],
                ]
            )
        writer.writerow(["Vertex AI", "", FLASH_IN, "1", "count", "lots", "[]", "p", "[]", "2026-11-02 00:00:00 UTC"])
    return str(path)


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_the_one_day_and_sku_that_is_off_is_shown(db: str, tmp_path: Path, kind: str) -> None:
    log, tokens = month_of_usage(tmp_path)
    export = write_export(export_rows(tokens), tmp_path / f"billing.{kind}", kind)
    report = bill(log, db=db, invoice=export, month="2026-11")
    assert not report.bad_lines
    rec = report.reconciliation
    assert rec is not None
    assert [(d["day"], d["sku"], d["difference"]) for d in rec.to_json()["differences"]] == [(OFF_DAY, OFF_SKU, "0.75")]
    expected = sum((count * RATE[sku] / M for (_, sku), count in tokens.items()), Decimal(0))
    assert rec.predicted_total == expected == report.total
    assert rec.charged_total == expected + OFF_BY
    assert (rec.other_rows, rec.other_charges) == (1, Decimal("3.5"))
    assert len(rec.rows) == len(tokens) and all(r["status"] in ("matches", "differs") for r in rec.rows)
    off = next(r for r in rec.rows if (r["day"], r["sku"]) == (OFF_DAY, OFF_SKU))
    assert off["usage"] == off["predicted_usage"] == str(tokens[(OFF_DAY, OFF_SKU)])  # the usage agrees, the cost not
    credited = rec.rows[0]
    assert Decimal(credited["credits"]) == Decimal("-0.000001") and credited["status"] == "matches"
    (bad,) = rec.bad_lines
    assert bad.file == export and bad.line == (
        len(export_rows(tokens)) + 1 if kind == "jsonl" else len(export_rows(tokens)) + 2
    )
    assert ("not valid JSON" if kind == "jsonl" else "cost must be a number") in bad.reason
    assert report.exit_code == 1  # a bad export row, as a bad log line


def test_cli_reconciliation_and_tolerance(tmp_path: Path) -> None:
    log, tokens = month_of_usage(tmp_path)
    rows = export_rows(tokens)
    export = tmp_path / "billing.jsonl"
    export.write_text("".join(json.dumps(row) + "\n" for row in rows))
    db = str(tmp_path / "l.sqlite")
    runner = CliRunner()
    result = runner.invoke(main, ["bill", log, "--db", db, "--invoice", str(export), "--human"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "ledger vs invoice" in result.output and "1 day/SKU pair(s) differ" in result.output
    assert "Other services' charges: $3.5 (1 rows)" in result.output
    loose = runner.invoke(main, ["bill", "--db", db, "--invoice", str(export), "--tolerance", "1"])
    assert json.loads(loose.output)["reconciliation"]["differences"] == []
