"""One door for every input (issue 14): text, bodies by shape, google-genai types anywhere, config=.

Each first attempt of a new user that used to fail is a test here (library) or in test_cli_shape.py (CLI).
google-genai's own transformers are the oracle for how its inputs turn into REST contents.
"""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
from google.genai import _transformers as genai_transformers
from google.genai import types
from hypothesis import given, settings
from hypothesis import strategies as st

import vertexmeter
from vertexmeter.errors import VertexMeterError
from vertexmeter.registry import resolve
from vertexmeter.requests import plain, request_body

FLASH = "gemini-2.5-flash"
NAME = {"totalTokens": 5, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 5}]}


def refused(call: Any) -> VertexMeterError:
    with pytest.raises(VertexMeterError) as caught:
        call()
    return caught.value


def rest(contents: Any) -> list[dict[str, Any]]:
    """google-genai's own reading of `contents`, as REST JSON."""
    return [
        c.model_dump(mode="json", exclude_none=True, by_alias=True) for c in genai_transformers.t_contents(contents)
    ]


# ---- first attempts (issue 14, "Why") -----------------------------------------------------------------
def test_a_plain_string_is_user_text() -> None:
    """Was: the string read as a JSON body -> 'Invalid JSON payload received'."""
    assert vertexmeter.count_tokens(FLASH, "What is your name?") == NAME
    assert vertexmeter.count(FLASH, "What is your name?").total_tokens == 5
    assert vertexmeter.compute_tokens(FLASH, "What is your name?")["tokensInfo"][0]["role"] == "user"


def test_genai_types_inside_a_body() -> None:
    """Was: {"contents": [types.Content(...)]} -> raw TypeError (not JSON serializable)."""
    content = types.Content(role="user", parts=[types.Part(text="What is your name?")])
    assert vertexmeter.count_tokens(FLASH, {"contents": [content]}) == NAME
    part = types.Part(text="What is your name?")
    assert vertexmeter.count_tokens(FLASH, {"contents": [{"role": "user", "parts": [part]}]}) == NAME
    assert vertexmeter.count_tokens(FLASH, content) == NAME
    assert vertexmeter.count_tokens(FLASH, [content]) == NAME
    assert vertexmeter.count_tokens(FLASH, types.Part(text="What is your name?")) == NAME


def test_genai_bytes_parts_count_as_media() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "png")
    png = buffer.getvalue()
    part = types.Part.from_bytes(data=png, mime_type="image/png")
    by_types = vertexmeter.count_tokens(FLASH, ["What is this?", part])
    parts = [{"text": "What is this?"}, {"inlineData": {"mimeType": "image/png", "data": png}}]
    by_dict = vertexmeter.count_tokens(FLASH, {"contents": [{"role": "user", "parts": parts}]})
    assert by_types == by_dict
    assert {"modality": "IMAGE", "tokenCount": 258} in by_types["promptTokensDetails"]


def test_config_like_the_sdk_count_tokens() -> None:
    """Was: no config=. CountTokensConfig's system_instruction, tools and generation_config join the body."""
    tool = types.Tool(function_declarations=[types.FunctionDeclaration(name="get_weather", description="Weather now")])
    config = types.CountTokensConfig(
        system_instruction="Answer briefly.",
        tools=[tool],
        generation_config=types.GenerationConfig(max_output_tokens=9),
    )
    as_config = vertexmeter.count_tokens(FLASH, "What is your name?", config=config)
    as_body = vertexmeter.count_tokens(
        FLASH,
        {
            "contents": [{"role": "user", "parts": [{"text": "What is your name?"}]}],
            "systemInstruction": {"role": "user", "parts": [{"text": "Answer briefly."}]},
            "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather now"}]}],
            "generationConfig": {"maxOutputTokens": 9},
        },
    )
    assert as_config == as_body
    assert as_config["totalTokens"] > NAME["totalTokens"]
    as_dict = vertexmeter.count_tokens(FLASH, "What is your name?", config={"system_instruction": "Answer briefly."})
    assert as_dict["totalTokens"] > 5


def test_config_on_the_gemini_api_goes_inside_generate_content_request() -> None:
    """The Gemini API's countTokens takes a system instruction only inside generateContentRequest: the config
    is put there, as the refusal's hint used to tell the caller to do by hand."""
    counted = vertexmeter.count_tokens(FLASH, "hi", api="gemini", config={"system_instruction": "Answer briefly."})
    wrapped = {
        "generateContentRequest": {
            "model": f"models/{FLASH}",
            "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
            "systemInstruction": {"role": "user", "parts": [{"text": "Answer briefly."}]},
        }
    }
    assert counted == vertexmeter.count_tokens(FLASH, wrapped, api="gemini")
    assert counted["totalTokens"] > 1


