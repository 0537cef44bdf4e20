"""Bad lines never lose the month: reported by file, line and reason, quarantined on request, refused whole with
strict; the same refusals on SQLite and PostgreSQL (lengths, characters, int32 counts, plausible dates,
conflicting duplicates); no database message with SQL parameters reaches the user."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from vertexmeter.cli import main
from vertexmeter.errors import VertexMeterError
from vertexmeter.ledger import bill
from vertexmeter.ledger.store import LedgerRow, engine_for, insert_new, read_rows


def gemini(rid: str | None, when: str = "2025-11-03T10:00:00Z", prompt: Any = 1000, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "modelVersion": "gemini-2.5-flash",
        "createTime": when,
        "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": 100},
        **extra,
    }
    if rid is not None:
        out["responseId"] = rid
    return out


GOOD = D("0.00055")  # 1,000 in x 0.30 + 100 out x 2.50 per 1M


def write_lines(path: Path, lines: list[Any]) -> str:
    path.write_text("".join(line if isinstance(line, str) else json.dumps(line) + "\n" for line in lines))
    return str(path)


# Each refused the same way on both databases, before any database sees it (issue: PostgreSQL aborted the import
# with a traceback where SQLite stored the value).
HARDENING = [
    (gemini("r" * 300), "responseId is 300 characters long"),
    (gemini("ok-project", project="p\x00x"), "project contains a control character"),
    (gemini("long-project", project="p" * 201), "project is 201 characters long"),
    (gemini("nul-id\x00"), "responseId contains a control character"),
    (gemini("label", labels={"team": "x" * 64}), "labels.team is 64 characters long"),
    (gemini("label-nul", labels={"te\x00am": "x"}), "labels key contains a control character"),
    ({**gemini("model"), "modelVersion": "m" * 201}, "model is 201 characters long"),
    (gemini("huge", prompt=10**30), "above Google's int32 limit 2147483647"),
    (gemini("int32", prompt=2**31), "above Google's int32 limit"),
    (gemini("future", when="9999-01-01T00:00:00Z"), "outside the plausible range"),
    (gemini("past", when="1999-01-01T00:00:00Z"), "outside the plausible range"),
]


@pytest.mark.parametrize(("line", "reason"), HARDENING, ids=[r for _, r in HARDENING])
def test_values_are_checked_up_front_identically(db: str, tmp_path: Path, line: dict[str, Any], reason: str) -> None:
    log = write_lines(tmp_path / "log.jsonl", [gemini("good"), line, gemini("after")])
    report = bill(log, db=db)
    assert report.total == 2 * GOOD and report.requests == 2  # the lines around it are billed
    (bad,) = report.bad_lines
    assert (bad.file, bad.line, bad.status) == (log, 2, "INVALID_ARGUMENT")
    assert reason in bad.reason
    assert report.imported["rejected"] == 1 and report.exit_code == 1


def test_the_int32_bound_itself_is_accepted(db: str, tmp_path: Path) -> None:
    report = bill(write_lines(tmp_path / "log.jsonl", [gemini("max", prompt=2**31 - 1)]), db=db)
    assert report.requests == 1 and report.total == D(2**31 - 1) * D("0.30") / 10**6 + D("0.00025")


def test_bad_lines_are_all_reported_and_quarantined(db: str, tmp_path: Path) -> None:
    lines: list[Any] = [
        gemini("a"),
        "{not json\n",
        gemini("b"),
        "\n",
        "[1, 2]\n",
        gemini("c", prompt=-1),
        '"a string"\n',
        gemini("d"),
    ]
    log = write_lines(tmp_path / "log.jsonl", lines)
    quarantine = tmp_path / "bad.jsonl"
    report = bill(log, db=db, quarantine=str(quarantine))
    assert report.total == 3 * GOOD and report.requests == 3
    assert [(b.line, b.status) for b in report.bad_lines] == [
        (2, "INVALID_ARGUMENT"),
        (5, "INVALID_ARGUMENT"),
        (6, "INVALID_ARGUMENT"),
        (7, "INVALID_ARGUMENT"),
    ]
    assert "not valid JSON" in report.bad_lines[0].reason
    assert "whole number" in report.bad_lines[2].reason
    kept = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert [k["line"] for k in kept] == [2, 5, 6, 7]
    assert kept[0]["text"] == "{not json" and json.loads(kept[2]["text"])["responseId"] == "c"
    assert report.to_json()["bad_lines"] == {
        "count": 4,
        "listed": 4,
        "quarantine": str(quarantine),
        "lines": [b.to_json() for b in report.bad_lines],
    }
    assert report.imported == {
        "lines": 7,
        "read": 3,
        "new": 3,
        "duplicates": 0,
        "conflicts": 0,
        "skipped_provisioned": 0,
        "rejected": 4,
    }


def test_strict_stores_nothing_and_names_every_bad_line(db: str, tmp_path: Path) -> None:
    log = write_lines(tmp_path / "log.jsonl", [gemini("a"), "{x\n", gemini("b"), gemini("c", prompt=1.5)])
    with pytest.raises(VertexMeterError) as err:
        bill(log, db=db, strict=True)
    assert err.value.status == "INVALID_ARGUMENT"
    assert "2 bad line(s), nothing imported" in err.value.message
    assert (
        f"{log}:2: not valid JSON" in err.value.message
        and f"{log}:4: usageMetadata.promptTokenCount" in err.value.message
    )
    assert bill([], db=db).requests == 0  # nothing stored
    good = write_lines(tmp_path / "good.jsonl", [gemini("a"), gemini("b")])
    assert bill(good, db=db, strict=True).total == 2 * GOOD


def test_conflicting_duplicates_keep_the_first_and_are_reported(db: str, tmp_path: Path) -> None:
    first = write_lines(tmp_path / "first.jsonl", [gemini("same"), gemini("same")])  # an exact repeat: a duplicate
    report = bill(first, db=db)
    assert report.imported["duplicates"] == 1 and not report.bad_lines
    other = write_lines(
        tmp_path / "other.jsonl",
        [gemini("same", prompt=5000), gemini("same"), gemini("new"), gemini("new", project="p")],
    )
    report = bill(other, db=db)
    assert report.total == 2 * GOOD  # "same" as first imported, and "new" once
    assert report.imported["conflicts"] == 2 and report.imported["duplicates"] == 1
    assert [(b.file, b.line, b.status) for b in report.bad_lines] == [
        (other, 1, "ALREADY_EXISTS"),
        (other, 4, "ALREADY_EXISTS"),
    ]
    assert f"already billed from {first}:1" in report.bad_lines[0].reason
    assert f"already billed from {other}:3" in report.bad_lines[1].reason
    with pytest.raises(VertexMeterError, match="ALREADY_EXISTS|already billed"):
        bill(other, db=db, strict=True)


def test_a_day_outside_the_range_and_a_missing_ledger_are_refused(tmp_path: Path) -> None:
    log = write_lines(tmp_path / "log.jsonl", [gemini("a")])
    with pytest.raises(VertexMeterError, match="plausible range"):
        bill(log, db=str(tmp_path / "l.sqlite"), day="9999-01-01")
    with pytest.raises(VertexMeterError) as err:
        bill([], db=str(tmp_path / "none.sqlite"))
    assert err.value.field_path == "db" and not (tmp_path / "none.sqlite").exists()


def test_database_errors_carry_no_sql_parameters(db: str, tmp_path: Path) -> None:
    bill(write_lines(tmp_path / "log.jsonl", [gemini("a")]), db=db)
    engine = engine_for(db)
    (row,) = read_rows(engine, line_items=True)
    secret = "s3cret-" + "x" * 300  # bypasses the up-front checks on purpose: the database itself refuses
    bad = LedgerRow(**{**vars(row), "dedupe_key": secret, "project": "p\x00" if "postgresql" in db else None})
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE priced_requests"))
    with pytest.raises(VertexMeterError) as err:
        insert_new(engine, [bad])
    engine.dispose()
    assert err.value.status in ("INTERNAL", "UNAVAILABLE")
    assert "The ledger database failed while" in err.value.message
    assert "s3cret" not in err.value.message and "parameters" not in err.value.message
    assert "INSERT" not in err.value.message and "SELECT" not in err.value.message


def test_cli_exit_codes_and_quarantine(tmp_path: Path) -> None:
    db = str(tmp_path / "l.sqlite")
    log = write_lines(tmp_path / "log.jsonl", [gemini("a"), "{x\n"])
    runner = CliRunner()
    result = runner.invoke(main, ["bill", log, "--db", db, "--quarantine", str(tmp_path / "q.jsonl")])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["total"] == "0.00055" and data["bad_lines"]["lines"][0]["line"] == 2
    assert json.loads((tmp_path / "q.jsonl").read_text())["text"] == "{x"
    strict = runner.invoke(main, ["bill", log, "--db", str(tmp_path / "s.sqlite"), "--strict"])
    assert strict.exit_code == 1 and "nothing imported" in strict.output
    assert json.loads(strict.output)["error"]["status"] == "INVALID_ARGUMENT"  # Google's error JSON
    clean = write_lines(tmp_path / "clean.jsonl", [gemini("a")])
    assert runner.invoke(main, ["bill", clean, "--db", db]).exit_code == 0
    human = runner.invoke(main, ["bill", log, "--db", db, "--human"])
    assert human.exit_code == 1 and "bad lines (1, not billed)" in human.output
    nothing = runner.invoke(main, ["bill"])
    assert nothing.exit_code == 2 and "--db" in nothing.output


def test_a_known_call_is_recognised_without_pricing_it_again(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    bill_module = importlib.import_module("vertexmeter.ledger.bill")  # the module; the package's `bill` is the function

    log = write_lines(tmp_path / "log.jsonl", [gemini("a"), gemini("b")])
    bill(log, db=db)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a known call was priced again")

    monkeypatch.setattr(bill_module, "price_logged", refuse)
    again = bill(log, db=db)
    assert again.imported["duplicates"] == 2 and again.total == 2 * GOOD
    other = write_lines(tmp_path / "other.jsonl", [gemini("a", prompt=999)])
    assert bill(other, db=db).imported["conflicts"] == 1


def test_a_json_array_log_reports_items_by_position(tmp_path: Path) -> None:
    log = tmp_path / "array.json"
    log.write_text(json.dumps([gemini("a"), {"nothing": 1}, gemini("b")], indent=2))
    report = bill(str(log), db=str(tmp_path / "l.sqlite"))
    assert report.total == 2 * GOOD
    (bad,) = report.bad_lines
    assert (bad.file, bad.line) == (str(log), 2) and "no usageMetadata" in bad.reason
    assert json.loads(bad.text) == {"nothing": 1}


def test_a_log_name_that_is_not_utf8_is_refused_before_reading(tmp_path: Path) -> None:
    import os

    name = os.fsdecode(str(tmp_path).encode() + b"/log-\xff.jsonl")
    Path(name).write_text(json.dumps(gemini("a")) + "\n")
    with pytest.raises(VertexMeterError) as err:
        bill(name, db=str(tmp_path / "l.sqlite"))
    assert err.value.field_path == "logs" and "not UTF-8" in err.value.message


def test_an_overlong_line_is_drained_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    logs = importlib.import_module("vertexmeter.ledger.logs")
    monkeypatch.setattr(logs, "MAX_LINE_BYTES", 400)
    huge = {**gemini("huge"), "padding": "x" * 5000}
    log = write_lines(tmp_path / "log.jsonl", [gemini("a"), huge, gemini("b")])
    report = bill(log, db=str(tmp_path / "l.sqlite"))
    assert report.total == 2 * GOOD
    (bad,) = report.bad_lines
    assert bad.line == 2 and "longer than 400 bytes" in bad.reason
