"""The quick path of `vertexmeter count` (cli/quick.py): the click command's answer without click."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
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
from vertexmeter.cli.quick_index import TABLES

MODELS = [
    "gemini-2.5-flash",
    "gemini-2.0-flash-001",
    "gemini-3-pro-preview",
    "text-bison@002",
    "gemini-1.5-pro",
    "models/gemini-flash-latest",
    "publishers/google/models/gemma-3-27b",
]


@pytest.fixture(scope="module", autouse=True)
def own_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A user cache of this module's own (the memory is removed and rewritten here; the tables derived once);
    tokenizers loaded from another cache are forgotten before and after, as their table files are elsewhere."""
    from vertexmeter import tokenizing

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VERTEXMETER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        tokenizing.clear_cache()
        yield
    tokenizing.clear_cache()


def without_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """As after an edit of the registry files: the packaged index no longer answers, the library and memory do."""
    monkeypatch.setattr(quick_path, "registry_hash", lambda: "edited registry")


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
        ["count", "-m", "gemini-flash-latest", "--as-of", "2025-10-01", "hi"],  # the library counts that day
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
    without_index(monkeypatch)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(quick_path._memory_path())  # what earlier tests left: this one starts from no memory
    argv = ["count", "-m", "gemini-2.0-flash-001", "--api", "gemini", "Hello there", "again"]
    expected = CliRunner().invoke(main, argv).output
    assert quick(argv) == (True, expected)  # the library answers and remembers
    remembered = quick_path._from_memory("gemini-2.0-flash-001", "gemini", ["other", "texts 漢字 😀"])
    assert remembered is not None  # the same model, API and number of texts: answered from the memory
    # kept under the model's id: any spelling of it is answered too, with the registry's names remembered
    assert quick_path._from_memory("models/gemini-2.0-flash@001", "gemini", ["a", "b"]) is not None
    # every registry model's answer to two texts on the Gemini API was remembered with it
    assert quick_path._from_memory("gemini-3.5-flash", "gemini", ["a", "b"]) is not None
    assert quick_path._from_memory("gemini-flash-latest", "gemini", ["a", "b"]) is not None  # today's model
    assert quick_path._from_memory("gemini-3.5-flash", "vertex", ["a", "b"]) is None  # another API
    other = ["count", "-m", "gemini-2.0-flash-001", "--api", "gemini", "other", "texts 漢字 😀"]
    assert quick(other) == (True, CliRunner().invoke(main, other).output)
    monkeypatch.setattr(quick_path, "_fingerprint", lambda: "another install")  # an upgrade or an edit
    assert quick_path._from_memory("gemini-2.0-flash-001", "gemini", ["x", "y"]) is None
    monkeypatch.undo()
    monkeypatch.setenv("VERTEXMETER_ENGINE_ONLY", "1")  # tokenizers loaded another way: the library
    assert quick_path._from_memory("gemini-2.0-flash-001", "gemini", ["x", "y"]) is None


