"""The server's adapters: options split off Google's bodies, typed answers, metrics read from the types."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

import pytest

import vertexmeter
from vertexmeter.errors import VertexMeterError
from vertexmeter.server.adapters import USAGE_OPTION_KEYS, UsageAnswer, split_options, usage_from_body
from vertexmeter.server.work import Job, run_job
from vertexmeter.vocabulary import COMPUTE_TOKENS, ESTIMATE_COST, USAGE_METADATA

MODEL = "gemini-2.5-flash"
TEXT_BODY = {"contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}]}


def png(width: int, height: int) -> bytes:
    """A grey PNG, built with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


IMAGE_BODY = {
    "contents": [
        {
            "role": "user",
            "parts": [
                {"text": "Describe it."},
                {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png(16, 16)).decode()}},
            ],
        }
    ]
}


def refusal(call: Any, *args: Any, **kwargs: Any) -> VertexMeterError:
    with pytest.raises(VertexMeterError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_split_options_takes_the_options_off_the_body() -> None:
    body = {**TEXT_BODY, "usageOptions": {"asOf": "2025-10-01"}}
    assert split_options(body, "usageOptions", USAGE_OPTION_KEYS) == (TEXT_BODY, {"asOf": "2025-10-01"})
    assert split_options(TEXT_BODY, "usageOptions", USAGE_OPTION_KEYS) == (TEXT_BODY, {})
    assert split_options({**TEXT_BODY, "usageOptions": None}, "usageOptions", USAGE_OPTION_KEYS) == (TEXT_BODY, {})
    assert body["usageOptions"] == {"asOf": "2025-10-01"}  # the caller's body is left as it was


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({**TEXT_BODY, "usageOptions": {"asof": 1}}, "usageOptions.asof", "Unknown key 'usageOptions.asof'"),
        ({**TEXT_BODY, "usageOptions": [1]}, "usageOptions", "usageOptions must be an object"),
        # falsy but not null: a malformed option is refused, not read as none
        ({**TEXT_BODY, "usageOptions": []}, "usageOptions", "usageOptions must be an object"),
        ({**TEXT_BODY, "usageOptions": ""}, "usageOptions", "usageOptions must be an object"),
        ({**TEXT_BODY, "usageOptions": 0}, "usageOptions", "usageOptions must be an object"),
        ([TEXT_BODY], None, "JSON object"),
    ],
)
def test_split_options_refusals(body: Any, field: str | None, message: str) -> None:
    error = refusal(split_options, body, "usageOptions", USAGE_OPTION_KEYS)
    assert error.status == "INVALID_ARGUMENT"
    assert message in error.message
    if field is not None:
        assert field in json.dumps(error.to_json())


def test_usage_answer_is_typed_and_its_json_is_the_library_s() -> None:
    answer = usage_from_body(MODEL, {**TEXT_BODY, "usageOptions": {"asOf": "2025-10-01"}}, api="gemini")
    assert isinstance(answer, UsageAnswer)
    assert answer.explain is False
    assert answer.usage.model.id == MODEL
    expected = vertexmeter.usage_metadata(MODEL, TEXT_BODY, api="gemini", as_of="2025-10-01")
    assert answer.to_json() == {"usageMetadata": expected, "modelVersion": MODEL}


def test_usage_explain_must_be_a_boolean() -> None:
    error = refusal(usage_from_body, MODEL, {**TEXT_BODY, "usageOptions": {"explain": 1}})
    assert "true or false" in error.message


@pytest.mark.parametrize("body", [TEXT_BODY, IMAGE_BODY], ids=["text", "text+image"])
def test_metrics_of_a_usage_answer_agree_with_its_json(body: dict[str, Any]) -> None:
    outcome = run_job(Job(USAGE_METADATA, "vertex", "v1", json.dumps(body).encode(), MODEL))
    assert outcome.code == 200, outcome.body
    details = outcome.body["usageMetadata"]["promptTokensDetails"]
    assert outcome.tokens == {d["modality"]: d["tokenCount"] for d in details}
    assert len(outcome.tokens) == (2 if body is IMAGE_BODY else 1)
    assert outcome.model_id == outcome.body["modelVersion"] == MODEL


@pytest.mark.parametrize("body", [TEXT_BODY, IMAGE_BODY], ids=["text", "text+image"])
def test_metrics_of_an_estimate_agree_with_its_json(body: dict[str, Any]) -> None:
    priced = {**body, "estimateOptions": {"outputTokens": 10, "date": "2026-01-15"}}
    outcome = run_job(Job(ESTIMATE_COST, "vertex", "v1", json.dumps(priced).encode(), MODEL))
    assert outcome.code == 200, outcome.body
    assert outcome.tokens == outcome.body["prompt"]["tokens_by_modality"]
    assert outcome.model_id == outcome.body["model"] == MODEL


def test_metrics_of_a_compute_answer_agree_with_its_json() -> None:
    outcome = run_job(Job(COMPUTE_TOKENS, "vertex", "v1", json.dumps(TEXT_BODY).encode(), MODEL))
    assert outcome.code == 200, outcome.body
    ids = sum(len(info["tokenIds"]) for info in outcome.body["tokensInfo"])
    assert outcome.tokens == {"TEXT": ids} and ids > 0
    assert outcome.model_id == MODEL
