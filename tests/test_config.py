"""`config=` as generate_content means it, on every library entry point (count_tokens, count, usage,
usage_metadata, estimate): request fields feed counting, generation fields feed pricing, every failure is a
VertexMeterError."""

from __future__ import annotations

from typing import Any

import pytest
from google.genai import types

import vertexmeter
from vertexmeter.errors import VertexMeterError

FLASH = "gemini-2.5-flash"
TEXT = "What is your name?"
TOOL = types.Tool(function_declarations=[types.FunctionDeclaration(name="get_weather", description="Weather now")])
SAFETY = types.SafetySetting(category="HARM_CATEGORY_HATE_SPEECH", threshold="BLOCK_NONE")
CONFIG = types.GenerateContentConfig(
    system_instruction="Answer briefly.",
    temperature=0.2,
    max_output_tokens=100,
    thinking_config=types.ThinkingConfig(thinking_budget=50),
    safety_settings=[SAFETY],
    tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="AUTO")),
    tools=[TOOL],
    response_mime_type="application/json",
    response_schema=types.Schema(type="STRING", description="the name"),
)
BODY: dict[str, Any] = {
    "contents": [{"role": "user", "parts": [{"text": TEXT}]}],
    "systemInstruction": {"role": "user", "parts": [{"text": "Answer briefly."}]},
    "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather now"}]}],
    "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
    "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
    "generationConfig": {
        "temperature": 0.2,
        "maxOutputTokens": 100,
        "thinkingConfig": {"thinkingBudget": 50},
        "responseMimeType": "application/json",
        "responseSchema": {"type": "STRING", "description": "the name"},
    },
}
COUNT_BODY = {k: BODY[k] for k in ("contents", "systemInstruction", "tools", "generationConfig")}


def refused(call: Any) -> VertexMeterError:
    with pytest.raises(VertexMeterError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("api", ["vertex", "gemini"])
def test_generate_content_config_is_the_whole_body_for_the_bill(api: str) -> None:
    """Was: usage_metadata(config=) -> TypeError. The config joins the body as generate_content sends it."""
    as_config = vertexmeter.usage_metadata(FLASH, TEXT, api=api, config=CONFIG)
    assert as_config == vertexmeter.usage_metadata(FLASH, BODY, api=api)
    assert as_config["promptTokenCount"] > vertexmeter.usage_metadata(FLASH, TEXT, api=api)["promptTokenCount"]
    assert vertexmeter.usage(FLASH, TEXT, api=api, config=CONFIG).prompt_token_count == as_config["promptTokenCount"]


def test_count_takes_what_count_tokens_counts_of_a_generate_content_config() -> None:
    """Was: count_tokens(config=) refused temperature. Safety settings and tool config change no count."""
    as_config = vertexmeter.count_tokens(FLASH, TEXT, config=CONFIG)
    assert as_config == vertexmeter.count_tokens(FLASH, COUNT_BODY)
    assert vertexmeter.count(FLASH, TEXT, config=CONFIG).total_tokens == as_config["totalTokens"]
    as_dict = vertexmeter.count_tokens(FLASH, TEXT, config=CONFIG.model_dump(exclude_none=True))
    assert as_dict == as_config  # the snake_case dict of the same config


def test_count_on_the_gemini_api_wraps_a_generate_content_request() -> None:
    wrapped = {"generateContentRequest": {"model": f"models/{FLASH}", **BODY}}
    assert vertexmeter.count_tokens(FLASH, TEXT, api="gemini", config=CONFIG) == vertexmeter.count_tokens(
        FLASH, wrapped, api="gemini"
    )


def test_generation_fields_feed_the_estimate_output_range() -> None:
    """Was: estimate(config=) -> TypeError. max_output_tokens and the thinking budget bound the range."""
    estimate = vertexmeter.estimate(FLASH, TEXT, config=CONFIG, date="2026-01-15").to_json()
    assert estimate["output"]["range"]["max_tokens"] == 100
    assert estimate["output"]["range"]["max_from"] == "generationConfig.maxOutputTokens"
    assert estimate["output"]["range"]["max_thinking_tokens"] == 50
    assert estimate == vertexmeter.estimate(FLASH, BODY, date="2026-01-15").to_json()


def test_count_tokens_config_still_reads_generation_config() -> None:
    config = types.CountTokensConfig(
        system_instruction="Answer briefly.", generation_config=types.GenerationConfig(max_output_tokens=7)
    )
    estimate = vertexmeter.estimate(FLASH, TEXT, config=config, date="2026-01-15").to_json()
    assert estimate["output"]["range"]["max_tokens"] == 7


def test_python_functions_as_tools_are_declared_as_the_sdk_declares_them() -> None:
    """Was: PydanticSerializationError (not a VertexMeterError) for GenerateContentConfig(tools=[function])."""

    def get_weather(city: str) -> str:
        """Weather now."""
        return city

    declared = types.Tool(
        function_declarations=[types.FunctionDeclaration.from_callable_with_api_option(callable=get_weather)]
    )
    as_function = vertexmeter.count_tokens(FLASH, TEXT, config=types.GenerateContentConfig(tools=[get_weather]))
    assert as_function == vertexmeter.count_tokens(FLASH, TEXT, config={"tools": [declared]})
    assert as_function["totalTokens"] > 5


def test_generation_settings_given_twice_are_named() -> None:
    body = {**COUNT_BODY}
    error = refused(lambda: vertexmeter.usage(FLASH, body, config={"max_output_tokens": 5}))
    assert "max_output_tokens is given twice" in error.message and error.field_path == "config.max_output_tokens"
    error = refused(
        lambda: vertexmeter.usage(
            FLASH, TEXT, config={"max_output_tokens": 5, "generation_config": {"maxOutputTokens": 6}}
        )
    )
    assert "given twice in config" in error.message
    merged = vertexmeter.estimate(
        FLASH, {**COUNT_BODY, "generationConfig": {"temperature": 1}}, config={"max_output_tokens": 9}
    )
    assert merged.to_json()["output"]["range"]["max_tokens"] == 9


BAD_CONFIGS = [
    ({"temprature": 1}, "config.temprature", "Did you mean temperature?"),
    (5, "config", "GenerateContentConfig"),
    ({"generation_config": 3}, "config.generation_config", "GenerationConfig"),
]
ENTRIES = ["count_tokens", "count", "usage", "usage_metadata", "estimate"]
CASES = [(entry, *bad) for entry in ENTRIES for bad in BAD_CONFIGS] + [
    (entry, {"safety_settings": "none"}, "safety_settings", "") for entry in ("usage", "usage_metadata", "estimate")
]


@pytest.mark.parametrize(("entry", "config", "path", "words"), CASES)
def test_every_bad_config_is_a_vertexmeter_error(entry: str, config: Any, path: str, words: str) -> None:
    error = refused(lambda: getattr(vertexmeter, entry)(FLASH, TEXT, config=config))
    assert error.status == "INVALID_ARGUMENT"
    assert path in (error.field_path or "") and words in error.message
