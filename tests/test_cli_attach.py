"""Files from the shell: --attach, --system, the hint for a file name given as TEXT, JSON bodies on stdin.

Each case is a first attempt of a new user; the CLI's answer equals the library's for the same request.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import vertexmeter
from vertexmeter.cli import main

FLASH = "gemini-2.5-flash"


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin)


def answer(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    from PIL import Image

    png = tmp_path / "photo.png"
    Image.new("RGB", (64, 48), "teal").save(png)
    wav = tmp_path / "voice.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * 16000 * 2)  # two seconds
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\nShip on Friday.", encoding="utf-8")
    system = tmp_path / "system.txt"
    system.write_text("Answer in one sentence.", encoding="utf-8")
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 4)
    truncated = tmp_path / "broken.png"
    truncated.write_bytes(png.read_bytes()[:40])
    return {"png": png, "wav": wav, "notes": notes, "system": system, "blob": blob, "broken": truncated}


def inline(path: Path, mime: str) -> dict[str, Any]:
    return {"inlineData": {"mimeType": mime, "data": base64.b64encode(path.read_bytes()).decode("ascii")}}


def test_attach_and_system_are_parts_and_a_system_instruction(files: dict[str, Path]) -> None:
    """Was: `--image`: no such option; no way to give a system instruction from the shell."""
    parts = [
        {"text": "What is in these?"},
        inline(files["png"], "image/png"),
        inline(files["wav"], "audio/x-wav"),
        inline(files["notes"], "text/markdown"),
    ]
    body = {
        "contents": [{"role": "user", "parts": parts}],
        "systemInstruction": {"role": "user", "parts": [{"text": "Answer in one sentence."}]},
    }
    flags = ["--attach", str(files["png"]), "-a", str(files["wav"]), "--attach", str(files["notes"])]
    system = ["--system", f"@{files['system']}"]
    counted = answer(run("count", "-m", FLASH, "What is in these?", *flags, *system))
    assert counted == vertexmeter.count_tokens(FLASH, body)
    assert {d["modality"] for d in counted["promptTokensDetails"]} == {"TEXT", "IMAGE", "AUDIO"}
    billed = answer(run("usage", "-m", FLASH, "What is in these?", *flags, "--system", "Answer in one sentence."))
    assert billed == vertexmeter.usage_metadata(FLASH, body)
    estimated = answer(
        run(
            "estimate",
            "-m",
            FLASH,
            "What is in these?",
            *flags,
            *system,
            "--date",
            "2026-01-15",
            "--output-tokens",
            "9",
        )
    )
    assert estimated == vertexmeter.estimate(FLASH, body, date="2026-01-15", output_tokens=9).to_json()


def test_attach_alone_and_into_a_body(files: dict[str, Path], tmp_path: Path) -> None:
    alone = answer(run("count", "-m", FLASH, "--attach", str(files["png"])))
    assert alone == vertexmeter.count_tokens(FLASH, [inline(files["png"], "image/png")])
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"contents": [{"role": "user", "parts": [{"text": "Describe"}]}]}))
    into = answer(run("count", "-m", FLASH, "--file", str(request), "--attach", str(files["png"])))
    expected = {"contents": [{"role": "user", "parts": [{"text": "Describe"}, inline(files["png"], "image/png")]}]}
    assert into == vertexmeter.count_tokens(FLASH, expected)


def test_system_on_the_gemini_api(files: dict[str, Path]) -> None:
    counted = answer(run("count", "-m", FLASH, "hi", "--system", "Be brief.", "--api", "gemini"))
    assert counted == vertexmeter.count_tokens(FLASH, "hi", api="gemini", config={"system_instruction": "Be brief."})
    assert counted["totalTokens"] > answer(run("count", "-m", FLASH, "hi", "--api", "gemini"))["totalTokens"]


def test_attachment_errors_name_the_file(files: dict[str, Path]) -> None:
    """Was: a truncated PNG -> `cannot identify image file <_io.BytesIO object at 0x…>`, no file named."""
    result = run("count", "-m", FLASH, "look", "--attach", str(files["broken"]))
    assert result.exit_code == 1
    message = json.loads(result.stderr)["error"]["message"]
    assert f"--attach {files['broken']}" in message and "contents[0].parts[1]" in message
    assert "object at 0x" not in message and "<" not in message
    unknown = run("count", "-m", FLASH, "--attach", str(files["blob"]))
    assert unknown.exit_code == 2 and str(files["blob"]) in unknown.stderr
    missing = run("count", "-m", FLASH, "--attach", "no-such-file.png")
    assert missing.exit_code == 2 and "no-such-file.png" in missing.stderr
    no_file = run("count", "-m", FLASH, "hi", "--system", "@no-such-system.txt")
    assert no_file.exit_code == 2 and "no-such-system.txt" in no_file.stderr


def test_a_file_name_as_text_gets_a_hint(files: dict[str, Path]) -> None:
    """Was: `count -m M prompt.md` silently counted the string "prompt.md"."""
    name = str(files["notes"])
    result = run("count", "-m", FLASH, name)
    assert answer(result) == vertexmeter.count_tokens(FLASH, name)  # still the text, as asked
    assert f"--text-file {name}" in result.stderr and f"--attach {name}" in result.stderr
    assert "note:" not in run("count", "-m", FLASH, "no file of this name").stderr


def test_the_quick_path_leaves_file_names_to_click(files: dict[str, Path]) -> None:
    """The click-free path answers plain texts; a TEXT naming a file goes to click, which adds the hint."""
    env = {**os.environ, "VERTEXMETER_CACHE_DIR": str(files["png"].parent / "cache")}
    for _ in range(2):  # the second run would come from the quick path's memory
        done = subprocess.run(
            [sys.executable, "-m", "vertexmeter", "count", "-m", FLASH, str(files["notes"])],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert "--text-file" in done.stderr
        assert json.loads(done.stdout) == vertexmeter.count_tokens(FLASH, str(files["notes"]))


def test_a_json_body_on_stdin_is_read_as_one() -> None:
    """Was: a generateContent body piped in was counted as text."""
    body = {"contents": [{"role": "user", "parts": [{"text": "What is your name?"}]}]}
    result = run("count", "-m", FLASH, stdin=json.dumps(body))
    assert answer(result) == vertexmeter.count_tokens(FLASH, body)
    assert "--text-file -" in result.stderr
    as_text = run("count", "-m", FLASH, "--text-file", "-", stdin=json.dumps(body))
    assert answer(as_text) == vertexmeter.count_tokens(FLASH, json.dumps(body))
    plain = run("count", "-m", FLASH, stdin='{"a": 1} is not a request')
    assert answer(plain) == vertexmeter.count_tokens(FLASH, '{"a": 1} is not a request')


@pytest.mark.parametrize("command", ["count", "usage", "estimate"])
def test_an_openai_body_gets_the_gemini_shape(command: str) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    result = run(command, "-m", FLASH, stdin=json.dumps(body))
    assert result.exit_code == 1
    error = json.loads(result.stderr[result.stderr.index("{") :])["error"]
    assert "OpenAI" in error["message"] and "contents" in error["message"]


def test_file_mime_reads_the_bytes(files: dict[str, Path]) -> None:
    from vertexmeter.media import file_mime

    head = files["png"].read_bytes()[:512]
    assert file_mime("photo.png", head) == "image/png"
    assert file_mime("photo.jpg", head) == "image/png"  # the bytes win over a wrong ending
    assert file_mime("notes.md", b"# hi") == "text/markdown"
    assert file_mime("notes", "日本語".encode()[:-1]) == "text/plain"  # a character cut at the head's end
    assert file_mime("a.m4a", b"\0\0\0\x20ftypM4A " + bytes(40)) == "audio/mp4"
    assert file_mime("a.mp4", b"\0\0\0\x20ftypisom" + bytes(40)) == "video/mp4"
    assert file_mime("blob.bin", bytes(range(256))) is None
    buffer = io.BytesIO()
    assert file_mime("x.pdf", b"%PDF-1.7\n" + buffer.getvalue()) == "application/pdf"
