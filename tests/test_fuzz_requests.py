"""Any JSON body gets an answer or a VertexMeterError: never another exception."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vertexmeter
from vertexmeter.errors import VertexMeterError

pytestmark = pytest.mark.slow  # hypothesis over whole request bodies

# Real field names, so that generated bodies reach deep into the parser, not just "Unknown name".
NAMES = [
    "contents",
    "role",
    "parts",
    "text",
    "inlineData",
    "inline_data",
    "mimeType",
    "data",
    "fileData",
    "fileUri",
    "functionCall",
    "functionResponse",
    "name",
    "args",
    "response",
    "systemInstruction",
    "tools",
    "functionDeclarations",
    "parameters",
    "type",
    "properties",
    "items",
    "enum",
    "required",
    "description",
    "generationConfig",
    "responseSchema",
    "maxOutputTokens",
    "mediaResolution",
    "instances",
    "prompt",
    "messages",
    "content",
    "author",
    "context",
    "examples",
    "input",
    "output",
    "prefix",
    "suffix",
    "title",
    "task_type",
    "generateContentRequest",
    "model",
    "videoMetadata",
    "startOffset",
    "fps",
    "executableCode",
    "code",
    "user",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["user", "model", "OBJECT", "string", "1.5s", "AAEC", "image/png", "MEDIA_RESOLUTION_LOW"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.sampled_from(NAMES), children, max_size=5)
    ),
    max_leaves=30,
)
bodies = st.dictionaries(st.sampled_from(NAMES), json_values, max_size=5)


def answer(model: str, body: Any, api: str) -> None:
    try:
        result = vertexmeter.count_tokens(model, body, api=api)
    except VertexMeterError as error:
        assert error.to_json()["error"]["code"] in (400, 404)
        return
    assert isinstance(result, dict)
    assert result.get("totalTokens", 0) >= 0


@settings(deadline=None, max_examples=400)
@given(
    bodies,
    st.sampled_from(["gemini-2.5-flash", "gemini-1.5-pro", "text-bison", "chat-bison", "code-gecko"]),
    st.sampled_from(["vertex", "gemini"]),
)
def test_any_body_is_answered_or_refused(body: dict[str, Any], model: str, api: str) -> None:
    answer(model, body, api)


@settings(deadline=None, max_examples=200)
@given(bodies)
def test_compute_any_body_is_answered_or_refused(body: dict[str, Any]) -> None:
    try:
        result = vertexmeter.compute_tokens("gemini-2.5-flash", body)
    except VertexMeterError:
        return
    assert isinstance(result["tokensInfo"], list)
