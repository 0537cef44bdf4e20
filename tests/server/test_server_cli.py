"""`vertexmeter serve` as a real process: env configuration, worker processes, JSON logs without
secrets, graceful shutdown on SIGTERM with a request in flight, and the unsafe-bind refusal."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.serve_process import SERVE, start_serve_process
from tests.serve_process import ServeProcess as Process
from tests.server.server_helpers import library_answer

pytestmark = pytest.mark.slow  # starts and stops server processes

SECRET = "cli-secret-5d1e8a"


def start(args: list[str], env: dict[str, str]) -> Process:
    return start_serve_process(args, env)


@pytest.fixture(scope="module")
def process_server() -> Iterator[Process]:
    running = start(
        ["--port", "0", "--workers", "2", "--api-key", SECRET],
        {"VERTEXMETER_EXECUTOR": "process", "VERTEXMETER_QUOTA_RPM": "0", "VERTEXMETER_SHUTDOWN_TIMEOUT": "20"},
    )
    yield running
    if running.proc.poll() is None:
        running.proc.kill()
        running.proc.wait(timeout=10)


def test_env_configures_worker_processes(process_server: Process) -> None:
    health = httpx.get(process_server.base_url + "/healthz", timeout=10).json()
    assert (health["executor"], health["workers"]) == ("process", 2)


def test_counts_through_worker_processes(process_server: Process) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "Counted in another process."}]}]}
    with httpx.Client(base_url=process_server.base_url, headers={"x-goog-api-key": SECRET}, timeout=30) as client:
        count = client.post("/v1/publishers/google/models/gemini-2.5-flash:countTokens", json=body)
        compute = client.post("/v1/publishers/google/models/gemini-2.5-flash:computeTokens", json=body)
        refused = client.post("/v1/publishers/google/models/gemini-2.5-flash:countTokens", json={"contents": [{}]})
        unknown = client.post("/v1/models/gemini-0:countTokens", json=body)
    assert count.json() == library_answer("countTokens", "gemini-2.5-flash", body)[1]
    assert compute.json() == library_answer("computeTokens", "gemini-2.5-flash", body)[1]
    # refusals cross the process boundary as data, with their field violations
    expected = library_answer("countTokens", "gemini-2.5-flash", {"contents": [{}]})
    assert (refused.status_code, refused.json()) == expected
    assert unknown.status_code == 404 and "API version v1," in unknown.json()["error"]["message"]


def test_graceful_shutdown_and_clean_logs(process_server: Process) -> None:
    """SIGTERM while a large request is in flight: it is answered, then the server exits."""
    text = "All work and no play makes Jack a dull boy. " * 120_000  # 5.3 MB
    body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    payload = json.dumps(body).encode("utf-8")
    result: dict[str, httpx.Response] = {}

    def slow_body() -> Iterator[bytes]:
        # Counting this takes milliseconds now (tokenizing's chunk cache), so the request is kept in
        # flight by its upload instead: ~2 s of body, with SIGTERM arriving in the middle.
        step = len(payload) // 20 + 1
        for start in range(0, len(payload), step):
            yield payload[start : start + step]
            time.sleep(0.1)

    def call() -> None:
        result["r"] = httpx.post(
            process_server.base_url + "/v1beta1/publishers/google/models/gemini-2.5-flash:countTokens",
            params={"key": SECRET},
            content=slow_body(),
            headers={"content-type": "application/json"},
            timeout=60,
        )

    with httpx.Client(base_url=process_server.base_url, timeout=10) as client:
        assert client.get("/metrics", headers={"Authorization": f"Bearer {SECRET}"}).status_code == 200
        refused = client.post("/v1/models/gemini-2.5-flash:countTokens", json={}, params={"key": "bad"})
        assert refused.status_code == 403
    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.8)  # the body is on the server (loopback) and being counted when SIGTERM arrives
    assert "r" not in result
    process_server.proc.send_signal(signal.SIGTERM)
    caller.join(timeout=60)
    # uvicorn re-raises the signal once it has shut down cleanly, so the exit status is "killed by SIGTERM"
    assert process_server.proc.wait(timeout=60) in (0, -signal.SIGTERM)
    assert result["r"].status_code == 200
    assert result["r"].json() == library_answer("countTokens", "gemini-2.5-flash", body)[1]
    output = process_server.output()
    assert "Shutting down" in output and "Finished server process" in output
    assert SECRET not in output
    assert "All work and no play" not in output
    for line in process_server.lines:
        json.loads(line)  # every log line is one JSON object


def test_refuses_a_public_bind_without_keys() -> None:
    done = subprocess.run([*SERVE, "--host", "0.0.0.0", "--port", "0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "refusing to listen on 0.0.0.0 without API keys" in done.stderr


def test_bad_setting_is_a_usage_error() -> None:
    env = {**os.environ, "VERTEXMETER_WORKERS": "x"}
    done = subprocess.run([*SERVE, "--port", "0"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2
    assert "workers" in done.stderr


def test_a_dead_worker_process_is_replaced() -> None:
    """A worker that dies breaks a process pool for good; the server replaces the pool and goes on."""
    from concurrent.futures.process import BrokenProcessPool

    from vertexmeter.server.work import Job, WorkPool

    body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "still here?"}]}]}).encode()
    job = Job(rpc="countTokens", api="vertex", api_version="v1", body=body, model="gemini-2.5-flash")

    async def scenario() -> tuple[int, int, dict[str, object]]:
        pool = WorkPool("process", 1)
        await pool.start()
        try:
            doomed = pool._executor.submit(os._exit, 3)  # the worker process exits mid-job
            with pytest.raises(BrokenProcessPool):
                doomed.result(timeout=60)
            refused = await pool.run(job)
            answered = await pool.run(job)
            return refused.code, answered.code, answered.body
        finally:
            pool.close()

    refused, answered, result = asyncio.run(scenario())
    assert refused == 500
    assert (answered, result) == (200, library_answer("countTokens", "gemini-2.5-flash", json.loads(body))[1])
