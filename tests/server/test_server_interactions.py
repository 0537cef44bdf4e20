"""`POST /{v1,v1beta}/interactions:usage`: a Gemini Interactions API body over raw HTTP on loopback, answered with
the `usage` `vertexmeter.interactions_usage` gives (the recorded bodies of tests/data/interactions_2026.jsonl.gz,
with and without their history), every refusal in Google's error shape, and `POST /v1beta/interactions` itself
answered 404 with the pointer. Each raw request goes to a server with the fast lane and one without
(`lane_wires.Pair`); their answers must be equal byte for byte."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import vertexmeter
from tests.server.lane_wires import Pair, request
from tests.server.server_helpers import RunningServer
from vertexmeter.errors import VertexMeterError
from vertexmeter.server.errors import JSON_TYPE

DATA = Path(__file__).resolve().parents[1] / "data" / "interactions_2026.jsonl.gz"
with gzip.open(DATA, "rt", encoding="utf-8") as _lines:
    RECORDS: list[dict[str, Any]] = [json.loads(line) for line in _lines]
BY_ID = {r["id"]: r for r in RECORDS}
ROUTE = "/v1beta/interactions:usage"
SIMPLE = {"model": "gemini-3.7-flash", "input": "What is the capital of France?"}


def _answer(record_id: str) -> dict[str, Any]:
    """The recorded answer (steps and usage) of an input record's exchange, as a client keeps it."""
    output = BY_ID[record_id.replace("-", "o-")]
    return {**output["response"], "usage": output["raw_usage"]}


def _options(record: dict[str, Any], with_history: bool) -> dict[str, Any]:
    options: dict[str, Any] = {"asOf": record["recorded"]}
    if with_history and record["earlier"]:
        options["history"] = [_answer(i) for i in record["earlier"]]
    if record["kind"] == "output":
        options["response"] = record["response"]
    return options


def _library(body: dict[str, Any], options: dict[str, Any]) -> tuple[int, Any]:
    try:
        usage = vertexmeter.interactions_usage(
            body, response=options.get("response"), history=options.get("history"), as_of=options.get("asOf")
        )
    except VertexMeterError as error:
        return error.code, error.to_json()
    return 200, usage


