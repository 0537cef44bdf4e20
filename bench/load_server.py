"""Load test for `vertexmeter serve`: requests/s and p50/p99 latency of countTokens / computeTokens.

    python bench/load_server.py --url http://127.0.0.1:8080            # a server you started
    python bench/load_server.py --spawn thread --spawn-workers 2       # start one, measure, stop it
    python bench/load_server.py --checkout ../before --checkout . --baseline --rounds 5 \
        --rpc countTokens --concurrency 16                             # A/B against the stack's pace

Stack mode (`--checkout`, repeatable, and/or `--baseline`): per round, each target is started fresh
and measured in turn, rounds interleaved so that drift on a shared machine hits all alike. A checkout is
`vertexmeter serve` with its default flags (access log on, written to a file) imported from that
directory; `--baseline` is a minimal ASGI app (reads the body, answers a fixed JSON) under uvicorn with
its own defaults (`--http auto --loop auto`: httptools and uvloop when installed), i.e. the pace of the
HTTP stack itself. The summary gives each target's median req/s, p99 and server CPU time per request
(user + system, all threads, from /proc: steadier than req/s on a shared machine) with their range over
rounds, and each checkout's req/s as a ratio of the baseline's in the same round.

Each target is measured once it is idle (its process and its children: `vertexmeter serve` starts its
large-lane worker processes after its port opens), so that their start-up does not take CPU from the
measurement.

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
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

WORDS = (
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "seven",
    "pirates",
    "count",
    "tokens",
    "in",
    "a",
    "harbour",
    "under",
    "grey",
    "clouds;",
    "meanwhile",
    "an",
    "engineer",
    "measures",
    "latency",
    "percentiles",
    "and",
    "requests",
    "per",
    "second",
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
    host: str,
    port: int,
    path: str,
    bodies: list[bytes],
    headers: dict[str, str],
    level: Level,
    max_requests: int,
    max_seconds: float,
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


def request_bodies(size: int) -> list[bytes]:
    return [
        json.dumps({"contents": [{"role": "user", "parts": [{"text": text_of_size(size, seed)}]}]}).encode()
        for seed in range(16)
    ]


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
        sys.executable,
        "-c",
        "from vertexmeter.cli import main; main()",
        "serve",
        "--port",
        "0",
        "--executor",
        executor,
        "--workers",
        str(workers),
        "--quota-rpm",
        "0",
        "--no-access-log",
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


async def minimal_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The baseline: the least an ASGI app can do for a POST (read the body, answer a small JSON)."""
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    body = b'{"totalTokens":512}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


LAUNCH = (
    "import sys; sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in repr(f)]; "
    "sys.path.insert(0, {checkout!r}); from vertexmeter.cli import main; main()"
)


def start_target(target: str, log_dir: str) -> tuple[subprocess.Popen[bytes], str, str]:
    """Start `target` ("baseline" or a checkout directory) on a free loopback port: (process, url, log)."""
    log_path = os.path.join(log_dir, f"{len(os.listdir(log_dir))}.log")
    if target == "baseline":
        here = os.path.dirname(os.path.abspath(__file__))
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "load_server:minimal_app",
            "--app-dir",
            here,
            "--port",
            "0",
            "--no-access-log",
            "--log-level",
            "info",
        ]
    else:
        checkout = os.path.abspath(target)
        cmd = [sys.executable, "-c", LAUNCH.format(checkout=checkout), "serve", "--port", "0"]
    with open(log_path, "wb") as log:  # a file, not a pipe: no thread of this process drains it
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd="/")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            match = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", f.read())
        if match:
            return proc, match.group(1), log_path
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{target} did not start; see {log_path}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, all its threads included (Linux /proc)."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (`vertexmeter serve` starts its large-lane workers)."""
    total = cpu_seconds(pid)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def settle(pid: int, timeout: float = 20.0) -> float:
    """Wait until a started target is idle (its process and children under a tenth of a core over half a
    second): a server whose port is open may still be starting worker processes, whose CPU would be
    taken from the measurement on a small machine. Returns the seconds waited."""
    start = time.monotonic()
    before = tree_cpu_seconds(pid)
    while time.monotonic() - start < timeout:
        time.sleep(0.5)
        now = tree_cpu_seconds(pid)
        if now - before < 0.05:
            break
        before = now
    return time.monotonic() - start


