"""Helpers of the browser tests: `vertexmeter serve` as a real process, Chromium's settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.serve_process import ServeProcess, start_serve_process

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
ARTIFACTS = Path(os.environ.get("VERTEXMETER_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts")) / "web"
WEB_KEY = "web-test-key-7c1f"


Served = ServeProcess


def serve(*args: str) -> Served:
    """`vertexmeter serve --port 0 ...` as a real process; the URL is read from uvicorn's start line."""
    return start_serve_process(["--host", "127.0.0.1", "--port", "0", "--workers", "1", "--quota-rpm", "0", *args])


@dataclass
class Browser:
    context: Any  # playwright BrowserContext
    requests: list[str] = field(default_factory=list)
