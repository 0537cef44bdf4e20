"""Schema migrations (Alembic): a ledger written before migrations existed opens, is upgraded once, keeps its
totals and its duplicates; a new ledger has the same schema as a migrated one; a newer schema is refused."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from vertexmeter.errors import VertexMeterError
from vertexmeter.ledger import bill
from vertexmeter.ledger.store import SCHEMA_REVISION, VERSION_TABLE, engine_for, read_rows

# The previous release's table, as its SQLAlchemy Core schema created it (no alembic_version table).
OLD_COLUMNS = """
    dedupe_key VARCHAR(200) NOT NULL UNIQUE,
    response_id VARCHAR(200),
    source TEXT NOT NULL,
    model VARCHAR(200) NOT NULL,
    priced_model VARCHAR(200) NOT NULL,
    platform VARCHAR(20) NOT NULL,
    mode VARCHAR(20) NOT NULL,
    created_at {timestamp} NOT NULL,
    day DATE NOT NULL,
    month VARCHAR(7) NOT NULL,
    project VARCHAR(200),
    labels TEXT NOT NULL,
    amount VARCHAR(80) NOT NULL,
    grounding_entry VARCHAR(200),
    grounding_amount VARCHAR(80) NOT NULL,
    line_items TEXT NOT NULL,
    imported_at {timestamp} NOT NULL
"""
OLD_DDL = {
    "sqlite": "CREATE TABLE priced_requests (id INTEGER NOT NULL PRIMARY KEY,"
    + OLD_COLUMNS.format(timestamp="DATETIME")
    + ")",
    "postgresql": "CREATE TABLE priced_requests (id SERIAL NOT NULL PRIMARY KEY,"
    + OLD_COLUMNS.format(timestamp="TIMESTAMP WITH TIME ZONE")
    + ")",
}
OLD_API_WORDS = {"vertex": "vertex", "gemini": "gemini_api"}  # before 0004, rows said the catalogue's word
OLD_INDEX = "CREATE INDEX ix_priced_requests_month_created ON priced_requests (month, created_at)"


def lines() -> list[dict[str, Any]]:
    out = []
    for i in range(40):
        out.append(
            {
                "responseId": f"r{i}",
                "modelVersion": ("gemini-2.5-flash", "claude-sonnet-4-5@20250929")[i % 2],
                "createTime": f"2025-{10 + i % 3}-0{1 + i % 9}T10:00:00Z",
                "project": f"p{i % 4}",
                "usageMetadata": {"promptTokenCount": 1000 * (i + 1), "candidatesTokenCount": 10 * i},
            }
        )
    out.append(
        {
            "key": "k",
            "response": {
                "modelVersion": "gemini-2.0-flash",
                "createTime": "2025-11-05T00:00:00Z",
                "usageMetadata": {"promptTokenCount": 1_000_000},
            },
        }
    )  # a gemini_api row
    return out


def sa_engine(db: str) -> Engine:
    if "://" in db:
        return create_engine("postgresql+psycopg://" + db.split("://", 1)[1])
    return create_engine(f"sqlite:///{db}")


def old_ledger(db: str, tmp_path: Path) -> tuple[str, dict[str | None, D]]:
    """A ledger in the previous release's schema, filled with real priced rows; returns its log and totals."""
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines()))
    scratch = str(tmp_path / "scratch.sqlite")
    totals = {month: bill(str(log), db=scratch, month=month).total for month in (None, "2025-10", "2025-11")}
    scratch_engine = engine_for(scratch)
    rows = list(read_rows(scratch_engine, line_items=True))
    scratch_engine.dispose()
    engine = sa_engine(db)
    with engine.begin() as conn:
        conn.execute(text(OLD_DDL[engine.dialect.name]))
        conn.execute(text(OLD_INDEX))
        for row in rows:
            conn.execute(
                text(
                    "INSERT INTO priced_requests (dedupe_key, response_id, source, model, priced_model, platform, "
                    "mode, created_at, day, month, project, labels, amount, grounding_entry, grounding_amount, "
                    "line_items, imported_at) VALUES (:k, :r, :s, :m, :pm, :p, :mode, :c, :d, :mo, :proj, :l, :a, "
                    ":ge, :ga, :li, :c)"
                ),
                {
                    "k": row.dedupe_key,
                    "r": row.response_id,
                    "s": row.source,
                    "m": row.model,
                    "pm": row.priced_model,
                    "p": OLD_API_WORDS[row.api],
                    "mode": row.mode,
                    "c": row.created_at,
                    "d": row.day,
                    "mo": row.month,
                    "proj": row.project,
                    "l": json.dumps(row.labels, sort_keys=True),
                    "a": str(row.amount),
                    "ge": row.grounding_entry,
                    "ga": str(row.grounding_amount),
                    "li": json.dumps(row.line_items),
                },
            )
    assert VERSION_TABLE not in inspect(engine).get_table_names()
    engine.dispose()
    return str(log), totals


def columns(db: str) -> dict[str, tuple[str, bool]]:
    engine = sa_engine(db)
    out = {c["name"]: (str(c["type"]), bool(c["nullable"])) for c in inspect(engine).get_columns("priced_requests")}
    engine.dispose()
    return out


