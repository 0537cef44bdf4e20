"""Calls streamed in pieces (streamFunctionCallArguments; accounting.yaml `streamed_call_arguments`, docs/counting.md
"Calls streamed in pieces"): the pieces joined into one call by jsonPath, the golden bills of googleapis/js-genai's
recorded answers (exact outputs for streamed strings, bounds that hold numbers and nulls), the same through a list of
streamed chunks, explain, and the data's checks."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vertexmeter
from tests.ground_truth import load_mined_history, replay
from tests.registry_data import shipped_data
from vertexmeter.registry import build_registry
from vertexmeter.requests import join_streamed_calls, streamed_arguments


@cache
def _records() -> dict[str, dict[str, Any]]:
    return {r["id"]: r for name in ("calls_heldout3", "js_genai") for r in load_mined_history(name)}


def _record(record_id: str) -> dict[str, Any]:
    return copy.deepcopy(_records()[record_id])


def _piece(path: str, willcontinue: bool = True, **value: Any) -> dict[str, Any]:
    return {"functionCall": {"partialArgs": [{"jsonPath": path, **value}], "willContinue": willcontinue}}


WEATHER_PIECES = [
    {"functionCall": {"name": "getCurrentWeather", "willContinue": True}, "thoughtSignature": "c2ln"},
    _piece("$.location", stringValue="New", willContinue=True),
    _piece("$.location", stringValue="York"),
    _piece("$.location", stringValue=""),
    _piece("$.unit", stringValue="C"),
    {"functionCall": {}},
]


def test_the_pieces_join_into_one_call_with_its_args_and_signature() -> None:
    (part,) = join_streamed_calls(WEATHER_PIECES)
    assert part["thoughtSignature"] == "c2ln"
    call = part["functionCall"]
    assert call["name"] == "getCurrentWeather" and call["args"] == {"location": "NewYork", "unit": "C"}
    assert len(call["partialArgs"]) == 4 and "willContinue" not in call
    assert streamed_arguments(call) == (2, 0)


def test_parts_without_pieces_come_back_as_they_are() -> None:
    parts = [{"text": "hi"}, {"functionCall": {"name": "f", "args": {"a": 1}}}, {"functionCall": {}}]
    assert join_streamed_calls(parts) is parts


def test_text_around_a_streamed_call_stays_in_order() -> None:
    parts = [{"text": "Let me look."}, *WEATHER_PIECES, {"text": "Done."}]
    joined = join_streamed_calls(parts)
    assert ["functionCall" if "functionCall" in p else "text" for p in joined] == ["text", "functionCall", "text"]
    assert parts[1] == WEATHER_PIECES[0] and "args" not in parts[1]["functionCall"]  # the request is not changed


def test_a_piece_that_ends_the_call_closes_it_and_the_next_name_opens_another() -> None:
    parts = [
        {"functionCall": {"name": "a", "partialArgs": [{"jsonPath": "$.x", "numberValue": 2}]}},
        {"functionCall": {"name": "b", "willContinue": True}},
        _piece("$.ok", False, boolValue=True),
    ]
    first, second = join_streamed_calls(parts)
    assert first["functionCall"]["args"] == {"x": 2} and second["functionCall"]["args"] == {"ok": True}
    assert streamed_arguments(first["functionCall"]) == (0, 1)


KEYS = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd")), min_size=1, max_size=8)
VALUES = st.one_of(
    st.text(max_size=30), st.integers(-(10**6), 10**6), st.booleans(), st.none(), st.floats(allow_nan=False)
)


@settings(max_examples=200, deadline=None)
@given(args=st.dictionaries(KEYS, VALUES, max_size=6), cuts=st.lists(st.integers(1, 5), max_size=40))
def test_any_args_streamed_in_pieces_join_back(args: dict[str, Any], cuts: list[int]) -> None:
    """Whatever the args and however a string is cut into pieces, the joined call holds the args as sent, and every
    argument is counted once, as a string or not."""
    parts: list[dict[str, Any]] = [{"functionCall": {"name": "f", "willContinue": True}}]
    sizes = iter(cuts)
    for key, value in args.items():
        path = f"$.{key}"
        if isinstance(value, str):
            rest = value
            while rest:
                size = next(sizes, len(rest))
                parts.append(_piece(path, stringValue=rest[:size], willContinue=True))
                rest = rest[size:]
            parts.append(_piece(path, stringValue=""))
        elif value is None:
            parts.append(_piece(path, nullValue="NULL_VALUE"))
        elif isinstance(value, bool):
            parts.append(_piece(path, boolValue=value))
        else:
            parts.append(_piece(path, numberValue=value))
    parts.append({"functionCall": {}})
    (joined,) = join_streamed_calls(parts)
    assert joined["functionCall"]["args"] == args
    strings = sum(isinstance(v, str) for v in args.values())
    assert streamed_arguments(joined["functionCall"]) == (strings, len(args) - strings)


@pytest.mark.parametrize(
    ("path", "args"),
    [
        ("$.a.b", {"a": {"b": None}}),
        ("$.a[1]", {"a": [None, None]}),
        ("$['key with space']", {"key with space": None}),
        ('$["q"].r', {"q": {"r": None}}),
        ("not a path", {"not a path": None}),
        ("$", {"$": None}),
    ],
)
def test_json_paths_nest_the_value(path: str, args: dict[str, Any]) -> None:
    (part,) = join_streamed_calls(
        [{"functionCall": {"name": "f", "partialArgs": [{"jsonPath": path, "nullValue": "NULL_VALUE"}]}}]
    )
    assert part["functionCall"]["args"] == args


@pytest.mark.parametrize(
    ("record_id", "billed"),
    [("jsgenaic-0042", 29), ("jsgenaic-0044", 33), ("jsgenaic-0045", 33), ("jsgenaic-0046", 17), ("jsgenaic-0047", 17)],
)
def test_streamed_string_arguments_bill_exactly(record_id: str, billed: int) -> None:
    outcome = replay(_record(record_id))
    assert (outcome.got, outcome.expected) == (billed, billed)
    assert outcome.bounds is None


def test_streamed_numbers_carry_bounds_that_hold_the_bill() -> None:
    outcome = replay(_record("jsgenaic-0043"))
    assert outcome.expected == 13 and outcome.got == 14
    assert outcome.bounds is not None and outcome.bounds["candidatesTokenCount"] == [12, 14]
    assert "streamed_call_arguments" in outcome.bounds["reason"]


@pytest.mark.parametrize(("record_id", "got", "low"), [("jsgenai-0192", 34, 32), ("jsgenai-0185", 84, 83)])
def test_a_replayed_streamed_call_is_bounded(record_id: str, got: int, low: int) -> None:
    outcome = replay(_record(record_id))
    assert outcome.got == got and outcome.bounds is not None
    assert outcome.bounds["promptTokenCount"] == [low, got]
    assert low <= outcome.expected <= got


def test_the_same_through_streamed_chunks_and_explain() -> None:
    record = _record("jsgenaic-0044")
    origin = record["origin_request"]
    chunks = [
        {"candidates": [{"content": {"role": "model", "parts": [part]}}]}
        for part in record["request"]["contents"][0]["parts"]
    ]
    chunks[-1]["candidates"][0]["finishReason"] = "STOP"
    answer = vertexmeter.usage_metadata(
        "gemini-3-pro-preview", origin, response=chunks, as_of="2025-12-01", explain=True
    )
    assert answer["candidatesTokenCount"] == 33 and "bounds" not in answer
    (rule,) = [r for r in answer["rules"] if r["rule"] == "accounting.yaml streamed_call_arguments"]
    assert rule["evidence"][0] == "jsgenaic-0044"


def test_the_gemini_api_has_no_entry_and_reads_the_joined_call() -> None:
    # The option is Vertex's; a Gemini API response of pieces bills the joined call as the generation's rule does.
    body = {"contents": [{"role": "user", "parts": [{"text": "weather?"}]}]}
    joined = {
        "role": "model",
        "parts": [{"functionCall": {"name": "getCurrentWeather", "args": {"location": "NewYork", "unit": "C"}}}],
    }
    pieces = {"role": "model", "parts": WEATHER_PIECES}
    one = vertexmeter.usage("gemini-2.5-flash", body, api="gemini", response=joined)
    other = vertexmeter.usage("gemini-2.5-flash", body, api="gemini", response=pieces)
    assert other.candidates_token_count == one.candidates_token_count and other.bounds is None


def _entry() -> dict[str, Any]:
    return {
        "api": "vertex",
        "call": "generateContent",
        "generations": ["3"],
        "where": "output",
        "values": "other",
        "per_argument": 3,
        "low": 2,
        "reason": "Bounded.",
        "confidence": "observed",
        "evidence": ["jsgenaic-0043"],
    }


@pytest.mark.parametrize(
    "change",
    [
        {"where": "prompt"},
        {"values": "number"},
        {"per_argument": -1},
        {"per_argument": "3"},
        {"low": 4},
        {"low": -1},
        {"reason": ""},
        {"evidence": []},
        {"since": "2026-05-01", "until": "2026-04-01"},
    ],
)
def test_a_broken_entry_is_refused_when_the_data_loads(change: dict[str, Any]) -> None:
    models, rules = shipped_data()
    rules["streamed_call_arguments"] = [{**_entry(), **change}]
    with pytest.raises(ValueError, match="streamed_call_arguments"):
        build_registry(models, rules)


def test_two_entries_for_the_same_arguments_and_days_are_refused() -> None:
    models, rules = shipped_data()
    rules["streamed_call_arguments"] = [_entry(), _entry()]
    with pytest.raises(ValueError, match="overlaps"):
        build_registry(models, rules)
    rules["streamed_call_arguments"] = [_entry(), {**_entry(), "where": "history"}]
    assert len(build_registry(models, rules).dated.streamed_arguments) == 2
    rules["streamed_call_arguments"] = [{**_entry(), "low": 3, "reason": ""}]
    (entry,) = build_registry(models, rules).dated.streamed_arguments
    assert entry.exact
