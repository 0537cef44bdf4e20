"""accounting.yaml `function_call_outputs`: what a response's functionCall parts bill in candidatesTokenCount.
Replayed on every recorded answer whose candidate calls a function (tests/evidence/function_call_outputs.json.gz:
1,443 answers of ten repositories (pydantic-ai, ruby_llm, Mirascope, chatlas, ellmer, openinference, dd-trace-py,
langsmith-sdk, opentelemetry-python-contrib, braintrust-sdk-python), every cassette version, mined by
tests/evidence/mine_function_call_outputs.py; the mined sets of tests/data keep only text candidates), and on the
rule's edges."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import vertexmeter
from vertexmeter.registry import output_calls_for, resolve
from vertexmeter.registry.dated import load_dated_sections

ANSWERS: list[dict[str, Any]] = json.loads(
    gzip.decompress((Path(__file__).resolve().parent / "evidence" / "function_call_outputs.json.gz").read_bytes())
)
PLACEHOLDER = {"contents": [{"role": "user", "parts": [{"text": "."}]}]}

# Exact answers per (repository, API, generation), measured 2026-12-07 (before the rule in parentheses: the keys and
# strings of the args, as a request's are read). Fitted on pydantic-ai, checked on ruby_llm (3.x as fitted; 2.5's
# separators read there), then on the other eight repositories, unseen. Floors only go up.
FLOORS = {
    ("pydantic/pydantic-ai", "gemini", "2.5"): 316,  # of 346 (0)
    ("pydantic/pydantic-ai", "gemini", "3"): 276,  # of 278 (0)
    ("pydantic/pydantic-ai", "vertex", "3"): 68,  # of 73 (5)
    ("crmne/ruby_llm", "gemini", "2.5"): 166,  # of 178 (0)
    ("crmne/ruby_llm", "gemini", "3"): 4,  # of 4 (0)
    ("crmne/ruby_llm", "vertex", "3"): 4,  # of 4 (0)
    ("Mirascope/mirascope", "gemini", "2.5"): 45,  # of 99 (0): its formatted-output tool's calls 2 over
    ("Mirascope/mirascope", "gemini", "3"): 1,  # of 1 (0)
    ("posit-dev/chatlas", "gemini", "2.5"): 25,  # of 30 (0): two parallel calls 2 over
    ("posit-dev/chatlas", "gemini", "3"): 16,  # of 16 (0)
    ("tidyverse/ellmer", "gemini", "2.5"): 6,  # of 6 (0)
    ("tidyverse/ellmer", "gemini", "3"): 4,  # of 4 (0)
    ("Arize-ai/openinference", "gemini", "2.5"): 5,  # of 5 (0)
    ("Arize-ai/openinference", "gemini", "3"): 1,  # of 1 (0)
    ("DataDog/dd-trace-py", "gemini", "2.5"): 4,  # of 5 (0)
    ("langchain-ai/langsmith-sdk", "gemini", "2.5"): 5,  # of 5 (0)
    # No entry: every part's keys and strings, as before (unchanged).
    ("crmne/ruby_llm", "vertex", "2.5"): 179,  # of 179
    ("pydantic/pydantic-ai", "gemini", "2.0"): 43,  # of 49
    ("crmne/ruby_llm", "gemini", "2.0"): 65,  # of 66
}


def _billed(answer: dict[str, Any]) -> int:
    body = {**PLACEHOLDER, "generationConfig": answer["generation_config"]}
    result = vertexmeter.usage(
        answer["model"], body, api=answer["api"], response=answer["response"], as_of=answer["recorded"] or None
    )
    return result.candidates_token_count


def _group(answer: dict[str, Any]) -> tuple[str, str, str]:
    return answer["source"].split(":")[0], answer["api"], resolve(answer["model"], api=answer["api"]).rules_generation


def test_every_recorded_function_call_output() -> None:
    exact: Counter[tuple[str, str, str]] = Counter()
    total: Counter[tuple[str, str, str]] = Counter()
    for answer in ANSWERS:
        group = _group(answer)
        total[group] += 1
        exact[group] += _billed(answer) == answer["candidatesTokenCount"]
    print({" ".join(group): f"{exact[group]}/{total[group]}" for group in sorted(total)})
    assert len(ANSWERS) == 1443
    assert sum(exact.values()) >= 1319
    for group, floor in FLOORS.items():
        assert exact[group] >= floor, group


def _call_response(*calls: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"text": text}] if text else []
    parts += [{"functionCall": call} for call in calls]
    return {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}]}


WEATHER = {"name": "weather", "args": {"latitude": "52.5200", "longitude": "13.4050"}}


def _out(model: str, response: Any, api: str = "gemini", day: str = "2026-06-01") -> int:
    return vertexmeter.usage(model, PLACEHOLDER, api=api, response=response, as_of=day).candidates_token_count


def _text(model: str, text: str, api: str = "gemini", day: str = "2026-06-01") -> int:
    return _out(model, text, api, day)


def test_2_5_golden_ruby_llm_weather() -> None:
    """ruby_llm's weather call on 2.5 Flash bills 30: `weather` (1) + `{"latitude": "52.5200","longitude": "13.4050"}`
    (23, no space after the comma) + 6."""
    assert _out("gemini-2.5-flash", _call_response(WEATHER)) == 30
    compact = '{"latitude": "52.5200","longitude": "13.4050"}'
    assert _text("gemini-2.5-flash", compact) == 23
    # A list keeps its spaces: {"tags": ["red", "blue"]} (ruby_llm's array_params, 18).
    assert _out("gemini-2.5-flash", _call_response({"name": "array_params", "args": {"tags": ["red", "blue"]}})) == 18


def test_3_x_writes_gemma_4_tool_call_text() -> None:
    """3.x: the name, Gemma 4's `{key:<|"|>value<|"|>}` (each escape one token), + 6; the 2.0 rule (keys and strings)
    before. pydantic-ai's lookup_refund_policy(order_id="order-456") bills 24."""
    call = {"name": "lookup_refund_policy", "args": {"order_id": "order-456"}}
    assert _out("gemini-3-flash-preview", _call_response(call), day="2026-05-22") == 24
    empty = {"name": "get_user_country", "args": {}}
    assert (
        _out("gemini-3-flash-preview", _call_response(empty))
        == _text("gemini-3-flash-preview", "get_user_country") + 1 + 6
    )


