"""Schema fields beyond google-genai's walk, as accounting.yaml's `schema_strings` name them per API and generation:
the Gemini API's 2.0 generateContent reads a tool property's string `default` (oinf-0017, brtr-0017), 2.5 too
(mira-0412, bounded); both APIs' 2.0 read a responseSchema's titles and defaults (dotnetgenai-0008 … -0012), a
number default bounded."""

from __future__ import annotations

from typing import Any

import pytest

import vertexmeter
from tests.ground_truth import load_mined_history, replay
from tests.registry_data import shipped_data
from vertexmeter.registry import build_registry


def body(default: Any = None) -> dict[str, Any]:
    unit: dict[str, Any] = {"type": "STRING"}
    if default is not None:
        unit["default"] = default
    declaration = {
        "name": "get_weather",
        "description": "Get the current weather for a location.",
        "parameters": {"type": "OBJECT", "properties": {"location": {"type": "STRING"}, "unit": unit}},
    }
    return {
        "contents": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}],
        "tools": [{"functionDeclarations": [declaration]}],
    }


def prompt(model: str, request: dict[str, Any], day: str = "2025-10-05") -> int:
    return int(vertexmeter.usage(model, request, api="gemini", as_of=day).prompt_token_count)


def test_the_gemini_apis_2_0_bills_a_string_default_as_its_text() -> None:
    without = prompt("gemini-2.0-flash-001", body())
    for default in ("celsius", "fahrenheit", "kelvin or rankine"):
        tokens = vertexmeter.count_tokens("gemini-2.0-flash-001", default)["totalTokens"]
        assert prompt("gemini-2.0-flash-001", body(default)) == without + tokens
    # a default that is not a string was never recorded: nothing is added for it
    assert prompt("gemini-2.0-flash-001", body(3)) == without


def test_2_5_reads_a_default_bounded_down_to_nothing_and_vertex_does_not() -> None:
    """The Gemini API's 2.5 reads a string default as its text too (mira-0412, with the lone optional described
    property's weight), bounded by the reading without it: - 1 per token of the default (uncertain_seams
    string_default)."""
    tokens = vertexmeter.count_tokens("gemini-2.5-flash", "kelvin or rankine")["totalTokens"]
    read = vertexmeter.usage("gemini-2.5-flash", body("kelvin or rankine"), api="gemini", as_of="2025-10-05")
    assert read.prompt_token_count == prompt("gemini-2.5-flash", body()) + tokens
    assert read.bounds is not None and "string default" in read.bounds["reason"]
    assert read.bounds["promptTokenCount"] == [read.prompt_token_count - tokens, read.prompt_token_count]
    on_vertex = [
        vertexmeter.usage("gemini-2.0-flash-001", body(d), api="vertex", as_of="2025-10-05") for d in (None, "celsius")
    ]
    assert on_vertex[0].prompt_token_count == on_vertex[1].prompt_token_count


@pytest.mark.parametrize("section", ["tool_templates", "response_schema"])
def test_an_unknown_schema_string_is_refused_when_the_data_loads(section: str) -> None:
    models, broken = shipped_data()
    broken[section][0]["schema_strings"] = ["title", "examples"]
    with pytest.raises(ValueError, match=r"unknown schema_strings \['examples'\]"):
        build_registry(models, broken)


def schema_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "contents": [{"role": "user", "parts": [{"text": "Can you recommend a restaurant for me?"}]}],
        "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema},
    }


RESTAURANT = {
    "type": "OBJECT",
    "title": "restaurantInfo",
    "properties": {
        "name": {"type": "STRING", "title": "Name"},
        "city": {"type": "STRING", "title": "City", "default": "New York"},
        "rating": {"type": "NUMBER", "title": "Rating", "default": 3},
    },
}


@pytest.mark.parametrize("api", ["gemini", "vertex"])
def test_2_0_reads_a_response_schemas_titles_and_defaults(api: str) -> None:
    def billed(schema: dict[str, Any]) -> vertexmeter.UsageResult:
        return vertexmeter.usage("gemini-2.0-flash", schema_body(schema), api=api, as_of="2025-08-26")

    bare = {**RESTAURANT, "properties": {k: {"type": v["type"]} for k, v in RESTAURANT["properties"].items()}}
    bare.pop("title")
    titles = ("restaurantInfo", "Name", "City", "Rating")
    tokens = sum(vertexmeter.count_tokens("gemini-2.0-flash", t)["totalTokens"] for t in titles)
    without = billed(bare).prompt_token_count
    strings_only = {**RESTAURANT, "properties": {**RESTAURANT["properties"], "rating": {"type": "NUMBER"}}}
    strings_only["properties"]["rating"]["title"] = "Rating"
    new_york = vertexmeter.count_tokens("gemini-2.0-flash", "New York")["totalTokens"]
    exact = billed(strings_only)
    assert exact.prompt_token_count == without + tokens + new_york and exact.bounds is None
    # a number default: its JSON text ("3", 1 token), bounded by the reading without it
    result = billed(RESTAURANT)
    assert result.prompt_token_count == exact.prompt_token_count + 1
    assert result.bounds is not None
    assert result.bounds["promptTokenCount"] == [exact.prompt_token_count, exact.prompt_token_count + 1]
    assert "number default of a 2.0 responseSchema" in result.bounds["reason"]


def test_the_recorded_2_0_schemas_with_titles_are_exact() -> None:
    records = {r["id"]: r for r in load_mined_history("dotnet_genai")}
    for record_id, billed in (("dotnetgenai-0008", 33), ("dotnetgenai-0010", 34), ("dotnetgenai-0012", 34)):
        outcome = replay(records[record_id])
        assert (outcome.got, outcome.expected) == (billed, billed)
    assert replay(records["dotnetgenai-0008"]).bounds is None
