"""Vertex 3.5 Flash's prompt rules: a Content's text parts read as one text (accounting.yaml `text_parts_joined`) and
the Vertex 3 declaration weights (`tool_templates`: a property 4, an enum 1), on newrelic's Google ADK answers."""

from __future__ import annotations

from typing import Any

import pytest

import vertexmeter
from vertexmeter.tokenizing import get_tokenizer

PARTS = ["For context:", "[step1] said: Paris"]  # ":[" is one piece of the joined text (nrpy-0044)


def body(*parts: str) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text} for text in parts]}]}


def test_vertex_3_5_reads_a_contents_text_parts_as_one_text() -> None:
    gemma4 = get_tokenizer("gemma4")
    apart, joined = sum(gemma4.count(text) for text in PARTS), gemma4.count("".join(PARTS))
    assert joined == apart - 1
    usage = vertexmeter.usage("gemini-3.5-flash", body(*PARTS), api="vertex", as_of="2026-06-25")
    assert usage.exact and usage.prompt_token_count == joined
    # text parts between other parts are joined run by run; a system instruction's alike
    split = {
        "contents": [
            {"role": "user", "parts": [{"text": PARTS[0]}, {"text": PARTS[1]}]},
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
        ],
        "systemInstruction": {"parts": [{"text": PARTS[0]}, {"text": PARTS[1]}]},
    }
    alone = vertexmeter.usage("gemini-3.5-flash", split, api="vertex", as_of="2026-06-25").prompt_token_count
    previews = vertexmeter.usage("gemini-3-flash-preview", split, api="vertex", as_of="2026-06-25")
    assert previews.prompt_token_count - alone == 2  # one seam each in the user turn and the system instruction


@pytest.mark.parametrize(
    ("model", "api", "call"),
    [
        ("gemini-3.5-flash", "gemini", "generateContent"),  # the Gemini API reads them apart (nrpy-0041, t3-0572)
        ("gemini-3-flash-preview", "vertex", "generateContent"),  # no recorded answer: apart
        ("gemini-3.5-flash", "vertex", "countTokens"),  # no recorded answer: apart
        ("gemini-2.5-flash", "vertex", "generateContent"),
    ],
)
def test_text_parts_stay_apart_elsewhere(model: str, api: str, call: str) -> None:
    one = body("".join(PARTS))
    two = body(*PARTS)
    if call == "countTokens":
        joined, apart = (vertexmeter.count(model, b, api=api).total_tokens for b in (one, two))
    else:
        joined, apart = (vertexmeter.usage(model, b, api=api).prompt_token_count for b in (one, two))
    assert apart == joined + 1


@pytest.mark.parametrize(
    "record_id",
    [
        "nrpy-0044",  # two text parts in one Content
        "nrpy-0073",  # two such Contents and a declaration with an enum
        "nrpy-0081",
        "nrpy-0066",  # one described declaration, one required STRING property
        "nrpy-0076",
        "nrpy-0072",  # the same with an enum of one value
        "nrpy-0080",
    ],
)
def test_recorded_vertex_3_5_prompts_are_exact(record_id: str) -> None:
    from tests.ground_truth import load_mined_history

    record = next(r for r in load_mined_history("newrelic") if r["id"] == record_id)
    usage = vertexmeter.usage(record["model"], record["request"], api="vertex", as_of=record["recorded"])
    assert (usage.prompt_token_count, usage.bounds) == (record["expected"]["totalTokens"], None)


def test_the_rule_is_named_with_its_evidence_on_request() -> None:
    def named(model: str, api: str, request: dict[str, Any]) -> list[dict[str, Any]]:
        rules = vertexmeter.usage(model, request, api=api).rules
        return [rule for rule in rules if rule["rule"] == "accounting.yaml text_parts_joined"]

    (rule,) = named("gemini-3.5-flash", "vertex", body(*PARTS))
    assert rule["confidence"] == "observed" and "nrpy-0044" in rule["evidence"]
    assert named("gemini-3.5-flash", "vertex", body("".join(PARTS))) == []  # one part: nothing joined
    assert named("gemini-3.5-flash", "gemini", body(*PARTS)) == []
    assert named("gemini-3-flash-preview", "vertex", body(*PARTS)) == []


def test_vertex_3_function_history_bills_4_per_call_and_response_after_march_2026() -> None:
    """accounting.yaml function_history (Vertex 3: texts + 4 per call + 4 per response) and its dated_weights entry
    (the texts alone up to 2026-03-05)."""
    turn = {
        "contents": [
            {"role": "user", "parts": [{"text": "What is the capital of France?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "get_capital", "args": {"country": "France"}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_capital", "response": {"output": "Paris"}}}]},
        ]
    }
    for model in ("gemini-3-flash-preview", "gemini-3.5-flash"):
        before = vertexmeter.usage(model, turn, api="vertex", as_of="2026-03-05").prompt_token_count
        after = vertexmeter.usage(model, turn, api="vertex", as_of="2026-07-06")
        assert after.prompt_token_count == before + 8 and after.exact
    today = vertexmeter.usage("gemini-3-flash-preview", turn, api="vertex")
    assert any(rule["rule"] == "accounting.yaml function_history" for rule in today.rules)


@pytest.mark.parametrize("record_id", ["nrpy-0067", "nrpy-0077"])
def test_recorded_vertex_3_5_turns_whose_producing_response_thought_nothing_are_exact(record_id: str) -> None:
    """Their 51-byte signatures come from responses that state no thoughts: the turn is its texts, its declaration
    and its one call/response pair."""
    from tests.ground_truth import load_mined_history

    record = next(r for r in load_mined_history("newrelic") if r["id"] == record_id)
    usage = vertexmeter.usage(record["model"], record["request"], api="vertex", as_of=record["recorded"])
    assert (usage.prompt_token_count, usage.bounds) == (record["expected"]["totalTokens"], None)


def test_a_batch_line_of_several_text_parts_is_counted_as_usage_counts_it() -> None:
    import json

    from vertexmeter.batch.work import BatchSettings, count_chunk

    request = body(*PARTS)
    chunk = count_chunk(
        BatchSettings(model="gemini-3.5-flash", api="vertex"), 1, [json.dumps({"request": request}).encode()]
    )
    line = json.loads(chunk.data.decode().splitlines()[0])
    assert line["promptTokenCount"] == vertexmeter.usage("gemini-3.5-flash", request, api="vertex").prompt_token_count
