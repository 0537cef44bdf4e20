"""The request parser accepts every field the installed google-genai declares (the schema follows the SDK).

tools/schema_from_genai.py walks the SDK's request types; vertexmeter/requests/genai_schema.json is its output,
merged with the hand-listed REST facts of vertexmeter/requests/schema.py. When a google-genai release adds a
field, the first test fails until the file is regenerated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import vertexmeter
from tests.tool_modules import load_tool
from vertexmeter.errors import VertexMeterError
from vertexmeter.requests.parse import lookup_field, parse_message
from vertexmeter.requests.schema import GENAI_SCHEMA_VERSION, MESSAGES

genai = pytest.importorskip("google.genai")

ROOT = Path(__file__).resolve().parent.parent


def _generator() -> Any:
    return load_tool("schema_from_genai")


def _installed_walk() -> dict[str, dict[str, list[Any]]]:
    return dict(_generator().walk()[0])


def test_every_field_of_the_installed_sdk_is_known_to_the_parser() -> None:
    missing = [
        f"{message}.{field}"
        for message, fields in _installed_walk().items()
        for field in fields
        if message not in MESSAGES or lookup_field(message, field) is None
    ]
    assert missing == [], f"regenerate genai_schema.json (google-genai {GENAI_SCHEMA_VERSION} shipped): {missing}"


def test_both_casings_of_every_field_resolve_to_one_field() -> None:
    for message, fields in MESSAGES.items():
        for field in fields.values():
            assert lookup_field(message, field.json_name) is field
            assert lookup_field(message, field.proto_name) is field


def test_shipped_schema_names_its_sdk_version() -> None:
    shipped = json.loads((ROOT / "vertexmeter" / "requests" / "genai_schema.json").read_text("utf-8"))
    assert shipped["google_genai_version"] == GENAI_SCHEMA_VERSION
    assert "McpServer" in shipped["messages"] and "partialArgs" in shipped["messages"]["FunctionCall"]


# Bodies Google answered that an older hand list refused (ground_truth_2026 and the issue's survey).
ACCEPTED_BODIES = {
    "integer enum (HarmCategory 10, threshold 4)": {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "safetySettings": [{"category": 10, "threshold": 4}],
    },
    "mcpServers in a tool": {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "tools": [{"mcpServers": [{"name": "files", "streamableHttpTransport": {"url": "https://example.com/mcp"}}]}],
    },
    "willContinue in a functionResponse, partialArgs in a functionCall": {
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {
                "role": "model",
                "parts": [
                    {
                        "functionCall": {
                            "name": "f",
                            "args": {},
                            "partialArgs": [{"jsonPath": "$.a", "stringValue": "x"}],
                        }
                    }
                ],
            },
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}, "willContinue": True}}]},
        ],
    },
    "snake_case everywhere": {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "generation_config": {
            "thinking_config": {"include_thoughts": True},
            "response_json_schema": {"type": "string"},
        },
        "tool_config": {"function_calling_config": {"mode": "AUTO"}},
    },
}


@pytest.mark.parametrize("name", sorted(ACCEPTED_BODIES))
@pytest.mark.parametrize("api", ["vertex", "gemini"])
def test_bodies_google_answers_are_counted(name: str, api: str) -> None:
    usage = vertexmeter.usage("gemini-2.5-flash", ACCEPTED_BODIES[name], api=api)
    assert usage.prompt_token_count > 0


def test_integer_enum_of_a_numbered_enum_reads_as_its_name() -> None:
    parsed = parse_message("GenerationConfig", {"mediaResolution": 1, "responseModalities": [1]})
    assert parsed == {"mediaResolution": "MEDIA_RESOLUTION_LOW", "responseModalities": ["TEXT"]}


def test_integer_enum_numbered_per_api_stays_a_number() -> None:
    assert parse_message("SafetySetting", {"category": 10}) == {"category": 10}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"category": "HARM_CATEGORY_NOT_A_THING"}, "HarmCategory"),
        ({"category": True}, "TYPE_ENUM"),
        ({"category": 2**40}, "HarmCategory"),
        ({"categories": "x"}, 'Unknown name "categories"'),
    ],
)
def test_what_google_refuses_stays_refused(body: dict[str, Any], words: str) -> None:
    with pytest.raises(VertexMeterError) as caught:
        parse_message("SafetySetting", body, "safety_settings[0]")
    assert words in caught.value.message


def test_an_sdk_object_with_new_fields_is_counted() -> None:
    from google.genai import types

    content = types.Content(
        role="model",
        parts=[types.Part(function_call=types.FunctionCall(name="f", args={"a": 1}, will_continue=True))],
    )
    usage = vertexmeter.usage(
        "gemini-3-flash-preview", [types.Content(role="user", parts=[types.Part(text="Hi")]), content], api="gemini"
    )
    assert usage.prompt_token_count > 0


def test_empty_text_in_a_model_turn_of_vertex_history_is_counted_and_a_user_one_refused() -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": ""}]},
            {"role": "user", "parts": [{"text": "again"}]},
        ]
    }
    assert (
        vertexmeter.usage("gemini-2.5-flash", body, api="vertex").prompt_token_count
        == vertexmeter.usage(
            "gemini-2.5-flash", {"contents": [body["contents"][0], body["contents"][2]]}, api="vertex"
        ).prompt_token_count
    )
    user_empty = {"contents": [{"role": "user", "parts": [{"text": ""}]}]}
    with pytest.raises(VertexMeterError, match="empty text parameter"):
        vertexmeter.usage("gemini-2.5-flash", user_empty, api="vertex")
