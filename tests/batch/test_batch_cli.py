"""`vertexmeter batch` on the command line: stdin, exit codes, -o -, --human, usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import vertexmeter
from tests.batch.batch_helpers import read_results, write_lines
from vertexmeter.cli import main

MODEL = "gemini-2.5-flash"


def test_stdin_gemini_batch_lines_through_the_real_command(tmp_path: Path, requests_pool: list[dict]) -> None:
    lines = [json.dumps({"key": f"k{i}", "request": r}) for i, r in enumerate(requests_pool)] + ['{"key": "bad"}']
    out = tmp_path / "r.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from vertexmeter.cli import main; main()",
            "batch",
            "-",
            "-m",
            MODEL,
            "--api",
            "gemini",
            "-o",
            str(out),
            "--workers",
            "2",
        ],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal
    summary = json.loads(proc.stdout)
    expected = sum(vertexmeter.usage_metadata(MODEL, r, api="gemini")["promptTokenCount"] for r in requests_pool)
    assert summary["prompt_tokens"] == expected
    assert summary["errors"]["by_reason"] == {"INVALID_LINE": {"lines": 1, "first_lines": [len(lines)]}}
    results = read_results(out)
    assert results[-1]["key"] == "bad" and results[-1]["error"]["status"] == "INVALID_ARGUMENT"
    assert summary["run"]["inputs"] == ["-"]


def test_exit_zero_when_every_line_counts_and_results_on_stdout(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "b.jsonl", ['{"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}'] * 3)
    result = CliRunner().invoke(
        main, ["batch", str(source), "-m", MODEL, "-o", "-", "--workers", "1", "--output-tokens", "10"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()[:3]
    assert [json.loads(line)["line"] for line in lines] == [1, 2, 3]
    summary = json.loads(result.stderr)  # -o -: the summary moves to stderr
    assert summary["output"] == {"tokens_per_line": 10, "tokens": 30}
    assert summary["cost"]["total"]["min"] == summary["cost"]["total"]["max"]


def test_human_summary(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "b.jsonl", ['{"contents": [{"parts": [{"text": "Hello"}]}]}', "nope"])
    result = CliRunner().invoke(main, ["batch", str(source), "-m", MODEL, "--human", "--workers", "1"])
    assert result.exit_code == 1
    assert "INVALID_JSON" in result.output and "lines 2" in result.output
    assert "vertex.gemini-2.5-flash" not in result.output and "input: tokens" in result.output


def test_usage_errors(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "b.jsonl", ['{"contents": [{"parts": [{"text": "Hello"}]}]}'])
    runner = CliRunner()
    assert runner.invoke(main, ["batch", str(source), "-m", MODEL, "--resume"]).exit_code == 2
    assert runner.invoke(main, ["batch", str(source), "--workers", "0"]).exit_code == 2
    assert runner.invoke(main, ["batch"]).exit_code == 2
    missing = runner.invoke(main, ["batch", str(tmp_path / "nope.jsonl"), "-m", MODEL])
    assert missing.exit_code == 1 and json.loads(missing.stderr)["error"]["status"] == "NOT_FOUND"
