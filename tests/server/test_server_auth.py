"""API keys: 401 without a credential, 403 with a wrong one, three ways to present one, nothing logged."""

from __future__ import annotations

import hmac
import re
from typing import Any

import httpx
import pytest

from tests.server.server_helpers import RunningServer, library_answer
from vertexmeter.server.auth import KeyChecker

PATH = "/v1beta1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:countTokens"
BODY = {"contents": [{"role": "user", "parts": [{"text": "Who goes there?"}]}]}


def error_of(response: httpx.Response, code: int, status: str) -> dict[str, Any]:
    assert response.status_code == code
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    error: dict[str, Any] = response.json()["error"]
    assert (error["code"], error["status"]) == (code, status)
    return error


def test_missing_credential_is_401(keyed_server: RunningServer) -> None:
    with keyed_server.client() as client:
        for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
            error = error_of(client.post(PATH, json=BODY, headers=headers), 401, "UNAUTHENTICATED")
            assert error["message"].startswith("Request is missing required authentication credential.")
            assert error["details"][0]["reason"] == "CREDENTIALS_MISSING"


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        ({"x-goog-api-key": "wrong-key"}, {}),
        ({"Authorization": "Bearer wrong-token"}, {}),
        ({}, {"key": "wrong-key"}),
        ({"x-goog-api-key": "test-token-but-longer"}, {}),
        ({"x-goog-api-key": "TEST-TOKEN"}, {}),
    ],
)
def test_wrong_credential_is_403(keyed_server: RunningServer, headers: dict[str, str], params: dict[str, str]) -> None:
    with keyed_server.client() as client:
        error = error_of(client.post(PATH, json=BODY, headers=headers, params=params), 403, "PERMISSION_DENIED")
        assert error["message"] == "The caller does not have permission"


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        ({"x-goog-api-key": "express-key-1"}, {}),
        ({"Authorization": "Bearer test-token"}, {}),
        ({"authorization": "bearer gemini-key-2"}, {}),
        ({}, {"key": "gemini-key-2"}),
    ],
)
def test_each_way_of_presenting_a_key(
    keyed_server: RunningServer, headers: dict[str, str], params: dict[str, str]
) -> None:
    with keyed_server.client() as client:
        response = client.post(PATH, json=BODY, headers=headers, params=params)
    assert response.status_code == 200
    assert response.json() == library_answer("countTokens", "gemini-2.5-flash", BODY)[1]


def test_metrics_needs_a_key_health_and_schema_do_not(keyed_server: RunningServer) -> None:
    with keyed_server.client() as client:
        error_of(client.get("/metrics"), 401, "UNAUTHENTICATED")
        assert client.get("/metrics", headers={"Authorization": "Bearer test-token"}).status_code == 200
        assert client.get("/healthz").status_code == 200
        assert client.get("/openapi.json").status_code == 200


def test_every_key_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    checker = KeyChecker(("alpha", "beta", "gamma"))
    assert checker.matches("alpha")  # the first key matches, and the others are still compared
    assert [b for _, b in compared] == [b"alpha", b"beta", b"gamma"]
    compared.clear()
    assert not checker.matches("delta")
    assert len(compared) == 3


def test_no_key_or_token_reaches_the_logs(server_factory: Any) -> None:
    secrets = ("SECRET-HEADER-7f3a9", "SECRET-BEARER-2c81d", "SECRET-QUERY-0b6e4")
    wrong = "SECRET-WRONG-91d0e"
    server: RunningServer = server_factory(quota_rpm=0, api_keys=secrets, access_log=True)
    with server.client() as client:
        assert client.post(PATH, json=BODY, headers={"x-goog-api-key": secrets[0]}).status_code == 200
        assert client.post(PATH, json=BODY, headers={"Authorization": f"Bearer {secrets[1]}"}).status_code == 200
        assert client.post(PATH, json=BODY, params={"key": secrets[2]}).status_code == 200
        assert client.post(PATH, json=BODY, params={"key": wrong}).status_code == 403
        assert client.post(PATH, json=BODY, headers={"x-goog-api-key": wrong}).status_code == 403
        assert client.post("/v1/nowhere", json=BODY, params={"key": secrets[2]}).status_code == 404
        assert client.get("/metrics", headers={"Authorization": f"Bearer {secrets[1]}"}).status_code == 200
    assert len(server.access_lines(7)) >= 7  # the access log is on and has every request
    text = "\n".join(server.logs)
    for secret in (*secrets, wrong):
        assert secret not in text
    # uvicorn's own access log is on in this test server: it sees the query string with the key masked
    assert "key=REDACTED" in text
    assert not re.search(r"key=(?!REDACTED)", text)
    assert "Who goes there" not in text  # nor any request body
