"""Mixed load on `vertexmeter serve`: small requests' latency while large ones run, and RSS over time.

    python bench/mixed_load.py --checkout ../before --checkout . --rounds 3     # A/B, interleaved rounds
    python bench/mixed_load.py --checkout . --soak 600 --concurrency 16           # soak: RSS over time
    python bench/mixed_load.py --checkout ../before --checkout . --large-chars 255000 --large-clients 4 \
        --large-text repeated                                                     # cost, not size

Mixed mode: per round and checkout, a fresh `vertexmeter serve` (loopback, default settings, quota
off) gets `--large-clients` clients each sending `--large-chars`-character countTokens requests back
to back, while one client sends one-word countTokens and GET /healthz one after the other for
`--seconds`. Reported: p50 / p99 / max latency of the small requests and of /healthz, large requests
answered, and the server's RSS (the process and its children). Rounds alternate between checkouts so
that drift on a shared machine hits both alike; the summary gives the median over rounds.

Soak mode: `--concurrency` clients send a mix (90% one sentence, 9% 64 KB, 1% 2 MB; countTokens and
computeTokens) for `--soak` seconds; RSS is sampled every 5 s; reported: first, max and last RSS, the
slope of a least-squares line through the samples after the first minute, and any non-200 answer.

Loopback only; every server is started and stopped here. A checkout is imported from its directory
(an editable install of another checkout is bypassed), so two versions compare in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PATH = "/v1/projects/bench/locations/us-central1/publishers/google/models/gemini-2.5-flash:countTokens"
COMPUTE = PATH.replace(":countTokens", ":computeTokens")
ONE_WORD = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}).encode()
LAUNCH = (
    "import sys; sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in repr(f)]; "
    "sys.path.insert(0, {checkout!r}); from vertexmeter.cli import main; main()"
)


def repeated_body(characters: int) -> bytes:
    """One character repeated: a single chunk that the counting core encodes whole on every request."""
    return json.dumps({"contents": [{"role": "user", "parts": [{"text": "a" * characters}]}]}).encode()


def text_body(characters: int, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "tokens", "harbour", "latency"]
    out: list[str] = []
    size = 0
    while size < characters:
        word = rng.choice(words)
        out.append(word)
        size += len(word) + 1
    text = " ".join(out)[:characters]
    return json.dumps({"contents": [{"role": "user", "parts": [{"text": text}]}]}).encode()


@dataclass
class Server:
    checkout: str
    proc: subprocess.Popen[str]
    base_url: str = ""
    lines: list[str] = field(default_factory=list)

    def rss_bytes(self) -> int:
        """RSS of the server and its child processes (Linux /proc)."""
        total = 0
        for pid in [self.proc.pid, *children(self.proc.pid)]:
            try:
                with open(f"/proc/{pid}/statm", "rb") as statm:
                    total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            except OSError:
                continue
        return total

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(30)


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *children(kid)]
    return found


def start(checkout: str, extra: list[str]) -> Server:
    checkout = str(Path(checkout).resolve())
    command = [
        sys.executable,
        "-c",
        LAUNCH.format(checkout=checkout),
        "serve",
        "--port",
        "0",
        "--quota-rpm",
        "0",
        "--no-access-log",
        *extra,
    ]
    proc = subprocess.Popen(command, cwd="/", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    server = Server(checkout, proc)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            server.lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        match = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", "".join(server.lines))
        if match:
            server.base_url = match.group(1)
            return server
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start:\n" + "".join(server.lines[-20:]))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def mixed_round(checkout: str, args: argparse.Namespace) -> dict[str, Any]:
    server = start(checkout, args.serve_arg)
    large = repeated_body(args.large_chars) if args.large_text == "repeated" else text_body(args.large_chars, seed=1)
    stop = threading.Event()
    answered: list[float] = []
    failures: list[str] = []
    rss: list[tuple[float, int]] = []

    def large_client() -> None:
        with httpx.Client(base_url=server.base_url, timeout=300) as client:
            while not stop.is_set():
                start_at = time.perf_counter()
                try:
                    response = client.post(PATH, content=large)
                except httpx.HTTPError as exc:
                    if not stop.is_set():
                        failures.append(type(exc).__name__)
                    return
                if response.status_code == 200:
                    answered.append(time.perf_counter() - start_at)
                else:
                    failures.append(str(response.status_code))

    def sample_rss() -> None:
        t0 = time.monotonic()
        while not stop.is_set():
            rss.append((time.monotonic() - t0, server.rss_bytes()))
            stop.wait(0.5)

    threads = [threading.Thread(target=large_client, daemon=True) for _ in range(args.large_clients)]
    threads.append(threading.Thread(target=sample_rss, daemon=True))
    for thread in threads:
        thread.start()
    time.sleep(args.warmup)  # both large bodies are on the server and being counted
    small: list[float] = []
    health: list[float] = []
    end = time.monotonic() + args.seconds
    with httpx.Client(base_url=server.base_url, timeout=120) as client:
        while time.monotonic() < end:
            t = time.perf_counter()
            response = client.post(PATH, content=ONE_WORD)
            small.append(time.perf_counter() - t)
            if response.status_code != 200:
                failures.append(f"small {response.status_code}")
            t = time.perf_counter()
            client.get("/healthz")
            health.append(time.perf_counter() - t)
            time.sleep(0.05)
    stop.set()
    server.stop()
    return {
        "checkout": checkout,
        "small_n": len(small),
        "small_p50_ms": 1000 * percentile(small, 0.5),
        "small_p99_ms": 1000 * percentile(small, 0.99),
        "small_max_ms": 1000 * max(small),
        "healthz_p50_ms": 1000 * percentile(health, 0.5),
        "healthz_p99_ms": 1000 * percentile(health, 0.99),
        "healthz_max_ms": 1000 * max(health),
        "large_answered": len(answered),
        "large_median_s": statistics.median(answered) if answered else None,
        "rss_max_mb": max(r for _, r in rss) / 2**20 if rss else None,
        "rss_trace_mb": [(round(t, 1), round(r / 2**20)) for t, r in rss[:: max(1, len(rss) // 12)]],
        "failures": failures[:10],
    }


def soak(checkout: str, args: argparse.Namespace) -> dict[str, Any]:
    server = start(checkout, args.serve_arg)
    bodies = [(ONE_WORD, 90), (text_body(64 * 1024, seed=2), 9), (text_body(2 * 1024 * 1024, seed=3), 1)]
    population = [body for body, weight in bodies for _ in range(weight)]
    stop = threading.Event()
    codes: dict[str, int] = {}
    done = [0]
    lock = threading.Lock()

    def client_loop(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=server.base_url, timeout=120) as client:
            while not stop.is_set():
                body = rng.choice(population)
                path = PATH if rng.random() < 0.8 else COMPUTE
                try:
                    code = str(client.post(path, content=body).status_code)
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                with lock:
                    codes[code] = codes.get(code, 0) + 1
                    done[0] += 1

    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(args.concurrency)]
    for thread in threads:
        thread.start()
    samples: list[tuple[float, float]] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < args.soak:
        samples.append((time.monotonic() - t0, server.rss_bytes() / 2**20))
        time.sleep(5)
    samples.append((time.monotonic() - t0, server.rss_bytes() / 2**20))
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    server.stop()
    later = [(t, r) for t, r in samples if t >= 60] or samples
    slope = _slope(later) * 60
    return {
        "checkout": checkout,
        "seconds": args.soak,
        "concurrency": args.concurrency,
        "requests": done[0],
        "codes": codes,
        "rss_first_mb": round(samples[0][1]),
        "rss_max_mb": round(max(r for _, r in samples)),
        "rss_last_mb": round(samples[-1][1]),
        "rss_slope_mb_per_min_after_1min": round(slope, 2),
        "rss_trace_mb": [(round(t), round(r)) for t, r in samples[:: max(1, len(samples) // 15)]],
    }


def _slope(points: list[tuple[float, float]]) -> float:
    if len(points) < 2:
        return 0.0
    mean_t = statistics.mean(t for t, _ in points)
    mean_r = statistics.mean(r for _, r in points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (r - mean_r) for t, r in points) / var if var else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", action="append", required=True, help="a source tree to serve (repeatable)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0, help="small-request sampling per round")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of large load before sampling")
    parser.add_argument("--large-chars", type=int, default=8_000_000)
    parser.add_argument("--large-clients", type=int, default=2)
    parser.add_argument(
        "--large-text",
        choices=("prose", "repeated"),
        default="prose",
        help="the large requests' text: words, or one character repeated",
    )
    parser.add_argument("--soak", type=float, default=0.0, help="soak for this many seconds instead")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--serve-arg", action="append", default=[], help="extra `vertexmeter serve` argument")
    args = parser.parse_args()
    if args.soak:
        for checkout in args.checkout:
            print(json.dumps(soak(checkout, args)), flush=True)
        return
    results: list[dict[str, Any]] = []
    for round_number in range(args.rounds):
        for checkout in args.checkout if round_number % 2 == 0 else list(reversed(args.checkout)):
            result = mixed_round(checkout, args)
            result["round"] = round_number
            results.append(result)
            print(json.dumps(result), flush=True)
    print("\nmedian over rounds:")
    for checkout in args.checkout:
        mine = [r for r in results if r["checkout"] == checkout]
        summary = {
            key: round(statistics.median(r[key] for r in mine), 1)
            for key in (
                "small_p50_ms",
                "small_p99_ms",
                "small_max_ms",
                "healthz_p50_ms",
                "healthz_p99_ms",
                "healthz_max_ms",
                "large_answered",
                "rss_max_mb",
            )
        }
        spread = [round(r["small_p99_ms"], 1) for r in mine]
        print(json.dumps({"checkout": checkout, **summary, "small_p99_ms_per_round": spread}))


if __name__ == "__main__":
    main()
