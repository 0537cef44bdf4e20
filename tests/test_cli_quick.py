"""The quick path of `vertexmeter count` (cli/quick.py): the click command's answer without click."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import click
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from vertexmeter.cli import main
from vertexmeter.cli import quick as quick_path
from vertexmeter.cli.counting import count_command
from vertexmeter.cli.quick import (
    ANSWER,
    API_FLAGS,
    BILLED_ANSWER,
    JSON_FLAGS,
    LEGACY_ANSWER,
    MODEL_FLAGS,
    TOKENS_ANSWER,
    answer,
    plain_count,
)

MODELS = ["gemini-2.5-flash", "gemini-2.0-flash-001", "gemini-3-pro-preview", "text-bison@002", "gemini-1.5-pro"]


def quick(argv: list[str]) -> tuple[bool, str]:
    """(answered, what it printed): stdout, then stderr (an inferred count's note), as the terminal shows it."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        answered = answer(argv)
    return answered, out.getvalue() + err.getvalue()


def test_the_quick_flags_are_the_click_commands_flags() -> None:
    options = {param.name: param for param in count_command.params if isinstance(param, click.Option)}
    assert tuple(options["model"].opts) == MODEL_FLAGS
    assert tuple(options["api"].opts) == API_FLAGS
    assert tuple(options["human"].secondary_opts) == JSON_FLAGS  # --human/--json
    assert options["api"].type.choices and options["media_root"].envvar == "VERTEXMETER_MEDIA_ROOT"


words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda w: not w.startswith("-")
)


@settings(max_examples=60, deadline=None)
@given(
    model=st.sampled_from(MODELS),
    model_flag=st.sampled_from(["-m", "--model", "--model="]),
    api=st.sampled_from([None, "vertex", "gemini", "--api=gemini"]),
    texts=st.lists(words, min_size=1, max_size=4),
    json_flag=st.booleans(),
    model_first=st.booleans(),
)
def test_the_quick_answer_is_the_click_answer(
    model: str, model_flag: str, api: str | None, texts: list[str], json_flag: bool, model_first: bool
) -> None:
    model_args = [model_flag + model] if model_flag.endswith("=") else [model_flag, model]
    api_args = [] if api is None else [api] if api.startswith("--") else ["--api", api]
    flags = model_args + api_args + (["--json"] if json_flag else [])
    argv = ["count", *(flags + texts if model_first else texts + flags)]
    assert plain_count(argv) is not None
    via_click = CliRunner().invoke(main, argv)
    for _ in range(2):  # the library's answer, then (where it was remembered) the memory's
        answered, printed = quick(argv)
        if answered:
            assert via_click.exit_code == 0 and printed == via_click.output
        else:  # only a refusal falls through, and click refuses it too
            assert printed == "" and via_click.exit_code == 1


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["count"],
        ["count", "hi"],  # no model: click's usage error
        ["count", "-m", "gemini-2.5-flash"],  # no text: stdin or click's usage error
        ["count", "-m", "gemini-2.5-flash", "--human", "hi"],
        ["count", "-m", "gemini-2.5-flash", "--file", "body.json"],
        ["count", "-m", "gemini-2.5-flash", "-t", "x.txt"],
        ["count", "-mgemini-2.5-flash", "hi"],
        ["count", "-m=gemini-2.5-flash", "hi"],
        ["count", "-m", "gemini-2.5-flash", "--", "-x"],
        ["count", "-m", "gemini-2.5-flash", "-x"],
        ["count", "-m", "gemini-2.5-flash", ""],
        ["count", "-m", "gemini-2.5-flash", "-m", "gemini-2.0-flash", "hi"],
        ["count", "-m", "gemini-2.5-flash", "--api", "vertex", "--api", "gemini", "hi"],
        ["count", "-m", "gemini-2.5-flash", "--api"],
        ["count", "-m", "--api", "hi"],
        ["count", "-m", "gemini-2.5-flash", "--help"],
        ["count", "--help"],
        ["usage", "-m", "gemini-2.5-flash", "hi"],
        ["--version"],
    ],
)
def test_every_other_command_line_is_left_to_click(argv: list[str]) -> None:
    assert plain_count(argv) is None
    assert quick(argv) == (False, "")


def test_an_unknown_api_or_model_is_left_to_click(monkeypatch: pytest.MonkeyPatch) -> None:
    assert quick(["count", "-m", "gemini-2.5-flash", "--api", "openai", "hi"]) == (False, "")
    assert quick(["count", "-m", "no-such-model", "hi"]) == (False, "")
    monkeypatch.setenv("VERTEXMETER_MEDIA_ROOT", "/nonexistent")
    assert plain_count(["count", "-m", "gemini-2.5-flash", "hi"]) is None


