"""The one JSON decoder: its policy, and that any input gives a value or a VertexMeterError, never another exception."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vertexmeter
from vertexmeter.errors import VertexMeterError
from vertexmeter.requests.decode import MAX_DEPTH, decode_json

PACKAGE = Path(vertexmeter.__file__).parent


def refusal(raw: bytes | str) -> VertexMeterError:
    with pytest.raises(VertexMeterError) as caught:
        decode_json(raw)
    assert caught.value.status == "INVALID_ARGUMENT"
    assert caught.value.message.startswith("Invalid JSON payload received.")
    return caught.value


def test_plain_json_is_decoded() -> None:
    assert decode_json(b'{"contents": [{"parts": [{"text": "hi"}]}], "n": 1.5, "k": -3}') == {
        "contents": [{"parts": [{"text": "hi"}]}],
        "n": 1.5,
        "k": -3,
    }
    assert decode_json('{"a": "\\u00e9\\ud83d\\ude00"}') == {"a": "é😀"}  # a surrogate *pair* is fine


@pytest.mark.parametrize("raw", [b"", b"   \n\t", ""])
def test_empty_input_is_the_empty_message(raw: bytes | str) -> None:
    assert decode_json(raw) == {}


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b'{"a": NaN}', "NaN is not a JSON value"),
        (b'{"a": Infinity}', "Infinity is not a JSON value"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON value"),
        (b'{"a": 1e999}', "out of range for a double"),
        (b'{"a": -1e400}', "out of range for a double"),
        (b'{"a": ' + b"9" * 5000 + b"}", "out of range for a double"),
        (b'{"a": ' + b"9" * 320 + b"}", "out of range for a double"),
        (b'{"a": "\xff"}', "Invalid UTF-8 at byte 7"),
        (b'{"a": "\\ud800"}', "lone UTF-16 surrogate"),
        (b'{"\\udc00": 1}', "lone UTF-16 surrogate"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), f"deeper than {MAX_DEPTH}"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, f"deeper than {MAX_DEPTH}"),
        (b'{"contents": [', "Expecting value"),
        (b"{'a': 1}", "Expecting property name"),
        (b"\xef\xbb\xbf{}", "BOM"),
    ],
)
def test_refusals(raw: bytes, words: str) -> None:
    assert words in refusal(raw).message


def test_a_lone_surrogate_is_refused_in_a_str_body_and_unreachable_through_utf8_bytes() -> None:
    assert "lone UTF-16 surrogate" in refusal('{"a": "x\ud800y"}').message  # a str may hold one raw
    assert "lone UTF-16 surrogate" in refusal('{"\udfff": 1}').message
    assert "Invalid UTF-8" in refusal(b'{"a": "\xed\xa0\x80"}').message  # a surrogate's UTF-8 form is not UTF-8


def test_depth_limit_is_exact_and_skips_brackets_inside_strings() -> None:
    at_limit = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert decode_json(at_limit) is not None
    brackets_in_text = json.dumps({"contents": [{"parts": [{"text": "[{" * 10_000}]}]})
    assert decode_json(brackets_in_text)["contents"][0]["parts"][0]["text"] == "[{" * 10_000


def test_decimals_for_money_files_with_the_same_limits() -> None:
    from decimal import Decimal

    assert decode_json(b'{"price": 0.1, "n": 3}', decimals=True) == {"price": Decimal("0.1"), "n": 3}
    assert "out of range" in refusal(b'{"price": 1e999}').message
    with pytest.raises(VertexMeterError):
        decode_json(b'{"price": 1e999}', decimals=True)


def test_numbers_a_double_holds_are_kept() -> None:
    assert decode_json(b'{"a": 1.7976931348623157e308, "b": 123456789012345678901234567890}') == {
        "a": 1.7976931348623157e308,
        "b": 123456789012345678901234567890,
    }


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_a_value_or_a_google_error(raw: bytes) -> None:
    try:
        decode_json(raw)
    except VertexMeterError as error:
        assert error.code == 400


json_texts = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=20,
).map(json.dumps)
mutations = st.sampled_from(["", "[", "{", "]", "}", '"', "\\ud800", "NaN", "1e999", "\\", ",", ":", "\x00"])


@settings(max_examples=500, deadline=None)
@given(json_texts, st.lists(st.tuples(st.integers(0, 200), mutations), max_size=4))
def test_mangled_json_gives_a_value_or_a_google_error(text: str, edits: list[tuple[int, str]]) -> None:
    for position, insert in edits:
        position = min(position, len(text))
        text = text[:position] + insert + text[position:]
    try:
        value = decode_json(text)
    except VertexMeterError as error:
        assert error.code == 400
        return
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in _leaves(value))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=200), json_texts), st.sampled_from(["gemini-2.5-flash", "text-bison"]))
def test_the_library_answers_any_bytes_or_text_with_a_result_or_a_google_error(raw: Any, model: str) -> None:
    """Bytes are a wire body, a str is user text: either way a count or VertexMeterError, nothing else."""
    try:
        vertexmeter.count_tokens(model, raw)
    except VertexMeterError as error:
        assert error.code == 400


def _leaves(value: Any) -> list[Any]:
    out: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            out.append(item)
    return out


def test_request_bodies_are_decoded_in_one_place_only() -> None:
    """No module but requests/decode.py calls json.loads (or builds a json.JSONDecoder) on outside JSON — request
    bodies, scenario files and billed logs (those two with Decimal numbers) and batch lines alike. datafiles.py,
    ledger/store.py and batch/job.py read back only JSON they wrote themselves (the data cache, the ledger's rows,
    results); tokenizing/core/tables.py reads the hash-pinned tokenizer.json and the header of its own table file."""
    callers = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("loads", "load", "JSONDecoder")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "json"
            ):
                callers.append(path.relative_to(PACKAGE).as_posix())
    assert sorted(set(callers)) == [
        "batch/job.py",
        "datafiles.py",
        "ledger/store.py",
        "requests/decode.py",
        "tokenizing/core/tables.py",
    ]


def test_the_server_and_the_library_hold_the_same_decoder() -> None:
    from vertexmeter.requests import inputs
    from vertexmeter.server import work

    assert work.decode_json is decode_json
    assert inputs.decode_json is decode_json
