"""vertexmeter bill / vertexmeter.bill against real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import String

import vertexmeter
from vertexmeter.cli import main
from vertexmeter.errors import VertexMeterError
from vertexmeter.ledger import bill
from vertexmeter.ledger.store import priced_requests


def response(rid: str | None, model: str, when: str, **usage: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"modelVersion": model, "createTime": when, "usageMetadata": usage}
    if rid:
        out["responseId"] = rid
    return out


def write(path: Path, lines: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


# Hand-computed: see each comment. 2.5 Flash: in 0.30, cached 0.03 (from 2025-10-16), out 2.50 per 1M.
LOG = [
    # 1,000 in x 0.30 + 200 out x 2.50 + 300 thoughts x 2.50 = 0.0003 + 0.0005 + 0.00075 = 0.00155
    response(
        "r1",
        "gemini-2.5-flash",
        "2025-11-03T10:00:00.123456789Z",
        promptTokenCount=1000,
        candidatesTokenCount=200,
        thoughtsTokenCount=300,
    ),
    # prompt 50,000 of which 40,000 cached: 10,000 x 0.30 + 40,000 x 0.03 + 100 x 2.50 = 0.003 + 0.0012 + 0.00025
    response(
        "r2",
        "gemini-2.5-flash",
        "2025-11-03T11:00:00Z",
        promptTokenCount=50000,
        cachedContentTokenCount=40000,
        candidatesTokenCount=100,
    ),
    # Claude Sonnet 4.5 by its Vertex @version: 10,000 x 3 + 1,000 x 15 per 1M = 0.045
    response(
        None, "claude-sonnet-4-5@20250929", "2025-11-04T11:00:00Z", promptTokenCount=10000, candidatesTokenCount=1000
    ),
]
LOG_TOTAL = D("0.00155") + D("0.00445") + D("0.045")


def test_bill_twice_does_not_double_count(db: str, tmp_path: Path) -> None:
    log = write(tmp_path / "log.jsonl", LOG)
    first = bill(log, db=db)
    assert first.total == LOG_TOTAL == D("0.051")
    assert first.billed_total == D("0.06")  # one billing month, rounded up once
    assert first.requests == 3 and first.imported["new"] == 3
    second = bill(log, db=db)
    assert (second.total, second.billed_total, second.requests) == (first.total, first.billed_total, 3)
    assert second.imported == {
        "lines": 3,
        "read": 3,
        "new": 0,
        "duplicates": 3,
        "conflicts": 0,
        "skipped_provisioned": 0,
        "rejected": 0,
    }
    assert second.to_json()["breakdowns"]["model"] == {
        "claude-sonnet-4-5": {"requests": 1, "total": "0.045"},
        "gemini-2.5-flash": {"requests": 2, "total": "0.006"},
    }


def test_content_hash_dedupes_lines_without_response_id(db: str, tmp_path: Path) -> None:
    line = response(None, "gemini-2.5-flash", "2025-11-05T00:00:00Z", promptTokenCount=10, candidatesTokenCount=1)
    other = response(None, "gemini-2.5-flash", "2025-11-05T00:00:01Z", promptTokenCount=10, candidatesTokenCount=1)
    report = bill(write(tmp_path / "a.jsonl", [line, line, other]), db=db)
    assert report.imported["new"] == 2 and report.imported["duplicates"] == 1


def test_rates_of_each_day_and_mode(db: str, tmp_path: Path) -> None:
    usage = {"promptTokenCount": 1_000_000, "cachedContentTokenCount": 1_000_000, "candidatesTokenCount": 0}
    lines = [
        response("before", "gemini-2.5-flash", "2025-10-15T23:59:59Z", **usage),  # cached 0.075 (25%)
        response("after", "gemini-2.5-flash", "2025-10-16T00:00:00Z", **usage),  # cached 0.03 (10%)
        # Flex with cache hits: 2.5 keeps the online cached rate; 1M fresh at 0.15, 1M cached at 0.03.
        response(
            "flex",
            "gemini-2.5-flash",
            "2025-11-01T00:00:00Z",
            promptTokenCount=2_000_000,
            cachedContentTokenCount=1_000_000,
            trafficType="ON_DEMAND_FLEX",
        ),
        # Priority: 1M in at 0.54.
        response(
            "prio",
            "gemini-2.5-flash",
            "2025-11-01T00:00:00Z",
            promptTokenCount=1_000_000,
            trafficType="ON_DEMAND_PRIORITY",
        ),
        # Vertex batch-prediction output line: 1M in x 0.15 + 1M out x 1.25 = 1.40.
        {
            "request": {"contents": [], "labels": {"team": "x"}},
            "response": response(
                "batch",
                "gemini-2.5-flash",
                "2025-11-02T00:00:00Z",
                promptTokenCount=1_000_000,
                candidatesTokenCount=1_000_000,
            ),
            "status": "",
        },
        # Gemini API batch result line: Gemini API batch rates (2.0 Flash 0.05, where Vertex batch is 0.075).
        {
            "key": "k1",
            "response": response(None, "gemini-2.0-flash", "2025-11-02T00:00:00Z", promptTokenCount=1_000_000),
        },
        # Provisioned Throughput is paid by subscription: skipped, not $0.
        response(
            "pt", "gemini-2.5-flash", "2025-11-02T00:00:00Z", promptTokenCount=5, trafficType="PROVISIONED_THROUGHPUT"
        ),
    ]
    report = bill(write(tmp_path / "modes.jsonl", lines), db=db, by="day")
    days = report.to_json()["breakdowns"]["day"]
    assert days["2025-10-15"]["total"] == "0.075"
    assert days["2025-10-16"]["total"] == "0.03"
    assert days["2025-11-01"]["total"] == str(D("0.15") + D("0.03") + D("0.54"))
    assert days["2025-11-02"]["total"] == str(D("1.40") + D("0.05"))
    assert report.imported["skipped_provisioned"] == 1
    assert report.to_json()["breakdowns"]["day"].keys() == {"2025-10-15", "2025-10-16", "2025-11-01", "2025-11-02"}


def test_tool_use_prompt_and_modalities(db: str, tmp_path: Path) -> None:
    line = response(
        "t",
        "gemini-2.5-flash",
        "2025-11-02T00:00:00Z",
        promptTokenCount=3000,
        toolUsePromptTokenCount=1000,
        promptTokensDetails=[{"modality": "TEXT", "tokenCount": 2000}, {"modality": "AUDIO", "tokenCount": 1000}],
        candidatesTokenCount=10,
    )
    report = bill(write(tmp_path / "t.jsonl", [line]), db=db)
    # text 2,000 + tool 1,000 at 0.30 = 0.0009; audio 1,000 at 1.00 = 0.001; 10 out at 2.50 = 0.000025
    assert report.total == D("0.0009") + D("0.001") + D("0.000025")


def test_grounding_free_allowance_per_day(db: str, tmp_path: Path) -> None:
    grounded = {"candidates": [{"groundingMetadata": {"webSearchQueries": ["q"]}}]}
    lines = [
        {
            **response(
                f"g{i}",
                "gemini-2.5-flash",
                f"2025-11-10T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                promptTokenCount=0,
            ),
            **grounded,
        }
        for i in range(1502)
    ]
    report = bill(write(tmp_path / "g.jsonl", lines), db=db)
    # 1,500 grounded prompts a day are free (shared by the 2.x Flash models); 2 x $35/1K are billed.
    assert report.total == D("0.07")
    assert report.free_grounded_prompts == 1500
    assert report.allowance_credit == D("52.5")


def test_gemini_3_grounding_per_query_with_a_monthly_allowance(db: str, tmp_path: Path) -> None:
    def grounded(i: int, day: str, queries: int) -> dict[str, Any]:
        line = response(f"q{day}{i}", "gemini-3-pro-preview", f"{day}T00:00:{i % 60:02d}Z", promptTokenCount=0)
        line["candidates"] = [{"groundingMetadata": {"webSearchQueries": [f"q{n}" for n in range(queries)]}}]
        return line

    # 5,000 grounded prompts a month are free (shared by Gemini 3.x); past them, $14 per 1K search queries.
    lines = [grounded(i, "2025-12-01", 1) for i in range(5000)] + [grounded(5000, "2025-12-02", 3)]
    lines.append(grounded(0, "2026-01-01", 2))  # a new month: free again
    report = bill(write(tmp_path / "g3.jsonl", lines), db=db)
    assert report.total == D("0.042")  # 3 queries x 14 / 1000
    assert report.free_grounded_prompts == 5001
    assert report.months["2026-01"]["total"] == "0"


def test_maps_grounding_from_the_log(db: str, tmp_path: Path) -> None:
    line = response("maps", "gemini-2.5-flash", "2025-11-02T00:00:00Z", promptTokenCount=0)
    line["candidates"] = [{"groundingMetadata": {"groundingChunks": [{"maps": {"uri": "https://maps.google.com/x"}}]}}]
    assert bill(write(tmp_path / "maps.jsonl", [line]), db=db).total == D("0.025")  # $25 per 1K on 2.5


def test_gemini_api_logs_without_create_time_and_regional_endpoints(db: str, tmp_path: Path) -> None:
    # A Gemini API response has no createTime: --date supplies the day; it is priced at Gemini API rates.
    api_line = {
        "responseId": "api",
        "modelVersion": "gemini-2.0-flash",
        "usageMetadata": {"promptTokenCount": 1_000_000},
    }
    # Our own `location` field: a regional call of a model with a published uplift pays 10% more.
    regional = {
        **response("reg", "claude-sonnet-4-5", "2025-11-02T00:00:00Z", promptTokenCount=100_000),
        "location": "us-east5",
    }
    log = write(tmp_path / "api.jsonl", [api_line])
    refused = bill(log, db=db)
    assert refused.requests == 0 and "give --day" in refused.bad_lines[0].reason
    report = bill(log, db=db, date="2025-11-01", api="gemini")
    assert report.total == D("0.1")  # Gemini API 2.0 Flash input, not Vertex's 0.15
    report = bill(write(tmp_path / "reg.jsonl", [regional]), db=db, by="model")
    assert report.breakdowns["model"]["claude-sonnet-4-5"]["total"] == "0.33"  # 100K x 3 x 1.1
    with pytest.raises(VertexMeterError) as err:
        bill(log, db=db, endpoint="moon")
    assert err.value.field_path == "endpoint"


def test_each_billing_month_is_rounded_up_once(db: str, tmp_path: Path) -> None:
    lines = [
        response("m1", "gemini-2.5-flash", "2025-11-30T23:00:00Z", promptTokenCount=1000),  # 0.0003
        response("m2", "gemini-2.5-flash", "2025-12-01T01:00:00Z", promptTokenCount=1000),  # 0.0003
    ]
    report = bill(write(tmp_path / "m.jsonl", lines), db=db)
    assert report.total == D("0.0006")
    assert report.billed_total == D("0.02")  # 0.01 for November + 0.01 for December
    december = bill([], db=db, month="2025-12")
    assert (december.total, december.billed_total, december.requests) == (D("0.0003"), D("0.01"), 1)


def test_budget_status(db: str, tmp_path: Path) -> None:
    log = write(tmp_path / "log.jsonl", LOG)
    assert bill(log, db=db, budget="0.05").budget_json() == {
        "budget": "0.05",
        "billed_total": "0.06",
        "remaining": "-0.01",
        "used_percent": "120",
        "status": "exceeded",
    }
    assert bill(log, db=db, budget="10").budget_json()["status"] == "within"


def test_cli_bill_twice(db: str, tmp_path: Path) -> None:
    log = write(tmp_path / "log.jsonl", LOG)
    runner = CliRunner()
    outputs = []
    for _ in range(2):
        result = runner.invoke(main, ["bill", log, "--db", db, "--month", "2025-11", "--by", "model"])
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.output))
    assert outputs[0]["total"] == outputs[1]["total"] == "0.051"
    assert outputs[1]["billed_total"] == "0.06" and outputs[1]["imported"]["duplicates"] == 3
    human = runner.invoke(main, ["bill", log, "--db", db, "--human", "--budget", "1"])
    assert human.exit_code == 0 and "billed $0.06" in human.output and "within" in human.output


def test_library_entry_point(tmp_path: Path) -> None:
    report = vertexmeter.bill(write(tmp_path / "log.jsonl", LOG), db=str(tmp_path / "l.sqlite"))
    assert report.to_json()["total"] == "0.051"


def test_money_columns_are_text_not_float() -> None:
    for name in ("amount", "grounding_amount"):
        assert isinstance(priced_requests.c[name].type, String)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (response("x", "gemini-9-ultra", "2025-11-01T00:00:00Z", promptTokenCount=1), "Unknown model"),
        (response("x", "gemini-1.5-pro", "2024-11-01T00:00:00Z", promptTokenCount=1), "per characters"),
        ({"modelVersion": "gemini-2.5-flash", "createTime": "2025-11-01T00:00:00Z"}, "no usageMetadata"),
        (response("x", "gemini-2.5-flash", "yesterday", promptTokenCount=1), "RFC 3339"),
        (response("x", "gemini-2.5-flash", "2025-11-01T00:00:00Z", promptTokenCount=1.5), "whole number"),
        (
            response("x", "gemini-2.5-flash", "2025-11-01T00:00:00Z", promptTokenCount=1, cachedContentTokenCount=2),
            "exceeds",
        ),
        (response("x", "gemini-2.5-flash", "2024-01-01T00:00:00Z", promptTokenCount=1), "in force"),
        (
            response("x", "gemini-2.5-flash", "2025-11-01T00:00:00Z", promptTokenCount=1, trafficType="NEW"),
            "trafficType",
        ),
    ],
)
def test_bad_lines_are_refused_with_their_place(tmp_path: Path, line: dict[str, Any], message: str) -> None:
    log = write(tmp_path / "bad.jsonl", [LOG[0], line])
    with pytest.raises(VertexMeterError) as err:
        bill(log, db=str(tmp_path / "strict.sqlite"), strict=True)
    assert message in err.value.message and "bad.jsonl:2" in err.value.message
    assert err.value.to_json()["error"]["status"] == "INVALID_ARGUMENT"
    report = bill(log, db=str(tmp_path / "l.sqlite"))  # the good line is billed, the bad one reported
    assert report.requests == 1 and report.exit_code == 1
    (bad,) = report.bad_lines
    assert (bad.file, bad.line) == (log, 2) and message in bad.reason
    assert bad.status in ("INVALID_ARGUMENT", "NOT_FOUND")


def test_bad_arguments(tmp_path: Path) -> None:
    log = write(tmp_path / "log.jsonl", LOG)
    for kwargs, field in (
        ({"month": "2025-13"}, "month"),
        ({"by": "team"}, "by"),
        ({"budget": "lots"}, "budget"),
        ({"db": "mysql://x/y"}, "db"),
    ):
        with pytest.raises(VertexMeterError) as err:
            bill(log, **({"db": str(tmp_path / "l.sqlite")} | kwargs))
        assert err.value.field_path == field, kwargs
    (tmp_path / "junk.jsonl").write_text("{not json\n")
    with pytest.raises(VertexMeterError, match="junk.jsonl:1: not valid JSON"):
        bill(str(tmp_path / "junk.jsonl"), db=str(tmp_path / "l.sqlite"), strict=True)


def test_a_concurrent_import_of_the_same_requests_is_not_double_counted(db: str, tmp_path: Path) -> None:
    import vertexmeter.ledger.store as store

    log = write(tmp_path / "log.jsonl", LOG)
    bill(log, db=db)
    engine = store.engine_for(db)
    rows = list(store.read_rows(engine, line_items=True))
    # Another process stored these keys after our check: the insert skips them, and says so.
    assert store.insert_new(engine, rows) == (0, 3)
    engine.dispose()
    assert bill(log, db=db).requests == 3


def test_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    log = write(tmp_path / "log.jsonl", LOG)
    with pytest.raises(VertexMeterError) as err:
        bill(log, db="postgresql://nobody@127.0.0.1:1/ledger")
    assert err.value.status == "FAILED_PRECONDITION" and "Cannot open the ledger database" in err.value.message
    with pytest.raises(VertexMeterError) as err:
        bill(log, db=str(tmp_path / "missing" / "ledger.sqlite"))
    assert err.value.field_path == "db"
