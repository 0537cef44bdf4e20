"""`…/models/{m}:estimateCost`: the server's extension, answering what `vertexmeter.pricing` answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.server.server_helpers import RunningServer
from vertexmeter.errors import VertexMeterError
from vertexmeter.server.estimating import estimate_from_body

TEXT = {"contents": [{"role": "user", "parts": [{"text": "Summarise the plot of Hamlet in three sentences."}]}]}


def library(model: str, body: Any) -> tuple[int, dict[str, Any]]:
    try:
        return 200, estimate_from_body(model, body).to_json()
    except VertexMeterError as error:
        return error.code, error.to_json()


@pytest.mark.parametrize(
    "body",
    [
        {**TEXT, "estimateOptions": {"outputTokens": 250}},
        {**TEXT, "generationConfig": {"maxOutputTokens": 1024}},  # no output size: a range up to the cap
        {**TEXT, "estimateOptions": {"outputTokens": 250, "mode": "batch", "date": "2025-09-01"}},
        {**TEXT, "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}]},
    ],
    ids=["output-given", "range", "batch-dated", "generate-content-fields"],
)
@pytest.mark.parametrize(
    "path",
    [
        "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:estimateCost",
        "/v1beta1/publishers/google/models/gemini-2.5-flash:estimateCost",
    ],
)
def test_estimate_equals_the_pricing_library(http: httpx.Client, path: str, body: dict[str, Any]) -> None:
    response = http.post(path, json=body)
    assert (response.status_code, response.json()) == library("gemini-2.5-flash", body)
    assert response.headers["content-type"] == "application/json; charset=UTF-8"


def test_character_billed_model(http: httpx.Client) -> None:
    body = {
        "instances": [{"prompt": "Give me ten interview questions for the role of program manager."}],
        "estimateOptions": {"outputCharacters": 400},
    }
    response = http.post("/v1/publishers/google/models/text-bison@002:estimateCost", json=body)
    assert (response.status_code, response.json()) == library("text-bison@002", body)


@pytest.mark.parametrize(
    "body",
    [
        {**TEXT, "estimateOptions": {"outputTokenz": 1}},
        {**TEXT, "estimateOptions": {"outputTokens": -5}},
        {**TEXT, "estimateOptions": {"mode": "cheapest"}},
        {**TEXT, "estimateOptions": "lots"},
    ],
    ids=["unknown-option", "negative", "bad-mode", "not-an-object"],
)
def test_bad_options_are_the_librarys_400(http: httpx.Client, body: dict[str, Any]) -> None:
    response = http.post("/v1/publishers/google/models/gemini-2.5-flash:estimateCost", json=body)
    code, expected = library("gemini-2.5-flash", body)
    assert code == 400
    assert (response.status_code, response.json()) == (code, expected)


def test_not_on_endpoints(http: httpx.Client) -> None:
    """Endpoints have no price of their own; the Gemini API path serves it (tests/server/test_server_usage.py)."""
    assert http.post("/v1/endpoints/1:estimateCost", json=TEXT).status_code == 404
    assert http.post("/v1/endpoints/1:usageMetadata", json=TEXT).status_code == 404


def test_estimate_spends_the_same_quota(server_factory: Any) -> None:
    server: RunningServer = server_factory(quota_rpm=1)
    path = "/v1/projects/q/locations/l/publishers/google/models/gemini-2.5-flash:{rpc}"
    with server.client() as client:
        assert client.post(path.format(rpc="estimateCost"), json=TEXT).status_code == 200
        assert client.post(path.format(rpc="countTokens"), json=TEXT).status_code == 429
