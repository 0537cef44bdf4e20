"""Today's models end to end: count, usage, estimate and price for Gemini 3.8 Flash, Gemini 4, Gemma and the
Model Garden partners, with an inferred count said to be one (and a recorded model's not)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

import vertexmeter
from vertexmeter.cli import main
from vertexmeter.errors import VertexMeterError
from vertexmeter.pricing import PriceList, Quantities, RequestUsage, Usage

# Today's models no recorded answer shows (3.6 / 3.7 / 3.8 Flash are observed: mined_late_2026b).
TODAYS = ["gemini-4-argon", "gemini-4-hydrogen", "gemma-4-31b-it"]


def per_million(model: str, day: str, api: str, mode: str = "online", **request: Quantities) -> Decimal:
    usage = Usage(requests=(RequestUsage(**request, prompt_tokens=1000),))
    return PriceList(model, date=dt.date.fromisoformat(day), api=api).price(usage, mode).total


MILLION = Quantities(tokens=1_000_000)


SERVED = [(m, api) for m in TODAYS for api in ("vertex", "gemini") if (m, api) != ("gemma-4-31b-it", "vertex")]


@pytest.mark.parametrize(("model", "api"), SERVED)
def test_count_and_usage_work_and_say_they_are_inferred(model: str, api: str) -> None:
    counted = vertexmeter.count(model, "Why is the sky blue?", api=api)
    # gemma4's vocabulary for the text (6 tokens), plus one role token on the Gemini API (Gemini 3's rule)
    assert counted.total_tokens == (7 if api == "gemini" else 6)
    assert (counted.inferred, counted.confidence) == (True, "inferred")
    assert counted.to_rest() == {
        "totalTokens": counted.total_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": counted.total_tokens}],
    }
    billed = vertexmeter.usage(model, "Why is the sky blue?", api=api, response="Rayleigh scattering.")
    assert billed.inferred and billed.prompt_token_count == counted.total_tokens
    assert {
        "promptTokenCount",
        "candidatesTokenCount",
        "totalTokenCount",
        "promptTokensDetails",
        "candidatesTokensDetails",
    } <= set(billed.to_rest())  # Google's shape: no confidence key in it
    assert not any("confidence" in key for key in billed.to_rest())


@pytest.mark.parametrize("api", ["vertex", "gemini"])
def test_a_recorded_model_of_today_counts_without_the_inferred_note(api: str) -> None:
    """Gemini 3.8 Flash has recorded generateContent answers (family-assistant's, mined_late_2026b): its counts are
    `observed`, and neither the count, the bill nor the estimate says inferred."""
    counted = vertexmeter.count("gemini-3.8-flash", "Why is the sky blue?", api=api)
    assert counted.total_tokens == (7 if api == "gemini" else 6)
    assert (counted.inferred, counted.confidence) == (False, "observed")
    assert not vertexmeter.usage("gemini-3.8-flash", "hi", api=api, response="Hello.").inferred
    answer = vertexmeter.estimate("gemini-3.8-flash", "hi", api=api, output_tokens=1, date="2026-12-06").to_json()
    assert "count_confidence" not in answer["prompt"]
    assert not any("inferred" in note for note in answer.get("notes", []))


@pytest.mark.parametrize("model", ["gemini-4-argon", "gemini-4-hydrogen", "gemini-4-neon"])
@pytest.mark.parametrize("api", ["vertex", "gemini"])
def test_estimate_carries_the_inferred_count(model: str, api: str) -> None:
    result = vertexmeter.estimate(model, "Why is the sky blue?", api=api, output_tokens=100, date="2026-12-06")
    answer = result.to_json()
    assert answer["prompt"]["count_confidence"] == "inferred"
    assert (
        "Gemini" in answer["prompt"]["count_confidence_reason"]
        or "analogy" in answer["prompt"]["count_confidence_reason"]
    )
    assert any("inferred, not exact" in note for note in answer["notes"])
    assert result.total > 0


def test_an_exact_model_estimate_has_no_confidence_keys() -> None:
    answer = vertexmeter.estimate("gemini-2.5-flash", "hi", output_tokens=1, date="2026-12-06").to_json()
    assert "count_confidence" not in answer["prompt"]
    assert not any("inferred" in note for note in answer.get("notes", []))


def test_gemma_on_the_gemini_api_is_free_and_said_so() -> None:
    result = vertexmeter.estimate("gemma-4-31b-it", "hi", api="gemini", output_tokens=10, date="2026-12-06")
    assert result.total == 0
    assert any("free of charge" in e["notes"] for e in result.to_json()["catalogue_entries"] if e.get("notes"))


def test_gemma_4_31b_is_not_counted_on_vertex_where_it_is_not_served() -> None:
    with pytest.raises(VertexMeterError) as caught:
        vertexmeter.count("gemma-4-31b-it", "hi", api="vertex")
    assert caught.value.status == "NOT_FOUND" and "served by the Gemini API" in caught.value.message


def test_gemma_4_31b_has_no_vertex_price() -> None:
    with pytest.raises(VertexMeterError) as caught:
        PriceList("gemma-4-31b-it", date=dt.date(2026, 12, 6), api="vertex").price(
            Usage(requests=(RequestUsage(input=MILLION),)), "online"
        )
    assert caught.value.status == "NOT_FOUND"


def test_gemma_4_26b_is_priced_as_vertex_maas() -> None:
    assert per_million("gemma-4-26b-a4b-it-maas", "2026-12-06", "vertex", input=MILLION) == Decimal("0.15")


@pytest.mark.parametrize(
    ("day", "input_price", "output_price"),
    [("2026-12-06", "0.75", "3.75"), ("2026-12-31", "0.75", "3.75"), ("2027-01-15", "1.5", "7.5")],
)
def test_38_flash_on_the_gemini_api_introductory_then_list_rates(day: str, input_price: str, output_price: str) -> None:
    assert per_million("gemini-3.8-flash", day, "gemini", input=MILLION) == Decimal(input_price)
    assert per_million("gemini-3.8-flash", day, "gemini", output=MILLION) == Decimal(output_price)


@pytest.mark.parametrize(
    ("model", "day", "mode", "expected"),
    [
        ("gemini-4-argon", "2026-11-30", "online", "2"),
        ("gemini-4-argon", "2026-12-01", "online", "4"),
        ("gemini-4-argon", "2026-12-01", "batch", "2"),
        ("gemini-4-argon", "2026-12-01", "priority", "7.2"),
        ("gemini-4-carbon", "2026-11-20", "online", "2"),
        ("gemini-4-carbon", "2026-12-06", "online", "4"),
        ("gemini-4-hydrogen", "2026-12-06", "online", "1.5"),
        ("gemini-4-hydrogen", "2026-12-06", "flex", "0.75"),
        ("gemini-4-neon", "2026-12-06", "online", "3"),
    ],
)
def test_gemini_4_prices_and_the_december_change(model: str, day: str, mode: str, expected: str) -> None:
    assert per_million(model, day, "gemini", mode, input=MILLION) == Decimal(expected)


def test_gemini_4_before_its_first_priced_day_is_refused() -> None:
    with pytest.raises(VertexMeterError) as caught:
        per_million("gemini-4-neon", "2026-11-01", "gemini", input=MILLION)
    assert caught.value.status == "INVALID_ARGUMENT" and "2026-11-18" in caught.value.message


@pytest.mark.parametrize(
    ("model", "input_price", "output_price"),
    [
        ("claude-sonnet-5-5", "2", "10"),
        ("claude-opus-5-5", "4", "20"),
        ("claude-opus-5-5@default", "4", "20"),
        ("glm-5-maas", "1", "3.2"),
        ("grok-4.7", "2", "6"),
        ("xai/grok-4.7", "2", "6"),
        ("kimi-k2-thinking-maas", "0.6", "2.5"),
        ("minimax-m2-maas", "0.3", "1.2"),
        ("deepseek-v4.1-flash-maas", "0.3", "1.2"),
    ],
)
def test_partner_models_price_from_reported_usage(model: str, input_price: str, output_price: str) -> None:
    assert per_million(model, "2026-12-06", "vertex", input=MILLION) == Decimal(input_price)
    assert per_million(model, "2026-12-06", "vertex", output=MILLION) == Decimal(output_price)


def test_gemini_api_grounding_after_the_free_allowance() -> None:
    def grounding(model: str, **fields: int) -> Decimal:
        usage = Usage(requests=(RequestUsage(**fields),))
        return PriceList(model, date=dt.date(2026, 12, 6), api="gemini").price(usage, "online").total

    assert grounding("gemini-2.5-flash", grounded_requests=1000) == Decimal(35)
    assert grounding("gemini-3.8-flash", search_queries=1000) == Decimal(14)
    assert grounding("gemini-4-argon", search_queries=1000) == Decimal(14)


def test_live_25_image_and_video_input_on_the_gemini_api_are_at_the_audio_rate() -> None:
    for quantity in ("image_tokens", "video_tokens", "audio_tokens"):
        assert per_million(
            "gemini-live-2.5-flash-native-audio", "2026-12-06", "gemini", input=Quantities(**{quantity: 1_000_000})
        ) == Decimal(3)
    assert per_million("gemini-live-2.5-flash-native-audio", "2026-12-06", "gemini", input=MILLION) == Decimal("0.5")


def test_cli_count_keeps_googles_json_and_says_inferred_on_stderr() -> None:
    result = CliRunner().invoke(main, ["count", "-m", "gemini-4-argon", "--api", "gemini", "Why is the sky blue?"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "totalTokens": 7,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 7}],
    }
    assert "gemini-4-argon's counts are inferred, not exact" in result.stderr
    human = CliRunner().invoke(main, ["count", "-m", "gemini-4-argon", "--human", "hi"])
    assert "inferred (not exact)" in human.output
    exact = CliRunner().invoke(main, ["count", "-m", "gemini-2.5-flash", "hi"])
    assert exact.stderr == ""


def test_cli_count_of_a_partner_model_is_a_clear_error_and_price_works() -> None:
    refused = CliRunner().invoke(main, ["count", "-m", "claude-sonnet-5-5", "hi"])
    assert refused.exit_code == 1
    error = json.loads(refused.stderr)["error"]
    assert error["status"] == "FAILED_PRECONDITION" and "vendor's own endpoint" in error["message"]
    priced = CliRunner().invoke(main, ["price", "-m", "claude-sonnet-5-5", "--date", "2026-12-06"])
    assert priced.exit_code == 0 and "claude-sonnet-5-5" in priced.stdout


def test_cli_usage_says_inferred_on_stderr() -> None:
    result = CliRunner().invoke(main, ["usage", "-m", "gemini-4-argon", "--api", "gemini", "hi"])
    assert result.exit_code == 0 and "promptTokenCount" in json.loads(result.stdout)
    assert "inferred, not exact" in result.stderr
    observed = CliRunner().invoke(main, ["usage", "-m", "gemini-3.8-flash", "--api", "gemini", "hi"])
    assert observed.exit_code == 0 and "inferred" not in observed.stderr


@pytest.mark.parametrize(("day", "model"), [("2026-09-01", "gemini-3.6-flash"), ("2026-12-06", "gemini-3.8-flash")])
def test_a_dated_alias_is_priced_as_the_model_it_named_that_day(day: str, model: str) -> None:
    pricer = PriceList("gemini-flash-latest", date=dt.date.fromisoformat(day), api="gemini")
    assert pricer.model.id == model


def test_a_model_refused_on_one_api_says_why_there() -> None:
    with pytest.raises(VertexMeterError) as caught:
        PriceList("gemini-1.5-pro", date=dt.date(2025, 1, 6), api="gemini")
    assert caught.value.status == "NOT_FOUND" and "shut down on the Gemini API" in caught.value.message
    assert PriceList("gemini-1.5-pro", date=dt.date(2025, 1, 6), api="vertex").model.id == "gemini-1.5-pro"


def test_a_partner_model_prices_from_reported_usage_in_a_scenario() -> None:
    # What the vendor's endpoint reported (Anthropic's usage: input / output tokens) priced without counting.
    result = vertexmeter.price_scenario(
        {
            "model": "claude-sonnet-5-5@default",
            "date": "2026-12-06",
            "requests": [{"repeat": 10, "input": {"tokens": 1200}, "output": {"tokens": 300}}],
        }
    )
    assert result.total == Decimal("0.054")  # 10 x (1200 x $2 + 300 x $10) / 1M
