"""CLI start time: `vertexmeter count -m MODEL hi` against a bare interpreter, interleaved rounds.

    python bench/cli_start.py [--rounds 15] [--model gemini-2.5-flash] [--compare SRC_DIR]
    python bench/cli_start.py --models all [--rounds 5]     (every registry model: count and count-first)
    python bench/cli_start.py --models names [--rounds 3] [--compare-python OTHER_VENV/bin/python]

Each round runs, in a shuffled order, fresh processes of:
  bare       python -c pass
  cli        python -c "import vertexmeter.cli"            (the CLI's imports only)
  tokenizer  load the model's tokenizer and encode "hi"
  count      python -m vertexmeter count -m MODEL hi       (the quick path, no click)
  script     vertexmeter count -m MODEL hi                 (the same through the console script pip wrote,
                                                            what a user types: its launcher imports `re`)
  via-click  the same command through the click group      (what every other command line costs)
and reports medians, the spread (min-max) and per-round ratios to `bare`. `count` is answered from the
quick path's memory of the (model, API, number of texts) (cli/quick.py): the rounds measure the memory.
  count-first  the same with the memory removed before the run: the first count of a (model, API, number
               of texts) after an install or upgrade, answered from the packaged index (cli/quick_index.py)
               for any name the registry resolves, else by the library (and then remembered)
  lib-first    the same for a version name in Arabic-Indic digits (MODEL-٠٠١), which the registry resolves
               but the quick path leaves to the library: a first count the index cannot answer (memory
               removed too), what every alias's first count cost before the index held the names
With --models, each round runs bare and, per model, count and count-first. `--models names` takes every
spelling the registry resolves on Vertex: ids, aliases, dated aliases (today's), `models/` and publisher
paths, `@version` and dated suffixes. --compare-python runs the same jobs with another install's interpreter
(a clean venv of the previous code) in the same shuffled rounds, each with its own memory put back;
--launch script runs each install's console script instead of `python -m vertexmeter`.
Run it in the environment users have: in a clean `pip install .` venv a bare start is ~10 ms; an
editable install adds ~10 ms to every start, bare included.
--compare SRC_DIR adds `count@SRC`: the same command run from another source tree (e.g. an export of
main: `git archive main vertexmeter | tar -x -C ../main-export`), for an A/B in the same rounds.
"""

from __future__ import annotations

import argparse
import contextlib
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
            sys.executable,
            "-c",
            f"from vertexmeter.tokenizing import get_tokenizer; get_tokenizer({family!r}).encode('hi')",
        ],
        "count": [sys.executable, "-m", "vertexmeter", "count", "-m", model, "hi"],
        # the console script pip wrote: what a user types (its launcher imports `re` before vertexmeter starts)
        "script": [console_script(sys.executable), "count", "-m", model, "hi"],
        "via-click": [sys.executable, "-c", "from vertexmeter.cli import main; main()", "count", "-m", model, "hi"],
    }


def forget() -> None:
    """Remove the quick path's memory (cli/quick.py), so that the next count is a first one."""
    from vertexmeter.cli import quick

    with contextlib.suppress(FileNotFoundError):
        os.unlink(quick._memory_path())


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
    parser.add_argument(
        "--models", default=None, help='comma-separated names, "all" (the models) or "names" (every spelling)'
    )
    parser.add_argument("--compare-python", default=None, help="with --models: also run another install's python")
    parser.add_argument(
        "--launch", choices=("module", "script"), default="module", help="with --models: python -m or the script"
    )
    args = parser.parse_args()
    global CLOCK, LAUNCH
    CLOCK = args.clock
    LAUNCH = args.launch
    if args.models:
        return every_model(args)
    cmds = commands(args.model)
    cmds["count-first"] = cmds["count"]
    # a version suffix of Unicode digits: the registry resolves it, the quick path leaves it to the library
    cmds["lib-first"] = [*cmds["count"][:-2], f"{args.model}-\u0660\u0660\u0661", "hi"]
    envs: dict[str, dict[str, str] | None] = dict.fromkeys(cmds)
    if args.compare:
        cmds["count@SRC"] = cmds["count"]
        envs["count@SRC"] = {**os.environ, "PYTHONPATH": os.path.abspath(args.compare)}
    compile_installed()
    for name, argv in cmds.items():  # warm the page cache once
        run_once(argv, envs[name])
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(args.rounds):
        names = list(cmds)
        random.shuffle(names)
        sample = {}
        for name in names:
            if name in ("count-first", "lib-first"):
                forget()
            sample[name] = run_once(cmds[name], envs[name])
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
        print(
            f"  count / count@SRC: median x{statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]; "
            f"minima {low['count'] * 1000:.1f} vs {low['count@SRC'] * 1000:.1f} ms"
        )


