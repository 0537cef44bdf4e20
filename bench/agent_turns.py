"""Benchmark: the bill (`vertexmeter.usage`) of recorded agent requests nobody has counted yet.

Run: python bench/agent_turns.py [--runs 5]                  # this checkout
     python bench/agent_turns.py --trees A,B [--runs 5]      # two checkouts, alternating fresh processes

The requests are the recorded prompts of tests/data (the 2026 file and every mined text set): agent turns with
tool declarations, function-call history and replayed signatures, as Google answered them. Each process splits
them in two halves by a hash of the record id (the records of the checkout the script runs from, whichever tree's
code bills them): it bills the first half untimed (a server that has been running a
while: the tokenizer loaded, its chunk caches holding other text), then the second half once, timed (process CPU
time), so no timed request repeats a text already counted in that process. Reported: microseconds per request,
median and spread over the runs; with --trees each tree's runs alternate in fresh processes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

# The records are this checkout's (tests/data), whichever tree's code bills them: both trees bill the same requests.
_DATA = Path(__file__).resolve().parents[1]


def _records(root: Path) -> list[dict[str, Any]]:
    sys.path[:0] = [str(root), str(_DATA / "tests")]
    import ground_truth as gt

    records = [r for r in gt.load_2026() if r["kind"] == "input"]
    for name in gt.mined_history_names():
        if name != "media":
            records += [r for r in gt.load_mined_history(name) if r["kind"] == "input" and not gt.is_multimodal(r)]
    return records


def measure(root: Path) -> dict[str, float]:
    """One process's figure: µs per request over the timed half."""
    records = _records(root)
    import ground_truth as gt

    import vertexmeter

    assert vertexmeter.__file__ and vertexmeter.__file__.startswith(str(root)), vertexmeter.__file__

    def bill(record: dict[str, Any]) -> None:
        # a refused body costs its refusal; the same in every tree
        with contextlib.suppress(vertexmeter.VertexMeterError):
            vertexmeter.usage(record["model"], record["request"], api=gt.api_of(record), as_of=record.get("recorded"))

    warm = [r for r in records if zlib.crc32(r["id"].encode()) % 2 == 0]
    timed = [r for r in records if zlib.crc32(r["id"].encode()) % 2 == 1]
    for record in warm:
        bill(record)
    start = time.process_time()
    for record in timed:
        bill(record)
    elapsed = time.process_time() - start
    return {"requests": len(timed), "us_per_request": elapsed / len(timed) * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trees", help="A,B: two checkouts, measured in alternating fresh processes")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: measure this tree, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(Path(args.one).resolve())))
        return
    trees = [Path(t).resolve() for t in args.trees.split(",")] if args.trees else [Path(__file__).resolve().parents[1]]
    results: dict[Path, list[float]] = {tree: [] for tree in trees}
    count = 0
    for run in range(args.runs):
        for tree in trees if run % 2 == 0 else trees[::-1]:
            env = {**os.environ, "PYTHONPATH": str(tree)}
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(tree)], env=env, capture_output=True, text=True, check=True
            )
            figure = json.loads(out.stdout.strip().splitlines()[-1])
            results[tree].append(figure["us_per_request"])
            count = figure["requests"]
    print(f"{count} timed requests per run, {args.runs} runs per tree (µs per request, process CPU time)")
    for tree, values in results.items():
        print(f"{tree}: median {statistics.median(values):.0f}, spread {min(values):.0f} - {max(values):.0f}")


if __name__ == "__main__":
    main()
