"""Pricing rules: rounding up, flex cache hits, cache eras, media generation units, endpoints, previews."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

import vertexmeter
from vertexmeter.errors import VertexMeterError
from vertexmeter.pricing import PriceList, price_scenario, round_period_total
from vertexmeter.pricing.usage import Quantities, RequestUsage, Usage


def total(model: str, date: str, request: RequestUsage, mode: str = "online", **kwargs: str) -> D:
    return PriceList(model, date=date, **kwargs).price(Usage(requests=(request,)), mode).total


@pytest.mark.parametrize(
    ("exact", "billed"),
    [
        ("0", "0.00"),
        ("0.00125", "0.01"),
        ("0.01", "0.01"),
        ("0.010000001", "0.02"),
        ("1.0625", "1.07"),
        ("1.0425", "1.05"),
        ("12.34", "12.34"),
    ],
)
def test_period_rounding_is_up_to_the_cent(exact: str, billed: str) -> None:
    assert round_period_total(D(exact)) == D(billed)


def test_flex_cache_hits() -> None:
    hit = RequestUsage(cached_input=Quantities(tokens=1_000_000))
    assert total("gemini-2.5-flash", "2025-11-01", hit, "flex") == D("0.03")  # 2.5: the online cached rate
    small_hit = RequestUsage(cached_input=Quantities(tokens=100_000))  # below the 200K tier
    assert total("gemini-3-pro-preview", "2025-12-01", small_hit, "flex") == D("0.01")  # 3.x: half of 0.20
    assert total("gemini-3.5-flash", "2026-06-01", hit, "flex") == D("0.075")  # LL110's explicit 3.5 row


@pytest.mark.parametrize(
    ("model", "date", "audio", "expected"),
    [
        ("gemini-2.5-flash-lite", "2025-10-15", False, "0.025"),
        ("gemini-2.5-flash-lite", "2025-10-16", False, "0.01"),
        ("gemini-2.5-flash-lite", "2025-10-15", True, "0.075"),
        ("gemini-2.5-flash-lite", "2025-10-16", True, "0.03"),
        ("gemini-2.5-flash", "2025-10-15", True, "0.25"),
        ("gemini-2.5-flash", "2025-10-16", True, "0.1"),
    ],
)
def test_implicit_cache_discount_by_date(model: str, date: str, audio: bool, expected: str) -> None:
    cached = Quantities(audio_tokens=1_000_000) if audio else Quantities(tokens=1_000_000)
    assert total(model, date, RequestUsage(cached_input=cached)) == D(expected)


def test_flash_lite_batch_audio() -> None:
    request = RequestUsage(input=Quantities(tokens=1_000_000, audio_tokens=100_000), output=Quantities(tokens=100_000))
    # audit case 9: LiteLLM 0.05625 = 1M x 0.0375 + 100K x 0.0375 + 100K x 0.15 per 1M
    assert total("gemini-2.0-flash-lite", "2025-11-01", request, "batch") == D("0.05625")


@pytest.mark.parametrize(
    ("model", "resolution", "expected"),
    [
        ("veo-3.1-generate-001", None, "3.2"),
        ("veo-3.1-generate-001", "4k", "4.8"),
        ("veo-3.1-fast-generate-001", "1080p", "0.96"),
        ("veo-3.0-generate-001", "720p", "3.2"),
    ],
)
def test_veo_bills_seconds_by_resolution(model: str, resolution: str | None, expected: str) -> None:
    request = RequestUsage(output=Quantities(video_seconds=D(8)), video_resolution=resolution)
    assert total(model, "2025-11-01", request) == D(expected)


def test_veo_without_a_resolution_price_is_refused() -> None:
    request = RequestUsage(output=Quantities(video_seconds=D(8)), video_resolution="1080p")
    with pytest.raises(VertexMeterError, match="1080p"):
        total("veo-3.1-generate-001", "2025-11-01", request)  # Veo 3.1 publishes 720p/1080p alike and 4K only


def test_lyria_clips_and_unit_errors() -> None:
    assert total("lyria-002", "2025-11-01", RequestUsage(output=Quantities(clips=3))) == D("0.18")
    with pytest.raises(VertexMeterError, match="clips are for Lyria"):
        total("gemini-2.5-flash", "2025-11-01", RequestUsage(output=Quantities(clips=1)))
    with pytest.raises(VertexMeterError, match="output.clips"):
        total("lyria-002", "2025-11-01", RequestUsage(input=Quantities(tokens=5), output=Quantities(clips=1)))


def test_image_output_tokens_on_vertex() -> None:
    # audit case 19: 1K in + one 1,290-token image = 0.0003 + 0.0387 = 0.039
    request = RequestUsage(input=Quantities(tokens=1000), output=Quantities(image_tokens=1290))
    assert total("gemini-2.5-flash-image", "2025-11-01", request) == D("0.039")


def test_audit_litellm_cases_now_priced() -> None:
    # 18: 3.1 Pro Preview 100K in, 2K out = 0.2 + 0.024; 21: gemini-embedding-001 1M tokens = 0.15
    request = RequestUsage(input=Quantities(tokens=100_000), output=Quantities(tokens=2000))
    assert total("gemini-3.1-pro-preview", "2026-03-01", request) == D("0.224")
    assert total("gemini-embedding-001", "2025-11-01", RequestUsage(input=Quantities(tokens=1_000_000))) == D("0.15")


def test_scenario_endpoint_and_errors() -> None:
    scenario = {
        "model": "claude-opus-4-5",
        "date": "2026-01-05",
        "endpoint": "regional",
        "requests": [{"input": {"tokens": 1_000_000}}],
    }
    assert price_scenario(scenario).total == D("5.5")
    with pytest.raises(VertexMeterError) as err:
        price_scenario({**scenario, "endpoint": "moon"})
    assert err.value.field_path == "endpoint"
    with pytest.raises(VertexMeterError) as err:
        price_scenario({**scenario, "requests": [{"video_resolution": "8k"}]})
    assert err.value.field_path == "requests[0].video_resolution"


def test_preview_estimate_counts_with_the_ga_tokenizer() -> None:
    request = {"contents": [{"role": "user", "parts": [{"text": "Hello there"}]}]}
    preview = vertexmeter.estimate("gemini-2.5-flash-preview-05-20", request, output_tokens=0, date="2025-06-01")
    ga = vertexmeter.estimate("gemini-2.5-flash", request, output_tokens=0, date="2025-07-01")
    assert preview.counted.total_tokens == ga.counted.total_tokens
    assert preview.total * 2 == ga.total  # 0.15 vs 0.30 per 1M input


def test_gemini_1_5_pro_before_october_2024_long_context_and_media() -> None:
    # The archived es-419 page: >128K text $0.0025 / 1K chars, video $0.00263 / s, output $0.0075 / 1K chars.
    request = RequestUsage(
        input=Quantities(text_characters=600_000, video_seconds=D(10)), output=Quantities(text_characters=1000)
    )
    assert total("gemini-1.5-pro", "2024-09-01", request) == D("1.5") + D("0.0263") + D("0.0075")