def test_a_ledger_of_the_previous_schema_is_migrated_and_keeps_its_totals(db: str, tmp_path: Path) -> None:
    log, totals = old_ledger(db, tmp_path)
    assert "platform" in columns(db)
    for month, total in totals.items():
        report = bill([], db=db, month=month, by="api")
        assert report.total == total, month
    assert set(report.breakdowns["api"]) == {"vertex", "gemini"}  # 0004: the project's word for the Gemini API
    assert report.breakdowns["api"]["gemini"]["requests"] == 1
    after = columns(db)
    assert "api" in after and "platform" not in after
    engine = sa_engine(db)
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() == SCHEMA_REVISION
    engine.dispose()
    again = bill(log, db=db)  # the stored calls are recognised as the same calls, not conflicts
    assert again.imported["duplicates"] == len(lines()) and again.imported["conflicts"] == 0
    assert again.total == totals[None]
    changed = tmp_path / "changed.jsonl"  # an old row's key with other usage: compared by its priced items
    changed.write_text(json.dumps({**lines()[0], "usageMetadata": {"promptTokenCount": 7}}) + "\n")
    conflict = bill(str(changed), db=db)
    assert conflict.imported["conflicts"] == 1 and conflict.bad_lines[0].status == "ALREADY_EXISTS"
    assert conflict.total == totals[None]


def test_a_new_ledger_has_the_migrated_schema(db: str, tmp_path: Path) -> None:
    old_ledger(db, tmp_path)
    engine_for(db).dispose()
    migrated = columns(db)
    fresh = str(tmp_path / "fresh.sqlite")
    engine_for(fresh).dispose()
    assert set(migrated) == set(columns(fresh))
    if "://" not in db:
        assert migrated == columns(fresh)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = str(tmp_path / "l.sqlite")
    engine_for(db).dispose()
    engine = sa_engine(db)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(VertexMeterError) as err:
        bill([], db=db)
    assert err.value.status == "FAILED_PRECONDITION" and "newer" in err.value.message


def test_processes_opening_an_old_ledger_at_once_all_succeed(db: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    import vertexmeter

    _, totals = old_ledger(db, tmp_path)
    root = str(Path(vertexmeter.__file__).parent.parent)
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = "import sys; from vertexmeter.ledger import bill; print(bill([], db=sys.argv[1]).total)"
    processes = [
        subprocess.Popen([sys.executable, "-c", code, db], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, [err.decode()[-2000:] for _, err in outputs]
    assert [D(out.decode().strip()) for out, _ in outputs] == [totals[None]] * 4
    assert "api" in columns(db)


def revision_0003(db: str, log: Path) -> dict[str | None, D]:
    """A ledger as revision 0003 wrote it (the API as the catalogue's word), filled by importing `log`."""
    totals = {month: bill(str(log), db=db, month=month, by="api").total for month in (None, "2025-10", "2025-11")}
    engine = sa_engine(db)
    with engine.begin() as conn:
        conn.execute(text("UPDATE priced_requests SET api = 'gemini_api' WHERE api = 'gemini'"))
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0003'"))
    engine.dispose()
    return totals


def test_a_0003_ledger_says_gemini_after_the_upgrade_and_keeps_its_totals(db: str, tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines()))
    totals = revision_0003(db, log)
    engine = sa_engine(db)
    with engine.connect() as conn:
        words = {r[0]: r[1] for r in conn.execute(text("SELECT api, count(*) FROM priced_requests GROUP BY api"))}
    engine.dispose()
    assert words == {"vertex": 40, "gemini_api": 1}
    for month, total in totals.items():
        report = bill([], db=db, month=month, by="api")
        assert report.total == total, month
    assert set(report.breakdowns["api"]) == {"vertex", "gemini"}
    assert report.breakdowns["api"]["gemini"]["requests"] == 1
    engine = sa_engine(db)
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() == SCHEMA_REVISION
        words = {r[0] for r in conn.execute(text("SELECT DISTINCT api FROM priced_requests"))}
    engine.dispose()
    assert words == {"vertex", "gemini"}
    again = bill(str(log), db=db)  # the fingerprints stored before the upgrade still recognise the calls
    assert again.imported["duplicates"] == len(lines()) and again.imported["conflicts"] == 0
    assert again.total == totals[None]


def test_call_fingerprints_are_those_earlier_releases_stored() -> None:
    """Golden values computed by the release before the API words changed: a stored fingerprint must keep
    matching the same call, or every re-import of an old ledger would be a conflict."""
    from vertexmeter.ledger.bill import call_fingerprint
    from vertexmeter.ledger.formats import read_item

    (gemini_api,) = read_item(lines()[-1], "x:1")
    assert gemini_api.api == "gemini"
    assert call_fingerprint(gemini_api, "vertex", "global") == (
        "bfa18b4317ab65cf1db95a5517a6d4d87472ed78340ff8c63fecf8b6167ee346"
    )
    line = {
        "responseId": "r1",
        "modelVersion": "gemini-2.5-flash",
        "createTime": "2025-10-02T10:00:00Z",
        "labels": {"team": "a"},
        "usageMetadata": {
            "promptTokenCount": 1000,
            "candidatesTokenCount": 10,
            "cachedContentTokenCount": 100,
            "thoughtsTokenCount": 5,
        },
    }
    (vertex,) = read_item(line, "x:1")
    assert call_fingerprint(vertex, "vertex", "global") == (
        "71aad7dc8a0eb931ef5311db0cc60624e350b20bef835af52723262d83f7c8aa"
    )
