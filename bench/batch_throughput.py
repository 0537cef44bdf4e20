"""Benchmark: `vertexmeter batch` on ~2 KB-per-line Vertex batch files — 1 worker vs N workers vs Ray, against
the single-process library loop (json.loads + vertexmeter.usage_metadata per line), in one run.

Two single-process baselines: the counting loop (json.loads + usage_metadata: counts only, the
stricter reference) and the priced loop (json.loads + vertexmeter.estimate(mode="batch") and its
JSON per line: what a batch line's result holds, written without `vertexmeter batch`). A third row,
"counting loop xN (ceiling)", runs the counting loop in N processes at once over N pre-split parts of
the file: perfect splitting with no driver and no results, the most any N-process design could reach
here (two busy processes slow each other down on a shared machine's memory system).

Run: python bench/batch_throughput.py [--lines 6000] [--rounds 3] [--workers 2] [--no-ray] [--cold-costs]

--cold-costs: every batch job starts with empty per-process cost memos, as a `vertexmeter batch` process does;
by default a pool's forked workers inherit the memo the driver filled in the in-process "1 worker" run, so
the figures leave out pricing each distinct cost (once per worker) and show the counting alone.

Text: Python's standard library (code and English docs), cut so that each JSONL line is ~2,000 bytes;
--lines beyond what it holds (~18,600 lines on CPython 3.11) gives the whole corpus.
Rounds are interleaved (library, 1 worker, N workers, Ray, then again): this machine is shared, so each
round's ratios are taken against the library loop of the same round; the medians and spread are printed.
Every variant must report the same prompt_tokens as the library loop (checked).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import statistics
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import vertexmeter
from vertexmeter.batch import estimate_batch
from vertexmeter.batch import work as batch_work

MODEL = "gemini-2.5-flash"
LINE_BYTES = 2000


def corpus_lines(count: int) -> list[str]:
    """~2 KB JSONL lines of Vertex batch requests over stdlib code and docs."""
    stdlib = sysconfig.get_paths()["stdlib"]
    paths = sorted(glob.glob(os.path.join(stdlib, "idlelib", "*.txt")))
    code = glob.glob(os.path.join(stdlib, "**", "*.py"), recursive=True)
    paths += sorted(p for p in code if "site-packages" not in p)  # what pip installed is not the same everywhere
    lines: list[str] = []
    for path in paths:
        text = Path(path).read_text("utf-8", errors="replace")
        start = 0
        while start < len(text) and len(lines) < count:
            size = LINE_BYTES - 120
            doc = text[start : start + size]
            line = json.dumps(
                {
                    "request": {
                        "contents": [{"role": "user", "parts": [{"text": doc}]}],
                        "generationConfig": {"maxOutputTokens": 512},
                    }
                }
            )
            while len(line.encode()) > LINE_BYTES and size > 100:  # escapes grow the line: trim back
                size -= 60
                doc = text[start : start + size]
                line = json.dumps(
                    {
                        "request": {
                            "contents": [{"role": "user", "parts": [{"text": doc}]}],
                            "generationConfig": {"maxOutputTokens": 512},
                        }
                    }
                )
            lines.append(line)
            start += size
        if len(lines) >= count:
            break
    return lines


def cpu_seconds() -> tuple[float, float]:
    """(CPU time of this process, of its finished children): the driver's and the pool workers'."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def library_loop(path: str) -> int:
    total = 0
    with open(path, encoding="utf-8") as source:
        for line in source:
            total += vertexmeter.usage_metadata(MODEL, json.loads(line)["request"])["promptTokenCount"]
    return total


