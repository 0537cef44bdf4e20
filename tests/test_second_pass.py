"""accounting.yaml `prompt_second_pass`: on the days and models it names, the service billed some prompts about
twice (a second pass the request does not show) and the same bodies once on other calls, so such a prompt carries
bounds [point, 2 x point] with the reason (docs/counting.md, "A second pass over the prompt"). Golden bounds on the
two recorded answers, the same body's exact answers, the days and API outside the scope, the data's checks and
explain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import vertexmeter
from tests.ground_truth import load_mined_history, replay
from tests.registry_data import shipped_data
from vertexmeter.registry import build_registry

ROOT = Path(__file__).resolve().parent.parent


def _record(record_id: str) -> dict[str, Any]:
    if record_id.startswith("t3-"):
        lines = (ROOT / "tests" / "data" / "ground_truth_2026.jsonl").read_text("utf-8").splitlines()
        return next(r for r in map(json.loads, lines) if r["id"] == record_id)
    return next(r for r in load_mined_history("fantasy") if r["id"] == record_id)


@pytest.mark.parametrize(("record_id", "billed"), [("t3-0541", 315), ("fnts-0267", 299)])
def test_a_second_pass_lies_inside_the_bounds(record_id: str, billed: int) -> None:
    record = _record(record_id)
    result = vertexmeter.usage(record["model"], record["request"], api="gemini", as_of=record["recorded"])
    assert result.prompt_token_count == 161 and not result.exact
    bounds = result.bounds
    assert bounds is not None and bounds["promptTokenCount"] == [161, 322]
    assert bounds["promptTokenCount"][0] <= billed <= bounds["promptTokenCount"][1]
    assert "accounting.yaml prompt_second_pass" in bounds["reason"]
    assert record["raw_usage"]["promptTokenCount"] == billed
    outcome = replay(record)
    assert not outcome.exact and outcome.within_bounds


@pytest.mark.parametrize("record_id", ["t3-0540", "t3-0553", "fnts-0270", "fnts-0275", "fnts-0305"])
def test_the_answers_billed_once_keep_their_point_value(record_id: str) -> None:
    record = _record(record_id)
    outcome = replay(record)
    assert outcome.exact and outcome.bounds is not None and "prompt_second_pass" in outcome.bounds["reason"]


def test_outside_the_scope_the_count_stays_exact() -> None:
    body = _record("t3-0541")["request"]
    for day in ("2026-03-10", "2026-03-18", None):
        result = vertexmeter.usage("gemini-3-pro-preview", body, api="gemini", as_of=day)
        assert result.exact and result.bounds is None
    # a later turn of those days bills no pass (t3-0544: 309, as counted): its own bounds only
    later = _record("t3-0544")
    answer = vertexmeter.usage(later["model"], later["request"], api="gemini", as_of=later["recorded"])
    assert answer.second_pass is None and answer.prompt_token_count == 309
    # Vertex's 3.1 Pro is not concerned (reqllm-0280 of 2026-04-10 bills once), nor another model those days (its
    # declarations carry bounds of their own those days: dated_weights bounded_between, not a second pass)
    vertex = vertexmeter.usage("gemini-3.1-pro-preview", body, api="vertex", as_of="2026-03-16")
    assert vertex.second_pass is None and "second pass" not in (vertex.bounds or {}).get("reason", "")
    assert vertex.bounds is not None and "dated_weights" in vertex.bounds["reason"]
    assert vertexmeter.usage("gemini-3-flash-preview", body, api="gemini", as_of="2026-03-16").second_pass is None


def test_the_rest_answer_and_explain_name_the_rule() -> None:
    body = _record("t3-0541")["request"]
    answer = vertexmeter.usage_metadata("gemini-3-pro-preview", body, api="gemini", as_of="2026-03-16", explain=True)
    assert answer["promptTokenCount"] == 161 and answer["bounds"]["promptTokenCount"] == [161, 322]
    assert answer["bounds"]["totalTokenCount"] == [161, 322]
    (rule,) = [r for r in answer["rules"] if "prompt_second_pass" in r["rule"]]
    assert rule["evidence"][:2] == ["t3-0541", "fnts-0267"] and rule["confidence"] == "observed"
    plain = vertexmeter.usage_metadata("gemini-3-pro-preview", body, api="gemini", as_of="2026-03-16")
    assert "rules" not in plain


def _entry() -> dict[str, Any]:
    return {
        "api": "gemini",
        "call": "generateContent",
        "generations": ["3"],
        "models": ["gemini-3.1-pro-preview*"],
        "since": "2026-03-11",
        "until": "2026-03-17",
        "high_per_1000": 1000,
        "confidence": "observed",
        "evidence": ["t3-0541"],
        "reason": "A second pass.",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"models": []},
        {"high_per_1000": 0},
        {"high_per_1000": "1000"},
        {"high_per_1000": True},
        {"reason": ""},
        {"evidence": []},
        {"since": "2026-05-01", "until": "2026-04-01"},
        {"first_turn_only": "yes"},
    ],
)
def test_a_broken_entry_is_refused_when_the_data_loads(change: dict[str, Any]) -> None:
    models, rules = shipped_data()
    rules["prompt_second_pass"] = [{**_entry(), **change}]
    with pytest.raises(ValueError, match="prompt_second_pass"):
        build_registry(models, rules)


def test_two_entries_for_one_model_on_the_same_days_are_refused() -> None:
    models, rules = shipped_data()
    rules["prompt_second_pass"] = [_entry(), {**_entry(), "since": "2026-03-15", "until": "2026-03-20"}]
    with pytest.raises(ValueError, match="overlaps"):
        build_registry(models, rules)
    rules["prompt_second_pass"] = [_entry(), {**_entry(), "since": "2026-03-18", "until": "2026-03-20"}]
    assert [r.first_turn_only for r in build_registry(models, rules).dated.second_pass] == [False, False]
