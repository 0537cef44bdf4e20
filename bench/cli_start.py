"""CLI start time: `vertexmeter count -m MODEL hi` against a bare interpreter, interleaved rounds.

    python bench/cli_start.py [--rounds 15] [--model gemini-2.5-flash] [--compare SRC_DIR]

Each round runs, in a shuffled order, fresh processes of:
  bare       python -c pass
  cli        python -c "import vertexmeter.cli"            (the CLI's imports only)
  tokenizer  load the model's tokenizer and encode "hi"    (helper B's part, issue 9)
  count      vertexmeter count -m MODEL hi                 (what a user runs: the quick path, no click)
  via-click  the same command through the click group      (what every other command line costs)
and reports medians, the spread (min-max) and per-round ratios to `bare`. `count` is the first run of
the day's (model, API, number of texts) through the library, then the quick path's memory of it
(cli/quick.py): the rounds measure the memory. Run it in the environment users have: in a clean
`pip install .` venv a bare start is ~10 ms; an editable install adds ~10 ms to every start, bare included.
--compare SRC_DIR adds `count@SRC`: the same command run from another source tree (e.g. an export of
main: `git archive main vertexmeter | tar -x -C /tmp/main`), for an A/B in the same rounds.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def commands(model: str) -> dict[str, list[str]]:
    family = _family(model)
    return {
        "bare": [sys.executable, "-c", "pass"],
        "cli": [sys.executable, "-c", "import vertexmeter.cli"],
        "tokenizer": [
            sys.executable, "-c",
            f"from vertexmeter.tokenizing import get_tokenizer; get_tokenizer({family!r}).encode('hi')",
        ],
        "count": [sys.executable, "-m", "vertexmeter", "count", "-m", model, "hi"],
        "via-click": [sys.executable, "-c", "from vertexmeter.cli import main; main()", "count", "-m", model, "hi"],
    }


def _family(model: str) -> str:
    from vertexmeter.registry import resolve

    return resolve(model).tokenizer


NEUTRAL_CWD = tempfile.gettempdir()
CLOCK = "cpu"  # --clock: "cpu" (user+system time of the child: steadier on a loaded machine) or "wall"


def run_once(argv: list[str], env: dict[str, str] | None = None) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # cwd: a neutral directory, or `python -m vertexmeter` would import a checkout's package from the cwd
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env, cwd=NEUTRAL_CWD)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu if CLOCK == "cpu" else wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--model", default="gemini-2.5-flash")
    parser.add_argument("--compare", default=None, help="another source tree to run `count` from")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = parser.parse_args()
    global CLOCK
    CLOCK = args.clock
    cmds = commands(args.model)
    envs: dict[str, dict[str, str] | None] = dict.fromkeys(cmds)
    if args.compare:
        cmds["count@SRC"] = cmds["count"]
        envs["count@SRC"] = {**os.environ, "PYTHONPATH": os.path.abspath(args.compare)}
    # As installed: bytecode compiled (pip does it; an editable checkout under PYTHONDONTWRITEBYTECODE=1
    # would otherwise recompile every module in every run and measure the compiler).
    import compileall

    import vertexmeter

    compileall.compile_dir(os.path.dirname(vertexmeter.__file__), quiet=1)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for name, argv in cmds.items():  # warm the page cache once
        run_once(argv, envs[name])
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(args.rounds):
        names = list(cmds)
        random.shuffle(names)
        sample = {name: run_once(cmds[name], envs[name]) for name in names}
        for name, seconds in sample.items():
            times[name].append(seconds)
    print(f"model {args.model}, {args.rounds} interleaved rounds, {args.clock} time")
    print("  (ms: median [min-max]; ratio to bare: median [min-max])")
    bare = times["bare"]
    for name, values in times.items():
        ratios = [v / b for v, b in zip(values, bare, strict=True)]
        print(
            f"  {name:10s} {statistics.median(values) * 1000:7.1f} [{min(values) * 1000:.1f}-{max(values) * 1000:.1f}]"
            f"   x{statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]"
        )
    low = {name: min(values) for name, values in times.items()}
    print(f"  by minima: count {low['count'] * 1000:.1f} ms = x{low['count'] / low['bare']:.2f} bare")
    if args.compare:
        ratios = [a / b for a, b in zip(times["count"], times["count@SRC"], strict=True)]
        print(f"  count / count@SRC: median x{statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]; "
              f"minima {low['count'] * 1000:.1f} vs {low['count@SRC'] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
