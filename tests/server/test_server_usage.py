"""`…/models/{m}:usageMetadata` and the Gemini API's `:estimateCost`: the bill over HTTP, as the library answers it."""

from __future__ import annotations

import base64

import httpx
import pytest

import vertexmeter
from vertexmeter.server.estimating import estimate_from_body

GEMINI_BODY = {
    "systemInstruction": {"role": "user", "parts": [{"text": "You are a terse assistant."}]},
    "contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}],
    "tools": [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Current weather of a city.",
                    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]},
                }
            ]
        }
    ],
    "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
    "generationConfig": {"maxOutputTokens": 50, "thinkingConfig": {"thinkingBudget": 0}},
}


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/v1beta/models/gemini-2.5-flash:usageMetadata", "gemini"),
        ("/v1/models/gemini-2.5-flash:usageMetadata", "gemini"),
        ("/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:usageMetadata", "vertex"),
        ("/v1beta1/publishers/google/models/gemini-2.5-flash:usageMetadata", "vertex"),
    ],
)
def test_usage_metadata_route_answers_what_the_library_answers(http: httpx.Client, path: str, api: str) -> None:
    body = {k: v for k, v in GEMINI_BODY.items() if api == "gemini" or k != "safetySettings"}
    body = {**body, "usageOptions": {"response": "Paris.", "asOf": "2026-01-15"}}
    answer = http.post(path, json=body)
    assert answer.status_code == 200, answer.text
    request = {k: v for k, v in body.items() if k != "usageOptions"}
    expected = vertexmeter.usage_metadata("gemini-2.5-flash", request, api=api, response="Paris.", as_of="2026-01-15")
    assert answer.json() == {"usageMetadata": expected, "modelVersion": "gemini-2.5-flash"}
    assert expected["candidatesTokenCount"] == 2


@pytest.mark.parametrize(
    ("path", "as_of", "version"),
    [
        ("/v1beta/models/gemini-3-pro-preview:usageMetadata", "2026-02-01", "gemini-3-pro-preview"),
        ("/v1beta/models/gemini-3-pro-preview:usageMetadata", "2026-03-16", "gemini-3.1-pro-preview"),
        ("/v1/publishers/google/models/gemini-pro:usageMetadata", "2025-03-21", "gemini-1.0-pro-002"),
    ],
)
def test_usage_metadata_names_the_model_that_answers_a_redirected_name(
    http: httpx.Client, path: str, as_of: str, version: str
) -> None:
    body = {"contents": GEMINI_BODY["contents"], "usageOptions": {"response": "Paris.", "asOf": as_of}}
    answer = http.post(path, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["modelVersion"] == version


def test_gemini_api_and_vertex_bill_the_same_body_differently(http: httpx.Client) -> None:
    body = {"contents": GEMINI_BODY["contents"], "systemInstruction": GEMINI_BODY["systemInstruction"]}
    gemini = http.post("/v1beta/models/gemini-2.5-flash:usageMetadata", json=body).json()["usageMetadata"]
    vertex = http.post("/v1/publishers/google/models/gemini-2.5-flash:usageMetadata", json=body).json()["usageMetadata"]
    assert gemini["promptTokenCount"] == vertex["promptTokenCount"] + 2  # two role-bearing Contents


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({**GEMINI_BODY, "usageOptions": {"bogus": 1}}, 400, "usageOptions.bogus"),
        ({**GEMINI_BODY, "bogusField": 1}, 400, 'Unknown name "bogusField"'),
        ({**GEMINI_BODY, "cachedContent": "cachedContents/abc"}, 400, "cannot be read offline"),
    ],
)
def test_usage_metadata_refusals(http: httpx.Client, body: dict[str, object], status: int, fragment: str) -> None:
    answer = http.post("/v1beta/models/gemini-2.5-flash:usageMetadata", json=body)
    assert answer.status_code == status
    assert fragment in answer.json()["error"]["message"]


def test_cached_content_is_billed_when_its_size_is_stated(http: httpx.Client) -> None:
    body = {**GEMINI_BODY, "cachedContent": "cachedContents/abc", "usageOptions": {"cachedContentTokens": 4096}}
    usage = http.post("/v1beta/models/gemini-2.5-flash:usageMetadata", json=body).json()["usageMetadata"]
    plain = vertexmeter.usage_metadata("gemini-2.5-flash", GEMINI_BODY, api="gemini")
    assert usage["cachedContentTokenCount"] == 4096
    assert usage["promptTokenCount"] == plain["promptTokenCount"] + 4096


def test_gemini_estimate_cost_takes_a_generate_content_body(http: httpx.Client) -> None:
    answer = http.post("/v1beta/models/gemini-2.5-flash:estimateCost", json=GEMINI_BODY)
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got == estimate_from_body("gemini-2.5-flash", GEMINI_BODY, api="gemini").to_json()
    billed = vertexmeter.usage_metadata("gemini-2.5-flash", GEMINI_BODY, api="gemini")
    assert got["prompt"]["total_tokens"] == billed["promptTokenCount"]
    assert got["output"]["range"]["max_tokens"] == 50


