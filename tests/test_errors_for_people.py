"""Errors that tell a new user how to succeed: --human prose, file names, closest models, dates, limits,
OpenAI-shaped bodies, no Python reprs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import vertexmeter
from vertexmeter.cli import main
from vertexmeter.errors import VertexMeterError
from vertexmeter.pricing import PriceList, first_price_day

FLASH = "gemini-2.5-flash"


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin)


def refused(call: object) -> VertexMeterError:
    with pytest.raises(VertexMeterError) as caught:
        call()  # type: ignore[operator]
    return caught.value


@pytest.mark.parametrize("command", ["count", "usage", "estimate"])
def test_human_errors_are_prose_with_the_field(command: str, tmp_path: Path) -> None:
    """Was: `--human` still printed Google's error JSON."""
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"contents": [{"role": "user", "parts": [{"txt": "hi"}]}]}))
    human = run(command, "-m", FLASH, "--file", str(body), "--human")
    assert human.exit_code == 1
    assert human.stderr.startswith("error: ") and '"error"' not in human.stderr
    assert "at: contents[0].parts[0]" in human.stderr and "INVALID_ARGUMENT, HTTP 400" in human.stderr
    as_json = run(command, "-m", FLASH, "--file", str(body))
    assert as_json.exit_code == 1 and json.loads(as_json.stderr)["error"]["status"] == "INVALID_ARGUMENT"


def test_a_malformed_file_is_named(tmp_path: Path) -> None:
    """Was: `--file request.json` with a JSON syntax error did not say which file."""
    bad = tmp_path / "request.json"
    bad.write_text('{"contents": [1')
    result = run("count", "-m", FLASH, "--file", str(bad))
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["message"].startswith(f"{bad}: Invalid JSON payload received.")


@pytest.mark.parametrize(
    ("command", "closest"), [("count", "Closest known models: "), ("estimate", "Closest priced models: gpt-oss")]
)
def test_an_unknown_model_names_the_closest(command: str, closest: str) -> None:
    """Was: `estimate -m gpt-4o` listed ~100 ids and no closest match (nothing was close at the old cutoff)."""
    result = run(command, "-m", "gpt-4o", "hi")
    assert result.exit_code == 1
    assert closest in json.loads(result.stderr)["error"]["message"]


def test_the_first_price_day_is_the_models_own() -> None:
    """Was: "the catalogue prices it from 2025-02-05" (a shared batch-discount row's date) for a day on
    which the model had no price."""
    first = first_price_day("gemini-2.5-pro")
    assert first is not None and first > first.replace(month=2, day=5)
    before = first.replace(day=1) if first.day > 1 else first.replace(month=first.month - 1)
    error = refused(lambda: PriceList("gemini-2.5-pro", date=before))
    assert f"the catalogue prices it from {first.isoformat()}" in error.message
    assert PriceList("gemini-2.5-pro", date=first).entries
    assert first_price_day("no-such-model") is None


def test_a_date_before_the_model_is_said(tmp_path: Path) -> None:
    """Was: `usage --as-of` before the model existed answered silently."""
    result = run("usage", "-m", FLASH, "hi", "--as-of", "2020-01-01")
    assert result.exit_code == 0 and json.loads(result.stdout)["promptTokenCount"] == 1
    assert "note: --as-of 2020-01-01 is before gemini-2.5-flash was first priced" in result.stderr
    assert "note:" not in run("usage", "-m", FLASH, "hi", "--as-of", "2026-01-15").stderr


def test_max_output_tokens_above_the_limit_is_said() -> None:
    """Was: maxOutputTokens above the model's limit was priced to the asked size without a word."""
    limit = vertexmeter.resolve(FLASH).output_token_limit
    est = vertexmeter.estimate(FLASH, "hi", config={"max_output_tokens": limit * 10}, date="2026-01-15").to_json()
    assert est["output"]["range"]["max_tokens"] == limit
    assert any("above the output limit" in note for note in est["notes"])
    within = vertexmeter.estimate(FLASH, "hi", config={"max_output_tokens": 10}, date="2026-01-15").to_json()
    assert not any("above the output limit" in note for note in within.get("notes", []))


@pytest.mark.parametrize("entry", ["count_tokens", "usage_metadata"])
def test_an_openai_body_gets_the_gemini_shape(entry: str) -> None:
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
    }
    error = refused(lambda: getattr(vertexmeter, entry)(FLASH, body))
    assert error.field_path == "messages" and "OpenAI" in error.message and "systemInstruction" in error.message


def test_no_python_reprs_in_media_errors() -> None:
    """Was: a truncated PNG -> `cannot identify image file <_io.BytesIO object at 0x…>`."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "png")
    part = {"inlineData": {"mimeType": "image/png", "data": buffer.getvalue()[:40]}}
    error = refused(lambda: vertexmeter.count_tokens(FLASH, [part]))
    assert "object at 0x" not in error.message and "<" not in error.message
    assert error.field_path == "contents[0].parts[0].inline_data.data"
