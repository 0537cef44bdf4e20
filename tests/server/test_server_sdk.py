"""The official google-genai SDK, unchanged, against a real server: Vertex with a bearer token,
Vertex express mode (API key) and the Gemini Developer API — the numbers must be the library's."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from google.oauth2.credentials import Credentials

from tests.server.server_helpers import RunningServer, library_answer

MODES = ("vertex-bearer", "vertex-express", "gemini-api")
VERTEX_MODES = ("vertex-bearer", "vertex-express")


@pytest.fixture(autouse=True)
def _no_ambient_google_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "GOOGLE_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_CLOUD_PROJECT",
        "GOOGLE_CLOUD_LOCATION",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "GOOGLE_GENAI_API_VERSION",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ):
        monkeypatch.delenv(name, raising=False)


def make_client(mode: str, base_url: str, *, key: str | None = None) -> genai.Client:
    options = types.HttpOptions(base_url=base_url)
    if mode == "vertex-bearer":
        return genai.Client(
            vertexai=True,
            project="proj-sdk",
            location="us-central1",
            credentials=Credentials(token=key or "test-token"),
            http_options=options,
        )
    if mode == "vertex-express":
        return genai.Client(vertexai=True, api_key=key or "express-key-1", http_options=options)
    return genai.Client(api_key=key or "gemini-key-2", http_options=options)


def api_of(mode: str) -> str:
    return "gemini" if mode == "gemini-api" else "vertex"


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


PROMPTS: dict[str, tuple[Any, dict[str, Any]]] = {
    # name: (what the SDK is given, the REST body it amounts to)
    "plain": ("What is your name?", {"contents": [user("What is your name?")]}),
    "unicode": ("这是一条unicode测试🤪❤★", {"contents": [user("这是一条unicode测试🤪❤★")]}),
    "multi-turn": (
        [
            user("Hi, I'm planning a trip to Kyoto."),
            {"role": "model", "parts": [{"text": "Lovely! When are you going?"}]},
            user("In April, for the cherry blossoms. Two parts:"),
        ],
        {
            "contents": [
                user("Hi, I'm planning a trip to Kyoto."),
                {"role": "model", "parts": [{"text": "Lovely! When are you going?"}]},
                user("In April, for the cherry blossoms. Two parts:"),
            ]
        },
    ),
}
MODELS = ("gemini-2.5-flash", "gemini-3-pro-preview", "gemini-3.5-flash", "gemini-1.5-pro-002")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("prompt", sorted(PROMPTS))
def test_count_tokens_equals_library(keyed_server: RunningServer, mode: str, model: str, prompt: str) -> None:
    given, body = PROMPTS[prompt]
    client = make_client(mode, keyed_server.base_url)  # keep a reference: a collected Client closes its transport
    response = client.models.count_tokens(model=model, contents=given)
    code, expected = library_answer("countTokens", model, body, api=api_of(mode))
    assert code == 200
    assert response.total_tokens == expected.get("totalTokens")


@pytest.mark.parametrize("mode", VERTEX_MODES)
@pytest.mark.parametrize("model", ("gemini-2.5-flash", "gemini-3.5-flash", "gemini-1.5-flash"))
@pytest.mark.parametrize("prompt", sorted(PROMPTS))
def test_compute_tokens_equals_library(keyed_server: RunningServer, mode: str, model: str, prompt: str) -> None:
    given, body = PROMPTS[prompt]
    client = make_client(mode, keyed_server.base_url)
    response = client.models.compute_tokens(model=model, contents=given)
    code, expected = library_answer("computeTokens", model, body)
    assert code == 200
    got = [
        {"tokens": list(info.tokens or []), "tokenIds": list(info.token_ids or []), "role": info.role}
        for info in response.tokens_info or []
    ]
    want = [
        {
            "tokens": [base64.b64decode(t) for t in info["tokens"]],
            "tokenIds": [int(i) for i in info["tokenIds"]],
            "role": info.get("role"),
        }
        for info in expected["tokensInfo"]
    ]
    assert got == want


def test_gemini_api_has_no_compute_tokens_in_the_sdk(keyed_server: RunningServer) -> None:
    client = make_client("gemini-api", keyed_server.base_url)
    with pytest.raises(ValueError, match="only supported in"):
        client.models.compute_tokens(model="gemini-2.5-flash", contents="x")


@pytest.mark.parametrize("mode", VERTEX_MODES)
def test_count_tokens_with_system_instruction_tools_and_schema(keyed_server: RunningServer, mode: str) -> None:
    config = types.CountTokensConfig(
        system_instruction="You are a helpful travel agent.",
        tools=[
            types.Tool(
                function_declarations=[
                    types.FunctionDeclaration(
                        name="get_weather",
                        description="Weather forecast for a city.",
                        parameters=types.Schema(
                            type=types.Type.OBJECT,
                            properties={"city": types.Schema(type=types.Type.STRING, description="City name")},
                            required=["city"],
                        ),
                    )
                ]
            )
        ],
        generation_config=types.GenerationConfig(
            response_mime_type="application/json",
            response_schema=types.Schema(type=types.Type.ARRAY, items=types.Schema(type=types.Type.STRING)),
        ),
    )
    client = make_client(mode, keyed_server.base_url)
    response = client.models.count_tokens(model="gemini-2.5-flash", contents="Where should I go in May?", config=config)
    body = {
        "contents": [user("Where should I go in May?")],
        "systemInstruction": {"parts": [{"text": "You are a helpful travel agent."}], "role": "user"},
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "get_weather",
                        "description": "Weather forecast for a city.",
                        "parameters": {
                            "type": "OBJECT",
                            "properties": {"city": {"type": "STRING", "description": "City name"}},
                            "required": ["city"],
                        },
                    }
                ]
            }
        ],
        "generationConfig": {
            "responseMimeType": "application/json",
            "responseSchema": {"type": "ARRAY", "items": {"type": "STRING"}},
        },
    }
    code, expected = library_answer("countTokens", "gemini-2.5-flash", body)
    assert code == 200
    assert response.total_tokens == expected["totalTokens"]
    # The extras count: the same prompt alone is smaller.
    _, prompt_only = library_answer("countTokens", "gemini-2.5-flash", {"contents": body["contents"]})
    assert expected["totalTokens"] > prompt_only["totalTokens"]


@pytest.mark.parametrize(
    ("mode", "model"),
    [
        ("vertex-bearer", "publishers/google/models/gemini-2.0-flash-001"),
        ("vertex-express", "publishers/google/models/gemini-2.5-flash-lite"),
        ("vertex-bearer", "gemini-2.5-flash-preview-05-20"),
        ("gemini-api", "models/gemini-2.5-flash"),
        ("gemini-api", "gemini-2.0-flash-lite-001"),
    ],
)
def test_model_spellings_through_the_sdk(keyed_server: RunningServer, mode: str, model: str) -> None:
    client = make_client(mode, keyed_server.base_url)
    response = client.models.count_tokens(model=model, contents="Hello there")
    _, expected = library_answer("countTokens", model, {"contents": [user("Hello there")]}, api=api_of(mode))
    assert response.total_tokens == expected["totalTokens"]


@pytest.mark.parametrize("mode", MODES)
def test_async_client(keyed_server: RunningServer, mode: str) -> None:
    client = make_client(mode, keyed_server.base_url)

    async def go() -> int | None:
        results = await asyncio.gather(
            *(client.aio.models.count_tokens(model="gemini-2.5-flash", contents=f"Question {i}?") for i in range(8))
        )
        return sum(r.total_tokens or 0 for r in results)

    total = asyncio.run(go())
    expected = sum(
        library_answer("countTokens", "gemini-2.5-flash", {"contents": [user(f"Question {i}?")]}, api=api_of(mode))[1][
            "totalTokens"
        ]
        for i in range(8)
    )
    assert total == expected


# ---- errors surface as the SDK's own ClientError, with Google's code and status ----------------------


def _client_error(call: Callable[[], Any]) -> genai_errors.ClientError:
    with pytest.raises(genai_errors.ClientError) as info:
        call()
    return info.value


@pytest.mark.parametrize("mode", MODES)
def test_unknown_model_is_404_not_found(keyed_server: RunningServer, mode: str) -> None:
    client = make_client(mode, keyed_server.base_url)
    error = _client_error(lambda: client.models.count_tokens(model="gemini-9.9-ultra", contents="hi"))
    assert (error.code, error.status) == (404, "NOT_FOUND")
    message = error.message or ""
    if mode == "gemini-api":
        assert message.startswith(
            "models/gemini-9.9-ultra is not found for API version v1, or is not supported for countTokens."
        )
    elif mode == "vertex-bearer":
        assert message.startswith(
            "Publisher Model `projects/proj-sdk/locations/us-central1/publishers/google/models/gemini-9.9-ultra` "
            "was not found or your project does not have access to it."
        )
    else:
        assert message.startswith("Publisher Model `publishers/google/models/gemini-9.9-ultra` was not found")


@pytest.mark.parametrize("mode", MODES)
def test_bad_role_is_400_invalid_argument(keyed_server: RunningServer, mode: str) -> None:
    client = make_client(mode, keyed_server.base_url)
    contents: Any = [{"role": "assistant", "parts": [{"text": "hi"}]}]
    error = _client_error(lambda: client.models.count_tokens(model="gemini-2.5-flash", contents=contents))
    assert (error.code, error.status) == (400, "INVALID_ARGUMENT")
    assert error.message == "Please use a valid role: user, model"
    assert error.details["error"]["details"][0]["fieldViolations"][0]["field"] == "contents[0].role"


@pytest.mark.parametrize("mode", MODES)
def test_wrong_credential_is_403_permission_denied(keyed_server: RunningServer, mode: str) -> None:
    client = make_client(mode, keyed_server.base_url, key="not-a-configured-key")
    error = _client_error(lambda: client.models.count_tokens(model="gemini-2.5-flash", contents="hi"))
    assert (error.code, error.status) == (403, "PERMISSION_DENIED")


def test_compute_tokens_refuses_media_like_vertex(keyed_server: RunningServer) -> None:
    client = make_client("vertex-bearer", keyed_server.base_url)
    parts: Any = [types.Part.from_bytes(data=b"\x89PNG\r\n\x1a\n", mime_type="image/png")]
    error = _client_error(lambda: client.models.compute_tokens(model="gemini-2.5-flash", contents=parts))
    assert (error.code, error.status) == (400, "INVALID_ARGUMENT")


@pytest.mark.parametrize(
    ("mode", "path"),
    [
        ("vertex-bearer", "/v1beta1/projects/proj-sdk/locations/us-central1/publishers/google/models/gemini-2.5-flash"),
        ("vertex-express", "/v1beta1/publishers/google/models/gemini-2.5-flash"),
        ("gemini-api", "/v1/models/gemini-2.5-flash"),
    ],
)
def test_the_paths_the_sdk_calls(server_factory: Any, mode: str, path: str) -> None:
    """What google-genai 3.4.0 sends (its _api_client.py): v1beta1 for Vertex, v1 for the Gemini API,
    the project prefix only with project/location."""
    server: RunningServer = server_factory(quota_rpm=0)
    client = make_client(mode, server.base_url)
    client.models.count_tokens(model="gemini-2.5-flash", contents="where?")
    if mode != "gemini-api":
        client.models.compute_tokens(model="gemini-2.5-flash", contents="where?")
    expected = [f"{path}:countTokens"] + ([f"{path}:computeTokens"] if mode != "gemini-api" else [])
    paths = [line["path"] for line in server.access_lines(len(expected)) if line["path"].startswith(path)]
    assert paths[-len(expected) :] == expected
