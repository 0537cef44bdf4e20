"""Library, CLI and server decode a body with the one decoder: the same bytes get the same answer from all three."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import vertexmeter
from tests.server.server_helpers import RunningServer
from vertexmeter.cli import main
from vertexmeter.errors import VertexMeterError

MODEL = "gemini-2.5-flash"
BODIES = {
    "empty": b"",
    "blank": b"  \n",
    "empty object": b"{}",
    "text": json.dumps({"contents": [{"role": "user", "parts": [{"text": "What is your name?"}]}]}).encode(),
    "nan": b'{"contents": NaN}',
    "infinity": b'{"generationConfig": {"temperature": Infinity}}',
    "huge float": b'{"generationConfig": {"temperature": 1e999}}',
    "huge int": b'{"generationConfig": {"temperature": ' + b"7" * 4500 + b"}}",
    "not utf-8": b'{"contents": [{"parts": [{"text": "\xc3\x28"}]}]}',
    "lone surrogate": b'{"contents": [{"parts": [{"text": "a\\udc80b"}]}]}',
    "deep list": b"[" * 5000 + b"]" * 5000,
    "deep object": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "truncated": b'{"contents": [',
}


def library(raw: bytes) -> tuple[int, dict[str, Any]]:
    try:
        return 200, vertexmeter.count_tokens(MODEL, raw)
    except VertexMeterError as error:
        return error.code, error.to_json()


def cli(raw: bytes, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "body.json"
    path.write_bytes(raw)
    result = CliRunner().invoke(main, ["count", "-m", MODEL, "--file", str(path)])
    if result.exit_code == 0:
        return 200, json.loads(result.stdout)
    assert result.exit_code == 1, result.output
    error = json.loads(result.stderr)
    # The CLI's message names the file it read, then says what the server says.
    prefix = f"{path}: "
    assert error["error"]["message"].startswith(prefix)
    error["error"]["message"] = error["error"]["message"][len(prefix) :]
    return error["error"]["code"], error


@pytest.mark.parametrize("name", list(BODIES))
def test_library_cli_and_server_agree(name: str, open_server: RunningServer, tmp_path: Path) -> None:
    raw = BODIES[name]
    with httpx.Client(base_url=open_server.base_url, timeout=30) as http:
        response = http.post(f"/v1/publishers/google/models/{MODEL}:countTokens", content=raw)
    served = (response.status_code, response.json())
    assert library(raw) == served
    assert cli(raw, tmp_path) == served
    if served[0] != 200:
        assert served[1]["error"]["message"].startswith("Invalid JSON payload received.")