def test_the_memory_answers_the_second_time_and_not_after_a_change(monkeypatch: pytest.MonkeyPatch) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(quick_path._memory_path())  # what earlier tests left: this one starts from no memory
    # a version name: not in the packaged index (canonical names only), so the library answers and remembers
    argv = ["count", "-m", "gemini-2.0-flash-001", "--api", "gemini", "Hello there", "again"]
    expected = CliRunner().invoke(main, argv).output
    assert quick(argv) == (True, expected)
    remembered = quick_path._from_memory("gemini-2.0-flash-001", "gemini", ["other", "texts 漢字 😀"])
    assert remembered is not None  # the same model, API and number of texts: answered from the memory
    # every registry model's answer to two texts on the Gemini API was remembered with it
    assert quick_path._from_memory("gemini-3.5-flash", "gemini", ["a", "b"]) is not None
    assert quick_path._from_memory("gemini-3.5-flash", "vertex", ["a", "b"]) is None  # another API
    other = ["count", "-m", "gemini-2.0-flash-001", "--api", "gemini", "other", "texts 漢字 😀"]
    assert quick(other) == (True, CliRunner().invoke(main, other).output)
    monkeypatch.setattr(quick_path, "_fingerprint", lambda: "another install")  # an upgrade or an edit
    assert quick_path._from_memory("gemini-2.0-flash-001", "gemini", ["x", "y"]) is None
    monkeypatch.undo()
    monkeypatch.setenv("VERTEXMETER_ENGINE_ONLY", "1")  # tokenizers loaded another way: the library
    assert quick_path._from_memory("gemini-2.0-flash-001", "gemini", ["x", "y"]) is None


def test_a_damaged_memory_is_ignored_and_rewritten() -> None:
    argv = ["count", "-m", "gemini-2.0-flash-001", "one", "two", "three"]
    expected = CliRunner().invoke(main, argv).output
    with open(quick_path._memory_path(), "wb") as damaged:
        damaged.write(b"\x00" * 8 + b"not marshal data")
    assert quick(argv) == (True, expected)
    assert quick_path._from_memory("gemini-2.0-flash-001", None, ["a", "b", "c"]) is not None


@pytest.mark.parametrize("total", [1, 42, 1_048_576])
def test_the_memory_writes_countTokens_json_as_json_dumps_does(total: int) -> None:
    body = {"totalTokens": total, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}]}
    assert ANSWER % (total, total) == json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    billed = {"totalTokens": total, "totalBillableCharacters": 7, "promptTokensDetails": body["promptTokensDetails"]}
    assert BILLED_ANSWER % (total, 7, total) == json.dumps(billed, ensure_ascii=False, indent=2) + "\n"
    legacy = {"totalTokens": total, "totalBillableCharacters": 7}
    assert LEGACY_ANSWER % (total, 7) == json.dumps(legacy, ensure_ascii=False, indent=2) + "\n"
    assert TOKENS_ANSWER % total == json.dumps({"totalTokens": total}, ensure_ascii=False, indent=2) + "\n"


def test_a_character_priced_model_is_answered_from_the_memory_with_its_billable_characters() -> None:
    argv = ["count", "-m", "gemini-1.5-pro", "Hello  there", "again"]
    assert quick(argv) == (True, CliRunner().invoke(main, argv).output)
    texts = ["  漢字\u3000and\x1ctabs\t😀 ", "x\u2028y"]  # Unicode and ASCII separator whitespace
    # answered without the library: from the packaged index, or from the memory of the first answer
    assert quick_path._from_memory("gemini-1.5-pro", None, texts) or quick_path._from_index(
        "gemini-1.5-pro", None, texts
    )
    other = ["count", "-m", "gemini-1.5-pro", *texts]
    assert quick(other) == (True, CliRunner().invoke(main, other).output)
    blank = ["count", "-m", "gemini-1.5-pro", " ", "\u3000"]  # no billable character: the field is omitted
    assert quick_path._from_memory("gemini-1.5-pro", None, blank[3:]) is None
    assert quick_path._from_index("gemini-1.5-pro", None, blank[3:]) is None
    assert quick(blank) == (True, CliRunner().invoke(main, blank).output)


@pytest.mark.parametrize(
    "model", ["text-bison", "chat-bison", "code-gecko", "textembedding-gecko", "gemini-embedding-001"]
)
def test_a_legacy_model_is_answered_without_the_library(model: str) -> None:
    argv = ["count", "-m", model, "Hello  there", "again 漢字"]
    assert quick(argv) == (True, CliRunner().invoke(main, argv).output)
    texts = ["def f(x):\n\treturn x  # 😀", "\u00a0y"]
    assert quick_path._from_memory(model, None, texts) or quick_path._from_index(model, None, texts)
    other = ["count", "-m", model, *texts]
    assert quick(other) == (True, CliRunner().invoke(main, other).output)


