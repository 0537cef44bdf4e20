"""accounting.yaml `tool_runs_in_prompt`: a built-in tool that runs server-side for the answer bills its run inside
promptTokenCount on the Gemini API's 3.x, so such a prompt carries bounds from its point value up to the run's
largest recorded size (docs/counting.md, "Built-in tool runs in the prompt"). Golden bounds on recorded answers of
each tool, the cases that stay exact, the data's checks, the estimate and explain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import vertexmeter
from tests.ground_truth import load_mined, load_mined_history, replay
from tests.registry_data import shipped_data
from tests.tool_modules import load_tool
from vertexmeter.registry import build_registry, tool_run_bounds_for

ROOT = Path(__file__).resolve().parent.parent


def _record(record_id: str) -> dict[str, Any]:
    name = {"pyd": "pydantic_ai_history", "elmr": "ellmer", "rllm": "ruby_llm", "chat": "chatlas"}
    prefix = record_id.split("-")[0]
    records = load_mined() if prefix == "mined" else load_mined_history(name[prefix])
    return next(r for r in records if r["id"] == record_id)


@pytest.mark.parametrize(
    ("record_id", "tool", "bounds", "billed"),
    [
        # a first question: the search ran, 408 more than the request
        ("mined-0242", "googleSearch", [9, 519], 417),
        # the search did not run: billed as counted, the low end
        ("pyd-0887", "googleSearch", [85, 595], 85),
        ("pyd-0923", "codeExecution", [15, 445], 94),
        # a follow-up replaying one code run (executableCode parts): two runs' room
        ("pyd-0924", "codeExecution", [191, 1051], 728),
        ("rllm-0908", "codeExecution", [33, 463], 80),
        ("pyd-1007", "fileSearch", [8, 538], 427),
        ("elmr-0083", "urlContext", [120, 420], 356),
        ("chat-0070", "urlContext", [46, 346], 258),
    ],
)
def test_a_recorded_3x_prompt_with_a_built_in_tool_carries_bounds_that_hold_its_bill(
    record_id: str, tool: str, bounds: list[int], billed: int
) -> None:
    result = replay(_record(record_id))
    assert result.expected == billed
    assert result.got == bounds[0]  # the point value is the low end: the tool may not run
    assert result.bounds is not None
    assert result.bounds["promptTokenCount"] == bounds
    assert result.within_bounds
    assert tool in result.bounds["reason"] and "accounting.yaml tool_runs_in_prompt" in result.bounds["reason"]
    assert "wider than 30 %" in result.bounds["reason"]


UTRECHT = {"contents": [{"role": "user", "parts": [{"text": "What day is today in Utrecht?"}]}]}


def _with(tools: list[dict[str, Any]], request: dict[str, Any] = UTRECHT) -> dict[str, Any]:
    return {**request, "tools": tools}


def test_the_issue_s_example_is_no_longer_a_silent_point_value() -> None:
    answer = vertexmeter.usage_metadata("gemini-3-flash-preview", _with([{"codeExecution": {}}]), api="gemini")
    assert answer["promptTokenCount"] == 8
    assert answer["bounds"]["promptTokenCount"] == [8, 438]
    assert answer["bounds"]["totalTokenCount"] == [8, 438]


def test_googlemaps_takes_the_search_bounds_and_several_tools_add_up() -> None:
    maps = vertexmeter.usage("gemini-3.5-flash", _with([{"googleMaps": {}}]), api="gemini")
    point = maps.prompt_token_count
    assert maps.bounds is not None and maps.bounds["promptTokenCount"] == [point, point + 510]
    both = vertexmeter.usage("gemini-3.5-flash", _with([{"googleSearch": {}}, {"codeExecution": {}}]), api="gemini")
    low, high = both.bounds["promptTokenCount"] if both.bounds else (0, 0)
    assert (low, high - low) == (both.prompt_token_count, 510 + 430)


def test_snake_case_tools_and_parts_are_read_alike() -> None:
    history = {
        "contents": [
            {"role": "user", "parts": [{"text": "What day is today in Utrecht?"}]},
            {"role": "model", "parts": [{"executable_code": {"code": "print(1)", "language": "PYTHON"}}]},
            {"role": "user", "parts": [{"text": "And tomorrow?"}]},
        ],
        "tools": [{"code_execution": {}}],
    }
    result = vertexmeter.usage("gemini-3-flash-preview", history, api="gemini")
    point = result.prompt_token_count
    assert result.bounds is not None and result.bounds["promptTokenCount"] == [point, point + 2 * 430]
    assert "1 earlier run(s)" in result.bounds["reason"]


@pytest.mark.parametrize(
    ("model", "api"),
    [
        ("gemini-2.5-flash", "gemini"),  # 2.x bills the run apart, as toolUsePromptTokenCount
        ("gemini-2.0-flash", "gemini"),
        ("gemini-3-flash-preview", "vertex"),  # Vertex 3 bills the request alone (pyd-1040, whose answer searched)
    ],
)
def test_no_bounds_where_the_run_is_not_billed_in_the_prompt(model: str, api: str) -> None:
    for tool in ("codeExecution", "googleSearch", "urlContext"):
        result = vertexmeter.usage(model, _with([{tool: {}}]), api=api)
        assert result.exact and result.bounds is None, (model, api, tool)


def test_no_bounds_without_a_built_in_tool() -> None:
    result = vertexmeter.usage("gemini-3-flash-preview", UTRECHT, api="gemini")
    assert result.bounds is None


NO_RUN = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Sunday."}]}, "finishReason": "STOP"}]}


@pytest.mark.parametrize(
    "response",
    [
        NO_RUN,
        [NO_RUN, NO_RUN],  # streamed chunks
        {**NO_RUN, "usageMetadata": {"promptTokenCount": 8, "toolUsePromptTokenCount": 0}},
    ],
)
def test_a_whole_response_that_shows_no_run_keeps_the_exact_point_value(response: Any) -> None:
    result = vertexmeter.usage("gemini-3-flash-preview", _with([{"googleSearch": {}}]), api="gemini", response=response)
    # "Sunday." ends with a full stop: its output's 1 under (uncertain_seams text_ending_full_stop) is the only bound.
    assert result.bounds is not None and "promptTokenCount" not in result.bounds
    assert result.bounds["candidatesTokenCount"] == [result.candidates_token_count - 1, result.candidates_token_count]
    assert "full stop" in result.bounds["reason"] and "googleSearch" not in result.bounds["reason"]
    assert result.prompt_token_count == 8


@pytest.mark.parametrize(
    "response",
    [
        {**NO_RUN, "usageMetadata": {"toolUsePromptTokenCount": 1732}},
        {"candidates": [{**NO_RUN["candidates"][0], "groundingMetadata": {"webSearchQueries": ["Utrecht day"]}}]},
        {"candidates": [{"content": {"role": "model", "parts": [{"executableCode": {"code": "print(1)"}}]}}]},
        {"candidates": [{"content": {"role": "model", "parts": [{"toolCall": {"toolType": "GOOGLE_SEARCH_WEB"}}]}}]},
        "Sunday.",  # a text cannot say whether the tool ran
        {"role": "model", "parts": [{"text": "Sunday."}]},  # nor a Content without run parts
    ],
)
def test_a_response_that_shows_a_run_or_cannot_say_keeps_the_bounds(response: Any) -> None:
    result = vertexmeter.usage("gemini-3-flash-preview", _with([{"googleSearch": {}}]), api="gemini", response=response)
    assert result.bounds is not None
    assert result.bounds["promptTokenCount"] == [8, 518]


def test_explain_names_the_entry_with_its_evidence() -> None:
    answer = vertexmeter.usage_metadata(
        "gemini-3-flash-preview",
        _with([{"fileSearch": {"fileSearchStoreNames": ["stores/x"]}}]),
        api="gemini",
        explain=True,
    )
    (rule,) = [r for r in answer["rules"] if "tool_runs_in_prompt" in r["rule"]]
    assert rule["rule"] == "accounting.yaml tool_runs_in_prompt (fileSearch: up to 530 per run)"
    assert rule["confidence"] == "observed" and "pyd-1007" in rule["evidence"]
    exact = vertexmeter.usage_metadata("gemini-2.5-flash", _with([{"fileSearch": {}}]), api="gemini", explain=True)
    assert not [r for r in exact["rules"] if "tool_runs_in_prompt" in r["rule"]]


def test_the_estimate_prices_the_point_value_and_carries_the_prompt_s_bounds() -> None:
    request = _with([{"codeExecution": {}}])
    estimate = vertexmeter.estimate(
        "gemini-3-flash-preview", request, api="gemini", date="2026-08-01", output_tokens=100
    ).to_json()
    assert estimate["prompt"]["total_tokens"] == 8
    assert estimate["prompt"]["bounds"]["promptTokenCount"] == [8, 438]
    assert estimate["prompt"]["usage_metadata"]["bounds"] == estimate["prompt"]["bounds"]
    plain = vertexmeter.estimate(
        "gemini-3-flash-preview", UTRECHT, api="gemini", date="2026-08-01", output_tokens=100
    ).to_json()
    assert "bounds" not in plain["prompt"]
    assert estimate["total"] == plain["total"]  # the same point value priced


def _entry() -> dict[str, Any]:
    return {
        "api": "gemini",
        "call": "generateContent",
        "generations": ["3"],
        "tools": ["googleSearch"],
        "per_run": 510,
        "confidence": "observed",
        "evidence": ["pyd-0939"],
        "reason": "A search's run.",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"tools": ["webSearch"]},  # not a built-in tool
        {"tools": []},
        {"per_run": 0},
        {"per_run": "510"},
        {"per_run": True},
        {"reason": ""},
        {"evidence": []},
        {"since": "2026-05-01", "until": "2026-04-01"},
    ],
)
def test_a_broken_entry_is_refused_when_the_data_loads(change: dict[str, Any]) -> None:
    models, rules = shipped_data()
    rules["tool_runs_in_prompt"] = [{**_entry(), **change}]
    with pytest.raises(ValueError, match="tool_runs_in_prompt"):
        build_registry(models, rules)


def test_two_entries_for_one_tool_on_the_same_days_are_refused() -> None:
    models, rules = shipped_data()
    rules["tool_runs_in_prompt"] = [_entry(), {**_entry(), "tools": ["googleSearch", "googleMaps"]}]
    with pytest.raises(ValueError, match="overlaps"):
        build_registry(models, rules)
    rules["tool_runs_in_prompt"] = [
        {**_entry(), "until": "2026-03-31"},
        {**_entry(), "since": "2026-04-01", "per_run": 600},
    ]
    registry = build_registry(models, rules)
    assert [r.per_run for r in registry.dated.tool_runs] == [510, 600]


def test_the_packaged_entries_cover_the_five_tools_on_the_gemini_api_s_3x_only() -> None:
    tools = {tool for rule in tool_run_bounds_for("gemini", "generateContent", "3", None) for tool in rule.tools}
    assert tools == {"codeExecution", "googleSearch", "urlContext", "fileSearch", "googleMaps"}
    for api, generation in (("gemini", "2.5"), ("gemini", "2.0"), ("vertex", "3"), ("vertex", "2.5")):
        assert tool_run_bounds_for(api, "generateContent", generation, None) == ()
    assert tool_run_bounds_for("gemini", "countTokens", "3", None) == ()


def _parity_tool() -> Any:
    return load_tool("parity_table")


def test_every_recorded_answer_with_a_built_in_tool_is_exact_or_inside_its_bounds() -> None:
    """The table of docs/counting.md: every answer inside but those listed with their open rule."""
    tool = _parity_tool()
    answers = tool.tool_run_answers()
    assert len(answers) >= 128  # pyd-0817 … -0820: hand-written cassettes (tests/data/errata.json)
    outside = {row["ids"][0]: row for row in answers if not row["result"].within_bounds}
    assert set(outside) == set(tool.TOOL_RUN_EXCEPTIONS), json.dumps(sorted(outside))
    gemini_3 = [row for row in answers if row["api"] == "gemini" and row["generation"] == "3"]
    assert {t for row in gemini_3 for t in row["tools"]} == {
        "codeExecution",
        "googleSearch",
        "urlContext",
        "fileSearch",
    }
    # every Gemini API 3.x answer with a built-in tool is exact or says it is not (rig-0030: a first turn, exact);
    # every other one is exact without bounds
    assert all(row["result"].bounds is not None or row["result"].exact for row in gemini_3)
    assert sum(row["result"].bounds is None for row in gemini_3) <= 1
    others = [row for row in answers if row not in gemini_3 and row["ids"][0] not in tool.TOOL_RUN_EXCEPTIONS]
    assert all(row["result"].exact or "tool_runs_in_prompt" not in str(row["result"].bounds) for row in others)


def test_the_table_of_docs_counting_is_current() -> None:
    tool = _parity_tool()
    text = (ROOT / "docs" / "counting.md").read_text("utf-8")
    assert tool.current_block(text, tool.TOOLS_BEGIN, tool.TOOLS_END) == tool.tool_runs_block(), (
        "run: python tools/parity_table.py --write"
    )
