"""Quota: N requests per minute per project and per key, shared by countTokens and computeTokens."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tests.server.server_helpers import RunningServer
from vertexmeter.server.quota import Quota, retry_after_header

BODY = {"contents": [{"role": "user", "parts": [{"text": "How many?"}]}]}
QUOTA_MESSAGE = (
    "Resource exhausted. Please try again later. Please refer to "
    "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details."
)


def project_path(project: str, rpc: str = "countTokens") -> str:
    return f"/v1/projects/{project}/locations/us-central1/publishers/google/models/gemini-2.5-flash:{rpc}"


def assert_429(response: httpx.Response) -> None:
    assert response.status_code == 429
    error = response.json()["error"]
    assert (error["code"], error["status"], error["message"]) == (429, "RESOURCE_EXHAUSTED", QUOTA_MESSAGE)
    assert 1 <= int(response.headers["retry-after"]) <= 60


def test_budget_per_client_address_shared_by_count_and_compute(server_factory: Any) -> None:
    """Auth off: the budget is the caller's address; a new project name per request buys nothing."""
    server: RunningServer = server_factory(quota_rpm=3)
    with server.client() as client:
        assert client.post(project_path("alpha", "countTokens"), json=BODY).status_code == 200
        assert client.post(project_path("alpha", "computeTokens"), json=BODY).status_code == 200
        assert client.post(project_path("beta", "countTokens"), json=BODY).status_code == 200
        assert_429(client.post(project_path("gamma", "computeTokens"), json=BODY))
        assert_429(client.post("/v1/models/gemini-2.5-flash:countTokens", json=BODY))
        metrics = client.get("/metrics").text
    assert "vertexmeter_quota_rejections_total 2.0" in metrics


def test_per_key_budget(server_factory: Any) -> None:
    """Keys: each key has its own budget, whatever project it names; one key cannot starve another."""
    server: RunningServer = server_factory(quota_rpm=2, api_keys=("key-one", "key-two"))
    express = "/v1beta1/publishers/google/models/gemini-2.5-flash:countTokens"
    with server.client() as client:
        one = {"x-goog-api-key": "key-one"}
        two = {"x-goog-api-key": "key-two"}
        assert client.post(express, json=BODY, headers=one).status_code == 200
        assert client.post(project_path("p1"), json=BODY, headers=one).status_code == 200
        # key-one is spent, on any project and on the express path
        assert_429(client.post(project_path("p2"), json=BODY, headers=one))
        assert_429(client.post(express, json=BODY, headers=one))
        # key-two has its own full budget, on the project key-one spent too
        assert client.post(project_path("p1"), json=BODY, headers=two).status_code == 200
        assert client.post(project_path("p1"), json=BODY, headers=two).status_code == 200
        assert_429(client.post(project_path("p1"), json=BODY, headers=two))


def test_refused_credentials_do_not_spend_the_budget(server_factory: Any) -> None:
    server: RunningServer = server_factory(quota_rpm=1, api_keys=("only-key",))
    with server.client() as client:
        for _ in range(3):
            assert client.post(project_path("p"), json=BODY).status_code == 401
        assert client.post(project_path("p"), json=BODY, headers={"x-goog-api-key": "only-key"}).status_code == 200


def test_sdk_sees_429_as_client_error(server_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION"):
        monkeypatch.delenv(name, raising=False)
    server: RunningServer = server_factory(quota_rpm=1)
    client = genai.Client(api_key="any", http_options=types.HttpOptions(base_url=server.base_url))
    assert client.models.count_tokens(model="gemini-2.5-flash", contents="one").total_tokens
    with pytest.raises(genai_errors.ClientError) as info:
        client.models.count_tokens(model="gemini-2.5-flash", contents="two")
    assert (info.value.code, info.value.status, info.value.message) == (429, "RESOURCE_EXHAUSTED", QUOTA_MESSAGE)


# ---- the window itself, on a fake clock ---------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window() -> None:
    clock = FakeClock()
    quota = Quota(3, clock=clock)
    for _ in range(3):
        assert quota.acquire(["p"]) is None
        clock.now += 10
    wait = quota.acquire(["p"])  # requests at 1000, 1010, 1020; now 1030: the first frees at 1060
    assert wait is not None and wait == pytest.approx(30.0)
    assert retry_after_header(wait) == "30"
    clock.now = 1060.0
    assert quota.acquire(["p"]) is None
    assert quota.acquire(["p"]) is not None


def test_a_refused_request_is_not_charged_anywhere() -> None:
    clock = FakeClock()
    quota = Quota(1, clock=clock)
    assert quota.acquire(["project:a", "key:k"]) is None
    assert quota.acquire(["project:b", "key:k"]) is not None  # the key is spent…
    assert quota.acquire(["project:b", "key:other"]) is None  # …and project b was not charged


def test_zero_means_off_and_retry_after_is_at_least_one_second() -> None:
    quota = Quota(0)
    assert all(quota.acquire(["p"]) is None for _ in range(10_000))
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(59.2) == "60"


def test_budgets_are_bounded_and_swept() -> None:
    clock = FakeClock()
    quota = Quota(5, clock=clock, max_budgets=100)
    for i in range(1000):
        quota.acquire([f"project:{i}"])
    assert len(quota._budgets) == 100
    clock.now += 61
    quota.acquire(["project:new"])
    assert list(quota._budgets) == ["project:new"]
