"""Load test for `vertexmeter serve`: requests/s and p50/p99 latency of countTokens / computeTokens.

    python bench/load_server.py --url http://127.0.0.1:8080            # a server you started
    python bench/load_server.py --spawn thread --spawn-workers 2       # start one, measure, stop it

Loopback only (anything else is refused), bounded: each (rpc, concurrency) level stops after
--requests requests or --seconds seconds, whichever comes first. The client is a minimal keep-alive
HTTP/1.1 client on asyncio streams, so that the measuring process takes as little CPU as possible
from the server it shares the machine with. Every answer is checked (status 200, and the body equal
to the first one for the same request text).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

WORDS = (
    "the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "seven", "pirates", "count",
    "tokens", "in", "a", "harbour", "under", "grey", "clouds;", "meanwhile", "an", "engineer", "measures",
    "latency", "percentiles", "and", "requests", "per", "second",
)


def text_of_size(size: int, seed: int) -> str:
    """Deterministic English-like text of exactly `size` characters."""
    out: list[str] = []
    length = 0
    i = seed
    while length < size:
        word = WORDS[(i * 7 + seed) % len(WORDS)]
        out.append(word)
        length += len(word) + 1
        i += 1
    return " ".join(out)[:size]


@dataclass
class Level:
    rpc: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    def report(self) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2) if lat else float("nan")

        return {
            "rpc": self.rpc,
            "concurrency": self.concurrency,
            "requests": len(lat),
            "errors": self.errors,
            "seconds": round(self.elapsed, 2),
            "requests_per_s": round(len(lat) / self.elapsed, 1) if self.elapsed else 0.0,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(lat) * 1000, 2) if lat else float("nan"),
        }


class Connection:
    """One keep-alive HTTP/1.1 connection; enough protocol for Content-Length answers."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"Content-Length: {len(body)}\r\n\r\n"
        self.writer.write(head.encode("latin-1") + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        close = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        payload = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def run_level(
    host: str, port: int, path: str, bodies: list[bytes], headers: dict[str, str], level: Level,
    max_requests: int, max_seconds: float,
) -> None:
    expected: dict[int, bytes] = {}
    issued = 0
    deadline = time.perf_counter() + max_seconds

    async def worker() -> None:
        nonlocal issued
        conn = Connection(host, port)
        try:
            while issued < max_requests and time.perf_counter() < deadline:
                n = issued
                issued += 1
                body = bodies[n % len(bodies)]
                start = time.perf_counter()
                status, payload = await conn.post(path, body, headers)
                took = time.perf_counter() - start
                first = expected.setdefault(n % len(bodies), payload)
                if status != 200 or payload != first:
                    level.errors += 1
                else:
                    level.latencies.append(took)
        finally:
            await conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(level.concurrency)))
    level.elapsed = time.perf_counter() - start


def require_loopback(url: str) -> tuple[str, int]:
    parts = urlparse(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not loopback:
        raise SystemExit(f"refusing {url}: this load test only targets http://127.0.0.1 / localhost")
    return host, parts.port or 80


def spawn(executor: str, workers: int) -> tuple[subprocess.Popen[str], str]:
    cmd = [
        sys.executable, "-c", "from vertexmeter.cli import main; main()", "serve", "--port", "0",
        "--executor", executor, "--workers", str(workers), "--quota-rpm", "0", "--no-access-log",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        match = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
        if match:
            # keep draining the server's output so that it never blocks on a full pipe
            threading.Thread(target=lambda: [None for _ in proc.stdout or ()], daemon=True).start()
            return proc, match.group(1)
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise SystemExit("the spawned server did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (loopback only)")
    parser.add_argument("--spawn", choices=["thread", "process"], help="start `vertexmeter serve` with this executor")
    parser.add_argument("--spawn-workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--model", default="gemini-2.5-flash")
    parser.add_argument("--size", type=int, default=2048, help="characters of text per request (default 2 KB)")
    parser.add_argument("--concurrency", default="1,4,16,64", help="comma-separated levels")
    parser.add_argument("--rpc", default="countTokens,computeTokens", help="countTokens and/or computeTokens")
    parser.add_argument("--requests", type=int, default=3000, help="max requests per level")
    parser.add_argument("--seconds", type=float, default=15.0, help="max seconds per level")
    parser.add_argument("--api-key", default=os.environ.get("VERTEXMETER_LOAD_API_KEY"))
    parser.add_argument("--json", action="store_true", help="one JSON object per level instead of a table")
    args = parser.parse_args(argv)
    if bool(args.url) == bool(args.spawn):
        parser.error("give exactly one of --url or --spawn")
    if args.requests > 100_000 or args.seconds > 300:
        parser.error("bounded by design: at most 100000 requests and 300 s per level")

    proc = None
    url = args.url
    if args.spawn:
        proc, url = spawn(args.spawn, args.spawn_workers)
    try:
        host, port = require_loopback(url)
        headers = {"x-goog-api-key": args.api_key} if args.api_key else {}
        bodies = [
            json.dumps({"contents": [{"role": "user", "parts": [{"text": text_of_size(args.size, seed)}]}]}).encode()
            for seed in range(16)
        ]
        levels = [int(c) for c in args.concurrency.split(",")]
        results = []
        for rpc in args.rpc.split(","):
            path = f"/v1/projects/load/locations/us-central1/publishers/google/models/{args.model}:{rpc}"
            # warm-up: connections, tokenizer caches
            asyncio.run(run_level(host, port, path, bodies, headers, Level(rpc, 4), 200, 5))
            for concurrency in levels:
                level = Level(rpc, concurrency)
                asyncio.run(run_level(host, port, path, bodies, headers, level, args.requests, args.seconds))
                results.append(level.report())
                line = results[-1]
                if args.json:
                    print(json.dumps(line), flush=True)
                else:
                    print(
                        f"{line['rpc']:>14}  c={line['concurrency']:<3}  {line['requests_per_s']:>8.1f} req/s  "
                        f"p50 {line['p50_ms']:>7.2f} ms  p99 {line['p99_ms']:>7.2f} ms  "
                        f"({line['requests']} ok, {line['errors']} errors, {line['seconds']} s)",
                        flush=True,
                    )
        return 1 if any(r["errors"] for r in results) else 0
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
