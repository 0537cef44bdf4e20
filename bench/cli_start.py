"""CLI start time: `vertexmeter count -m MODEL hi` against a bare interpreter, interleaved rounds.

    python bench/cli_start.py [--rounds 15] [--model gemini-2.5-flash]

Each round runs, in a shuffled order, fresh processes of:
  bare       python -c pass
  cli        python -c "import vertexmeter.cli"            (the CLI's imports only)
  tokenizer  load the model's tokenizer and encode "hi"    (helper B's part, issue 9)
  count      vertexmeter count -m MODEL hi                 (what a user runs)
and reports medians, the spread (min-max) and per-round ratios to `bare`. The CLI's own part of a
count is `count - (tokenizer - bare)`: the whole command minus the tokenizer's own load.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import time


def commands(model: str) -> dict[str, list[str]]:
    script = shutil.which("vertexmeter") or ""
    family = _family(model)
    return {
        "bare": [sys.executable, "-c", "pass"],
        "cli": [sys.executable, "-c", "import vertexmeter.cli"],
        "tokenizer": [
            sys.executable, "-c",
            f"from vertexmeter.tokenizing import get_tokenizer; get_tokenizer({family!r}).encode('hi')",
        ],
        "count": [script, "count", "-m", model, "hi"] if script else [sys.executable, "-m", "vertexmeter", "count",
                                                                          "-m", model, "hi"],
    }


def _family(model: str) -> str:
    from vertexmeter.registry import resolve

    return resolve(model).tokenizer


def run_once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--model", default="gemini-2.5-flash")
    args = parser.parse_args()
    cmds = commands(args.model)
    for argv in cmds.values():  # warm the page cache once
        run_once(argv)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    own: list[float] = []
    for _ in range(args.rounds):
        names = list(cmds)
        random.shuffle(names)
        sample = {name: run_once(cmds[name]) for name in names}
        for name, seconds in sample.items():
            times[name].append(seconds)
        own.append((sample["count"] - (sample["tokenizer"] - sample["bare"])) / sample["bare"])
    print(f"model {args.model}, {args.rounds} interleaved rounds (ms: median [min-max]; ratio to bare: median [min-max])")
    bare = times["bare"]
    for name, values in times.items():
        ratios = [v / b for v, b in zip(values, bare, strict=True)]
        print(
            f"  {name:10s} {statistics.median(values) * 1000:7.1f} [{min(values) * 1000:.1f}-{max(values) * 1000:.1f}]"
            f"   x{statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]"
        )
    print(f"  CLI's own part of count (count - tokenizer load): x{statistics.median(own):.2f} bare "
          f"[{min(own):.2f}-{max(own):.2f}]")


if __name__ == "__main__":
    main()
