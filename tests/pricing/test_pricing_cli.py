"""`vertexmeter price` and `vertexmeter estimate` through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.pricing.pricing_helpers import EXAMPLES
from vertexmeter.cli import main


def run(*args: str, input: str | None = None):  # noqa: A002 - click's name
    return CliRunner().invoke(main, list(args), input=input)


def test_price_table() -> None:
    result = run("price", "-m", "gemini-1.5-pro", "--date", "2024-12-01", "--human")
    assert result.exit_code == 0, result.output
    assert "0.0003125" in result.output and "per 1K" in result.output and "S1" in result.output


def test_price_json() -> None:
    result = run("price", "-m", "claude-3-5-haiku@20241022", "--json", "--date", "2024-12-01")
    data = json.loads(result.output)
    rates = {r["id"]: r["price"] for r in data["rates"]}
    assert data["model"] == "claude-3-5-haiku"
    assert rates["vertex.claude-3-5-haiku.cache_hit.batch"] == "0.04"


def test_estimate_scenario_json() -> None:
    result = run("estimate", "--scenario", str(EXAMPLES / "context_cache_gemini_1_5_pro.json"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == "1.0625" and data["billed_total"] == "1.07"
    assert [i["amount"] for i in data["lineItems"]] == ["0.078125", "0.5625", "0.00125", "0.390625", "0.03"]


def test_a_scenario_file_that_still_says_platform_is_priced_with_a_notice(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(
        "model: gemini-2.0-flash\ndate: 2026-01-15\nplatform: gemini_api\n"
        "requests: [{input: {tokens: 1000000}, output: {tokens: 1000000}}]\n",
        "utf-8",
    )
    result = CliRunner().invoke(main, ["estimate", "--scenario", str(old)])
    assert result.exit_code == 0, result.output
    assert "note: scenario key `platform` is deprecated" in result.stderr
    data = json.loads(result.stdout)
    assert data["api"] == "gemini" and data["total"] == "0.5"


def test_estimate_scenario_human() -> None:
    result = run("estimate", "--scenario", str(EXAMPLES / "text_bison.json"), "--human")
    assert result.exit_code == 0, result.output
    assert "0.00125" in result.output and "total" in result.output


def test_estimate_yaml_scenario() -> None:
    result = run("estimate", "--scenario", str(EXAMPLES / "gemini_2_5_pro_batch.yaml"))
    data = json.loads(result.output)
    # 1000 x 150K x 0.625/1M + 800K x 5/1M + 2M x 5/1M + 10 x 250K x 1.25/1M + 8K x 7.5/1M
    assert data["total"] == "110.935"


def test_estimate_request_file(tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"instances": [{"prompt": "ab cd"}]}))
    result = run(
        "estimate", "-m", "text-bison", "--file", str(request), "--output-characters", "8", "--date", "2024-12-01"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"] == "0.000005"  # 4 x 0.00025/1K + 8 x 0.0005/1K


def test_estimate_stdin_range_and_mode() -> None:
    body = json.dumps(
        {"contents": [{"role": "user", "parts": [{"text": "hello"}]}], "generationConfig": {"maxOutputTokens": 1000}}
    )
    result = run(
        "estimate", "-m", "gemini-2.5-flash", "--file", "-", "--mode", "batch", "--date", "2026-01-15", input=body
    )
    data = json.loads(result.output)
    assert set(data["total"]) == {"min", "max"}
    assert data["output"]["range"]["max_tokens"] == 1000
    human = run("estimate", "-m", "gemini-2.5-flash", "--file", "-", "--human", "--date", "2026-01-15", input=body)
    assert "no output" in human.output and "at the cap" in human.output


def test_errors_are_google_json_on_stderr() -> None:
    result = run("price", "-m", "gpt-4o")
    assert result.exit_code == 1
    error = json.loads(result.stderr)["error"]
    assert error["status"] == "NOT_FOUND" and error["code"] == 404


def test_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"model": "text-bison", "requests": [{"inputs": {}}]}))
    result = run("estimate", "--scenario", str(path))
    assert result.exit_code == 1
    error = json.loads(result.stderr)["error"]
    assert error["details"][0]["fieldViolations"][0]["field"] == "requests[0].inputs"


def test_usage_errors() -> None:
    assert run("estimate", "-m", "gemini-2.5-flash").exit_code == 2
    assert run("estimate", "--scenario", str(EXAMPLES / "text_bison.json"), "-m", "x").exit_code == 2
    assert run("estimate", "--scenario", str(EXAMPLES / "text_bison.json"), "--mode", "batch").exit_code == 2


@pytest.mark.parametrize("path", sorted(EXAMPLES.iterdir()), ids=lambda p: p.name)
def test_every_example_scenario_prices(path: Path) -> None:
    result = run("estimate", "--scenario", str(path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["lineItems"]