def test_text_beside_a_call_and_several_calls_add_up() -> None:
    both = _out("gemini-2.5-flash", _call_response(WEATHER, text="Let me look."))
    assert both == _text("gemini-2.5-flash", "Let me look.") + 30
    assert _out("gemini-2.5-flash", _call_response(WEATHER, WEATHER)) == 60


def test_vertex_3_changed_in_march_2026_and_earlier_generations_keep_keys_and_strings() -> None:
    call = {"name": "get_file", "args": {"type": "DOCUMENT"}}
    keys_and_strings = _text("gemini-2.0-flash", "get_file", "vertex", "2026-02-17") + 2  # `type`, `DOCUMENT`
    assert _out("gemini-3-flash-preview", _call_response(call), "vertex", "2026-02-17") == keys_and_strings + 4 == 9
    assert _out("gemini-3-flash-preview", _call_response(call), "vertex", "2026-04-02") == _out(
        "gemini-3-flash-preview", _call_response(call), "gemini", "2026-04-02"
    )
    for model, api in (("gemini-2.0-flash", "gemini"), ("gemini-2.5-flash", "vertex"), ("gemini-1.5-flash", "gemini")):
        assert _out(model, _call_response(WEATHER), api, "2025-06-27") == sum(
            _text(model, t, api, "2025-06-27") for t in ("weather", "latitude", "52.5200", "longitude", "13.4050")
        )


def test_explain_lists_the_rule() -> None:
    rules = vertexmeter.usage("gemini-2.5-flash", PLACEHOLDER, api="gemini", response=_call_response(WEATHER)).rules
    entry = next(r for r in rules if r["rule"].startswith("accounting.yaml function_call_outputs"))
    assert "json" in entry["rule"] and entry["evidence"] and entry["confidence"] == "observed"
    plain = vertexmeter.usage("gemini-2.5-flash", PLACEHOLDER, api="gemini", response="hi").rules
    assert not any(r["rule"].startswith("accounting.yaml function_call_outputs") for r in plain)


def test_the_rule_is_read_by_day_api_and_generation() -> None:
    assert output_calls_for("gemini", "generateContent", "2.5", None).payload == "json"  # type: ignore[union-attr]
    assert output_calls_for("gemini", "generateContent", "3", None).payload == "escaped_strings"  # type: ignore[union-attr]
    assert output_calls_for("vertex", "generateContent", "3", dt.date(2026, 3, 5)).payload == "texts"  # type: ignore[union-attr]
    assert output_calls_for("vertex", "generateContent", "2.5", None) is None
    assert output_calls_for("gemini", "generateContent", "2.0", None) is None


ENTRY = {
    "api": "gemini",
    "call": "generateContent",
    "generations": ["2.5"],
    "payload": "json",
    "evidence": ["fco-0001"],
}


@pytest.mark.parametrize(
    "bad", [{"payload": "yaml"}, {"per_call": -1}, {"evidence": []}, {"since": "2026-05-01", "until": "2026-04-01"}]
)
def test_a_broken_entry_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        load_dated_sections({"function_call_outputs": [{**ENTRY, **bad}]})


def test_entries_whose_days_overlap_are_refused() -> None:
    first = {**ENTRY, "until": "2026-04-17"}
    assert (
        len(load_dated_sections({"function_call_outputs": [first, {**ENTRY, "since": "2026-04-18"}]}).output_calls) == 2
    )
    with pytest.raises(ValueError):
        load_dated_sections({"function_call_outputs": [first, {**ENTRY, "since": "2026-04-17"}]})
