"""A real `vertexmeter serve` process for the tests (server, abuse and web suites share it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SERVE = [sys.executable, "-c", "from vertexmeter.cli import main; main()", "serve"]
_STARTED = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


@dataclass
class ServeProcess:
    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    base_url: str = ""

    def output(self) -> str:
        return "\n".join(self.lines)

    @property
    def netloc(self) -> str:
        return urlsplit(self.base_url).netloc

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_serve_process(args: list[str], env: dict[str, str] | None = None, *, timeout: float = 90) -> ServeProcess:
    """`vertexmeter serve ARGS` with every output line kept; the URL is read from uvicorn's start line."""
    proc = subprocess.Popen(
        [*SERVE, *args], env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    running = ServeProcess(proc)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            running.lines.append(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = _STARTED.search(running.output())
        if match:
            running.base_url = match.group(1)
            return running
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("vertexmeter serve did not start:\n" + running.output())
