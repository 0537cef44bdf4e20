"""Benchmark: how fast a fresh process has each tokenizer family ready, and what it then holds.

Run: python bench/core_start.py [--rounds 7] [--compare SRC_DIR]

Interleaved rounds of fresh interpreters, in a shuffled order: `python -c pass`, then one process per
family that imports vertexmeter.tokenizing, gets the family's tokenizer and counts "hi" (the core table
already in the user cache, as after first use), and one that loads all three. Reported, in CPU time
(user + system; steadier than wall time on a shared machine): the whole process and its ratio to the
bare interpreter, the time inside the process from the import to the first count (imports included:
they are most of it), and the peak RSS of the all-families process. --compare SRC_DIR runs the same
probes from another source tree too (e.g. an export of main), in the same rounds.
Run it where users run vertexmeter: in a clean `pip install .` venv (an editable install's path hook
imports pathlib, re and typing into every interpreter, bare included, which hides what is avoided here).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys

PROBE = """
import json, resource, sys, time
before = set(sys.modules)
t0 = time.process_time()
from vertexmeter.tokenizing import get_tokenizer
for family in FAMILIES:
    get_tokenizer(family).count("hi")
ready = time.process_time() - t0
new = set(sys.modules) - before
heavy = sorted(m for m in ("pathlib", "dataclasses", "json", "typing", "re", "urllib") if m in new)
print(json.dumps({"ready": ready, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "heavy": heavy}))
"""


def child_cpu(argv: list[str], env: dict[str, str] | None) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--compare", default=None, help="another source tree to run the probes from")
    args = parser.parse_args()
    cases = {
        "gemma2": ["gemma2"],
        "gemma3": ["gemma3"],
        "gemma4": ["gemma4"],
        "all three": ["gemma2", "gemma3", "gemma4"],
    }
    trees: dict[str, dict[str, str] | None] = {"": None}
    if args.compare:
        trees["@SRC"] = {**os.environ, "PYTHONPATH": os.path.abspath(args.compare)}
    jobs = {"bare": ([sys.executable, "-c", "pass"], None)}
    for suffix, env in trees.items():
        for name, families in cases.items():
            jobs[name + suffix] = ([sys.executable, "-c", PROBE.replace("FAMILIES", repr(families))], env)
    for argv, env in jobs.values():  # derive and store the core tables once, as the first use does
        child_cpu(argv, env)
    cpu: dict[str, list[float]] = {name: [] for name in jobs}
    probes: dict[str, list[dict]] = {name: [] for name in jobs}  # type: ignore[type-arg]
    for _ in range(args.rounds):
        names = list(jobs)
        random.shuffle(names)
        for name in names:
            argv, env = jobs[name]
            seconds, out = child_cpu(argv, env)
            cpu[name].append(seconds)
            if name != "bare":
                probes[name].append(json.loads(out))
    bare = cpu["bare"]
    print(
        f"{args.rounds} interleaved rounds, CPU time; python -c pass: {statistics.median(bare) * 1000:.1f} ms (median)"
    )
    for name in jobs:
        if name == "bare":
            continue
        ratios = [c / b for c, b in zip(cpu[name], bare, strict=True)]
        ready = sorted(p["ready"] for p in probes[name])
        print(
            f"  {name:14s} process {statistics.median(cpu[name]) * 1000:6.1f} ms "
            f"= x{statistics.median(ratios):.2f} bare "
            f"[{min(ratios):.2f}-{max(ratios):.2f}]; import -> first count {statistics.median(ready) * 1000:5.1f} ms "
            f"[{ready[0] * 1000:.1f}-{ready[-1] * 1000:.1f}]; imported {probes[name][0]['heavy'] or 'none'} of "
            "pathlib/dataclasses/json/typing/re/urllib"
        )
        if name.startswith("all three"):
            print(
                f"  {'':14s} peak RSS {statistics.median(p['maxrss_kb'] for p in probes[name]) / 1024:.0f} MB (median)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
