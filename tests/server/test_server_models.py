"""models.list / models.get for the registry on both APIs' paths, and a generateContent that says where to
go instead — over real HTTP, with curl's view (httpx) and google-genai's (the SDK, unchanged)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from google.oauth2.credentials import Credentials

from tests.server.server_helpers import SDK_KEYS, RunningServer
from vertexmeter.registry import all_models, resolve

FLASH = "gemini-2.5-flash"
BODY = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}


@pytest.fixture(autouse=True)
def _no_ambient_google_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)


def client(mode: str, base_url: str) -> genai.Client:
    options = types.HttpOptions(base_url=base_url)
    if mode == "vertex-bearer":
        return genai.Client(
            vertexai=True, project="p", location="us-central1", credentials=Credentials(token="t"), http_options=options
        )
    if mode == "vertex-express":
        return genai.Client(vertexai=True, api_key="express-key-1", http_options=options)
    return genai.Client(api_key="gemini-key-2", http_options=options)


def error_of(response: httpx.Response, code: int) -> dict[str, Any]:
    assert response.status_code == code, response.text
    error: dict[str, Any] = response.json()["error"]
    assert (error["code"], set(error)) == (code, {"code", "message", "status", "details"})
    return error


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_gemini_models_list_and_get(http: httpx.Client, version: str) -> None:
    listed = http.get(f"/{version}/models").json()["models"]
    names = [m["name"] for m in listed]
    assert f"models/{FLASH}" in names and "models/text-bison" not in names  # PaLM is Vertex's only
    # Each API lists what it serves (models.yaml `apis`): Gemma here, not Vertex-only variants.
    assert set(names) == {
        f"models/{m.id}"
        for m in all_models()
        if "gemini" in m.apis and (not m.is_legacy or m.generation == "embedding")
    }
    got = http.get(f"/{version}/models/{FLASH}").json()
    info = resolve(FLASH)
    assert got == next(m for m in listed if m["name"] == f"models/{FLASH}")
    assert (got["inputTokenLimit"], got["outputTokenLimit"]) == (info.input_token_limit, info.output_token_limit)
    assert "countTokens" in got["supportedGenerationMethods"]
    error = error_of(http.get(f"/{version}/models/gemini-2.5-flsh"), 404)
    assert error["status"] == "NOT_FOUND" and FLASH in error["message"]  # the closest name


@pytest.mark.parametrize(
    "prefix",
    ["/v1/publishers/google", "/v1beta1/publishers/google", "/v1/projects/p/locations/us-central1/publishers/google"],
)
def test_vertex_publisher_models_list_and_get(http: httpx.Client, prefix: str) -> None:
    listed = http.get(f"{prefix}/models").json()["publisherModels"]
    assert {m["name"] for m in listed} == {
        f"publishers/google/models/{m.id}" for m in all_models() if "vertex" in m.apis
    }
    got = http.get(f"{prefix}/models/{FLASH}").json()
    assert got["name"] == f"publishers/google/models/{FLASH}" and got in listed
    assert http.get(f"{prefix}/models/text-bison@002").json()["name"] == "publishers/google/models/text-bison"
    error = error_of(http.get(f"{prefix}/models/nano-0"), 404)
    assert error["status"] == "NOT_FOUND"


def test_other_publishers_have_no_models_here(http: httpx.Client) -> None:
    assert http.get("/v1/publishers/anthropic/models").json() == {"publisherModels": []}
    assert error_of(http.get(f"/v1/publishers/anthropic/models/{FLASH}"), 404)["status"] == "NOT_FOUND"


def test_get_on_a_post_method_stays_405(http: httpx.Client) -> None:
    response = http.get(f"/v1/publishers/google/models/{FLASH}:countTokens")
    assert error_of(response, 405)["status"] == "UNIMPLEMENTED" and response.headers["allow"] == "POST"
    assert error_of(http.get(f"/v1beta/models/{FLASH}:countTokens"), 405)["status"] == "UNIMPLEMENTED"


@pytest.mark.parametrize(
    "base",
    [
        f"/v1beta/models/{FLASH}",
        f"/v1/publishers/google/models/{FLASH}",
        f"/v1beta1/projects/p/locations/us-central1/publishers/google/models/{FLASH}",
    ],
)
@pytest.mark.parametrize("method", ["generateContent", "streamGenerateContent"])
def test_generate_content_says_where_to_post_instead(http: httpx.Client, base: str, method: str) -> None:
    """Was: a bare 404. The message names the two methods that take the same body, which then answer."""
    error = error_of(http.post(f"{base}:{method}", json=BODY), 404)
    assert error["status"] == "NOT_FOUND"
    assert f"{base}:usageMetadata" in error["message"] and f"{base}:estimateCost" in error["message"]
    assert http.post(f"{base}:usageMetadata", json=BODY).json()["usageMetadata"]["promptTokenCount"] > 0
    assert http.post(f"{base}:estimateCost", json=BODY).status_code == 200


def test_keys_guard_the_model_routes(keyed_server: RunningServer) -> None:
    with keyed_server.client() as keyed:
        assert error_of(keyed.get("/v1beta/models"), 401)["status"] == "UNAUTHENTICATED"
        wrong = keyed.get("/v1/publishers/google/models", headers={"x-goog-api-key": "nope"})
        assert error_of(wrong, 403)["status"] == "PERMISSION_DENIED"
        right = keyed.get("/v1beta/models", headers={"x-goog-api-key": sorted(SDK_KEYS)[0]})
        assert right.status_code == 200


@pytest.mark.parametrize("mode", ["vertex-bearer", "vertex-express", "gemini-api"])
def test_the_sdk_lists_and_gets_models(open_server: RunningServer, mode: str) -> None:
    sdk = client(mode, open_server.base_url)
    listed = list(sdk.models.list())
    assert any(m.name and m.name.endswith(f"models/{FLASH}") for m in listed)
    got = sdk.models.get(model=FLASH)
    assert got.name is not None and got.name.endswith(f"models/{FLASH}")
    if mode == "gemini-api":
        assert got.input_token_limit == resolve(FLASH).input_token_limit
    with pytest.raises(genai_errors.ClientError) as refused:
        sdk.models.generate_content(model=FLASH, contents="Hi")
    assert refused.value.code == 404 and ":usageMetadata" in str(refused.value.message)
