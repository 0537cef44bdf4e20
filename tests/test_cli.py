"""The CLI: JSON by default, --human tables, stdin bodies, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from vertexmeter.cli import main

SEED = "Give me ten interview questions for the role of program manager."


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_count_text_arguments() -> None:
    code, out, _ = run("count", "-m", "gemini-2.5-flash", "What is your name?")
    assert code == 0
    assert json.loads(out) == {"totalTokens": 5, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 5}]}


def test_count_seed_example_on_text_bison() -> None:
    code, out, _ = run("count", "-m", "text-bison@002", SEED)
    assert (code, json.loads(out)) == (0, {"totalTokens": 12, "totalBillableCharacters": 54})


def test_count_file_from_stdin_and_gemini_dialect() -> None:
    body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "What's the highest mountain in Africa?"}]}]})
    assert json.loads(run("count", "-m", "gemini-2.5-flash", "--file", "-", stdin=body)[1])["totalTokens"] == 9
    gemini = run("count", "-m", "gemini-2.5-flash", "--api", "gemini", "-f", "-", stdin=body)
    assert json.loads(gemini[1])["totalTokens"] == 10


def test_count_human_table() -> None:
    code, out, _ = run("count", "-m", "text-bison", "--human", SEED)
    assert code == 0
    assert "billable characters" in out and "54" in out and "12" in out


def test_compute_json_and_human() -> None:
    code, out, _ = run("compute", "-m", "gemini-1.5-flash-002", "What's the longest word in the English language?")
    assert code == 0
    assert json.loads(out)["tokensInfo"][0]["tokenIds"][:3] == ["1841", "235303", "235256"]
    code, out, _ = run("compute", "-m", "gemini-2.5-flash", "--human", "Hello world")
    assert code == 0 and "' world'" in out and "9259" in out


def test_invalid_request_exits_1_with_google_error_json() -> None:
    code, out, err = run("count", "-m", "no-such-model", "hi")
    assert code == 1 and out == ""
    error = json.loads(err)["error"]
    assert (error["code"], error["status"]) == (404, "NOT_FOUND")
    code, _, err = run("count", "-m", "gemini-2.5-flash", "-f", "-", stdin="{not json")
    assert code == 1 and json.loads(err)["error"]["status"] == "INVALID_ARGUMENT"


def test_bad_usage_exits_2() -> None:
    assert run("count", "hi")[0] == 2  # no model
    assert run("count", "-m", "gemini-2.5-flash")[0] == 2  # nothing to count
    assert run("count", "-m", "gemini-2.5-flash", "--api", "openai", "x")[0] == 2
    assert run("count", "-m", "gemini-2.5-flash", "-f", "/nonexistent.json")[0] == 2


def test_console_script_is_installed() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vertexmeter", "count", "-m", "gemini-2.5-flash", "What is your name?"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totalTokens"] == 5