def split_loops(paths: list[str]) -> int:
    """The counting loop in one forked process per part, all at once: the ceiling of any N-process design
    on this machine (perfect splitting, no driver, no results), not something vertexmeter runs."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(len(paths)) as pool:
        return sum(pool.map(library_loop, paths))


def priced_loop(path: str) -> int:
    total = 0
    with open(path, encoding="utf-8") as source:
        for line in source:
            estimate = vertexmeter.estimate(MODEL, json.loads(line)["request"], mode="batch")
            json.dumps(estimate.to_json())
            total += estimate.counted.total_tokens
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument(
        "--cold-costs",
        action="store_true",
        help="start every batch job with empty per-process cost memos, as a fresh `vertexmeter batch` process "
        "does (by default a pool inherits the memo its driver filled in an earlier in-process run)",
    )
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="vertexmeter-batch-bench-")
    source = os.path.join(workdir, "batch.jsonl")
    lines = corpus_lines(args.lines)
    Path(source).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    size = os.path.getsize(source)
    results = os.path.join(workdir, "results.jsonl")
    print(
        f"input: {len(lines):,} lines, {size / 1e6:.1f} MB ({size / len(lines):.0f} bytes/line), model {MODEL}, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )

    ray = None
    if not args.no_ray:
        try:
            import ray as ray_module

            started = time.perf_counter()
            ray_module.init(
                num_cpus=args.workers, include_dashboard=False, logging_level="WARNING", log_to_driver=False
            )
            ray = ray_module
            print(
                f"local Ray cluster of {args.workers} CPUs started in {time.perf_counter() - started:.1f} s "
                "(not in the timings)"
            )
        except ImportError:
            print("ray not installed: pip install 'vertexmeter[ray]' (skipped)")

    parts = [os.path.join(workdir, f"part-{i}.jsonl") for i in range(args.workers)]
    for i, part in enumerate(parts):
        Path(part).write_text("".join(line + "\n" for line in lines[i :: args.workers]), encoding="utf-8")
    expected = library_loop(source)  # warm: tokenizer and prices loaded before timing
    variants: dict[str, Callable[[], int]] = {
        "library loop (1 process)": lambda: library_loop(source),
        "priced loop (1 process)": lambda: priced_loop(source),
        f"counting loop x{args.workers} (ceiling)": lambda: split_loops(parts),
        "batch, 1 worker": lambda: estimate_batch(source, MODEL, output=results, workers=1).tally.prompt_tokens,
        f"batch, {args.workers} workers": lambda: (
            estimate_batch(source, MODEL, output=results, workers=args.workers).tally.prompt_tokens
        ),
    }
    if ray is not None:
        variants[f"batch, Ray ({args.workers} CPUs)"] = lambda: (
            estimate_batch(source, MODEL, output=results, engine="ray", workers=args.workers).tally.prompt_tokens
        )
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}  # (this process, children)
    names = list(variants)
    for round_ in range(args.rounds):
        # a different order each round, so that no variant always runs right after the same neighbour
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            run = variants[name]
            if args.cold_costs:
                batch_work._line_costs.clear()  # the forked workers start without the driver's memoised costs
            started, (own, children) = time.perf_counter(), cpu_seconds()
            tokens = run()
            seconds[name].append(time.perf_counter() - started)
            own_after, children_after = cpu_seconds()
            cpu[name].append((own_after - own, children_after - children))
            if tokens != expected:
                raise SystemExit(f"{name}: prompt_tokens {tokens} != library loop {expected}")
        print(f"round {round_ + 1}: " + ", ".join(f"{n} {s[-1]:.2f} s" for n, s in seconds.items()), flush=True)
    if ray is not None:
        ray.shutdown()

    base = seconds["library loop (1 process)"]
    priced = seconds["priced loop (1 process)"]
    print(f"\nprompt_tokens {expected:,} (every variant equal)")
    print(
        f"{'variant':<32} {'lines/s':>9} {'MB/s':>6}  {'vs counting loop':>20}  {'vs priced loop':>20}  "
        f"{'CPU us/line':>11} {'driver':>7} {'workers':>8}"
    )
    for name, times in seconds.items():
        median = statistics.median(times)
        # CPU per line: this process (the loop, or the batch driver) and its children (the pool's workers, or the
        # split loops); Ray's workers are not children of this process: their CPU time is not visible here
        own_us = statistics.median(c[0] for c in cpu[name]) / len(lines) * 1e6
        children_us = statistics.median(c[1] for c in cpu[name]) / len(lines) * 1e6
        total_us = statistics.median(c[0] + c[1] for c in cpu[name]) / len(lines) * 1e6
        per_line = (
            f"{'n/a':>11} {own_us:>7.1f} {'n/a':>8}"
            if "Ray" in name
            else f"{total_us:>11.1f} {own_us:>7.1f} {children_us:>8.1f}"
        )
        cells = []
        for reference in (base, priced):
            ratios = [b / t for b, t in zip(reference, times, strict=True)]
            cells.append(f"{statistics.median(ratios):>8.2f}x ({min(ratios):.2f}-{max(ratios):.2f})")
        print(
            f"{name:<32} {len(lines) / median:>9,.0f} {size / median / 1e6:>6.2f}  {cells[0]:>20}  "
            f"{cells[1]:>20}  {per_line}"
        )
    print("speed-up: median over rounds of (loop time / variant time) in the same round, with min-max")
    print(
        "CPU us/line: medians over rounds; `workers` is the pool's CPU per line, to compare with the loop's "
        "(less sensitive than the ratios to other load on the machine)"
    )
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for path in (source, results, *parts):
        if os.path.exists(path):
            os.remove(path)
    os.rmdir(workdir)


if __name__ == "__main__":
    main()