def run_command(*args: str) -> subprocess.CompletedProcess[str]:
    # which of these modules the command itself imports (not what the interpreter's site already loaded)
    code = (
        "import sys; before = set(sys.modules); from vertexmeter.cli import run; run(); "
        "sys.stderr.write(' '.join(m for m in ('click', 'json', 'typing', 'dataclasses') "
        "if m in sys.modules and m not in before) + '\\n')"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, encoding="utf-8", check=False
    )


def test_the_console_script_answers_the_plain_form_without_click_and_the_rest_with_it() -> None:
    plain = run_command("count", "-m", "gemini-2.5-flash", "hello", "world")
    assert plain.returncode == 0 and "click" not in plain.stderr
    assert plain.stdout == CliRunner().invoke(main, ["count", "-m", "gemini-2.5-flash", "hello", "world"]).output
    again = run_command("count", "-m", "gemini-2.5-flash", "good", "morning")  # remembered: not even json
    assert again.returncode == 0 and again.stderr == "\n"
    assert again.stdout == CliRunner().invoke(main, ["count", "-m", "gemini-2.5-flash", "good", "morning"]).output
    refused = run_command("count", "-m", "no-such-model", "hi")
    assert refused.returncode == 1 and '"status": "NOT_FOUND"' in refused.stderr and refused.stdout == ""


@pytest.mark.parametrize("api", ["vertex", "gemini"])
def test_every_model_gets_the_click_answer_from_the_library_and_then_from_the_memory(api: str) -> None:
    import vertexmeter

    for info in vertexmeter.all_models():
        for texts in (["Why is the sky blue?"], ["  two  ", "texts\twith\nspaces 😀"]):
            argv = ["count", "-m", info.id, "--api", api, *texts]
            via_click = CliRunner().invoke(main, argv)
            first, second = quick(argv), quick(argv)
            if via_click.exit_code:
                assert first == second == (False, "")
            else:
                assert first == second == (True, via_click.output), (info.id, api, texts)


def _index_tool():  # type: ignore[no-untyped-def]
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "tools" / "quick_index.py"
    spec = importlib.util.spec_from_file_location("quick_index_tool", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_packaged_index_is_what_its_tool_prints_today() -> None:
    from pathlib import Path

    from vertexmeter.tokenizing import core

    if core.IMPLEMENTATION != "native":
        pytest.skip("the index is made from the native core's answers (no C compiler here)")
    tool = _index_tool()
    assert Path(quick_path.__file__).with_name("quick_index.py").read_text("utf-8") == tool.text(), (
        "run: python tools/quick_index.py --write"
    )


def test_a_first_count_is_answered_from_the_index_without_the_library(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vertexmeter.tokenizing import get_tokenizer

    get_tokenizer("gemma3").count("x")  # the table is stored: what any earlier run leaves
    with contextlib.suppress(FileNotFoundError):
        os.unlink(quick_path._memory_path())
    first = run_command("count", "-m", "gemini-2.5-flash", "--api", "gemini", "first", "time 漢字")
    assert first.returncode == 0 and first.stderr == "\n"  # neither click nor json nor dataclasses: no library
    argv = ["count", "-m", "gemini-2.5-flash", "--api", "gemini", "first", "time 漢字"]
    assert first.stdout == CliRunner().invoke(main, argv).output
    assert not os.path.exists(quick_path._memory_path())  # nothing to remember: the index had it
    assert quick_path._from_index("gemini-2.5-flash", None, ["a"]) is not None
    assert quick_path._from_index("gemini-2.5-flash-001", None, ["a"]) is None  # only canonical names
    assert quick_path._from_index("text-bison", None, ["a", "b", "c"]) is not None  # an instance per text
    assert quick_path._from_index("text-bison", "gemini", ["a"]) is None  # not served there: the library says so
    monkeypatch.setattr(quick_path, "registry_hash", lambda: "edited registry")
    assert quick_path._from_index("gemini-2.5-flash", None, ["a"]) is None
    monkeypatch.undo()
    installed = tmp_path / "manifest.json"  # type: ignore[operator]
    installed.write_text("{}")
    monkeypatch.setattr(quick_path, "installed_manifest", lambda: str(installed))  # a newer data set
    assert quick_path._from_index("gemini-2.5-flash", None, ["a"]) is None
    monkeypatch.undo()
    monkeypatch.setenv("VERTEXMETER_ENGINE_ONLY", "1")
    assert quick_path._from_index("gemini-2.5-flash", None, ["a"]) is None


def test_an_answer_without_billable_characters_is_not_remembered_as_the_models_shape() -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(quick_path._memory_path())
    for texts in ([" ", "\u3000"], ["a", "b"]):  # the blank answer omits the characters; the next has them
        argv = ["count", "-m", "text-bison@002", *texts]  # a version name: the library, then the memory
        assert quick(argv) == (True, CliRunner().invoke(main, argv).output)
    assert quick_path._from_memory("text-bison@002", None, ["c", "d"]) is not None
