"""accounting.yaml `code_execution_parts`: how the code a model runs (executableCode) and what the run printed
(codeExecutionResult) bill, in a response and replayed in a request. Replayed on every recorded code-execution
answer of tests/evidence/code_execution.json (whole exchanges from pydantic-ai, ruby_llm, DataDog's and Arize's
cassettes, mined by tests/evidence/mine_code_execution.py), and on the rule's edges."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

import vertexmeter
from vertexmeter.registry import code_parts_for
from vertexmeter.registry.dated import load_dated_sections

ANSWERS: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parent / "evidence" / "code_execution.json").read_text("utf-8")
)


def _usage(answer: dict[str, Any]) -> Any:
    return vertexmeter.usage(
        answer["model"], answer["request"], api=answer["api"], response=answer["response"], as_of=answer["recorded"]
    )


def _label(answer: dict[str, Any]) -> str:
    return f"{answer['source'].split(':')[0]} {answer['model']} {answer['recorded']} {answer['source'][-13:]}"


def test_the_evidence_covers_every_generation_and_four_repositories() -> None:
    assert len(ANSWERS) == 26
    assert {a["source"].split(":")[0] for a in ANSWERS} == {
        "pydantic/pydantic-ai",
        "crmne/ruby_llm",
        "DataDog/dd-trace-py",
        "Arize-ai/openinference",
    }
    assert {a["model"] for a in ANSWERS} >= {"gemini-2.0-flash", "gemini-2.5-pro", "gemini-2.5-flash"}


@pytest.mark.parametrize("answer", ANSWERS, ids=_label)
def test_recorded_outputs_with_code_parts(answer: dict[str, Any]) -> None:
    """Every recorded candidatesTokenCount (7 of 26 before the rule: the 2.0 answers and two 3.x answers without
    code)."""
    assert _usage(answer).candidates_token_count == answer["usage"]["candidatesTokenCount"]


@pytest.mark.parametrize("answer", [a for a in ANSWERS if not a["model"].startswith("gemini-3")], ids=_label)
def test_recorded_prompts_replaying_code_parts(answer: dict[str, Any]) -> None:
    """2.0 bills a replayed code turn; 2.5 does not (pyd-0193, -0601: 39 for either history). On 3.x the billed
    prompt of a code-execution answer also carries the run (docs/counting.md open rule 4): not checked here."""
    assert _usage(answer).prompt_token_count == answer["usage"]["promptTokenCount"]


def _code_response(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"candidates": [{"content": {"role": "model", "parts": list(parts)}, "finishReason": "STOP"}]}


BODY = {
    "contents": [{"role": "user", "parts": [{"text": "Sum the first 50 primes."}]}],
    "tools": [{"codeExecution": {}}],
}
CODE = {"executableCode": {"language": "PYTHON", "code": "    print(sum(range(10)))\n    "}}
RESULT = {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "45\n"}}
BEFORE, AFTER = {"text": "Let me compute it.\n\n"}, {"text": "The sum is 45."}


def _count(text: str) -> int:
    """A text's tokens as 2.5 and 3.x bill a plain output (gemma3)."""
    return vertexmeter.usage(
        "gemini-2.5-flash", BODY, api="gemini", response=text, as_of="2026-06-01"
    ).candidates_token_count


def test_2_5_bills_the_code_without_its_edges_and_the_texts_apart() -> None:
    """Gemini API 2.5: the code's edge whitespace is not billed, the text before the code ends there (its trailing
    "\\n\\n" is not billed either), and the run's output is not in candidatesTokenCount."""
    result = vertexmeter.usage(
        "gemini-2.5-flash", BODY, api="gemini", response=_code_response(BEFORE, CODE, RESULT, AFTER), as_of="2026-06-01"
    )
    code = "print(sum(range(10)))"
    assert result.candidates_token_count == _count("Let me compute it.") + _count(code) + _count("The sum is 45.")
    assert result.bounds is None
    # The same parts with snake_case names.
    snake = _code_response(
        BEFORE,
        {"executable_code": CODE["executableCode"]},
        {"code_execution_result": RESULT["codeExecutionResult"]},
        AFTER,
    )
    assert (
        vertexmeter.usage(
            "gemini-2.5-flash", BODY, api="gemini", response=snake, as_of="2026-06-01"
        ).candidates_token_count
        == result.candidates_token_count
    )


def test_3_x_bills_the_code_as_written_plus_13_per_part_from_april_2026() -> None:
    response = _code_response(BEFORE, CODE, RESULT, AFTER, CODE, RESULT)
    code = vertexmeter.usage(
        "gemini-3-flash-preview", BODY, api="gemini", response=CODE["executableCode"]["code"], as_of="2026-05-05"
    )
    after = vertexmeter.usage("gemini-3-flash-preview", BODY, api="gemini", response=response, as_of="2026-05-05")
    before = vertexmeter.usage("gemini-3-flash-preview", BODY, api="gemini", response=response, as_of="2026-04-17")
    plain = vertexmeter.usage(
        "gemini-3-flash-preview", BODY, api="gemini", response=_code_response(BEFORE, AFTER), as_of="2026-04-17"
    )
    assert before.candidates_token_count == plain.candidates_token_count  # up to 2026-04-17: the code is not billed
    assert after.candidates_token_count == plain.candidates_token_count + 2 * (code.candidates_token_count + 13)


