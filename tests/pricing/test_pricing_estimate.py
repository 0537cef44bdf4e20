"""Pre-flight estimates of real request bodies: counted by the core engine, priced by the catalogue."""

from __future__ import annotations

import pytest

import vertexmeter
from tests.pricing.pricing_helpers import D


def body(text: str, **extra: object) -> dict[str, object]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


def test_character_model_estimate_uses_billable_characters() -> None:
    # "abcd efgh ij" has 10 non-whitespace characters: 10 x 0.0003125 / 1000 = 0.000003125.
    est = vertexmeter.estimate("gemini-1.5-pro-002", body("abcd efgh ij"), output_characters=100, date="2024-12-01")
    assert est.counted.billable_characters == 10
    assert est.high is None
    assert est.total == D("0.000003125") + D("0.000125")  # + 100 output chars x 0.00125 / 1000


def test_without_output_a_range_up_to_max_output_tokens() -> None:
    est = vertexmeter.estimate(
        "gemini-1.5-pro", body("abcd efgh ij", generationConfig={"maxOutputTokens": 10}), date="2024-12-01"
    )
    low, high = est.total_range
    assert low == D("0.000003125")
    # 10 tokens ~ 40 characters (4 per token) x 0.00125 / 1000 = 0.00005
    assert high == D("0.000003125") + D("0.00005")
    out = est.to_json()
    assert out["total"] == {"min": "0.000003125", "max": "0.000053125"}
    assert out["output"]["range"]["max_from"] == "generationConfig.maxOutputTokens"
    assert [item.get("bound") for item in out["lineItems"]] == [None, "max"]


def test_token_model_range_uses_the_model_output_limit() -> None:
    request = body("How many tokens is this?")
    counted = vertexmeter.count("gemini-2.5-flash", request)
    est = vertexmeter.estimate("gemini-2.5-flash", request, date="2026-01-15")
    assert est.output["range"]["max_tokens"] == counted.model.output_token_limit == 65535
    low, high = est.total_range
    assert low == counted.total_tokens * D("0.30") / 1_000_000
    assert high == low + 65535 * D("2.50") / 1_000_000


def test_token_model_with_output_thinking_and_batch() -> None:
    request = body("Summarise the plot of Hamlet.")
    tokens = vertexmeter.count("gemini-2.5-pro", request).total_tokens
    est = vertexmeter.estimate(
        "gemini-2.5-pro", request, mode="batch", output_tokens=500, thinking_tokens=1500, date="2026-01-15"
    )
    # batch <= 200K: input 0.625, output (and thinking) 5 per 1M
    assert est.total == tokens * D("0.625") / 1_000_000 + 2000 * D(5) / 1_000_000
    assert {item.mode for item in est.low.line_items} == {"batch"}


def test_legacy_instances_are_estimated() -> None:
    est = vertexmeter.estimate(
        "text-bison@002", {"instances": [{"prompt": "ab cd"}]}, output_characters=8, date="2024-12-01"
    )
    assert est.total == 4 * D("0.00025") / 1000 + 8 * D("0.0005") / 1000


def test_generate_content_fields_that_do_not_count_are_ignored() -> None:
    request = body("hello", safetySettings=[], toolConfig={}, labels={"team": "a"})
    assert vertexmeter.estimate("gemini-2.0-flash", request, output_tokens=0, date="2026-01-15").total > 0


def test_gemini_api_dialect_counts_differently_but_prices_the_same_way() -> None:
    request = body("hello there")
    for api in ("vertex", "gemini"):
        tokens = vertexmeter.count("gemini-2.5-flash", request, api=api).total_tokens
        est = vertexmeter.estimate("gemini-2.5-flash", request, api=api, output_tokens=0, date="2026-01-15")
        assert est.total == tokens * D("0.30") / 1_000_000


def test_prices_lists_the_rates_in_force() -> None:
    sheet = vertexmeter.prices("gemini-1.5-pro", "2024-09-01")
    assert {e.id for e in sheet.entries} == {
        f"vertex.gemini-1.5-pro.{charge}.{tier}.pre-2024-10"
        for charge in ("input.text", "input.image", "input.video", "input.audio", "output.text")
        for tier in ("le128k", "gt128k")
    }
    later = vertexmeter.prices("gemini-1.5-pro", "2024-12-01").to_json()
    rates = {r["id"]: r["price"] for r in later["rates"]}
    assert rates["vertex.gemini-1.5-pro.output.text.le128k"] == "0.00125"
    assert rates["vertex.gemini.grounding.google_search.v1x"] == "35"


@pytest.mark.parametrize("model", ["gemini-2.0-flash", "gemini-2.5-flash-lite", "gemini-3-flash-preview"])
def test_every_priced_gemini_model_estimates(model: str) -> None:
    assert vertexmeter.estimate(model, body("hi"), output_tokens=10, date="2026-01-15").total > 0


def test_embeddings_have_no_output_range() -> None:
    est = vertexmeter.estimate(
        "textembedding-gecko@003", {"instances": [{"content": "hello world"}]}, date="2024-12-01"
    )
    assert est.high is None and est.output == {"tokens": 0}
    assert est.total == 10 * D("0.000025") / 1000  # 10 billable characters, online text embeddings
