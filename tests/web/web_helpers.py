"""Helpers of the browser tests: `vertexmeter serve` as a real process, Chromium's settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("VERTEXMETER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVE = [sys.executable, "-c", "from vertexmeter.cli import main; main()", "serve"]
ARTIFACTS = Path(os.environ.get("VERTEXMETER_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts")) / "web"
WEB_KEY = "web-test-key-7c1f"


@dataclass
class Served:
    proc: subprocess.Popen[str]
    base_url: str = ""
    lines: list[str] = field(default_factory=list)

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


def serve(*args: str) -> Served:
    """`vertexmeter serve --port 0 ...` as a real process; the URL is read from uvicorn's start line."""
    proc = subprocess.Popen(
        [*SERVE, "--host", "127.0.0.1", "--port", "0", "--workers", "1", "--quota-rpm", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(proc)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            served.lines.append(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        match = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", "\n".join(served.lines))
        if match:
            served.base_url = match.group(1)
            return served
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("vertexmeter serve did not start:\n" + "\n".join(served.lines))


@dataclass
class Browser:
    context: Any  # playwright BrowserContext
    requests: list[str] = field(default_factory=list)
