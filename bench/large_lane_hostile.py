"""The large lane's throughput while hostile clients send requests that once killed its worker.

    python bench/large_lane_hostile.py --checkout . --rounds 2 --seconds 20
    python bench/large_lane_hostile.py --checkout ../before --checkout . --rounds 2   # A/B, interleaved

Per round and checkout, two conditions, each on a fresh `vertexmeter serve --media-root DIR` (loopback,
default settings, quota off): `--large-clients` (3) clients send `--large-chars`-character countTokens
requests (large lane by size) back to back for `--seconds`; in the "hostile" condition `--hostile-clients`
(3) more send a `fileData` URI holding `%00` (large lane: it names a file), which raised a raw ValueError
inside the worker and killed it before control characters were refused up front. Reported per condition:
large requests answered 200 per second, their p50 / p99 latency, and every other status seen (the large
lane's 503 when its 1 worker + 4 places are taken is by design). Conditions and checkouts alternate.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

import httpx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mixed_load import PATH, percentile, start, text_body  # noqa: E402

HOSTILE_URIS = ("gs://bucket/a%00.png", "gs://bucket/\u0000b.png", "gs://bucket/c%01%00.mp4")


def hostile_body(i: int) -> bytes:
    uri = HOSTILE_URIS[i % len(HOSTILE_URIS)]
    part = {"fileData": {"fileUri": uri, "mimeType": "image/png"}}
    return json.dumps({"contents": [{"role": "user", "parts": [{"text": "look"}, part]}]}).encode()


def run_condition(checkout: str, hostile: bool, args: argparse.Namespace, media_root: str) -> dict[str, Any]:
    server = start(checkout, ["--media-root", media_root])
    large = text_body(args.large_chars)
    stop = threading.Event()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: collections.Counter[str] = collections.Counter()

    def large_client() -> None:
        with httpx.Client(base_url=server.base_url, timeout=120) as http:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    code = str(http.post(PATH, content=large).status_code)
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                with lock:
                    statuses["large " + code] += 1
                    if code == "200" and not stop.is_set():
                        latencies.append(time.monotonic() - started)

    def hostile_client(n: int) -> None:
        with httpx.Client(base_url=server.base_url, timeout=120) as http:
            i = n
            while not stop.is_set():
                try:
                    code = str(http.post(PATH, content=hostile_body(i)).status_code)
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                with lock:
                    statuses["hostile " + code] += 1
                i += 1

    try:
        # One large request first: the worker has loaded its tokenizers before the clock starts.
        httpx.post(server.base_url + PATH, content=large, timeout=120)
        threads = [threading.Thread(target=large_client, daemon=True) for _ in range(args.large_clients)]
        if hostile:
            threads += [
                threading.Thread(target=hostile_client, args=(n,), daemon=True) for n in range(args.hostile_clients)
            ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        elapsed = time.monotonic() - started
        for thread in threads:
            thread.join(timeout=130)
    finally:
        server.stop()
    return {
        "checkout": checkout,
        "hostile": hostile,
        "large_ok_per_s": round(len(latencies) / elapsed, 2),
        "large_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "large_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "statuses": dict(sorted(statuses.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", action="append", required=True, help="a source tree to serve (repeatable)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--large-chars", type=int, default=300_000)
    parser.add_argument("--large-clients", type=int, default=3)
    parser.add_argument("--hostile-clients", type=int, default=3)
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="vertexmeter-media-root-") as media_root:
        for round_number in range(args.rounds):
            for checkout in args.checkout:
                for hostile in (False, True) if round_number % 2 == 0 else (True, False):
                    result = {"round": round_number + 1, **run_condition(checkout, hostile, args, media_root)}
                    print(json.dumps(result), flush=True)
                    results.append(result)
    for checkout in args.checkout:
        for hostile in (False, True):
            rates = [r["large_ok_per_s"] for r in results if r["checkout"] == checkout and r["hostile"] == hostile]
            p99s = [r["large_p99_ms"] for r in results if r["checkout"] == checkout and r["hostile"] == hostile]
            print(
                f"{checkout} {'hostile' if hostile else 'quiet  '}: large 200/s median {statistics.median(rates):.2f} "
                f"(rounds {rates}), p99 ms median {statistics.median(p99s):.1f} (rounds {p99s})"
            )


if __name__ == "__main__":
    main()
