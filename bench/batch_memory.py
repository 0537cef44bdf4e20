"""Benchmark: memory of `vertexmeter batch` on a multi-GB input — RSS of the whole process tree (driver and
workers) sampled while GBs stream through stdin. Nothing is written to disk: the input is generated on the fly.

Run: python bench/batch_memory.py [--gb 3] [--kind image|text] [--workers 2] [--file]

- image: each line is a Vertex batch request with a ~1 MB inline PNG (base64) and a short question; the
  image's tokens come from its header, so GBs pass in minutes (pip install 'vertexmeter[media]');
- text: ~2 KB text lines (tokenizer-bound: ~4 MB/s per core, so use a smaller --gb).
Prints RSS (driver, workers, total) at every 10 % of the input and the peak; flat means bounded.
--file writes the input to a temporary file first and runs `vertexmeter batch FILE` (the path where
workers read their own byte spans of the file); progress is then the fraction of the run's time.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import subprocess
import sys
import threading
import time


def tree_rss(pid: int) -> tuple[int, int]:
    """(driver RSS, sum of its descendants' RSS) in bytes, from /proc."""

    def rss(p: int) -> int:
        try:
            with open(f"/proc/{p}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def children(p: int) -> list[int]:
        found: list[int] = []
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as kids:
                    found += [int(k) for k in kids.read().split()]
        except OSError:
            pass
        return found

    descendants, todo = [], children(pid)
    while todo:
        child = todo.pop()
        descendants.append(child)
        todo += children(child)
    return rss(pid), sum(rss(c) for c in descendants)


def image_line() -> bytes:
    from PIL import Image

    rng = random.Random(1)
    image = Image.frombytes("RGB", (580, 580), bytes(rng.getrandbits(8) for _ in range(580 * 580 * 3)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode()
    request = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "What is in this picture?"},
                    {"inlineData": {"mimeType": "image/png", "data": data}},
                ],
            }
        ]
    }
    return (json.dumps({"request": request}) + "\n").encode()


def text_lines() -> list[bytes]:
    rng = random.Random(2)
    words = [
        "the",
        "of",
        "and",
        "to",
        "in",
        "is",
        "batch",
        "token",
        "vertex",
        "gemini",
        "count",
        "price",
        "line",
        "file",
        "stream",
        "memory",
    ]
    return [
        (
            json.dumps(
                {
                    "request": {
                        "contents": [
                            {"role": "user", "parts": [{"text": " ".join(rng.choice(words) for _ in range(330))}]}
                        ]
                    }
                }
            )
            + "\n"
        ).encode()
        for _ in range(64)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, default=3.0)
    parser.add_argument("--kind", choices=["image", "text"], default="image")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--file", action="store_true", help="read a file on disk, not stdin")
    args = parser.parse_args()
    lines = [image_line()] if args.kind == "image" else text_lines()
    total = int(args.gb * 1e9)
    if args.file:
        run_on_file(lines, total, args)
        return
    command = batch_command("-", args.workers)
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    sent = 0
    samples: list[tuple[float, int, int]] = []  # (fraction sent, driver, workers)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            driver, workers = tree_rss(proc.pid)
            samples.append((sent / total, driver, workers))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    sampler.start()
    n = 0
    while sent < total:
        line = lines[n % len(lines)]
        proc.stdin.write(line)
        sent += len(line)
        n += 1
    proc.stdin.close()
    summary = json.loads(proc.stdout.read())
    proc.wait()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    report(
        f"{args.kind}: {sent / 1e9:.2f} GB, {n:,} lines through stdin",
        sent,
        n,
        seconds,
        summary,
        args.workers,
        samples,
        "input sent",
    )


def batch_command(source: str, workers: int) -> list[str]:
    """`vertexmeter batch` over `source` (a path, or - for stdin), its results thrown away."""
    return [
        sys.executable,
        "-c",
        "from vertexmeter.cli import main; main()",
        "batch",
        source,
        "-m",
        "gemini-2.5-flash",
        "-o",
        os.devnull,
        "--workers",
        str(workers),
    ]


def run_on_file(lines: list[bytes], total: int, args: argparse.Namespace) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vertexmeter-batch-memory-") as folder:
        path = os.path.join(folder, "input.jsonl")
        written = n = 0
        with open(path, "wb") as out:
            while written < total:
                line = lines[n % len(lines)]
                out.write(line)
                written += len(line)
                n += 1
        command = batch_command(path, args.workers)
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE)
        samples: list[tuple[float, int, int]] = []  # (seconds, driver, workers)
        while proc.poll() is None:
            driver, workers = tree_rss(proc.pid)
            samples.append((time.perf_counter() - started, driver, workers))
            time.sleep(0.5)
        assert proc.stdout is not None
        summary = json.loads(proc.stdout.read())
        seconds = time.perf_counter() - started
    at_fractions = [(at / seconds, driver, workers) for at, driver, workers in samples]
    report(
        f"{args.kind}: {written / 1e9:.2f} GB, {n:,} lines from a file",
        written,
        n,
        seconds,
        summary,
        args.workers,
        at_fractions,
        "run time",
    )


def report(
    what: str,
    size: int,
    lines: int,
    seconds: float,
    summary: dict,
    workers: int,
    samples: list[tuple[float, int, int]],
    progress: str,
) -> None:
    """The run's rate, then RSS at every 10 % of `progress` (input sent, or run time) and the peak."""
    print(
        f"{what} in {seconds:.0f} s ({size / seconds / 1e6:.1f} MB/s, {lines / seconds:,.0f} lines/s), "
        f"{workers} workers; summary lines {summary['lines']:,}, prompt_tokens {summary['prompt_tokens']:,}"
    )
    assert summary["lines"] == lines
    print(f"{progress:>10} {'driver RSS':>11} {'workers RSS':>12} {'total':>8}  (MB)")
    next_mark = 0.0
    for fraction, driver, workers_rss in samples:
        if fraction >= next_mark and driver:
            total_mb = (driver + workers_rss) / 1e6
            print(f"{fraction:>10.0%} {driver / 1e6:>11.0f} {workers_rss / 1e6:>12.0f} {total_mb:>8.0f}")
            next_mark += 0.1
    peak = max(samples, key=lambda s: s[1] + s[2])
    whole = "input" if progress == "input sent" else "run"
    print(f"peak total RSS {(peak[1] + peak[2]) / 1e6:.0f} MB at {peak[0]:.0%} of the {whole}")


if __name__ == "__main__":
    main()
