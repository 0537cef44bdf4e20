"""The `:estimateCost` adapter (server/estimating.py): a body and its `estimateOptions` -> a typed Estimate."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from vertexmeter.errors import VertexMeterError
from vertexmeter.pricing import Estimate, estimate
from vertexmeter.server.estimating import ESTIMATE_OPTIONS, estimate_from_body

HELLO = {"contents": [{"role": "user", "parts": [{"text": "abcd efgh ij"}]}]}


def test_the_options_reach_estimate_and_the_answer_is_typed() -> None:
    options = {"mode": "batch", "outputCharacters": 1000, "date": "2024-12-01"}
    result = estimate_from_body("gemini-1.5-flash", {**HELLO, "estimateOptions": options})
    assert isinstance(result, Estimate)
    # batch = half: 10 x 0.00001875 / 2 / 1000 + 1000 x 0.000075 / 2 / 1000
    assert result.total == D("0.00000009375") + D("0.0000375")
    out = result.to_json()
    assert out["mode"] == "batch"
    assert out["lineItems"][0]["adjustment"] == "vertex.gemini.batch_discount.v1x"
    same = estimate("gemini-1.5-flash", HELLO, mode="batch", output_characters=1000, date="2024-12-01")
    assert out == same.to_json()
    assert result.prompt_tokens_by_modality == {"TEXT": out["prompt"]["total_tokens"]}


def test_every_option_is_described_for_the_openapi_schema() -> None:
    assert set(ESTIMATE_OPTIONS) == {
        "mode", "outputTokens", "outputCharacters", "thinkingTokens", "date", "asOf", "cachedContentTokens", "history",
        "streamed",
    }  # fmt: skip
    assert all(isinstance(text, str) and text for text in ESTIMATE_OPTIONS.values())


def test_refusals() -> None:
    with pytest.raises(VertexMeterError) as err:
        estimate_from_body("gemini-2.5-flash", {**HELLO, "estimateOptions": {"outputToken": 5}})
    assert err.value.field_path == "estimateOptions.outputToken" and "outputTokens" in err.value.message
    with pytest.raises(VertexMeterError) as err:
        estimate_from_body("gemini-2.5-flash", [1])
    assert err.value.status == "INVALID_ARGUMENT"
