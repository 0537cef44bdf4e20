"""Every route form, the dialect that follows the path, and every refusal in Google's shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.server_helpers import RunningServer, library_answer

JSON_TYPE = "application/json; charset=UTF-8"
TEXT = {"contents": [{"role": "user", "parts": [{"text": "What is your name?"}]}]}
VERTEX_PATHS = {
    "projects_models": "/{v}/projects/p1/locations/us-central1/publishers/google/models/{m}:{rpc}",
    "projects_endpoints": "/{v}/projects/p1/locations/us-central1/endpoints/1234567890:{rpc}",
    "publishers_models": "/{v}/publishers/google/models/{m}:{rpc}",
    "endpoints": "/{v}/endpoints/1234567890:{rpc}",
}


def assert_google_error(response: httpx.Response, code: int, status: str) -> dict[str, Any]:
    assert response.status_code == code
    assert response.headers["content-type"] == JSON_TYPE
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "status", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
@pytest.mark.parametrize("form", sorted(VERTEX_PATHS))
@pytest.mark.parametrize("rpc", ["countTokens", "computeTokens"])
def test_vertex_routes_answer_like_the_library(http: httpx.Client, version: str, form: str, rpc: str) -> None:
    model = "gemini-2.5-flash"
    path = VERTEX_PATHS[form].format(v=version, m=model, rpc=rpc)
    body = (
        {"model": f"projects/p1/locations/us-central1/publishers/google/models/{model}", **TEXT}
        if ("endpoints" in form)
        else TEXT
    )
    response = http.post(path, json=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_TYPE
    assert response.json() == library_answer(rpc, model, TEXT)[1]


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_gemini_api_routes_answer_like_the_library(http: httpx.Client, version: str) -> None:
    response = http.post(f"/{version}/models/gemini-2.5-flash:countTokens", json=TEXT)
    assert response.status_code == 200
    assert response.json() == library_answer("countTokens", "gemini-2.5-flash", TEXT, api="gemini")[1]


def test_the_dialect_follows_the_path(http: httpx.Client) -> None:
    """Vertex and the Gemini API count the same request differently; each path gets its own answer."""
    vertex = http.post("/v1/publishers/google/models/gemini-2.5-flash:countTokens", json=TEXT).json()
    gemini = http.post("/v1/models/gemini-2.5-flash:countTokens", json=TEXT).json()
    assert vertex == library_answer("countTokens", "gemini-2.5-flash", TEXT, api="vertex")[1]
    assert gemini == library_answer("countTokens", "gemini-2.5-flash", TEXT, api="gemini")[1]
    assert vertex != gemini


def test_gemini_generate_content_request(http: httpx.Client) -> None:
    body = {
        "generateContentRequest": {
            "model": "models/gemini-2.5-flash",
            "contents": TEXT["contents"],
            "systemInstruction": {"parts": [{"text": "You are a cat."}]},
        }
    }
    response = http.post("/v1beta/models/gemini-2.5-flash:countTokens", json=body)
    assert (response.status_code, response.json()) == library_answer("countTokens", "gemini-2.5-flash", body, "gemini")


@pytest.mark.parametrize(
    ("path_model", "library_model"),
    [
        ("text-bison@002", "text-bison@002"),
        ("text-bison%40002", "text-bison@002"),  # percent-encoded @
        ("chat-bison@001", "chat-bison@001"),
    ],
)
def test_model_names_with_at_versions(http: httpx.Client, path_model: str, library_model: str) -> None:
    body: dict[str, Any] = {
        "instances": [{"prompt": "Give me ten interview questions for the role of program manager."}]
    }
    if library_model.startswith("chat"):
        body = {"instances": [{"messages": [{"author": "user", "content": "Hello!"}]}]}
    for path in (
        f"/v1/projects/p1/locations/us-central1/publishers/google/models/{path_model}:countTokens",
        f"/v1beta1/publishers/google/models/{path_model}:countTokens",
    ):
        response = http.post(path, json=body)
        assert (response.status_code, response.json()) == library_answer("countTokens", library_model, body)
        assert response.status_code == 200


@pytest.mark.parametrize("model", ["gemini-2.0-flash-001", "gemini-2.5-flash-preview-05-20", "gemini-1.5-pro-002"])
def test_model_names_with_dots(http: httpx.Client, model: str) -> None:
    for path in (f"/v1beta1/publishers/google/models/{model}:countTokens", f"/v1beta/models/{model}:countTokens"):
        api = "gemini" if path.startswith("/v1beta/") else "vertex"
        response = http.post(path, json=TEXT)
        assert (response.status_code, response.json()) == library_answer("countTokens", model, TEXT, api)
        assert response.status_code == 200


def test_a_colon_inside_the_model_segment_stays_in_the_model(http: httpx.Client) -> None:
    error = assert_google_error(http.post("/v1/models/gemini:weird:countTokens", json=TEXT), 404, "NOT_FOUND")
    assert error["message"].startswith("models/gemini:weird is not found for API version v1,")


def test_endpoint_paths_take_the_model_from_the_body(http: httpx.Client) -> None:
    for model in ("gemini-3-pro-preview", "publishers/google/models/gemini-3-pro-preview"):
        response = http.post("/v1/endpoints/42:countTokens", json={"model": model, **TEXT})
        assert response.json() == library_answer("countTokens", "gemini-3-pro-preview", TEXT)[1]


def test_endpoint_path_without_a_model_is_a_clear_400(http: httpx.Client) -> None:
    for path in ("/v1/endpoints/42:countTokens", "/v1beta1/projects/p/locations/l/endpoints/42:computeTokens"):
        error = assert_google_error(http.post(path, json=TEXT), 400, "INVALID_ARGUMENT")
        assert "endpoints/42" in error["message"]
        assert error["details"][0]["fieldViolations"][0]["field"] == "model"


def test_unknown_vertex_model_is_googles_404(http: httpx.Client) -> None:
    path = "/v1/projects/p1/locations/europe-west4/publishers/google/models/gemini-0.1-nano:countTokens"
    error = assert_google_error(http.post(path, json=TEXT), 404, "NOT_FOUND")
    assert error["message"].startswith(
        "Publisher Model `projects/p1/locations/europe-west4/publishers/google/models/gemini-0.1-nano` was not "
        "found or your project does not have access to it. Please ensure you are using a valid model version."
    )


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_unknown_gemini_model_names_the_called_version(http: httpx.Client, version: str) -> None:
    error = assert_google_error(http.post(f"/{version}/models/nano-0:countTokens", json=TEXT), 404, "NOT_FOUND")
    assert error["message"].startswith(
        f"models/nano-0 is not found for API version {version}, or is not supported for countTokens. "
        "Call ListModels to see the list of available models and their supported methods."
    )


# ---- request refusals: the library's errors, same code, message and field path -------------------------

BAD_BODIES: dict[str, Any] = {
    "unknown field": {"contents": [{"role": "user", "parts": [{"text": "hi"}], "colour": "red"}]},
    "unknown top-level field": {"contents": TEXT["contents"], "temperature": 0.2},
    "bad base64": {"contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": "@@@"}}]}]},
    "bad role": {"contents": [{"role": "system", "parts": [{"text": "hi"}]}]},
    "content without parts": {"contents": [{"role": "user", "parts": []}]},
    "empty text": {"contents": [{"role": "user", "parts": [{"text": ""}]}]},
    "part without data": {"contents": [{"role": "user", "parts": [{}]}]},
    "wrong type": {"contents": [{"role": "user", "parts": [{"text": 42}]}]},
    "body is a list": [TEXT],
    "deep struct": {
        "contents": [
            {
                "role": "model",
                "parts": [{"functionCall": {"name": "f", "args": json.loads('{"a":' * 150 + "1" + "}" * 150)}}],
            }
        ]
    },
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
@pytest.mark.parametrize("rpc", ["countTokens", "computeTokens"])
def test_refusals_are_the_librarys(http: httpx.Client, case: str, rpc: str) -> None:
    body = BAD_BODIES[case]
    response = http.post(f"/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-flash:{rpc}", json=body)
    code, expected = library_answer(rpc, "gemini-2.5-flash", body)
    assert code == 400
    error = assert_google_error(response, 400, "INVALID_ARGUMENT")
    if case == "body is a list":  # the wire takes an object; the library reads a Python list as contents
        assert error["message"] == "Invalid JSON payload received. The request body must be a JSON object."
        return
    assert response.json() == expected
    if case not in ("body is a list", "deep struct"):
        assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
        assert (
            error["details"][0]["fieldViolations"][0]["field"].startswith("contents[0]")
            or "temperature" in (error["message"])
        )


def test_field_paths_are_googles_snake_case(http: httpx.Client) -> None:
    path = "/v1/publishers/google/models/gemini-2.5-flash:countTokens"
    error = assert_google_error(http.post(path, json=BAD_BODIES["bad base64"]), 400, "INVALID_ARGUMENT")
    assert error["message"].startswith("Invalid value at 'contents[0].parts[0].inline_data.data' (TYPE_BYTES)")
    error = assert_google_error(http.post(path, json=BAD_BODIES["unknown field"]), 400, "INVALID_ARGUMENT")
    assert error["message"] == (
        "Invalid JSON payload received. Unknown name \"colour\" at 'contents[0]': Cannot find field."
    )


@pytest.mark.parametrize(
    "raw",
    [
        b'{"contents": [',
        b"{'contents': []}",
        b'{"contents": [{"parts": [{"text": "hi"}]}],}',
        b"\xff\xfe\x00garbage",
        b'{"contents": NaN}',
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
    ],
    ids=["truncated", "single-quotes", "trailing-comma", "not-utf8", "nan-literal", "deep-list", "deep-object"],
)
def test_malformed_json_is_400(http: httpx.Client, raw: bytes) -> None:
    response = http.post("/v1beta1/publishers/google/models/gemini-2.5-flash:countTokens", content=raw)
    error = assert_google_error(response, 400, "INVALID_ARGUMENT")
    assert error["message"].startswith("Invalid JSON payload received.")


def test_empty_body_is_the_empty_request(http: httpx.Client) -> None:
    """Vertex answers null/absent contents with 200 and no totalTokens (proto3 omits the zero)."""
    response = http.post("/v1/publishers/google/models/gemini-2.5-flash:countTokens", content=b"")
    assert (response.status_code, response.json()) == (200, library_answer("countTokens", "gemini-2.5-flash", {})[1])


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_is_405(http: httpx.Client, method: str) -> None:
    response = http.request(method, "/v1/publishers/google/models/gemini-2.5-flash:countTokens")
    assert_google_error(response, 405, "UNIMPLEMENTED")
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/models/gemini-2.5-flash:computeTokens",  # the Gemini API has no computeTokens
        "/v1beta/models/gemini-2.5-flash:computeTokens",
        "/v1/publishers/google/models/gemini-2.5-flash:generateContent",
        "/v2/publishers/google/models/gemini-2.5-flash:countTokens",
        "/v1/tunedModels/x:countTokens",
        "/nothing/here",
    ],
)
def test_unknown_path_is_404(http: httpx.Client, path: str) -> None:
    error = assert_google_error(http.post(path, json=TEXT), 404, "NOT_FOUND")
    assert path in error["message"]


# ---- the body size cap ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_cap(server_factory: Any) -> Iterator[RunningServer]:
    yield server_factory(quota_rpm=0, max_body_bytes=4096)


def test_oversize_body_is_413(small_cap: RunningServer) -> None:
    text = "word " * 2000
    body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    with small_cap.client() as client:
        response = client.post("/v1/publishers/google/models/gemini-2.5-flash:countTokens", json=body)
        error = assert_google_error(response, 413, "INVALID_ARGUMENT")
        assert error["message"] == "Request payload size exceeds the limit: 4096 bytes."

        def chunks() -> Iterator[bytes]:  # no Content-Length: the cap holds while streaming
            yield b'{"contents": [{"role": "user", "parts": [{"text": "'
            for _ in range(100):
                yield b"x" * 100
            yield b'"}]}]}'

        response = client.post("/v1/publishers/google/models/gemini-2.5-flash:countTokens", content=chunks())
        assert_google_error(response, 413, "INVALID_ARGUMENT")
        small = {"contents": [{"role": "user", "parts": [{"text": "word " * 100}]}]}
        response = client.post("/v1/publishers/google/models/gemini-2.5-flash:countTokens", json=small)
        assert response.json() == library_answer("countTokens", "gemini-2.5-flash", small)[1]


# ---- operations ------------------------------------------------------------------------------------


def test_healthz(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_metrics_count_requests_latency_and_tokens(open_server: RunningServer) -> None:
    with open_server.client() as client:
        before = client.get("/metrics").text
        body = {"contents": [{"role": "user", "parts": [{"text": "Count me in, please."}]}]}
        client.post("/v1/publishers/google/models/gemini-2.5-pro:countTokens", json=body)
        client.post("/v1/publishers/google/models/gemini-2.5-pro:computeTokens", json=body)
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    tokens = library_answer("countTokens", "gemini-2.5-pro", body)[1]["totalTokens"]

    def sample(metrics: str, prefix: str) -> float:
        for line in metrics.splitlines():
            if line.startswith(prefix):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    count_line = 'vertexmeter_tokens_counted_total{modality="TEXT",model="gemini-2.5-pro",rpc="countTokens"}'
    assert sample(text, count_line) - sample(before, count_line) == tokens
    route = "/v1/publishers/{publisher}/models/{model}:countTokens"
    assert f'vertexmeter_requests_total{{code="200",method="POST",route="{route}"}}' in text
    assert f'vertexmeter_request_duration_seconds_bucket{{le="0.5",route="{route}"}}' in text
    compute_line = 'vertexmeter_tokens_counted_total{modality="TEXT",model="gemini-2.5-pro",rpc="computeTokens"}'
    assert sample(text, compute_line) > 0


def test_openapi_and_docs(http: httpx.Client) -> None:
    schema = http.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert "/v1beta1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:countTokens" in paths
    assert "/v1beta/models/{model}:countTokens" in paths
    assert len([p for p in paths if p.endswith((":countTokens", ":computeTokens"))]) == 18
    assert "VertexCountTokensRequest" in schema["components"]["schemas"]
    docs = http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
