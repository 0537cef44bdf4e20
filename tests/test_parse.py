"""Request parsing: proto3-JSON leniency, and Google's refusals with field paths."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import vertexmeter
from vertexmeter.errors import VertexMeterError
from vertexmeter.requests import decode_bytes, parse_message


def error_of(model: str, body: Any, api: str = "vertex") -> VertexMeterError:
    with pytest.raises(VertexMeterError) as caught:
        vertexmeter.count_tokens(model, body, api=api)
    return caught.value


def test_snake_case_and_camel_case_are_the_same() -> None:
    camel = {
        "contents": [{"role": "user", "parts": [{"text": "hi there"}]}],
        "systemInstruction": {"parts": [{"text": "be brief"}]},
        "generationConfig": {"responseSchema": {"type": "OBJECT", "properties": {"answer": {"type": "STRING"}}}},
    }
    snake = {
        "contents": [{"role": "user", "parts": [{"text": "hi there"}]}],
        "system_instruction": {"parts": [{"text": "be brief"}]},
        "generation_config": {"response_schema": {"type": "OBJECT", "properties": {"answer": {"type": "STRING"}}}},
    }
    assert vertexmeter.count_tokens("gemini-2.5-flash", camel) == vertexmeter.count_tokens("gemini-2.5-flash", snake)


def test_a_single_object_where_a_list_is_expected() -> None:
    single = {"contents": {"role": "user", "parts": {"text": "What is your name?"}}}
    listed = {"contents": [{"role": "user", "parts": [{"text": "What is your name?"}]}]}
    assert vertexmeter.count_tokens("gemini-2.5-flash", single) == vertexmeter.count_tokens("gemini-2.5-flash", listed)
    codechat = {"instances": {"messages": [{"author": "user", "content": "Hi"}]}}
    assert vertexmeter.count_tokens("codechat-bison", codechat)["totalTokens"] == 1


def test_int64_as_string_and_enum_as_number() -> None:
    parsed = parse_message("Schema", {"type": 6, "maxItems": "12", "minItems": 3, "items": {"type": "string"}}, "")
    assert parsed == {"type": "OBJECT", "maxItems": 12, "minItems": 3, "items": {"type": "STRING"}}


def test_null_means_default() -> None:
    assert vertexmeter.count_tokens("gemini-2.5-flash", {"contents": None, "tools": None}) == {}


@given(st.binary(max_size=200))
def test_base64_standard_and_url_safe_with_or_without_padding(data: bytes) -> None:
    standard = base64.b64encode(data).decode()
    url_safe = base64.urlsafe_b64encode(data).decode()
    for text in (standard, url_safe, standard.rstrip("="), url_safe.rstrip("=")):
        assert decode_bytes(text, "x") == data


def test_bad_base64_is_google_s_message_with_the_snake_case_path() -> None:
    body = {"contents": [{"parts": [{"text": "a"}, {"inlineData": {"mimeType": "image/png", "data": "***"}}]}]}
    error = error_of("gemini-2.5-flash", body)
    assert error.status == "INVALID_ARGUMENT"
    assert error.message == (
        "Invalid value at 'contents[0].parts[1].inline_data.data' (TYPE_BYTES), Base64 decoding failed for \"***\""
    )
    assert error.field_path == "contents[0].parts[1].inline_data.data"


def test_unknown_field_is_rejected_with_google_s_wording() -> None:
    body = {"contents": [{"parts": [{"functionResponse": {"name": "f", "response": {}, "extra": 1}}]}]}
    error = error_of("gemini-2.5-flash", body)
    assert error.message == (
        "Invalid JSON payload received. Unknown name \"extra\" at 'contents[0].parts[0].function_response': "
        "Cannot find field."
    )
    top = error_of("gemini-2.5-flash", {"contentz": []})
    assert top.message == 'Invalid JSON payload received. Unknown name "contentz": Cannot find field.'


def test_bad_role() -> None:
    error = error_of("gemini-2.5-flash", {"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]})
    assert (error.message, error.field_path) == ("Please use a valid role: user, model", "contents[0].role")


@pytest.mark.parametrize("role", ["function", "tool"])
def test_function_response_roles_google_answered(role: str) -> None:
    # Answered on generateContent (crmne/ruby_llm's "function", 0x1eef/llm.rb's "tool"), not on countTokens.
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "What is the date?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "system", "args": {"command": "date"}}}]},
            {"role": role, "parts": [{"functionResponse": {"name": "system", "response": {"date": "2025-08-24"}}}]},
        ]
    }
    for api in ("gemini", "vertex"):
        assert vertexmeter.usage_metadata("gemini-3.1-flash-lite", body, api=api)["promptTokenCount"] > 0
    error = error_of("gemini-2.5-flash", body)
    assert (error.message, error.field_path) == ("Please use a valid role: user, model", "contents[2].role")


def test_content_without_parts() -> None:
    error = error_of("gemini-2.5-flash", {"contents": [{"role": "user", "parts": []}]})
    assert error.message.startswith("Unable to submit request because it must include at least one parts field")
    assert error.field_path == "contents[0].parts"


def test_part_without_data() -> None:
    error = error_of("gemini-2.5-flash", {"contents": [{"parts": [{"thought": True}]}]})
    assert error.message.startswith("Unable to submit request because it must have a text parameter.")


def test_empty_text_part() -> None:
    error = error_of("gemini-2.5-flash", {"contents": [{"parts": [{"text": ""}]}]})
    assert error.message.startswith("Unable to submit request because it has an empty text parameter.")
    assert error.field_path == "contents[0].parts[0].text"


def test_two_data_fields_in_one_part() -> None:
    error = error_of("gemini-2.5-flash", {"contents": [{"parts": [{"text": "a", "functionCall": {"name": "f"}}]}]})
    assert "Oneof field 'data' is already set" in error.message


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"contents": [{"role": 5, "parts": [{"text": "a"}]}]}, "contents[0].role"),
        ({"contents": ["hello"]}, "contents[0]"),
        ({"generationConfig": {"maxOutputTokens": "many"}}, "generation_config.max_output_tokens"),
        ({"generationConfig": {"maxOutputTokens": 2**40}}, "generation_config.max_output_tokens"),
        ({"generationConfig": {"temperature": True}}, "generation_config.temperature"),
        ({"generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_GIGANTIC"}}, "generation_config.media_resolution"),
        (
            {"contents": [{"parts": [{"functionCall": {"name": "f", "args": [1]}}]}]},
            "contents[0].parts[0].function_call.args",
        ),
        (
            {
                "contents": [
                    {
                        "parts": [
                            {
                                "fileData": {"fileUri": "gs://b/x.mp4", "mimeType": "video/mp4"},
                                "videoMetadata": {"startOffset": "soon"},
                            }
                        ]
                    }
                ]
            },
            "contents[0].parts[0].video_metadata.start_offset",
        ),
    ],
)
def test_ill_typed_values_name_their_field(body: dict[str, Any], path: str) -> None:
    error = error_of("gemini-2.5-flash", body)
    assert error.status == "INVALID_ARGUMENT"
    assert error.field_path == path


def test_too_deep_json_is_refused() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(150):
        node["k"] = {}
        node = node["k"]
    error = error_of("gemini-2.5-flash", {"contents": [{"parts": [{"functionCall": {"name": "f", "args": deep}}]}]})
    assert "deeper than" in error.message


def test_body_must_be_an_object() -> None:
    assert error_of("gemini-2.5-flash", 42).status == "INVALID_ARGUMENT"
    assert error_of("gemini-2.5-flash", b"not json").status == "INVALID_ARGUMENT"  # bytes are a wire body
    assert error_of("gemini-2.5-flash", b'"a JSON string"').status == "INVALID_ARGUMENT"


def test_gemini_api_generate_content_request_requires_model_and_contents() -> None:
    error = error_of("gemini-2.5-flash", {"generateContentRequest": {"generationConfig": {}}}, api="gemini")
    assert error.message == (
        "* CountTokensRequest.generate_content_request.contents: contents is not specified\n"
        "* CountTokensRequest.generate_content_request.model: model is not specified\n"
    )
    assert [v.field for v in error.violations] == [
        "generate_content_request.contents",
        "generate_content_request.model",
    ]


def test_gemini_api_refuses_vertex_only_fields_at_the_top() -> None:
    error = error_of("gemini-2.5-flash", {"contents": [{"parts": [{"text": "x"}]}], "tools": []}, api="gemini")
    assert error.message.startswith('Invalid JSON payload received. Unknown name "tools"')


def test_gemini_api_cached_content_cannot_be_read_offline() -> None:
    body = {
        "generateContentRequest": {
            "model": "models/gemini-2.5-flash",
            "contents": [{"parts": [{"text": "x"}]}],
            "cachedContent": "cachedContents/abc",
        }
    }
    assert error_of("gemini-2.5-flash", body, api="gemini").status == "FAILED_PRECONDITION"


def test_unknown_dialect() -> None:
    assert error_of("gemini-2.5-flash", {}, api="openai").status == "INVALID_ARGUMENT"


def test_formats_do_not_mix() -> None:
    assert error_of("text-bison", {"contents": [{"parts": [{"text": "x"}]}]}).field_path == "contents"
    assert error_of("gemini-2.5-flash", {"instances": [{"prompt": "x"}]}).field_path == "instances"
    assert error_of("text-bison", {"instances": [{"prompt": "x"}]}, api="gemini").status == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    ("model", "instance", "path"),
    [
        ("text-bison", {"prompt": "x", "temperature": 1}, "instances[0]"),
        ("text-bison", {"content": "x"}, "instances[0]"),
        ("chat-bison", {"context": "x"}, "instances[0].messages"),
        ("chat-bison", {"messages": [{"author": "u"}]}, "instances[0].messages[0].content"),
        ("code-gecko", {"suffix": "x"}, "instances[0].prefix"),
        ("textembedding-gecko", {"content": 3}, "instances[0].content"),
    ],
)
def test_legacy_instance_errors(model: str, instance: dict[str, Any], path: str) -> None:
    error = error_of(model, {"instances": [instance]})
    assert error.status == "INVALID_ARGUMENT"
    assert error.field_path == path
