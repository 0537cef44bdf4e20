"""Schema fields beyond google-genai's walk, as accounting.yaml's `schema_strings` name them per API and generation:
the Gemini API's 2.0 generateContent reads a tool property's string `default` (oinf-0017, brtr-0017), 2.5 does not."""

from __future__ import annotations

from typing import Any

import pytest

import vertexmeter
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


def test_2_5_and_vertex_do_not_read_a_default() -> None:
    assert prompt("gemini-2.5-flash", body("celsius")) == prompt("gemini-2.5-flash", body())
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
