"""One shape for every command (issue 14): inputs, --human/--json, widths, exit codes, order, lazy start."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vertexmeter.cli import main

FLASH = "gemini-2.5-flash"
README = Path(__file__).resolve().parents[1] / "README.md"
COMMANDS_WITH_OUTPUT = [
    ["count", "-m", FLASH, "hi"],
    ["compute", "-m", FLASH, "hi"],
    ["estimate", "-m", FLASH, "hi", "--output-tokens", "10", "--date", "2026-01-15"],
    ["price", "-m", FLASH, "--date", "2026-01-15"],
    ["models"],
    ["tokenizers"],
]


def run(*args: str, stdin: str | bytes | None = None, columns: int | None = None) -> Result:
    env = {"COLUMNS": str(columns)} if columns else {}
    return CliRunner().invoke(main, list(args), input=stdin, env=env)


def tokens(result: Result) -> int:
    assert result.exit_code == 0, result.output
    return int(json.loads(result.stdout)["totalTokens"])


# ---- inputs -------------------------------------------------------------------------------------------
def test_a_text_file_given_as_a_body_gets_told_what_to_do(tmp_path: Path) -> None:
    """Was: `count --file README.md` -> "Invalid JSON payload received" (exit 1)."""
    result = run("count", "-m", FLASH, "--file", str(README))
    assert result.exit_code == 2
    assert f"use --text-file {README}" in result.stderr
    assert tokens(run("count", "-m", FLASH, "--text-file", str(README))) == tokens(
        run("count", "-m", FLASH, README.read_text("utf-8"))
    )


def test_large_texts_come_from_a_file_or_stdin(tmp_path: Path) -> None:
    """Was: a 1.3 MB text as an argument -> `Argument list too long` (the OS limit); no other way to count it."""
    text = "The quick brown fox jumps over the lazy dog. " * 29_000  # 1.3 MB
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    by_file = tokens(run("count", "-m", FLASH, "--text-file", str(path)))
    assert by_file == tokens(run("count", "-m", FLASH, stdin=text))
    assert by_file == tokens(run("count", "-m", FLASH, "--text-file", "-", stdin=text))
    assert by_file > 250_000


def test_text_on_stdin_and_bodies_on_stdin() -> None:
    assert tokens(run("count", "-m", FLASH, stdin="What is your name?")) == 5
    body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "What is your name?"}]}]})
    assert tokens(run("count", "-m", FLASH, "--file", "-", stdin=body)) == 5
    assert run("count", "-m", FLASH, "--file", "-", stdin="What is your name?").exit_code == 2


def test_legacy_model_on_the_gemini_api_names_the_fix() -> None:
    """Was: `count -m text-bison --api gemini "hello"` -> Unknown name "instances"."""
    result = run("count", "-m", "text-bison", "--api", "gemini", "hello")
    assert result.exit_code == 1
    message = json.loads(result.stderr)["error"]["message"]
    assert "instances" not in message and "--api vertex" in message


def test_empty_body_file_is_the_empty_request_as_on_the_server(tmp_path: Path) -> None:
    """Was: an empty file is an error on the CLI but `{}` on the server."""
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    result = run("count", "-m", FLASH, "--file", str(empty))
    assert (result.exit_code, json.loads(result.stdout)) == (0, {})


def test_not_utf8_text_and_unreadable_files_are_bad_usage(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("café".encode("latin-1"))
    result = run("count", "-m", FLASH, "--text-file", str(latin))
    assert result.exit_code == 2 and "not UTF-8" in result.stderr
    assert run("count", "-m", FLASH, "--text-file", str(tmp_path / "missing.txt")).exit_code == 2
    assert run("count", "-m", FLASH, "--file", str(tmp_path)).exit_code == 2  # a directory
    assert run("count", "-m", FLASH, "hi", "--text-file", str(latin)).exit_code == 2  # two sources


def test_every_counting_command_takes_the_same_inputs(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_text("What is your name?", encoding="utf-8")
    for command in ("count", "compute", "estimate"):
        extra = ["--output-tokens", "1", "--date", "2026-01-15"] if command == "estimate" else []
        for source in (["What is your name?"], ["--text-file", str(path)]):
            result = run(command, "-m", FLASH, *source, *extra)
            assert result.exit_code == 0, (command, result.output)


def test_estimate_takes_the_media_flags(tmp_path: Path) -> None:
    for flag in ("--media-root", "--allow-gcs", "--allow-https", "--https-host"):
        assert flag in run("estimate", "--help").stdout
    from PIL import Image

    mirror = tmp_path / "mirror" / "bucket"
    mirror.mkdir(parents=True)
    Image.new("RGB", (64, 64), "red").save(mirror / "a.png")
    body = tmp_path / "body.json"
    part = {"fileData": {"fileUri": "gs://bucket/a.png", "mimeType": "image/png"}}
    body.write_text(json.dumps({"contents": [{"role": "user", "parts": [{"text": "What is this?"}, part]}]}))
    args = ["estimate", "-m", FLASH, "--file", str(body), "--output-tokens", "5", "--date", "2026-01-15"]
    assert run(*args).exit_code == 1  # fileData needs a source
    result = run(*args, "--media-root", str(tmp_path / "mirror"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["prompt"]["tokens_by_modality"]["IMAGE"] == 258


# ---- output -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", COMMANDS_WITH_OUTPUT, ids=lambda a: a[0])
def test_json_by_default_json_explicitly_and_a_table_with_human(args: list[str]) -> None:
    """Was: count/compute/estimate took --human, models/price took --json; `models --human` and
    `tokenizers --json` were "No such option"."""
    default = run(*args)
    explicit = run(*args, "--json")
    assert default.exit_code == explicit.exit_code == 0, default.output + explicit.output
    assert json.loads(default.stdout) == json.loads(explicit.stdout)
    human = run(*args, "--human")
    assert human.exit_code == 0, human.output
    with pytest.raises(ValueError):
        json.loads(human.stdout)


@pytest.mark.parametrize("columns", [60, 80, 100])
@pytest.mark.parametrize("args", COMMANDS_WITH_OUTPUT, ids=lambda a: a[0])
def test_tables_fit_the_terminal(args: list[str], columns: int) -> None:
    """Was: `models` printed 200 columns whatever the terminal; `price` cut dates at 80 columns."""
    result = run(*args, "--human", columns=columns)
    assert result.exit_code == 0, result.output
    widest = max(len(line) for line in result.stdout.splitlines())
    assert widest <= columns, result.stdout


def test_price_table_keeps_whole_dates_at_80_columns() -> None:
    result = run("price", "-m", FLASH, "--date", "2026-01-15", "--human", columns=80)
    dates = re.findall(r"\b\d{4}-\d{2}-\d{2}\b", result.stdout)
    assert len(dates) >= 3  # the title's date and each rate's "since"
    assert "…" not in "".join(line for line in result.stdout.splitlines() if re.search(r"\d{4}-\d", line))


# ---- exit codes ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("date", ["yesterday", "2025-13-01", "01/02/2025"])
def test_bad_dates_are_bad_usage(date: str) -> None:
    """Was: `--date yesterday` exited 1 (an invalid request) instead of 2 (bad usage)."""
    for args in (["price", "-m", FLASH], ["estimate", "-m", FLASH, "hi"]):
        result = run(*args, "--date", date)
        assert result.exit_code == 2, result.output
        assert "ISO date" in result.stderr


def test_a_valid_date_is_used() -> None:
    result = run("price", "-m", FLASH, "--date", "2026-01-15")
    assert json.loads(result.stdout)["date"] == dt.date(2026, 1, 15).isoformat()


def test_exit_codes() -> None:
    assert run("count", "-m", FLASH, "hi").exit_code == 0
    refused = run("count", "-m", "no-such-model", "hi")
    assert refused.exit_code == 1 and json.loads(refused.stderr)["error"]["status"] == "NOT_FOUND"
    assert run("count", "-m", FLASH, "--no-such-flag", "hi").exit_code == 2
    assert run("models", "--bogus").exit_code == 2


# ---- help, order, completion --------------------------------------------------------------------------
def test_help_lists_commands_in_the_order_a_user_needs_them() -> None:
    text = run("--help").stdout
    listed = re.findall(r"^  (\w+)\s", text.split("Commands:")[1], flags=re.M)
    # tokens, the bill, its cost, the rates; then the tools around them; the server last
    wanted = ["count", "usage", "estimate", "price", "compute", "models", "tokenizers", "data", "serve"]
    assert [name for name in listed if name in wanted] == wanted
    assert listed[0] == "count" and listed[-1] == "serve"


def test_shell_completion_is_clicks_and_is_documented() -> None:
    env = {**os.environ, "_VERTEXMETER_COMPLETE": "bash_source"}
    done = subprocess.run([sys.executable, "-m", "vertexmeter"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "_VERTEXMETER_COMPLETE" in done.stdout
    env = {**os.environ, "_VERTEXMETER_COMPLETE": "bash_complete", "COMP_WORDS": "vertexmeter co", "COMP_CWORD": "1"}
    done = subprocess.run([sys.executable, "-m", "vertexmeter"], env=env, capture_output=True, text=True, check=False)
    assert "count" in done.stdout and "compute" in done.stdout
    assert "_VERTEXMETER_COMPLETE" in (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()


# ---- start-up -----------------------------------------------------------------------------------------
def loaded_after(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


HEAVY = {"rich", "pydantic", "yaml", "sentencepiece", "tokenizers", "vertexmeter.pricing", "vertexmeter.server"}


def test_importing_the_cli_loads_no_engine() -> None:
    loaded = loaded_after("import vertexmeter.cli")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY}


def test_count_loads_neither_pricing_nor_tables() -> None:
    code = (
        "import sys\nfrom vertexmeter.cli import main\n"
        "sys.argv = ['vertexmeter', 'count', '-m', 'gemini-2.5-flash', 'hi']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = loaded_after(code)
    assert "vertexmeter.counting" in loaded
    assert not {m for m in loaded if m.split(".")[0] in {"rich", "pydantic"} or m.startswith("vertexmeter.pricing")}
