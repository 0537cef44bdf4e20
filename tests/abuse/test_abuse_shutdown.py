"""Audit finding 8: a request still running past --shutdown-timeout gets Google's error shape, and the
process exits promptly. Before: a plain-text 500, and the exit waited for the running job."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import httpx
import pytest

from tests.abuse.abuse_helpers import COUNT_PATH, start_process, text_body

pytestmark = pytest.mark.slow  # hostile clients against a real server: timeouts to wait out


def test_shutdown_past_its_timeout_answers_503_json_and_exits_promptly() -> None:
    server = start_process(["--quota-rpm", "0", "--shutdown-timeout", "1", "--request-deadline", "120"])
    result: dict[str, Any] = {}

    def call() -> None:
        try:
            result["r"] = httpx.post(server.base_url + COUNT_PATH, content=text_body(12_000_000), timeout=120)
        except httpx.HTTPError as exc:
            result["r"] = exc

    try:
        caller = threading.Thread(target=call, daemon=True)
        caller.start()
        time.sleep(2.0)  # the body is on the server and being counted (tens of seconds of work)
        assert "r" not in result
        sent = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=30)
        exited = time.monotonic() - sent
        caller.join(timeout=10)
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
    response = result["r"]
    assert isinstance(response, httpx.Response), (response, server.output()[-3000:])
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["status"] == "UNAVAILABLE"
    assert exited < 8, exited  # 1 s of grace, then the large-lane worker is killed, not waited for
    assert "Exception in ASGI application" not in server.output()
