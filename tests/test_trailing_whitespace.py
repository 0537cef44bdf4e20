"""accounting.yaml `trailing_whitespace_not_billed`: the days an output's trailing whitespace was not billed. The Gemini
API's 1.5 Pro in October 2024 (openinference's oinf-0002, fitted; golang/oscar's oscr-0006, held out), replayed at
their recorded day, at the days around the span, and on the calls and APIs it does not concern."""

from __future__ import annotations

from typing import Any

import pytest

import vertexmeter
from tests.ground_truth import load_mined_history, replay

RECORDS = {r["id"]: r for name in ("openinference", "oscar") for r in load_mined_history(name)}
FRANCE = "**France** won the World Cup in 2018. \n"  # oinf-0002's answer
BODY = {"contents": [{"role": "user", "parts": [{"text": "Who won the World Cup in 2018? Answer in one sentence."}]}]}


def _response(text: str) -> dict[str, Any]:
    return {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}]}


def _candidates(text: str, day: str, model: str = "gemini-1.5-pro", api: str = "gemini") -> int:
    result = vertexmeter.usage(model, BODY, api=api, response=_response(text), as_of=day)
    return int(result.candidates_token_count)


@pytest.mark.parametrize(("record_id", "billed", "as_written"), [("oinf-0002", 14, 16), ("oscr-0006", 433, 435)])
def test_the_recorded_answers_bill_their_text_without_its_trailing_whitespace(
    record_id: str, billed: int, as_written: int
) -> None:
    record = RECORDS[record_id]
    assert record["request"]["contents"][0]["parts"][-1]["text"].endswith(" \n")
    result = replay(record)
    assert (result.expected, result.got) == (billed, billed)
    # The same answer a day after the span bills its " \n" (2 tokens of the 1.5 vocabulary).
    later = {**record, "recorded": "2024-11-18"}
    assert replay(later).got == as_written


def test_the_span_and_its_scope() -> None:
    text = FRANCE.rstrip()
    assert _candidates(text, "2024-10-20") == 14  # nothing to leave out
    assert [_candidates(FRANCE, day) for day in ("2024-08-25", "2024-08-26", "2024-11-17", "2024-11-18")] == [
        16,
        14,
        14,
        16,
    ]
    assert _candidates(FRANCE, "2024-10-20", model="gemini-1.5-flash-002") == 14  # every 1.5 model
    assert _candidates(FRANCE, "2024-10-20", api="vertex") == 16  # the Gemini API only
    assert _candidates(FRANCE, "2024-10-20", model="gemini-1.0-pro") == 16  # 1.5 only: no 1.0 answer ends so
    # Leading whitespace and whitespace inside the text are billed as written.
    assert _candidates(" " + FRANCE, "2024-10-20") == _candidates(" " + text, "2024-11-18")
    assert _candidates("a \n" + FRANCE, "2024-10-20") == _candidates("a \n" + text, "2024-11-18")


def test_explain_names_the_entry_on_its_days_only() -> None:
    def rules(day: str) -> list[str]:
        result = vertexmeter.usage("gemini-1.5-pro", BODY, api="gemini", response=_response(FRANCE), as_of=day)
        return [r["rule"] for r in result.to_rest(explain=True)["rules"]]

    assert "accounting.yaml trailing_whitespace_not_billed" in rules("2024-10-28")
    assert "accounting.yaml trailing_whitespace_not_billed" not in rules("2024-11-18")
    entry = next(
        r
        for r in vertexmeter.usage(
            "gemini-1.5-pro", BODY, api="gemini", response=_response(FRANCE), as_of="2024-10-28"
        ).to_rest(explain=True)["rules"]
        if r["rule"] == "accounting.yaml trailing_whitespace_not_billed"
    )
    assert {"oinf-0002", "oscr-0006"} <= set(entry["evidence"])


@pytest.mark.parametrize(("record_id", "billed", "point"), [("reqllm-0187", 1991, 1990), ("reqllm-0189", 23, 21)])
def test_2_5_flash_image_texts_bound_their_edge_whitespace(record_id: str, billed: int, point: int) -> None:
    """uncertain_seams output_edge_whitespace: agentjido/req_llm's 2.5 Flash Image texts ending in "\\n" and " \\n"
    bill it, where 2.5 leaves a text's edges out (output_newlines); one repository, so the point stays 2.5's and the
    bounds reach the edges' tokens."""
    result = replay(next(r for r in load_mined_history("req_llm") if r["id"] == record_id))
    assert (result.expected, result.got) == (billed, point)
    assert result.bounds is not None and result.bounds["candidatesTokenCount"] == [point, billed]
    assert "Flash Image text's edge whitespace" in result.bounds["reason"]


def test_the_edge_whitespace_bounds_are_2_5_flash_images_only() -> None:
    day = "2025-10-15"
    image = vertexmeter.usage("gemini-2.5-flash-image", BODY, api="gemini", response=_response(FRANCE), as_of=day)
    assert image.bounds is not None
    low, high = image.bounds["candidatesTokenCount"]
    assert low == image.candidates_token_count < high
    # no edge left out: exact; 2.5 Flash, and 2.5 Flash Image on Vertex (which bills the edges): no bounds
    assert vertexmeter.usage(
        "gemini-2.5-flash-image", BODY, api="gemini", response=_response(FRANCE.strip()), as_of=day
    ).exact
    for model, api in (("gemini-2.5-flash", "gemini"), ("gemini-2.5-flash-image", "vertex")):
        assert vertexmeter.usage(model, BODY, api=api, response=_response(FRANCE), as_of=day).exact