def compile_installed() -> None:
    """As installed: bytecode compiled (pip does it; an editable checkout under PYTHONDONTWRITEBYTECODE=1
    would otherwise recompile every module in every run and measure the compiler)."""
    import compileall

    import vertexmeter

    compileall.compile_dir(os.path.dirname(vertexmeter.__file__), quiet=1)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def every_name() -> list[str]:
    """Every spelling the registry resolves: each model's id and aliases, the dated aliases (as of today), and
    the prefixes and version suffixes the REST surface and SDKs add (counted on the Gemini API for a model only
    it serves: `name --api gemini`)."""
    import vertexmeter
    from vertexmeter.errors import VertexMeterError
    from vertexmeter.registry import dated_aliases, resolve

    def spelled(name: str, apis: tuple[str, ...]) -> str:
        return name if "vertex" in apis else f"{name} --api gemini"

    names = [spelled(name, m.apis) for m in vertexmeter.all_models() for name in (m.id, *m.aliases)]
    for alias in dated_aliases():
        with contextlib.suppress(VertexMeterError):
            names.append(spelled(alias, resolve(alias, any_api=True).apis))
    names += [
        "models/gemini-2.5-flash",
        "publishers/google/models/gemini-2.5-pro",
        "projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash-001",
        "gemini-2.5-flash@001",
        "gemini-2.5-flash-preview-09-2025",
        "text-bison@003",
    ]
    return names


def interpreter_memory(python: str) -> tuple[str, bytes | None]:
    """The quick path's memory file of the package `python` imports, and what it holds now (None: no file)."""
    code = "from vertexmeter.cli import quick; print(quick._memory_path())"
    path = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, cwd=NEUTRAL_CWD)
    memory_path = path.stdout.strip()
    try:
        with open(memory_path, "rb") as handle:
            return memory_path, handle.read()
    except FileNotFoundError:
        return memory_path, None


def console_script(python: str) -> str:
    """The `vertexmeter` console script installed beside `python`."""
    return os.path.join(os.path.dirname(python), "vertexmeter")


LAUNCH = "module"  # --launch: "module" (python -m vertexmeter) or "script" (the console script)


def counting(python: str, name: str) -> list[str]:
    """`vertexmeter count -m NAME hi` (NAME may carry `--api gemini`)."""
    model, *api = name.split(" ")
    start = [console_script(python)] if LAUNCH == "script" else [python, "-m", "vertexmeter"]
    return [*start, "count", "-m", model, *api, "hi"]


def every_model(args: argparse.Namespace) -> None:
    import vertexmeter

    if args.models == "all":
        models = [m.id for m in vertexmeter.all_models() if "vertex" in m.apis]  # the command's default API
    elif args.models == "names":
        models = every_name()
    else:
        models = args.models.split(",")
    compile_installed()
    # A: this interpreter; B (--compare-python): another install (a venv of the previous code), same rounds
    pythons = {"": sys.executable}
    if args.compare_python:
        pythons["@B"] = args.compare_python
    bare = [sys.executable, "-c", "pass"]
    run_once(bare)
    times: dict[str, list[float]] = {"bare": []}
    memory: dict[str, tuple[str, bytes | None]] = {}
    for tag, python in pythons.items():
        for m in models:
            times[f"{m} count{tag}"], times[f"{m} first{tag}"] = [], []
            run_once(counting(python, m))
        # what the runs above remembered (names outside the packaged index): put back before each `count`
        memory[tag] = interpreter_memory(python)
    for _ in range(args.rounds):
        jobs = ["bare"] + [f"{m} {kind}{tag}" for tag in pythons for m in models for kind in ("count", "first")]
        random.shuffle(jobs)
        for job in jobs:
            if job == "bare":
                times[job].append(run_once(bare))
                continue
            model, kind = job.rsplit(" ", 1)
            tag = "@B" if kind.endswith("@B") else ""
            path, remembered = memory[tag]
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            if kind.startswith("count") and remembered is not None:
                with open(path, "wb") as handle:
                    handle.write(remembered)
            times[job].append(run_once(counting(pythons[tag], model)))
    print(
        f"{len(models)} names, {args.rounds} interleaved rounds, {args.clock} time; ratio to bare (median [min-max])"
        + (f"; @B: {args.compare_python}" if args.compare_python else "")
    )
    print(f"  bare {statistics.median(times['bare']) * 1000:.1f} ms")
    medians: dict[str, list[float]] = {f"{kind}{tag}": [] for tag in pythons for kind in ("count", "first")}
    for m in models:
        line = f"  {m:44s}"
        for key, found in medians.items():
            ratios = [v / b for v, b in zip(times[f"{m} {key}"], times["bare"], strict=True)]
            found.append(statistics.median(ratios))
            line += f"  {key} x{statistics.median(ratios):5.2f} [{min(ratios):.2f}-{max(ratios):.2f}]"
        print(line)
    print("  highest median: " + ", ".join(f"{key} x{max(found):.2f}" for key, found in medians.items()))
    print(
        "  over the names: "
        + ", ".join(
            f"{key} median x{statistics.median(found):.2f}, {sum(r > 3 for r in found)} above x3"
            for key, found in medians.items()
        )
    )


if __name__ == "__main__":
    main()