def test_config_conflicts_and_unknown_fields_are_named() -> None:
    body = {"contents": "hi", "systemInstruction": {"parts": [{"text": "a"}]}}
    error = refused(lambda: vertexmeter.count_tokens(FLASH, body, config={"system_instruction": "b"}))
    assert "given twice" in error.message
    error = refused(lambda: vertexmeter.count_tokens(FLASH, "hi", config={"temprature": 1}))
    assert error.field_path == "config.temprature" and "Did you mean temperature?" in error.message
    assert vertexmeter.count_tokens(FLASH, "What is your name?", config={"http_options": {"timeout": 5}}) == NAME
    assert vertexmeter.count_tokens(FLASH, "What is your name?", config={"temperature": 1}) == NAME


def test_count_refuses_generate_content_fields_with_a_hint() -> None:
    """Was: `Unknown name "safetySettings"` from count while estimate accepts the body, with no word why."""
    body = {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
    }
    error = refused(lambda: vertexmeter.count_tokens(FLASH, body))
    assert error.message.startswith('Invalid JSON payload received. Unknown name "safetySettings"')
    assert "vertexmeter usage" in error.message and "vertexmeter estimate" in error.message
    assert vertexmeter.usage_metadata(FLASH, body)["promptTokenCount"] > 0
    assert vertexmeter.estimate(FLASH, body, output_tokens=10, date="2026-01-15").total > 0


@pytest.mark.parametrize("field", ["systemInstruction", "tools", "generationConfig"])
def test_compute_refuses_count_fields_with_a_hint(field: str) -> None:
    """Was: compute refuses systemInstruction and tools with a bare "Unknown name"."""
    value: Any = {"parts": [{"text": "x"}]} if field == "systemInstruction" else ([] if field == "tools" else {})
    error = refused(lambda: vertexmeter.compute_tokens(FLASH, {"contents": "hi", field: value}))
    assert error.message.startswith(f'Invalid JSON payload received. Unknown name "{field}"')
    assert "countTokens (`vertexmeter count`)" in error.message


def test_gemini_api_top_level_generate_fields_get_a_hint() -> None:
    error = refused(lambda: vertexmeter.count_tokens(FLASH, {"contents": "hi", "systemInstruction": "x"}, api="gemini"))
    assert "inside `generateContentRequest`" in error.message


def test_legacy_model_on_the_gemini_api_does_not_talk_about_instances() -> None:
    """Was: `count -m text-bison --api gemini "hello"` -> Unknown name "instances" (never typed by the user)."""
    error = refused(lambda: vertexmeter.count_tokens("text-bison", "hello", api="gemini"))
    assert "instances" not in error.message
    assert "api='vertex'" in error.message


# ---- shapes -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "contents",
    [
        "hello",
        ["hello", "world"],
        {"text": "hello"},
        {"role": "model", "parts": [{"text": "hi"}]},
        [{"text": "a"}, {"functionCall": {"name": "f", "args": {"x": 1}}}, {"text": "b"}],
        ["a", ["b", "c"], {"role": "model", "parts": [{"text": "d"}]}, "e"],
        types.Part(text="x"),
        [types.Part(text="x"), "y", types.Content(role="model", parts=[types.Part(text="z")])],
    ],
)
def test_contents_are_read_as_google_genai_reads_them(contents: Any) -> None:
    body = request_body(contents, resolve(FLASH))
    assert plain(body["contents"]) == rest(contents)


def test_a_body_is_recognised_by_its_fields_in_either_case() -> None:
    info = resolve(FLASH)
    snake = {"contents": [{"parts": [{"text": "hi"}]}], "system_instruction": {"parts": [{"text": "x"}]}}
    assert request_body(snake, info) == snake
    assert request_body({}, info) == {}
    assert request_body(b'{"contents": []}', info) == {"contents": []}


