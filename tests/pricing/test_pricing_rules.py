"""Billing rules, each checked against hand arithmetic on catalogue (seed / prices.yaml) rates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.pricing.pricing_helpers import D, amounts, by_entry, price_one
from vertexmeter.pricing import CacheUsage, PriceList, Quantities, RequestUsage, Usage

# ---- long-context tier: decided per request from the prompt (cached included), applies to everything ----


@pytest.mark.parametrize(
    ("prompt_tokens", "input_rate", "output_rate"),
    [(128_000, "0.0003125", "0.00125"), (128_001, "0.000625", "0.0025")],
)
def test_gemini_1_5_tier_at_and_above_128k_tokens(prompt_tokens: int, input_rate: str, output_rate: str) -> None:
    bill = price_one(
        "gemini-1.5-pro",
        date="2024-12-01",
        prompt_tokens=prompt_tokens,
        input={"text_characters": 1000},
        output={"text_characters": 1000},
    )
    got = amounts(bill)
    assert got["input: text characters"] == D(input_rate)  # 1,000 chars x rate / 1,000
    assert got["output: text characters"] == D(output_rate)


def test_gemini_1_5_tier_from_characters_uses_4_characters_per_token() -> None:
    # 512,000 chars ~ 128,000 tokens: still <= 128K -> 512 x 0.0003125 = 0.16
    short = price_one("gemini-1.5-pro", date="2024-12-01", input={"text_characters": 512_000})
    assert short.total == D("0.16")
    # 512,004 chars ~ 128,001 tokens: long tier for all of it -> 512.004 x 0.000625 = 0.3200025
    long = price_one("gemini-1.5-pro", date="2024-12-01", input={"text_characters": 512_004})
    assert long.total == D("0.3200025")


def test_cached_tokens_count_toward_the_tier_and_take_everything_along() -> None:
    # 400 fresh chars + 511,600 cached chars = 512,000 chars = 128,000 tokens: short tier.
    short = price_one(
        "gemini-1.5-pro",
        date="2024-12-01",
        input={"text_characters": 400},
        cached_input={"text_characters": 511_600},
        output={"text_characters": 1000},
    )
    assert by_entry(short) == {
        "vertex.gemini-1.5-pro.input.text.le128k": D("0.000125"),  # 0.4 x 0.0003125
        "vertex.gemini-1.5-pro.cached_input.text.le128k": D("0.03996875"),  # 511.6 x 0.000078125
        "vertex.gemini-1.5-pro.output.text.le128k": D("0.00125"),
    }
    # 4 more cached characters -> 128,001 tokens: input, cached input AND output all at the long rate.
    long = price_one(
        "gemini-1.5-pro",
        date="2024-12-01",
        input={"text_characters": 400},
        cached_input={"text_characters": 511_604},
        output={"text_characters": 1000},
    )
    assert by_entry(long) == {
        "vertex.gemini-1.5-pro.input.text.gt128k": D("0.00025"),  # 0.4 x 0.000625
        "vertex.gemini-1.5-pro.cached_input.text.gt128k": D("0.07993812500"),  # 511.604 x 0.00015625
        "vertex.gemini-1.5-pro.output.text.gt128k": D("0.0025"),
    }


@pytest.mark.parametrize(("tokens", "expected"), [(200_000, "0.25"), (200_001, "0.5000025")])
def test_gemini_2_5_pro_tier_at_and_above_200k(tokens: int, expected: str) -> None:
    bill = price_one("gemini-2.5-pro", date="2026-01-15", input={"tokens": tokens})
    assert bill.total == D(expected)  # 200,000 x 1.25 / 1M ; 200,001 x 2.50 / 1M


def test_gemini_2_5_pro_cached_tokens_push_the_request_over_200k() -> None:
    under = price_one(
        "gemini-2.5-pro",
        date="2026-01-15",
        input={"tokens": 100_000},
        cached_input={"tokens": 100_000},
        output={"tokens": 1000},
    )
    assert by_entry(under) == {
        "vertex.gemini-2.5-pro.input.any.le200k": D("0.125"),  # 100K x 1.25/1M
        "vertex.gemini-2.5-pro.cached_input.any.le200k": D("0.0125"),  # 100K x 0.125/1M
        "vertex.gemini-2.5-pro.output.text.le200k": D("0.01"),  # 1K x 10/1M
    }
    over = price_one(
        "gemini-2.5-pro",
        date="2026-01-15",
        input={"tokens": 100_000},
        cached_input={"tokens": 100_001},
        output={"tokens": 1000},
    )
    assert by_entry(over) == {
        "vertex.gemini-2.5-pro.input.any.gt200k": D("0.25"),  # 100K x 2.50/1M
        "vertex.gemini-2.5-pro.cached_input.any.gt200k": D("0.02500025"),  # 100,001 x 0.25/1M
        "vertex.gemini-2.5-pro.output.text.gt200k": D("0.015"),  # 1K x 15/1M
    }


def test_a_known_prompt_size_overrides_the_estimate() -> None:
    bill = price_one("gemini-1.5-pro", date="2024-12-01", prompt_tokens=200_000, input={"text_characters": 1000})
    assert bill.total == D("0.000625")


# ---- modes -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "input_cost", "output_cost"),
    [("online", "0.125", "1"), ("batch", "0.0625", "0.5"), ("flex", "0.0625", "0.5"), ("priority", "0.225", "1.8")],
)
def test_gemini_2_5_pro_modes(mode: str, input_cost: str, output_cost: str) -> None:
    # 100K tokens in (<= 200K tier) and out; per-1M rates 1.25/10, batch 0.625/5, flex 0.625/5, priority 2.25/18.
    bill = price_one(
        "gemini-2.5-pro", date="2026-01-15", mode=mode, input={"tokens": 100_000}, output={"tokens": 100_000}
    )
    got = amounts(bill)
    assert (got["input: tokens"], got["output: tokens"]) == (D(input_cost), D(output_cost))
    assert all(item.mode == mode for item in bill.line_items)


def test_gemini_1_5_batch_is_half_price_by_the_seed_footnote() -> None:
    bill = price_one(
        "gemini-1.5-flash",
        date="2024-12-01",
        mode="batch",
        input={"text_characters": 1000},
        output={"text_characters": 1000},
    )
    got = amounts(bill)
    assert got["input: text characters"] == D("0.000009375")  # 0.00001875 / 2
    assert got["output: text characters"] == D("0.0000375")  # 0.000075 / 2
    assert {item.adjustment for item in bill.line_items} == {"vertex.gemini.batch_discount.v1x"}


def test_batch_cached_reads_stay_at_the_cached_rate() -> None:
    bill = price_one("gemini-2.5-flash", date="2026-01-15", mode="batch", cached_input={"tokens": 1_000_000})
    assert bill.total == D("0.03")


def test_priority_without_an_explicit_row_uses_the_1_8_ratio() -> None:
    # 2.5 Flash-Lite cached audio has no priority row: 0.03 x 1.8 = 0.054 per 1M.
    bill = price_one(
        "gemini-2.5-flash-lite", date="2026-01-15", mode="priority", cached_input={"audio_tokens": 1_000_000}
    )
    assert bill.total == D("0.054")
    assert bill.line_items[0].adjustment == "vertex.gemini-2.5-3.priority"


def test_claude_batch_with_cache_writes_and_hits() -> None:
    online = price_one(
        "claude-3-5-sonnet-v2",
        date="2024-12-01",
        input={"tokens": 1_000_000},
        cache_write={"tokens": 1_000_000},
        cached_input={"tokens": 1_000_000},
        output={"tokens": 1_000_000},
    )
    assert by_entry(online) == {
        "vertex.claude-3-5-sonnet-v2.input": D("3"),
        "vertex.claude-3-5-sonnet-v2.cache_hit": D("0.30"),
        "vertex.claude-3-5-sonnet-v2.cache_write": D("3.75"),
        "vertex.claude-3-5-sonnet-v2.output": D("15"),
    }
    batch = price_one(
        "claude-3-5-haiku",
        date="2024-12-01",
        mode="batch",
        input={"tokens": 2_000_000},
        cache_write={"tokens": 1_000_000},
        cached_input={"tokens": 10_000_000},
        output={"tokens": 500_000},
    )
    assert by_entry(batch) == {
        "vertex.claude-3-5-haiku.input.batch": D("0.80"),  # 2M x 0.40
        "vertex.claude-3-5-haiku.cache_hit.batch": D("0.40"),  # 10M x 0.04
        "vertex.claude-3-5-haiku.cache_write.batch": D("0.50"),
        "vertex.claude-3-5-haiku.output.batch": D("1"),  # 0.5M x 2
    }


def test_text_embeddings_online_and_batch() -> None:
    online = price_one("text-embedding-005", date="2024-12-01", input={"text_characters": 1000})
    batch = price_one("text-embedding-005", date="2024-12-01", mode="batch", input={"text_characters": 1000})
    assert (online.total, batch.total) == (D("0.000025"), D("0.00002"))


# ---- caching -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("hours", "expected"), [("1", "0.025"), ("3", "0.075"), ("0.5", "0.0125")])
def test_cache_storage_is_billed_per_hour(hours: str, expected: str) -> None:
    # 1.5 Flash text storage: 0.00025 per 1K characters per hour; 100,000 characters.
    pricer = PriceList("gemini-1.5-flash", date="2024-12-01")
    usage = Usage(caches=(CacheUsage(Quantities(text_characters=100_000), D(hours), creation=False),))
    assert pricer.price(usage).total == D(expected)


def test_token_cache_storage_and_creation_at_the_input_rate() -> None:
    pricer = PriceList("gemini-2.5-flash", date="2026-01-15")
    bill = pricer.price(Usage(caches=(CacheUsage(Quantities(tokens=1_000_000), D("1.5")),)))
    assert by_entry(bill) == {
        "vertex.gemini-2.5-flash.input.text_image_video": D("0.30"),  # creation = normal input
        "vertex.gemini-2.5-flash.cache_storage": D("1.5"),  # 1M tokens x 1.5 h x 1.00
    }


def test_gemini_2_5_cache_price_cut_of_october_2025() -> None:
    before = price_one("gemini-2.5-pro", date="2025-09-01", cached_input={"tokens": 100_000})
    after = price_one("gemini-2.5-pro", date="2025-10-16", cached_input={"tokens": 100_000})
    assert (before.total, after.total) == (D("0.031"), D("0.0125"))  # 0.31 and 0.125 per 1M


# ---- output, thinking, filtered ------------------------------------------------------------------------
def test_thinking_tokens_at_the_output_rate() -> None:
    bill = price_one("gemini-2.5-flash", date="2026-01-15", output={"tokens": 1000}, thinking_tokens=3000)
    got = amounts(bill)
    assert got["output: tokens"] == D("0.0025")  # 1K x 2.50/1M
    assert got["thinking tokens (at the output rate)"] == D("0.0075")


def test_filtered_response_pays_input_only() -> None:
    bill = price_one(
        "gemini-1.5-pro",
        date="2024-12-01",
        filtered=True,
        input={"text_characters": 1000},
        output={"text_characters": 1000},
    )
    assert bill.total == D("0.0003125")
    assert [item.description for item in bill.line_items] == ["input: text characters"]
    assert any("input only" in note for note in bill.notes)


# ---- media ---------------------------------------------------------------------------------------------
def test_gemini_1_5_media_quantities() -> None:
    bill = price_one(
        "gemini-1.5-pro",
        date="2024-12-01",
        input={"images": 2, "video_seconds": D("10.5"), "audio_seconds": D(60), "pdf_pages": 3},
    )
    got = amounts(bill)
    assert got["input: images"] == D("0.0006575")  # 2 x 0.00032875
    assert got["input: video seconds"] == D("0.003451875")  # 10.5 x 0.00032875
    assert got["input: audio seconds"] == D("0.001875")  # 60 x 0.00003125
    assert got["input: PDF pages billed as images (1 per page)"] == D("0.00098625")  # 3 images


def test_token_models_bill_audio_at_the_audio_rate() -> None:
    bill = price_one("gemini-2.5-flash", date="2026-01-15", input={"tokens": 1_000_000, "audio_tokens": 1_000_000})
    assert by_entry(bill) == {
        "vertex.gemini-2.5-flash.input.text_image_video": D("0.30"),
        "vertex.gemini-2.5-flash.input.audio": D("1.00"),
    }
    seconds = price_one("gemini-2.5-flash", date="2026-01-15", input={"audio_seconds": D(60)})
    assert seconds.total == D("0.00192")  # 60 s x 32 tokens/s = 1,920 tokens x 1.00/1M


def test_grounding_requests_and_search_queries() -> None:
    v1 = price_one("gemini-1.5-flash", date="2024-12-01", grounded_requests=1000)
    assert v1.total == D("35")
    v3 = price_one("gemini-3-pro-preview", date="2026-01-15", search_queries=2500)
    assert v3.total == D("35")  # 2.5 x 14


def test_imagen_operations() -> None:
    assert price_one("imagen-3", date="2024-12-01", output={"images": 4}).total == D("0.16")
    assert price_one("imagen-3-fast", date="2024-12-01", output={"images": 4}).total == D("0.08")
    assert price_one("imagen-2", date="2024-12-01", operation="upscale", output={"images": 10}).total == D("0.03")
    captions = price_one("imagen-2", date="2024-12-01", operation="visual_captioning", input={"images": 2})
    assert captions.total == D("0.003")


def test_multimodal_embeddings_video_tiers() -> None:
    plus = price_one("multimodalembedding", date="2024-12-01", video_tier="plus", input={"video_seconds": D(10)})
    essential = price_one(
        "multimodalembedding",
        date="2024-12-01",
        video_tier="essential",
        input={"video_seconds": D(10), "text_characters": 1000, "images": 1},
    )
    assert plus.total == D("0.02")
    assert essential.total == D("0.005") + D("0.0002") + D("0.0001")


def test_tuning_and_translation() -> None:
    tuning = PriceList("gemini-1.5-flash", date="2024-12-01").price(Usage(training_tokens=1_000_000))
    assert tuning.total == D("8")
    translation = price_one(
        "translation-llm", date="2024-12-01", input={"text_characters": 1_000_000}, output={"text_characters": 500_000}
    )
    assert translation.total == D("15")


# ---- dates ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("date", "input_cost", "output_cost", "image_cost"),
    [
        ("2024-09-01", "0.00125", "0.00375", "0.001315"),  # the pre-October-2024 table [S31]
        ("2024-10-06", "0.00125", "0.00375", "0.001315"),
        ("2024-10-07", "0.0003125", "0.00125", "0.00032875"),  # the seed page [S1]
        ("2025-03-01", "0.0003125", "0.00125", "0.00032875"),
    ],
)
def test_gemini_1_5_pro_prices_before_and_after_2024_10_07(
    date: str, input_cost: str, output_cost: str, image_cost: str
) -> None:
    bill = price_one(
        "gemini-1.5-pro", date=date, input={"text_characters": 1000, "images": 1}, output={"text_characters": 1000}
    )
    got = amounts(bill)
    assert got["input: text characters"] == D(input_cost)
    assert got["output: text characters"] == D(output_cost)
    assert got["input: images"] == D(image_cost)


# ---- rounding ------------------------------------------------------------------------------------------
def test_rounding_happens_only_on_the_period_total() -> None:
    # text-bison: 16,000 input characters x 0.00025 / 1K = $0.004 per request; three requests.
    pricer = PriceList("text-bison", date="2024-12-01")
    one = RequestUsage(input=Quantities(text_characters=16_000))
    bill = pricer.price(Usage(requests=(one, one, one)))
    assert bill.line_items[0].amount == D("0.012")  # full precision, never 3 x round(0.004) = 0
    assert bill.total == D("0.012")
    assert bill.billed_total == D("0.02")  # "fractions of one cent are rounded to one cent": up
    single = pricer.price(Usage(requests=(one,)))
    assert single.total == D("0.004") and single.billed_total == D("0.01")
    assert pricer.price(Usage(requests=(RequestUsage(input=Quantities(text_characters=40_000)),))).billed_total == (
        D("0.01")  # exactly a cent stays a cent
    )


def test_amounts_are_exact_decimals() -> None:
    bill = price_one("gemini-1.5-flash", date="2024-12-01", input={"text_characters": 1})
    assert bill.total == Decimal("0.00000001875")
    assert isinstance(bill.total, Decimal)


def test_gemini_1_x_batch_has_no_cached_read_price() -> None:
    from vertexmeter.errors import VertexMeterError

    with pytest.raises(VertexMeterError) as err:
        price_one("gemini-1.5-pro", date="2024-12-01", mode="batch", cached_input={"text_characters": 1000})
    assert "no batch price" in err.value.message
    assert err.value.message.endswith("modes priced for it: online.")


def test_gemini_api_rows_for_contrast() -> None:
    from vertexmeter import price_scenario

    data = {
        "model": "gemini-2.0-flash",
        "date": "2026-01-15",
        "api": "gemini",
        "requests": [{"input": {"tokens": 1_000_000}, "output": {"tokens": 1_000_000}}],
    }
    assert price_scenario(data).total == D("0.50")  # 0.10 + 0.40 on the Gemini API, vs 0.15 + 0.60 on Vertex
    assert price_scenario({**data, "api": "vertex"}).total == D("0.75")


def test_a_scenario_that_still_says_platform_is_read_with_a_warning() -> None:
    from vertexmeter import price_scenario
    from vertexmeter.errors import VertexMeterError

    data = {
        "model": "gemini-2.0-flash",
        "date": "2026-01-15",
        "requests": [{"input": {"tokens": 1_000_000}, "output": {"tokens": 1_000_000}}],
    }
    for old, new in (("gemini_api", "gemini"), ("vertex", "vertex")):
        with pytest.warns(DeprecationWarning, match=f"write `api: {new}`"):
            result = price_scenario({**data, "platform": old})
        assert result.bill == price_scenario({**data, "api": new}).bill
    with pytest.raises(VertexMeterError) as err:
        price_scenario({**data, "platform": "vertex", "api": "vertex"})
    assert err.value.field_path == "platform"


def test_a_bill_lists_only_the_entries_it_used() -> None:
    pricer = PriceList("gemini-2.5-flash", date="2026-01-15")
    pricer.price(Usage(requests=(RequestUsage(output=Quantities(tokens=5)),)))
    bill = pricer.price(Usage(requests=(RequestUsage(input=Quantities(tokens=5)),)))
    assert [e.id for e in bill.entries] == ["vertex.gemini-2.5-flash.input.text_image_video"]


def test_grounding_daily_cap_is_reported_not_applied() -> None:
    under = price_one("gemini-1.5-pro", date="2024-12-01", grounded_requests=1_000_000)
    assert under.total == D("35000") and not under.notes
    over = price_one("gemini-1.5-pro", date="2024-12-01", grounded_requests=1_000_001)
    assert over.total == D("35000.035")
    assert any("1,000,000 per day" in note for note in over.notes)