def test_a_damaged_memory_is_ignored_and_rewritten(monkeypatch: pytest.MonkeyPatch) -> None:
    without_index(monkeypatch)
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
def test_every_model_gets_the_click_answer_from_the_library_and_then_from_the_memory(
    api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vertexmeter

    without_index(monkeypatch)

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
    from tests.tool_modules import load_tool

    return load_tool("quick_index")


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
    assert quick_path._from_index("gemini-2.5-flash-001", None, ["a"]) is not None  # any spelling it resolves
    assert quick_path._from_index("gemini-2.5-flash-٠٠١", None, ["a"]) is None  # a Unicode digit: the library
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


def test_an_answer_without_billable_characters_is_not_remembered_as_the_models_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without_index(monkeypatch)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(quick_path._memory_path())
    for texts in ([" ", "\u3000"], ["a", "b"]):  # the blank answer omits the characters; the next has them
        argv = ["count", "-m", "text-bison@002", *texts]  # the library, then the memory
        assert quick(argv) == (True, CliRunner().invoke(main, argv).output)
    assert quick_path._from_memory("text-bison@002", None, ["c", "d"]) is not None


# ---- names: every spelling the registry resolves is answered as the library answers it --------------------------

SPELLINGS = (
    "{}",
    "models/{}",
    "publishers/google/models/{}",
    "projects/p/locations/us-central1/publishers/google/models/{}",
    "{}@001",
    "{}-002",
    "{}-latest",
    "{}-preview-09-2025",
    "{}-exp-1206",
    "models/{}@7-latest",
    " {}\t",
    "publishers//models/{}",
    "projects/p/locations/l/publishers/g/models/models/{}",
)


def registry_spellings(spellings: tuple[str, ...] = SPELLINGS, names: list[str] | None = None) -> list[str]:
    """`names` (every registry id, alias and dated alias when None), in each of `spellings`."""
    from vertexmeter.registry import all_models, dated_aliases

    if names is None:
        names = [name for info in all_models() for name in (info.id, *info.aliases)] + list(dated_aliases())
    return [spelling.format(name) for name in names for spelling in spellings]


def boundary_days() -> list[str]:
    """Today and the days around every dated alias's period edges and every redirect's first day."""
    import datetime as dt

    from vertexmeter.registry import dated_aliases

    edges = [edge for periods in dated_aliases().values() for p in periods for edge in (p.start, p.until) if edge]
    edges += [dt.date.fromisoformat(start) for found in TABLES["redirects"].values() for start, _ in found]
    days = {dt.date.today()} | {edge + dt.timedelta(days=step) for edge in edges for step in (-1, 0, 1)}
    return sorted(day.isoformat() for day in days)


def resolved(name: str, api: str, day: str | None = None) -> str | None:
    """The id of the model the library counts `name` with on `api` on `day` (today when None), or None: refused."""
    import datetime as dt

    from vertexmeter.errors import VertexMeterError
    from vertexmeter.registry import resolve

    try:
        return resolve(name, api=api, on=dt.date.fromisoformat(day) if day else None).id
    except VertexMeterError:
        return None


def test_the_index_holds_the_registrys_names_dated_aliases_and_redirects() -> None:
    import datetime as dt

    from vertexmeter.cli.quick_index import TABLES

    assert quick_path.registry_tables() == TABLES  # the freshness test below checks the rest of the file
    assert ("gemini-3-pro-preview", "gemini") in TABLES["redirects"] and "gemini-flash-latest" in TABLES["dated"]
    assert quick_path.today() == dt.date.today().isoformat()


def test_the_quick_resolution_is_the_registrys_on_every_name() -> None:
    day = quick_path.today()
    for name in registry_spellings():
        for api in ("vertex", "gemini"):
            assert quick_path.canonical(name, api, day, TABLES) == resolved(name, api, day), (name, api)


@pytest.mark.parametrize("day", boundary_days())
def test_the_quick_resolution_of_a_dated_alias_or_redirected_name_is_the_registrys_that_day(day: str) -> None:
    dated = {name for name in TABLES["dated"]} | {name for name, _ in TABLES["redirects"]}
    for name in registry_spellings(names=sorted(dated)):
        for api in ("vertex", "gemini"):
            assert quick_path.canonical(name, api, day, TABLES) == resolved(name, api, day), (name, api, day)


pieces = st.sampled_from(
    ["gemini-2.5-flash", "text-bison", "gemini-flash-latest", "gemma-3-27b", "gemini-3-pro-preview", "gemini-pro",
     "gemini-2.0-flash-thinking-exp-01-21", "google/", "models/", "publishers/",
     "projects/p/locations/l/", "@", "-", "latest", "preview", "exp", "0", "12", "001", "2025", " ", "\n", "/", "٠",
     "x", "models", "-preview-", "-exp-"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    name=st.lists(pieces, min_size=1, max_size=7).map("".join),
    api=st.sampled_from(["vertex", "gemini"]),
    day=st.sampled_from(boundary_days()),
)
def test_a_generated_spelling_resolves_as_the_registry_or_goes_to_the_library(name: str, api: str, day: str) -> None:
    found = quick_path.canonical(name, api, day, TABLES)
    readable = name.strip().isascii() and name.strip().isprintable()
    assert found == resolved(name, api, day) if readable else found is None


@pytest.mark.parametrize(
    "spellings",
    [
        pytest.param(SPELLINGS[:2], id="names-and-models-prefix"),
        pytest.param(SPELLINGS[2:], id="every-other-spelling", marks=pytest.mark.slow),  # ~3,000 click runs
    ],
)
def test_every_spelling_of_every_model_gets_the_click_answer_from_the_index(spellings: tuple[str, ...]) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(quick_path._memory_path())
    texts = ["Why is the sky blue?", " two\tlines\n漢字 😀"]
    for name in registry_spellings(spellings):
        for api in ("vertex", "gemini"):
            argv = ["count", "-m", name, "--api", api, *texts]
            via_click = CliRunner().invoke(main, argv)
            if via_click.exit_code:  # not served on this API, or named nothing today: click refuses it
                assert quick(argv) == (False, ""), (name, api)
                continue
            assert quick_path._from_index(name, api, texts) is not None, (name, api)
            assert quick(argv) == (True, via_click.output), (name, api)
    assert not os.path.exists(quick_path._memory_path())  # the index answered every one


@pytest.mark.parametrize("day", boundary_days())
def test_a_dated_alias_is_counted_as_the_model_it_names_that_day(day: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from vertexmeter.registry import dated_aliases

    texts = ["What is your name?"]
    with contextlib.suppress(FileNotFoundError):
        os.unlink(quick_path._memory_path())
    for api in ("vertex", "gemini"):  # a memory of every model's answer, made on the real day
        with monkeypatch.context() as patch:
            without_index(patch)
            assert quick(["count", "-m", "gemini-2.5-flash-001", "--api", api, *texts])[0]
    monkeypatch.setattr(quick_path, "today", lambda: day)
    for alias in dated_aliases():
        for api in ("vertex", "gemini"):
            model = resolved(alias, api, day)
            argv = ["count", "-m", f"models/{alias}", "--api", api, *texts]
            expected = CliRunner().invoke(main, ["count", "-m", model or "", *argv[3:]])
            if model is None or expected.exit_code:  # named nothing that day, or not served there
                assert quick_path._from_index(alias, api, texts) is None
                assert quick_path._from_memory(alias, api, texts) is None
                continue
            assert quick(argv) == (True, expected.output), (alias, day, api)
            from_memory = quick_path._from_memory(alias, api, texts)
            assert from_memory is not None and from_memory == quick_path._from_memory(model, api, texts)


@pytest.mark.parametrize("day", boundary_days())
def test_count_as_of_a_day_counts_a_dated_alias_as_the_library_does_that_day(day: str) -> None:
    from vertexmeter.counting import count
    from vertexmeter.errors import VertexMeterError
    from vertexmeter.registry import dated_aliases

    texts = ["Hello there", "漢字 😀"]
    for alias in dated_aliases():
        for api in ("vertex", "gemini"):
            via_click = CliRunner().invoke(main, ["count", "--as-of", day, "-m", alias, "--api", api, *texts])
            model = resolved(alias, api, day)
            if model is None:  # the alias named nothing that day: NOT_FOUND, as the library says
                assert via_click.exit_code == 1 and '"status": "NOT_FOUND"' in via_click.output, (alias, day)
                continue
            try:
                result = count(alias, texts, api=api, as_of=day)
            except VertexMeterError:  # not served on this API: click refuses it too
                assert via_click.exit_code == 1, (alias, day, api)
                continue
            assert result.model.id == model
            assert json.loads(via_click.stdout) == result.to_rest() == count(model, texts, api=api, as_of=day).to_rest()


def test_a_first_count_of_any_spelling_needs_no_library() -> None:
    from vertexmeter.tokenizing import get_tokenizer

    for family in ("gemma2", "gemma3", "gemma4"):
        get_tokenizer(family).count("x")  # the tables are stored: what any earlier run leaves
    for name, api in (
        ("gemini-2.0-flash-001", "vertex"),
        ("gemini-flash-latest", "gemini"),
        ("projects/p/locations/l/publishers/google/models/text-bison@002", "vertex"),
        ("gemma-3-27b", "gemini"),
        ("gemini-1.5-pro-latest", "vertex"),
    ):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(quick_path._memory_path())
        first = run_command("count", "-m", name, "--api", api, "first", "time 漢字")
        assert first.returncode == 0 and first.stderr.endswith("\n") and first.stderr.splitlines()[-1] == "", name
        expected = CliRunner().invoke(main, ["count", "-m", name, "--api", api, "first", "time 漢字"])
        assert first.stdout + first.stderr[:-1] == expected.output, name
