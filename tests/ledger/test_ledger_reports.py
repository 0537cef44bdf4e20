"""Reports from the ledger alone: cross tables, scoped budgets and their exit code."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vertexmeter.cli import main
from vertexmeter.errors import VertexMeterError
from vertexmeter.ledger import bill
from vertexmeter.ledger.bill import parse_budgets


def line(
    rid: str, when: str, prompt: int, project: str | None, team: str | None, model: str = "gemini-2.5-flash"
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "responseId": rid,
        "modelVersion": model,
        "createTime": when,
        "usageMetadata": {"promptTokenCount": prompt},
    }
    if project:
        out["project"] = project
    if team:
        out["labels"] = {"team": team}
    return out


# 2.5 Flash input 0.30 per 1M; Claude Sonnet 4.5 input 3 per 1M.
LINES = [
    line("a", "2025-11-01T10:00:00Z", 1_000_000, "p1", "search"),  # 0.30
    line("b", "2025-11-01T11:00:00Z", 2_000_000, "p2", "search"),  # 0.60
    line("c", "2025-11-02T10:00:00Z", 100_000, "p1", None, "claude-sonnet-4-5@20250929"),  # 0.30
    line("d", "2025-12-01T10:00:00Z", 1_000_000, None, "ads"),  # 0.30, another month
]


@pytest.fixture
def ledger(db: str, tmp_path: Path) -> str:
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(item) + "\n" for item in LINES))
    assert bill(str(log), db=db).total == D("1.5")
    return db


def test_cross_tables_from_the_ledger_alone(ledger: str) -> None:
    report = bill([], db=ledger, month="2025-11", by=["model,day", "project,model", "label"])
    assert report.total == D("1.2") and report.imported["lines"] == 0
    assert report.breakdowns["model,day"] == {
        "claude-sonnet-4-5": {"2025-11-02": {"requests": 1, "total": "0.3"}},
        "gemini-2.5-flash": {"2025-11-01": {"requests": 2, "total": "0.9"}},
    }
    assert report.breakdowns["project,model"] == {
        "p1": {
            "claude-sonnet-4-5": {"requests": 1, "total": "0.3"},
            "gemini-2.5-flash": {"requests": 1, "total": "0.3"},
        },
        "p2": {"gemini-2.5-flash": {"requests": 1, "total": "0.6"}},
    }
    assert report.breakdowns["label"] == {
        "(none)": {"requests": 1, "total": "0.3"},
        "team=search": {"requests": 2, "total": "0.9"},
    }
    three = bill([], db=ledger, by="month,project,model")
    assert three.breakdowns["month,project,model"]["2025-12"] == {
        "(none)": {"gemini-2.5-flash": {"requests": 1, "total": "0.3"}}
    }


def test_scoped_budgets(ledger: str) -> None:
    report = bill(
        [],
        db=ledger,
        month="2025-11",
        budget=["5", "project:p1=0.5", "label:team=search=1", "model:claude-sonnet-4-5=10", "project:p9=1"],
    )
    by_scope = {b["scope"]: b for b in report.budgets}
    assert by_scope["total"] == {
        "scope": "total",
        "budget": "5",
        "spent": "1.2",
        "remaining": "3.8",
        "used_percent": "24",
        "status": "within",
    }
    assert by_scope["project:p1"] == {
        "scope": "project:p1",
        "budget": "0.5",
        "spent": "0.6",
        "remaining": "-0.1",
        "used_percent": "120",
        "status": "exceeded",
    }
    assert by_scope["label:team=search"]["status"] == "within" and by_scope["label:team=search"]["spent"] == "0.9"
    assert by_scope["model:claude-sonnet-4-5"]["spent"] == "0.3"
    assert by_scope["project:p9"]["spent"] == "0"  # nothing spent is a real answer, not an error
    assert report.over_budget and report.exit_code == 3
    assert report.to_json()["over_budget"] is True
    assert bill([], db=ledger, month="2025-11", budget={"": "5", "project:p1": "4"}).exit_code == 0


def test_budget_syntax() -> None:
    assert parse_budgets("12.5") == (D("12.5"), [])
    assert parse_budgets(["label:env=prod=7", "model:gemini-2.5-flash=1"]) == (
        None,
        [("label", "env=prod", D("7")), ("model", "gemini-2.5-flash", D("1"))],
    )
    for bad in (["team:x=1"], ["project:=1"], ["label:team=1"], ["project:p=lots"], ["1", "2"], ["project:p=-1"]):
        with pytest.raises(VertexMeterError) as err:
            parse_budgets(bad)
        assert err.value.field_path == "budget", bad
    with pytest.raises(VertexMeterError):
        bill([], db=":memory:", by="model,model")


def test_cli_report_without_logs(ledger: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["bill", "--db", ledger, "--month", "2025-11", "--by", "project,model"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == "1.2" and data["billed_total"] == "1.20"
    assert data["breakdowns"]["project,model"]["p2"]["gemini-2.5-flash"]["total"] == "0.6"
    over = runner.invoke(
        main, ["bill", "--db", ledger, "--month", "2025-11", "--budget", "project:p1=0.1", "--budget", "100", "--human"]
    )
    assert over.exit_code == 3, over.output
    assert "project:p1 $0.1: OVER BUDGET" in over.output and "Budget total $100: within" in over.output
    cross = runner.invoke(main, ["bill", "--db", ledger, "--by", "model,day", "--human"])
    assert cross.exit_code == 0 and "by model × day" in cross.output and "2025-12-01" in cross.output
    for flags in (["--by", "team"], ["--budget", "team:x=1"], ["--budget", "lots"]):
        bad = runner.invoke(main, ["bill", "--db", ledger, *flags])
        assert bad.exit_code == 2, (flags, bad.output)  # bad usage, as click's own errors
    missing = runner.invoke(main, ["bill", "--db", str(tmp_path / "nope.sqlite")])
    assert missing.exit_code == 1 and "does not exist" in missing.output
