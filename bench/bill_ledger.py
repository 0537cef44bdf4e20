"""Benchmark: `vertexmeter bill` import and re-import of a synthetic usage log (SQLite, one process).

Run: python bench/bill_ledger.py [--lines 50000] [--rounds 3]

Each round writes a fresh ledger, imports the log (every line priced and stored), then imports it again
(every line a duplicate: priced again and compared with the stored call). Prints lines/s per round and the median; the totals of both
imports must be equal and are checked.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from vertexmeter.ledger import bill

MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "claude-sonnet-4-5@20250929", "gemini-3.5-flash")


def write_log(path: Path, lines: int) -> None:
    rng = random.Random(1)
    with path.open("w") as out:
        for i in range(lines):
            prompt = rng.randint(100, 300_000)
            usage = {"promptTokenCount": prompt, "cachedContentTokenCount": rng.randint(0, prompt // 2) if i % 3 else 0,
                     "candidatesTokenCount": rng.randint(0, 5000), "thoughtsTokenCount": rng.randint(0, 3000)}
            day = f"2026-0{rng.randint(6, 9)}-{rng.randint(10, 28)}"
            out.write(json.dumps({"responseId": f"id{i}", "modelVersion": rng.choice(MODELS),
                                  "createTime": f"{day}T12:00:00Z", "usageMetadata": usage}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "log.jsonl"
        write_log(log, args.lines)
        first, again = [], []
        for round_ in range(args.rounds):
            db = str(Path(folder) / f"ledger{round_}.sqlite")
            start = time.perf_counter()
            a = bill(str(log), db=db, by="model")
            first.append(args.lines / (time.perf_counter() - start))
            start = time.perf_counter()
            b = bill(str(log), db=db, by="model")
            again.append(args.lines / (time.perf_counter() - start))
            assert (a.total, a.imported["new"], b.total, b.imported["duplicates"]) == (
                b.total, args.lines, a.total, args.lines)
            print(f"round {round_ + 1}: import {first[-1]:,.0f} lines/s, re-import {again[-1]:,.0f} lines/s, "
                  f"total ${a.total} (billed ${a.billed_total})")
    print(f"median: import {statistics.median(first):,.0f} lines/s (spread {min(first):,.0f}-{max(first):,.0f}), "
          f"re-import {statistics.median(again):,.0f} lines/s (spread {min(again):,.0f}-{max(again):,.0f})")


if __name__ == "__main__":
    main()