def test_legacy_models_take_text_in_their_own_instance_field() -> None:
    assert request_body("hi", resolve("text-bison")) == {"instances": [{"prompt": "hi"}]}
    assert request_body(["a", "b"], resolve("code-gecko")) == {"instances": [{"prefix": "a"}, {"prefix": "b"}]}
    assert request_body(["a", "b"], resolve("chat-bison")) == {
        "instances": [{"messages": [{"author": "user", "content": "a"}, {"author": "user", "content": "b"}]}]
    }
    seed = "Give me ten interview questions for the role of program manager."
    assert vertexmeter.count_tokens("text-bison@002", seed) == {
        "totalTokens": 12,
        "totalBillableCharacters": 54,
    }


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        ({"contents": [{"parts": [{"text": "x", "thought": float("nan")}]}]}, 'the string "NaN"'),
        ({"generationConfig": {"temperature": math.inf}}, 'the string "Infinity"'),
        ({"contents": {1, 2}}, "builtins.set is not JSON"),
        ({"contents": [object()]}, "builtins.object is not JSON"),
        ({1: "x"}, "keys are strings"),
        ({"contents": [{"parts": [{"text": 10**5000}]}]}, "out of range for a double"),
        ({"generationConfig": {"seed": -(2**1100)}}, "out of range for a double"),
        ("bad \udcff byte", "lone UTF-16 surrogate"),
        (42, "got int"),
    ],
)
def test_what_is_not_json_is_refused_with_its_path(request_: Any, words: str) -> None:
    error = refused(lambda: vertexmeter.count_tokens(FLASH, request_))
    assert error.status == "INVALID_ARGUMENT" and words in error.message


def test_deep_and_cyclic_objects_are_refused_not_recursed() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(10_000):
        node["k"] = {}
        node = node["k"]
    assert "deeper than" in refused(lambda: vertexmeter.count_tokens(FLASH, {"contents": [deep]})).message
    cycle: dict[str, Any] = {"parts": []}
    cycle["parts"].append(cycle)
    assert "deeper than" in refused(lambda: vertexmeter.count_tokens(FLASH, cycle)).message


def test_key_order_is_kept() -> None:
    """computeTokens lists tokens in the order of the keys of a function call's args."""
    args = {"zeta": "1", "alpha": "2", "mid": "3"}
    body = request_body({"contents": [{"parts": [{"functionCall": {"name": "f", "args": args}}]}]}, resolve(FLASH))
    assert list(body["contents"][0]["parts"][0]["functionCall"]["args"]) == ["zeta", "alpha", "mid"]


python_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([10**400, -(2**1024), 2**1023]),
        st.floats(),
        st.text(max_size=10),
        st.binary(max_size=8),
        st.sampled_from([object(), {1, 2}, types.Part(text="p"), 1j]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.sampled_from(["contents", "parts", "text", "role", "tools", "x", 1]), inner, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(python_values, st.sampled_from([FLASH, "text-bison", "chat-bison"]), st.sampled_from(["vertex", "gemini"]))
def test_any_python_value_is_counted_or_refused_in_googles_shape(value: Any, model: str, api: str) -> None:
    try:
        vertexmeter.count_tokens(model, value, api=api)
    except VertexMeterError as error:
        assert error.code in (400, 404)


json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.binary(max_size=8)
    | st.integers(min_value=2**1023, max_value=2**1030),
    lambda inner: (
        st.lists(inner, max_size=4) | st.tuples(inner) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


def walked(value: Any) -> Any:
    """What the copying walk makes of `value` (a tuple root never takes the as-is path)."""
    return plain((value,))[0]


@settings(max_examples=300, deadline=None)
@given(json_like)
def test_plain_data_comes_back_as_it_is_and_anything_else_as_the_walk_makes_it(value: Any) -> None:
    try:
        expected = walked(value)
    except VertexMeterError as refused:
        with pytest.raises(VertexMeterError) as again:
            plain(value)
        assert again.value.status == refused.status
        return
    got = plain(value)
    assert got == expected or (got != got and expected != expected)  # NaN never equals itself; refused anyway
    if got is value:  # the as-is path: only for data the walk would give back equal
        assert expected == value


def test_plain_json_is_not_copied_and_deep_or_odd_data_still_is_refused() -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {"maxOutputTokens": 5}}
    assert plain(body) is body
    nested: Any = "x"
    for _ in range(120):
        nested = [nested]
    with pytest.raises(VertexMeterError, match="deeper"):
        plain(nested)
    with pytest.raises(VertexMeterError, match="surrogate"):
        plain({"text": "\ud800"})
    assert plain({"blob": b"\x00"}) == {"blob": "AA=="}
