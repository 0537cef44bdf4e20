"""How an estimate prices counted media. Media counting is another module's work in progress, so the
counted result is stubbed here: the test pins the mapping from CountResult to billable quantities."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest

from tests.pricing.pricing_helpers import D
from vertexmeter.counting import CountResult, MediaUsage
from vertexmeter.pricing import estimate
from vertexmeter.registry import resolve
from vertexmeter.requests import Prompt

# The package re-exports the function `estimate`, which shadows the submodule's attribute name.
estimate_module = importlib.import_module("vertexmeter.pricing.estimate")

REQUEST = {"contents": [{"role": "user", "parts": [{"text": "describe"}]}]}


def stub_count(monkeypatch: pytest.MonkeyPatch, result: CountResult) -> None:
    """estimate() prices usage_of_body(): the stub's CountResult is the billed prompt."""
    from vertexmeter.counting import UsageResult

    monkeypatch.setattr(
        estimate_module, "usage_of_body", lambda model, body, api="vertex", **_: UsageResult(result.model, api, result)
    )


def test_gemini_1_5_prices_media_quantities(monkeypatch: pytest.MonkeyPatch) -> None:
    counted = CountResult(
        request=Prompt(model=resolve("gemini-1.5-flash"), api="vertex"),
        total_tokens=10_000,
        billable_characters=1000,
        text_characters=1200,
        tokens_by_modality={"TEXT": 300, "IMAGE": 516, "VIDEO": 2630, "AUDIO": 320},
        media=MediaUsage(images=2, video_seconds=Decimal("10"), audio_seconds=Decimal("10"), pdf_pages=4),
    )
    stub_count(monkeypatch, counted)
    est = estimate("gemini-1.5-flash", REQUEST, output_characters=0, date="2024-12-01")
    got = {item.description: item.amount for item in est.low.line_items}
    assert got["input: text characters"] == D("0.00001875")  # 1,000 chars x 0.00001875 / 1K
    assert got["input: images"] == D("0.00004")  # 2 x 0.00002
    assert got["input: video seconds"] == D("0.0002")  # 10 x 0.00002
    assert got["input: audio seconds"] == D("0.00002")  # 10 x 0.000002
    assert got["input: PDF pages billed as images (1 per page)"] == D("0.00008")  # 4 x 0.00002


def test_gemini_1_5_tier_uses_the_real_prompt_size(monkeypatch: pytest.MonkeyPatch) -> None:
    counted = CountResult(
        request=Prompt(model=resolve("gemini-1.5-flash"), api="vertex"),
        total_tokens=128_001,
        billable_characters=1000,
        text_characters=1000,
        tokens_by_modality={"TEXT": 128_001},
    )
    stub_count(monkeypatch, counted)
    est = estimate("gemini-1.5-flash", REQUEST, output_characters=0, date="2024-12-01")
    assert est.total == D("0.0000375")  # 1,000 chars at the >128K rate


def test_token_models_bill_audio_tokens_at_the_audio_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    counted = CountResult(
        request=Prompt(model=resolve("gemini-2.5-flash"), api="vertex"),
        total_tokens=1_000_000,
        billable_characters=0,
        text_characters=0,
        tokens_by_modality={"TEXT": 200_000, "IMAGE": 100_000, "AUDIO": 700_000},
    )
    stub_count(monkeypatch, counted)
    est = estimate("gemini-2.5-flash", REQUEST, output_tokens=0, date="2026-01-15")
    got = {item.entry_id: item.amount for item in est.low.line_items}
    assert got == {
        "vertex.gemini-2.5-flash.input.text_image_video": D("0.09"),  # 300K x 0.30 / 1M
        "vertex.gemini-2.5-flash.input.audio": D("0.7"),  # 700K x 1.00 / 1M
    }