def stop_target(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stack_mode(args: argparse.Namespace, bodies: list[bytes], headers: dict[str, str]) -> int:
    targets = (["baseline"] if args.baseline else []) + list(args.checkout or [])
    levels = [int(c) for c in args.concurrency.split(",")]
    rpcs = args.rpc.split(",")
    runs: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    errors = 0
    with tempfile.TemporaryDirectory(prefix="load_server-") as log_dir:
        for round_no in range(args.rounds):
            order = targets if round_no % 2 == 0 else targets[::-1]  # alternate who goes first
            for target in order:
                proc, url, _ = start_target(target, log_dir)
                settle(proc.pid)
                try:
                    host, port = require_loopback(url)
                    for rpc in rpcs:
                        path = f"/v1/projects/load/locations/us-central1/publishers/google/models/{args.model}:{rpc}"
                        asyncio.run(run_level(host, port, path, bodies, headers, Level(rpc, 4), 300, 5))  # warm-up
                        for concurrency in levels:
                            level = Level(rpc, concurrency)
                            work = run_level(host, port, path, bodies, headers, level, args.requests, args.seconds)
                            cpu = cpu_seconds(proc.pid)
                            asyncio.run(work)
                            cpu = cpu_seconds(proc.pid) - cpu
                            line = level.report()
                            answered = line["requests"] + line["errors"]
                            line["server_cpu_us"] = round(cpu / answered * 1e6, 1) if answered else float("nan")
                            errors += line["errors"]
                            line.update(round=round_no, target=target)
                            runs.setdefault((target, rpc, concurrency), []).append(line)
                            print(
                                json.dumps(line)
                                if args.json
                                else (
                                    f"round {round_no} {target:>10} {rpc:>14} c={concurrency:<3} "
                                    f"{line['requests_per_s']:>8.1f} req/s  p50 {line['p50_ms']:>7.2f} ms  "
                                    f"p99 {line['p99_ms']:>7.2f} ms  CPU {line['server_cpu_us']:>6.1f} us/req  "
                                    f"({line['requests']} ok, {line['errors']} errors)"
                                ),
                                flush=True,
                            )
                finally:
                    stop_target(proc)
    print(f"\nsummary over {args.rounds} interleaved rounds (median [min-max]); load: {os.getloadavg()}")
    for (target, rpc, concurrency), lines in runs.items():
        rps = [line["requests_per_s"] for line in lines]
        p99 = [line["p99_ms"] for line in lines]
        cpu_us = [line["server_cpu_us"] for line in lines]
        text = (
            f"{target:>10} {rpc:>14} c={concurrency:<3} {statistics.median(rps):>8.1f} req/s "
            f"[{min(rps):.0f}-{max(rps):.0f}]  p99 {statistics.median(p99):.2f} ms [{min(p99):.2f}-{max(p99):.2f}]  "
            f"CPU {statistics.median(cpu_us):.0f} us/req [{min(cpu_us):.0f}-{max(cpu_us):.0f}]"
        )
        base = runs.get(("baseline", rpc, concurrency))
        if base and target != "baseline":
            ratios = [
                a["requests_per_s"] / b["requests_per_s"]
                for a, b in zip(lines, base, strict=True)
                if b["requests_per_s"]
            ]
            text += f"  ratio to baseline {statistics.median(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]"
        print(text)
    return 1 if errors else 0


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
    parser.add_argument("--checkout", action="append", help="stack mode: serve this source tree (repeatable)")
    parser.add_argument("--baseline", action="store_true", help="stack mode: a minimal ASGI app under uvicorn")
    parser.add_argument("--rounds", type=int, default=3, help="stack mode: interleaved rounds")
    args = parser.parse_args(argv)
    stack = bool(args.checkout) or args.baseline
    if sum((bool(args.url), bool(args.spawn), stack)) != 1:
        parser.error("give exactly one of --url, --spawn, or --checkout / --baseline")
    if args.requests > 100_000 or args.seconds > 300:
        parser.error("bounded by design: at most 100000 requests and 300 s per level")
    if stack:
        headers = {"x-goog-api-key": args.api_key} if args.api_key else {}
        return stack_mode(args, request_bodies(args.size), headers)

    proc = None
    url = args.url
    if args.spawn:
        proc, url = spawn(args.spawn, args.spawn_workers)
    try:
        host, port = require_loopback(url)
        headers = {"x-goog-api-key": args.api_key} if args.api_key else {}
        bodies = request_bodies(args.size)
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