def test_2_0_and_vertex_bill_every_part_as_written() -> None:
    """No entry for 2.0 (pydantic-ai's 2025 answers: text + code + output) or Vertex (no recorded answer)."""
    response = _code_response(AFTER, CODE, RESULT)
    for model, api in (("gemini-2.0-flash", "gemini"), ("gemini-2.5-flash", "vertex")):
        result = vertexmeter.usage(model, BODY, api=api, response=response, as_of="2025-08-07")
        pieces = ["The sum is 45.", CODE["executableCode"]["code"], "45\n"]
        each = [
            vertexmeter.usage(
                model,
                BODY,
                api=api,
                response={"candidates": [{"content": {"parts": [{"text": p}]}}]},
                as_of="2025-08-07",
            ).candidates_token_count
            for p in pieces
        ]
        assert result.candidates_token_count == sum(each), (model, api)


def test_2_5_does_not_bill_a_replayed_code_turn() -> None:
    turn = {"role": "model", "parts": [CODE, RESULT, AFTER]}
    question = {"role": "user", "parts": [{"text": "And tomorrow?"}]}
    with_code = {**BODY, "contents": [*BODY["contents"], turn, question]}
    without = {**BODY, "contents": [*BODY["contents"], {"role": "model", "parts": [AFTER]}, question]}
    on_2_5 = [
        vertexmeter.usage("gemini-2.5-pro", b, api="gemini", as_of="2026-01-30").prompt_token_count
        for b in (with_code, without)
    ]
    on_2_0 = [
        vertexmeter.usage("gemini-2.0-flash", b, api="gemini", as_of="2025-08-07").prompt_token_count
        for b in (with_code, without)
    ]
    assert on_2_5[0] == on_2_5[1]
    assert on_2_0[0] > on_2_0[1]


def test_the_rule_is_read_by_day_api_and_generation() -> None:
    assert code_parts_for("gemini", "generateContent", "2.5", None).code == "edges_stripped"  # type: ignore[union-attr]
    assert code_parts_for("gemini", "generateContent", "3", dt.date(2026, 4, 17)).code == "not_billed"  # type: ignore[union-attr]
    assert code_parts_for("gemini", "generateContent", "3", dt.date(2026, 4, 18)).per_code_part == 13  # type: ignore[union-attr]
    assert code_parts_for("vertex", "generateContent", "2.5", None) is None
    assert code_parts_for("gemini", "generateContent", "2.0", None) is None
    assert code_parts_for("gemini", "countTokens", "2.5", None) is None


ENTRY = {
    "api": "gemini",
    "call": "generateContent",
    "generations": ["2.5"],
    "code": "as_written",
    "result_billed": False,
    "history_billed": True,
    "evidence": ["pyd-0193"],
}


@pytest.mark.parametrize(
    "bad",
    [
        {"code": "sometimes"},
        {"per_code_part": -1},
        {"result_billed": "no"},
        {"history_billed": None},
        {"evidence": []},
        {"since": "2026-05-01", "until": "2026-04-01"},
    ],
)
def test_a_broken_entry_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        load_dated_sections({"code_execution_parts": [{**ENTRY, **bad}]})


def test_entries_whose_days_overlap_are_refused() -> None:
    first = {**ENTRY, "until": "2026-04-17"}
    assert len(load_dated_sections({"code_execution_parts": [first, {**ENTRY, "since": "2026-04-18"}]}).code_parts) == 2
    with pytest.raises(ValueError):
        load_dated_sections({"code_execution_parts": [first, {**ENTRY, "since": "2026-04-17"}]})
    parsed = load_dated_sections({"code_execution_parts": [ENTRY]}).code_parts[0]
    assert parsed.since == dt.date.min and parsed.until == dt.date.max and parsed.per_code_part == 0


def test_explain_lists_the_rule_where_it_read_code_parts() -> None:
    response = _code_response(BEFORE, CODE, RESULT, AFTER)
    rules = vertexmeter.usage("gemini-2.5-flash", BODY, api="gemini", response=response, as_of="2026-06-01").rules
    entry = next(r for r in rules if r["rule"].startswith("accounting.yaml code_execution_parts"))
    assert "edges_stripped" in entry["rule"] and "pyd-0193" in entry["evidence"] and entry["confidence"] == "observed"
    # A replayed code turn is read by the rule too; a request and response without code parts do not list it.
    turn = {"role": "model", "parts": [CODE, RESULT, AFTER]}
    replayed = {**BODY, "contents": [*BODY["contents"], turn, {"role": "user", "parts": [{"text": "More?"}]}]}
    listed = vertexmeter.usage("gemini-2.5-flash", replayed, api="gemini", as_of="2026-06-01").rules
    assert any(r["rule"].startswith("accounting.yaml code_execution_parts") for r in listed)
    plain = vertexmeter.usage("gemini-2.5-flash", BODY, api="gemini", response="45", as_of="2026-06-01").rules
    assert not any(r["rule"].startswith("accounting.yaml code_execution_parts") for r in plain)
    on_2_0 = vertexmeter.usage("gemini-2.0-flash", BODY, api="gemini", response=response, as_of="2025-08-07").rules
    assert not any(r["rule"].startswith("accounting.yaml code_execution_parts") for r in on_2_0)
