"""Benchmark: how fast a fresh process has each tokenizer family ready, and what it then holds.

Run: python bench/core_start.py [--rounds 7]

Interleaved rounds of fresh interpreters: `python -c pass`, then one process per family that imports
vertexmeter.tokenizing and counts "hi" (the core table already in the user cache, as after first
use), and one that loads all three. Reported: median wall time, the time inside the process from
get_tokenizer() to the first count, and the peak RSS of the all-families process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

PROBE = """
import json, resource, time
t0 = time.perf_counter()
from vertexmeter.tokenizing import get_tokenizer
t1 = time.perf_counter()
ready = {}
for family in FAMILIES:
    start = time.perf_counter()
    get_tokenizer(family).count("hi")
    ready[family] = time.perf_counter() - start
print(json.dumps({"import": t1 - t0, "ready": ready, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def run(families: list[str]) -> tuple[float, dict]:  # type: ignore[type-arg]
    code = PROBE.replace("FAMILIES", repr(families))
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - start, json.loads(out)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    cases = {
        "gemma2": ["gemma2"],
        "gemma3": ["gemma3"],
        "gemma4": ["gemma4"],
        "all three": ["gemma2", "gemma3", "gemma4"],
    }
    run(cases["all three"])  # derive and store the core tables once, as the first use does
    walls: dict[str, list[float]] = {"python -c pass": [], **{k: [] for k in cases}}
    ready: dict[str, list[float]] = {k: [] for k in cases}
    rss: list[int] = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        walls["python -c pass"].append(time.perf_counter() - start)
        for name, families in cases.items():
            wall, probe = run(families)
            walls[name].append(wall)
            ready[name].append(sum(probe["ready"].values()))
            if name == "all three":
                rss.append(probe["maxrss_kb"])
    bare = statistics.median(walls["python -c pass"])
    print(f"python -c pass: {bare * 1000:.0f} ms (median of {args.rounds})")
    for name in cases:
        r = sorted(ready[name])
        print(
            f"{name:10s} process {statistics.median(walls[name]) * 1000:6.0f} ms; get_tokenizer -> first count "
            f"{statistics.median(r) * 1000:6.1f} ms (min {r[0] * 1000:.1f}, max {r[-1] * 1000:.1f})"
        )
    print(f"all three families loaded: peak RSS {statistics.median(rss) / 1024:.0f} MB (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
