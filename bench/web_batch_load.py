"""Two 8 MB batch uploads to `/web/api/batch` while one client samples a one-word countTokens and /healthz
for as long as an upload is in progress (`vertexmeter serve` with default settings, quota off, loopback).

    python bench/web_batch_load.py CHECKOUT      # a source tree; prints one JSON line
"""

import json
import os
import subprocess
import sys
import threading
import time

import httpx

checkout = sys.argv[1]
env = {**os.environ, "PYTHONPATH": checkout}
env.pop("VERTEXMETER_ENGINE_ONLY", None)
proc = subprocess.Popen(
    [
        sys.executable,
        "-c",
        "from vertexmeter.cli import main; main()",
        "serve",
        "--port",
        "18977",
        "--quota-rpm",
        "0",
        "--no-access-log",
    ],
    env=env,
    cwd="/",
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
base = "http://127.0.0.1:18977"
for _ in range(300):
    try:
        if httpx.get(base + "/healthz", timeout=1).status_code == 200:
            break
    except httpx.HTTPError:
        pass
    time.sleep(0.2)
line = (
    json.dumps(
        {"contents": [{"role": "user", "parts": [{"text": "The quick brown fox jumps over the lazy dog " * 2}]}]}
    )
    + "\n"
)
upload = (line * (8_000_000 // len(line))).encode()
codes = []


def up():
    try:
        codes.append(
            httpx.post(base + "/web/api/batch?model=gemini-2.5-flash", content=upload, timeout=300).status_code
        )
    except httpx.HTTPError as e:
        codes.append(repr(e))


threads = [threading.Thread(target=up) for _ in range(2)]
for t in threads:
    t.start()
time.sleep(0.5)
small, health = [], []
path = "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:countTokens"
body = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}
with httpx.Client(base_url=base, timeout=120) as c:
    end = time.monotonic() + 60
    while time.monotonic() < end and any(t.is_alive() for t in threads):
        s = time.perf_counter()
        c.post(path, json=body)
        small.append(time.perf_counter() - s)
        s = time.perf_counter()
        c.get("/healthz")
        health.append(time.perf_counter() - s)
running_at_end = any(t.is_alive() for t in threads)
for t in threads:
    t.join(300)
proc.terminate()
proc.wait(30)


def pct(v, q):
    v = sorted(v)
    return round(1000 * v[min(len(v) - 1, int(q * len(v)))], 1)


print(
    json.dumps(
        {
            "checkout": checkout,
            "upload_bytes": len(upload),
            "upload_codes": codes,
            "jobs_running_at_end": running_at_end,
            "small_n": len(small),
            "small_p50_ms": pct(small, 0.5),
            "small_p99_ms": pct(small, 0.99),
            "small_max_ms": pct(small, 1),
            "healthz_p50_ms": pct(health, 0.5),
            "healthz_p99_ms": pct(health, 0.99),
            "healthz_max_ms": pct(health, 1),
        }
    )
)
