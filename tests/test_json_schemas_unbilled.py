"""Declarations' and structured outputs' JSON Schemas that the service does not bill (accounting.yaml tool_templates
`json_schemas_counted`, response_schema `json_schema_counted`, and Vertex 3's declarations of 2025-12-01 in
dated_weights): each recorded answer replayed through the call and on the day it was recorded."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import vertexmeter
from tests.ground_truth import load_mined_history, replay

_SETS = ("js_genai", "ogx", "dspy_rb", "pydantic_ai_history")
RECORDS = {r["id"]: r for name in _SETS for r in load_mined_history(name)}
_SCHEMA_KEYS = ("parametersJsonSchema", "responseJsonSchema", "response_json_schema")


def _without_json_schemas(value: Any) -> Any:
    """The body with every JSON Schema a declaration or generationConfig carries taken out."""
    if isinstance(value, dict):
        return {k: _without_json_schemas(v) for k, v in value.items() if k not in _SCHEMA_KEYS}
    if isinstance(value, list):
        return [_without_json_schemas(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("record_id", "billed", "with_schemas"),
    [
        # Vertex 1.5 Flash 002, 2.0 Flash, 2.5 Flash / Pro (googleapis/js-genai, 2025-08 … 11): fitted on these
        ("jsgenai-0005", 32, 34),
        ("jsgenai-0072", 20, 28),  # 1.5 Flash 002
        ("jsgenai-0093", 4, 102),  # 1.5 Flash 002, responseJsonSchema in generationConfig
        ("jsgenai-0110", 13, 17),  # 2.0 Flash
        ("jsgenai-0149", 20, 32),  # parametersJsonSchema and a declaration's responseJsonSchema
        ("jsgenai-0184", 36, 74),  # 2.5 Pro
        # checked on ogx-ai/ogx's Vertex 2.0 Flash answers (2026-04-01), bodies rebuilt by google-genai 1.70.0
        ("ogx-0045", 21, 33),
        ("ogx-0068", 33, 65),
        ("ogx-0145", 41, 53),  # with a function call and its response in the history
        # the Gemini API's 1.5 (js-genai), checked on vicentereig/dspy.rb's response_json_schema
        ("jsgenai-0085", 20, 28),
        ("jsgenai-0086", 4, 111),
        ("dsrb-0015", 2499, 2672),
        ("dsrb-0038", 823, 868),
        # Vertex 3 Pro preview, 2025-12-01: declarations as Vertex 2.x bills them (dated_weights)
        ("jsgenai-0191", 21, 34),  # OpenAPI parameters: the texts + 3 typed nodes
        ("jsgenai-0194", 36, 131),
        ("jsgenai-0195", 20, 60),
    ],
)
def test_recorded_json_schemas_are_not_billed(record_id: str, billed: int, with_schemas: int) -> None:
    record = RECORDS[record_id]
    assert record["expected"]["totalTokens"] == billed
    result = replay(record)
    assert (result.got, result.bounds) == (billed, None)
    # The same body without its JSON Schemas bills the same: they add nothing.
    assert replay(record, request=_without_json_schemas(record["request"])).got == billed
    # What the rule before said, for the record: the schemas read as the SDK's walk.
    assert with_schemas > billed


def test_property_less_schemas_are_exact_either_way() -> None:
    """pydantic-ai's Vertex 2.0 / 2.5 declarations with `{"type": "object", "properties": {}}` (2026-01 … 04)."""
    for record_id in ("pyd-0546", "pyd-0910"):
        assert replay(RECORDS[record_id]).exact


def _declaration_body() -> dict[str, Any]:
    schema = {"type": "object", "properties": {"city": {"type": "string", "description": "The city."}}}
    declaration = {"name": "get_weather", "description": "Get the weather.", "parametersJsonSchema": schema}
    return {
        "contents": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}],
        "tools": [{"functionDeclarations": [declaration]}],
    }


def test_vertex_count_tokens_still_counts_a_declarations_json_schema() -> None:
    """No recorded countTokens answer has one: Vertex countTokens keeps the walk, generateContent bills none."""
    body = _declaration_body()
    bare = _without_json_schemas(body)
    generate = vertexmeter.usage("gemini-2.5-flash", body, api="vertex").prompt_token_count
    assert generate == vertexmeter.usage("gemini-2.5-flash", bare, api="vertex").prompt_token_count
    counted = vertexmeter.count("gemini-2.5-flash", body, api="vertex").total_tokens
    assert counted > vertexmeter.count("gemini-2.5-flash", bare, api="vertex").total_tokens


def test_vertex_3_declarations_of_december_2025_bill_as_vertex_2() -> None:
    """The dated entry holds up to 2025-12-01; from the next day today's Vertex 3 weights (+ 8 per description)."""
    body = copy.deepcopy(_declaration_body())
    before = vertexmeter.usage("gemini-3-pro-preview", body, api="vertex", as_of="2025-12-01")
    after = vertexmeter.usage("gemini-3-pro-preview", body, api="vertex", as_of="2025-12-02")
    bare = vertexmeter.usage("gemini-3-pro-preview", _without_json_schemas(body), api="vertex", as_of="2025-12-01")
    assert before.prompt_token_count == bare.prompt_token_count
    assert after.prompt_token_count > before.prompt_token_count
    rules = [r["rule"] for r in before.rules]
    assert any(r.startswith("accounting.yaml dated_weights (tool_templates") for r in rules), rules


def test_between_the_recorded_days_the_vertex_3_declarations_are_bounded_by_both_readings() -> None:
    """From 2025-12-02 to 2026-06-16 no answer tells whether Vertex 3 still billed its declarations as Vertex 2.x
    (dated_weights `seen_without_after`): the point value is today's, the bounds reach the other reading, with the
    reason; a declaration both readings bill alike (no description, no property) stays exact."""
    body = _declaration_body()
    then = vertexmeter.usage("gemini-3-pro-preview", body, api="vertex", as_of="2025-12-01").prompt_token_count
    now = vertexmeter.usage("gemini-3-pro-preview", body, api="vertex", as_of="2026-06-17")
    assert now.bounds is None and now.prompt_token_count > then
    for day in ("2025-12-02", "2026-03-01", "2026-06-16"):
        unsure = vertexmeter.usage("gemini-3-pro-preview", body, api="vertex", as_of=day)
        assert unsure.prompt_token_count == now.prompt_token_count and not unsure.exact
        assert unsure.bounds is not None
        assert unsure.bounds["promptTokenCount"] == [then, now.prompt_token_count]
        assert "2026-06-17" in unsure.bounds["reason"] and "dated_weights" in unsure.bounds["reason"]
        assert unsure.to_rest()["bounds"]["promptTokenCount"] == [then, now.prompt_token_count]
    bare = {
        "contents": body["contents"],
        "tools": [{"functionDeclarations": [{"name": "get_file", "parametersJsonSchema": {"type": "object"}}]}],
    }
    assert vertexmeter.usage("gemini-3-flash-preview", bare, api="vertex", as_of="2026-02-17").exact


def test_recorded_answers_inside_the_span_stay_exact() -> None:
    """pydantic-ai's Vertex 3 Flash preview declarations of 2026-02 … 03 (undescribed, no property) bill alike under
    both readings: exact, no bounds."""
    records = {r["id"]: r for r in load_mined_history("pydantic_ai_history")}
    for record_id in ("pyd-0670", "pyd-0754", "pyd-0839"):
        result = replay(records[record_id])
        assert result.exact and result.bounds is None, record_id