def test_usage_and_estimate_take_history(http: httpx.Client) -> None:
    """Replayed thought signatures (tests/test_thoughts.py): `usageOptions.history` / `estimateOptions.history`."""
    sig = base64.b64encode(bytes(range(256)) * 2).decode()
    call = {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": sig}
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "Call f."}]},
            {"role": "model", "parts": [call]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"ok": True}}}]},
        ]
    }
    history = [
        {"candidates": [{"content": {"role": "model", "parts": [call]}}], "usageMetadata": {"thoughtsTokenCount": 88}}
    ]
    path = "/v1beta/models/gemini-3.5-flash"
    answer = http.post(f"{path}:usageMetadata", json={**body, "usageOptions": {"history": history}})
    assert answer.status_code == 200, answer.text
    expected = vertexmeter.usage_metadata("gemini-3.5-flash", body, api="gemini", history=history)
    assert answer.json()["usageMetadata"] == expected
    bounded = http.post(f"{path}:usageMetadata", json=body).json()["usageMetadata"]
    assert "bounds" in bounded and "bounds" not in expected
    estimated = http.post(f"{path}:estimateCost", json={**body, "estimateOptions": {"history": history}})
    assert estimated.status_code == 200, estimated.text
    assert estimated.json()["prompt"]["total_tokens"] == expected["promptTokenCount"]


def test_usage_of_a_streamed_response_carries_its_output_bounds(http: httpx.Client) -> None:
    """A Gemini API 2.5 stream's chunks as `usageOptions.response`: exact; the same stream joined, said streamed
    (`usageOptions.streamed`): the library's bounds, in the OpenAPI shape."""
    from tests.ground_truth import load_2026, whole_response

    record = next(r for r in load_2026() if r["id"] == "t3-0418")
    body = {"contents": [{"role": "user", "parts": [{"text": "Sum the first 50 primes."}]}]}
    chunks = whole_response(record)
    options = {"response": chunks, "asOf": record["recorded"]}
    answer = http.post("/v1beta/models/gemini-2.5-flash:usageMetadata", json={**body, "usageOptions": options})
    assert answer.status_code == 200, answer.text
    metadata = answer.json()["usageMetadata"]
    assert metadata["candidatesTokenCount"] == 643 and "bounds" not in metadata
    text = "".join(
        p.get("text", "") for c in chunks for p in c["candidates"][0]["content"]["parts"] if not p.get("thought")
    )
    joined = {"role": "model", "parts": [{"text": text}]}
    options = {"response": joined, "asOf": record["recorded"], "streamed": True}
    answer = http.post("/v1beta/models/gemini-2.5-flash:usageMetadata", json={**body, "usageOptions": options})
    assert answer.status_code == 200, answer.text
    metadata = answer.json()["usageMetadata"]
    expected = vertexmeter.usage_metadata(
        "gemini-2.5-flash", body, api="gemini", response=joined, as_of=record["recorded"], streamed=True
    )
    assert metadata == expected and metadata["bounds"]["candidatesTokenCount"] == [638, 652]
    shape = _bounds_schema(http.get("/openapi.json").json())
    properties = shape["properties"]
    assert isinstance(properties, dict) and shape["additionalProperties"] is False
    assert set(metadata["bounds"]) <= set(properties)  # the served schema names every key the answer has
    assert all(len(v) == 2 for k, v in metadata["bounds"].items() if k != "reason")


JOINED_TEXT = "The capital of France is Paris, known for the Eiffel Tower, the Louvre and the cafés of its boulevards."


def test_usage_and_estimate_take_streamed(http: httpx.Client) -> None:
    """`usageOptions.streamed` / `estimateOptions.streamed`: a response given joined from a Gemini API 2.5 stream
    carries the stream's output bounds, as the library answers; not a boolean is refused with its field path."""
    body = {"contents": [{"role": "user", "parts": [{"text": "Tell me about Paris."}]}]}
    path = "/v1beta/models/gemini-2.5-flash"
    options = {"response": JOINED_TEXT, "asOf": "2026-02-09"}
    streamed = http.post(f"{path}:usageMetadata", json={**body, "usageOptions": {**options, "streamed": True}})
    assert streamed.status_code == 200, streamed.text
    metadata = streamed.json()["usageMetadata"]
    expected = vertexmeter.usage_metadata(
        "gemini-2.5-flash", body, api="gemini", response=JOINED_TEXT, as_of="2026-02-09", streamed=True
    )
    assert metadata == expected
    low, high = metadata["bounds"]["candidatesTokenCount"]
    assert low < metadata["candidatesTokenCount"] < high
    whole = http.post(f"{path}:usageMetadata", json={**body, "usageOptions": {**options, "streamed": False}})
    assert "bounds" not in whole.json()["usageMetadata"]
    assert whole.json()["usageMetadata"]["candidatesTokenCount"] == metadata["candidatesTokenCount"]
    for method, name in ((":usageMetadata", "usageOptions"), (":estimateCost", "estimateOptions")):
        refused = http.post(f"{path}{method}", json={**body, name: {"streamed": "yes"}})
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert error["status"] == "INVALID_ARGUMENT" and f"{name}.streamed" in error["message"]
    estimated = http.post(f"{path}:estimateCost", json={**body, "estimateOptions": {"streamed": True}})
    assert estimated.status_code == 200, estimated.text
    with pytest.raises(vertexmeter.VertexMeterError, match="streamed"):
        vertexmeter.usage("gemini-2.5-flash", body, api="gemini", streamed="yes")  # type: ignore[arg-type]


def _bounds_schema(document: dict[str, object]) -> dict[str, object]:
    """The `bounds` object's schema in the served OpenAPI document, wherever it sits."""
    found: list[dict[str, object]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict) and isinstance(properties.get("bounds"), dict):
                found.append(properties["bounds"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert found
    return found[0]