def _post(pair: Pair, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One raw POST to both servers (answers equal byte for byte): (HTTP code, the JSON answer)."""
    ((status, head, raw),) = pair.both(request(path, body, headers))
    code = int(status.split(b" ")[1])
    assert dict(head)[b"content-type"] == JSON_TYPE.encode()
    return code, json.loads(raw)


def _error(answer: tuple[int, Any], code: int, status: str, field: str | None = None) -> dict[str, Any]:
    got, body = answer
    assert got == code, body
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "status", "details"}
    error = body["error"]
    assert (error["code"], error["status"]) == (code, status)
    if field is not None:
        (violation,) = [d for d in error["details"] if d["@type"].endswith("BadRequest")]
        assert [v["field"] for v in violation["fieldViolations"]] == [field]
    return dict(error)


# ---- the recorded bodies, answered as the library answers them ------------------------------------------------
@pytest.mark.parametrize("with_history", [False, True], ids=["bare", "history"])
@pytest.mark.parametrize("record_id", [r["id"] for r in RECORDS])
def test_recorded_bodies_are_answered_as_the_library_answers_them(
    pair: Pair, record_id: str, with_history: bool
) -> None:
    record = BY_ID[record_id]
    options = _options(record, with_history)
    body = json.dumps({**record["request"], "usageOptions": options}).encode()
    code, answer = _post(pair, ROUTE, body)
    assert (code, answer) == _library(record["request"], options)
    assert code == 200
    ((field, billed),) = record["expected"].items()
    bounds = answer.get("bounds", {}).get(field)
    # Exact, or bounded around what Google billed; a turn given its history is not bounded for its signatures.
    assert bounds is None or bounds[0] <= billed <= bounds[1]
    if with_history and record["earlier"]:
        # Given its history no bound is for the signatures' thoughts (a 3.7 turn's replayed pairs keep their seam).
        assert "signature" not in answer.get("bounds", {}).get("reason", "")


def test_a_signature_turn_is_bounded_without_its_history_and_a_point_value_with_it(pair: Pair) -> None:
    record = BY_ID["ixelmr-0002"]
    bare = _post(pair, ROUTE, json.dumps(record["request"]).encode())[1]
    low, high = bare["bounds"]["total_input_tokens"]
    assert low <= 178 <= high and "history" in bare["bounds"]["reason"]
    options = {"history": [_answer("ixelmr-0001")], "asOf": record["recorded"]}
    given = _post(pair, ROUTE, json.dumps({**record["request"], "usageOptions": options}).encode())[1]
    # 178 billed: 3.5's reading 182, bounded by the replayed pair's seam, not by the signature's size.
    assert given["total_input_tokens"] == 182 and given["bounds"]["total_input_tokens"] == [177, 184]


def test_the_answer_fills_outputs_and_thoughts(pair: Pair) -> None:
    record = BY_ID["ixelmro-0005"]
    options = {"response": _answer("ixelmr-0005"), "asOf": record["recorded"]}
    code, usage = _post(pair, ROUTE, json.dumps({**record["request"], "usageOptions": options}).encode())
    assert code == 200
    assert (usage["total_output_tokens"], usage["total_thought_tokens"]) == (7, 63)
    assert usage["total_tokens"] == record["raw_usage"]["total_tokens"]


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_both_versions_and_a_bare_string_input(pair: Pair, version: str) -> None:
    code, usage = _post(pair, f"/{version}/interactions:usage", json.dumps(SIMPLE).encode())
    assert (code, usage) == _library(SIMPLE, {})
    assert usage["input_tokens_by_modality"] == [{"modality": "text", "tokens": usage["total_input_tokens"]}]
    assert usage["total_input_tokens"] > 0 and "bounds" not in usage


# ---- every refusal, in Google's shape ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "code", "status", "field", "words"),
    [
        (b'{"model": "gemini-3.7-flash", "input": ', 400, "INVALID_ARGUMENT", None, "Invalid JSON payload"),
        (b'{"model": "gemini-3.7-flash", "input": NaN}', 400, "INVALID_ARGUMENT", None, "Invalid JSON payload"),
        (b'["gemini-3.7-flash", "hi"]', 400, "INVALID_ARGUMENT", None, ""),
        (b"{}", 400, "INVALID_ARGUMENT", "model", "model"),
        (
            json.dumps({**SIMPLE, "previous_interaction_id": "v1_abc"}).encode(),
            400,
            "FAILED_PRECONDITION",
            "previous_interaction_id",
            "Google's server",
        ),
        (json.dumps({**SIMPLE, "temperature": 1}).encode(), 400, "INVALID_ARGUMENT", "temperature", 'Unknown name "'),
        (
            json.dumps({**SIMPLE, "generation_config": {"temp": 1}}).encode(),
            400,
            "INVALID_ARGUMENT",
            "generation_config",
            'Unknown name "temp"',
        ),
        (
            json.dumps({**SIMPLE, "input": [{"type": "function_call", "name": "f", "arguments": []}]}).encode(),
            400,
            "INVALID_ARGUMENT",
            "input[0].arguments",
            "object",
        ),
        (json.dumps({**SIMPLE, "tools": {"type": "url_context"}}).encode(), 400, "INVALID_ARGUMENT", "tools", "list"),
        (
            json.dumps({**SIMPLE, "usageOptions": {"explain": True}}).encode(),
            400,
            "INVALID_ARGUMENT",
            "usageOptions.explain",
            "Valid keys: response, history, asOf",
        ),
        (json.dumps({**SIMPLE, "usageOptions": "x"}).encode(), 400, "INVALID_ARGUMENT", "usageOptions", "object"),
        (
            json.dumps({**SIMPLE, "usageOptions": {"history": ["not an answer"]}}).encode(),
            400,
            "INVALID_ARGUMENT",
            None,
            "",
        ),
        (json.dumps({**SIMPLE, "model": "gemini-9-nonesuch"}).encode(), 404, "NOT_FOUND", None, "gemini-9-nonesuch"),
    ],
    ids=[
        "truncated",
        "nan",
        "not-an-object",
        "empty",
        "previous-interaction",
        "unknown-field",
        "unknown-nested",
        "bad-step",
        "tools-not-list",
        "unknown-option",
        "options-not-object",
        "bad-history",
        "unknown-model",
    ],
)
def test_refusals(pair: Pair, body: bytes, code: int, status: str, field: str | None, words: str) -> None:
    error = _error(_post(pair, ROUTE, body), code, status, field)
    assert words in error["message"]
    try:
        value = json.loads(body, parse_constant=_refuse)
    except ValueError:
        return
    if isinstance(value, dict) and "usageOptions" not in value:  # the library refuses it with the same error
        assert _library(value, {}) == (code, {"error": error})


def _refuse(constant: str) -> None:
    raise ValueError(constant)


def test_the_interactions_path_itself_points_to_the_usage_route(pair: Pair) -> None:
    for version in ("v1beta", "v1"):
        error = _error(_post(pair, f"/{version}/interactions", json.dumps(SIMPLE).encode()), 404, "NOT_FOUND")
        assert f"/{version}/interactions was not found" in error["message"]
        assert f"POST the same Interactions body to /{version}/interactions:usage" in error["message"]
    error = _error(_post(pair, "/v1beta/interactions/abc", b"{}"), 404, "NOT_FOUND")
    assert ":usage" not in error["message"]


def test_a_wrong_method_is_405(pair: Pair) -> None:
    ((status, head, raw),) = pair.both(request(ROUTE, b"", method="GET"))
    assert status.startswith(b"HTTP/1.1 405") and dict(head)[b"allow"] == b"POST"
    assert json.loads(raw)["error"]["status"] == "UNIMPLEMENTED"


# ---- limits, auth, quota, metrics, OpenAPI: as on the other routes ----------------------------------------------
def test_heavy_bodies_are_bounded(server_factory: Callable[..., RunningServer]) -> None:
    server = server_factory(quota_rpm=0, max_body_bytes=4096, max_text_chars=1000)
    with server.client() as client:
        big = client.post(ROUTE, json={**SIMPLE, "input": "word " * 2000})
        assert big.status_code == 413 and big.json()["error"]["message"].endswith("limit: 4096 bytes.")
        # 1,500 characters of text in 3 KiB: over the text budget, refused before it is counted
        wordy = client.post(ROUTE, json={**SIMPLE, "input": [{"type": "text", "text": "ab " * 500}]})
        error = wordy.json()["error"]
        assert (wordy.status_code, error["status"]) == (400, "INVALID_ARGUMENT")
        assert "more than 1,000 characters" in error["message"]
        # a media item named by `uri` is a file to read: the large lane's, whatever its size
        app: Any = server.server.config.app
        large = app.state.vertexmeter.large
        admitted: list[int] = []
        admit = large.admit

        def spy() -> None:
            admitted.append(1)
            admit()

        large.admit = spy
        try:
            named = {"type": "image", "uri": "gs://bucket/cat.png", "mime_type": "image/png"}
            answer = client.post(ROUTE, json={**SIMPLE, "input": [named]})
        finally:
            del large.admit
        assert admitted == [1]
        assert answer.headers["content-type"] == JSON_TYPE and answer.status_code < 500, answer.text


def test_auth_and_quota(server_factory: Callable[..., RunningServer]) -> None:
    server = server_factory(quota_rpm=2, api_keys=("key-one",))
    with server.client() as client:
        assert client.post(ROUTE, json=SIMPLE).json()["error"]["status"] == "UNAUTHENTICATED"
        wrong = client.post(ROUTE, json=SIMPLE, headers={"x-goog-api-key": "nope"})
        assert (wrong.status_code, wrong.json()["error"]["status"]) == (403, "PERMISSION_DENIED")
        key = {"x-goog-api-key": "key-one"}
        assert [client.post(ROUTE, json=SIMPLE, headers=key).status_code for _ in range(3)] == [200, 200, 429]
        spent = client.post(ROUTE, json=SIMPLE, headers=key)
        assert spent.json()["error"]["status"] == "RESOURCE_EXHAUSTED" and "retry-after" in spent.headers


def test_metrics_label_the_route_and_count_the_tokens(http: httpx.Client) -> None:
    answer = http.post(ROUTE, json=SIMPLE)
    assert answer.status_code == 200
    text = http.get("/metrics").text
    assert f'vertexmeter_requests_total{{code="200",method="POST",route="{ROUTE}"}}' in text
    assert 'vertexmeter_tokens_counted_total{modality="TEXT",model="gemini-3.7-flash",rpc="interactionsUsage"}' in text


def test_openapi_documents_the_route(http: httpx.Client) -> None:
    schema = http.get("/openapi.json").json()
    for version in ("v1", "v1beta"):
        operation = schema["paths"][f"/{version}/interactions:usage"]["post"]
        assert set(operation["responses"]) >= {"200", "400", "404", "413", "429"}
        examples = operation["requestBody"]["content"]["application/json"]["examples"]
        for example in examples.values():  # every documented example is answered, as documented
            answer = http.post(f"/{version}/interactions:usage", json=example["value"])
            assert answer.status_code == 200, answer.text
            assert set(answer.json()) <= set(schema["components"]["schemas"]["InteractionsUsageResponse"]["properties"])
    request_schema = schema["components"]["schemas"]["InteractionsUsageRequest"]
    assert {"model", "input", "usageOptions", "previous_interaction_id"} <= set(request_schema["properties"])
