"""One quote: a batch line costs what `estimate()` says for the same request; the quote's own rules (the
output range, the cap, the thinking split, `bound`), the immutable price list and the pure `price()`."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ground_truth import api_of, load_records
from vertexmeter.batch import BatchSettings, count_line
from vertexmeter.batch.work import LineCosts
from vertexmeter.errors import VertexMeterError
from vertexmeter.pricing import (
    PriceList,
    PromptCounts,
    Quantities,
    RequestUsage,
    Usage,
    estimate,
    price,
    quote,
    quote_usage,
)
from vertexmeter.pricing.engine import price_each
from vertexmeter.registry import resolve

DAY = "2026-03-02"  # every model below is priced on both APIs that day (gemini-1.5-flash: Vertex AI's list)


def batch_line(
    model: str, request: dict[str, Any], *, api: str, mode: str, output_tokens: int | None, day: str = DAY
) -> dict[str, Any]:
    job = BatchSettings(model=model, api=api, mode=mode, output_tokens=output_tokens, as_of=day)
    return count_line(1, json.dumps({"request": request}).encode(), job, LineCosts(job))


def assert_line_costs_the_estimate(
    model: str, request: dict[str, Any], *, api: str, mode: str, output_tokens: int | None, day: str = DAY
) -> bool:
    """True when both priced the request (and agree), False when both refused it."""
    line = batch_line(model, request, api=api, mode=mode, output_tokens=output_tokens, day=day)
    try:
        estimated = estimate(model, request, api=api, mode=mode, output_tokens=output_tokens, date=day, as_of=day)
    except VertexMeterError as error:
        # refused by both (a line is counted before it is priced, so its first reason may be another)
        assert "cost" not in line, (error.message, line)
        return False
    assert "error" not in line, (line["error"], estimated.to_json())
    cost, answer = line["cost"], estimated.to_json()
    low, high = estimated.total_range
    assert (Decimal(cost["min"]), Decimal(cost["max"])) == (low, high)
    assert cost["lineItems"] == answer["lineItems"]
    assert line["promptTokenCount"] == answer["prompt"]["total_tokens"]
    if output_tokens is None:
        assert cost["outputTokens"] == {"min": 0, "max": answer["output"].get("range", {}).get("max_tokens", 0)}
    assert cost.get("notes", []) == list(estimated.quote.notes)  # the estimate adds only the model's confidence
    return True


MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash", "gemini-1.5-flash", "gemini-2.0-flash-lite")
words = st.lists(
    st.sampled_from(["hello", "world", "Grüße", "42", "über", "ünïcödé", "token", "\n", "🙂"]), max_size=40
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    request: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": " ".join(draw(words)) or "x"}]}]}
    config: dict[str, Any] = {}
    cap = draw(st.one_of(st.none(), st.integers(0, 80_000)))  # above some models' output limits too
    if cap is not None:
        config["maxOutputTokens"] = cap
    budget = draw(st.one_of(st.none(), st.integers(-1, 40_000)))
    if budget is not None:
        config["thinkingConfig"] = {"thinkingBudget": budget}
    if config:
        request["generationConfig"] = config
    return request


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(MODELS),
    request=requests(),
    api=st.sampled_from(["vertex", "gemini"]),
    mode=st.sampled_from(["online", "batch", "flex"]),
    output_tokens=st.one_of(st.none(), st.integers(0, 20_000)),
)
def test_a_batch_line_costs_what_estimate_says(
    model: str, request: dict[str, Any], api: str, mode: str, output_tokens: int | None
) -> None:
    assert_line_costs_the_estimate(model, request, api=api, mode=mode, output_tokens=output_tokens)


def test_the_recorded_requests_cost_the_same_in_a_batch_and_in_estimate() -> None:
    """Every recorded generateContent request (text, images, tools, system instructions; both APIs)."""
    checked = 0
    for record in load_records():
        if record["api"] != "generateContent.usage" or not isinstance(record.get("request"), dict):
            continue
        if "contents" not in record["request"]:
            continue
        checked += assert_line_costs_the_estimate(
            record["model"], record["request"], api=api_of(record), mode="online", output_tokens=None
        )
    assert checked >= 50


# ---- the quote's rules ----------------------------------------------------------------------------
FLASH = resolve("gemini-2.5-flash")
PROMPT = PromptCounts(tokens=1_000, by_modality={"TEXT": 900, "AUDIO": 100})


def flash() -> PriceList:
    return PriceList("gemini-2.5-flash", date=DAY)


def test_a_range_prices_no_output_then_the_output_at_the_cap() -> None:
    q = quote(flash(), PROMPT, model=FLASH, max_output_tokens=1_000)
    assert q.output == {"range": {"min_tokens": 0, "max_tokens": 1_000, "max_from": "generationConfig.maxOutputTokens"}}
    # 900 text tokens at $0.30/M, 100 audio tokens at $1/M; the cap's output at $2.50/M
    assert q.total_range == (Decimal("0.00037"), Decimal("0.00287"))
    items = q.line_items_json()
    assert [(i["description"], i.get("bound")) for i in items] == [
        ("input: tokens", None),
        ("input: audio tokens", None),
        ("output: tokens", "max"),
    ]
    assert q.max_output_tokens == 1_000


def test_the_cap_stops_at_the_model_output_limit_and_says_so() -> None:
    q = quote(flash(), PROMPT, model=FLASH, max_output_tokens=10**6)
    assert q.max_output_tokens == FLASH.output_token_limit
    assert q.output["range"]["max_from"] == "the output limit of gemini-2.5-flash"
    assert any("above the output limit" in n for n in q.notes)
    assert not any("above the output limit" in n for n in q.low.notes)  # said by the top of the range only


def test_a_thinking_budget_splits_the_cap_and_never_grows_it() -> None:
    q = quote(flash(), PROMPT, model=FLASH, max_output_tokens=1_000, thinking_budget=300)
    assert q.output["range"]["max_thinking_tokens"] == 300
    top = {i["description"]: i["quantity"] for i in q.line_items_json()}
    assert top["output: tokens"] == "700"
    assert top["thinking tokens (at the output rate)"] == "300"
    assert q.total == quote(flash(), PROMPT, model=FLASH, max_output_tokens=1_000).total  # same output rate


def test_a_stated_output_is_exact_and_unbound() -> None:
    q = quote(flash(), PROMPT, model=FLASH, max_output_tokens=1_000, output_tokens=10)
    assert q.high is None and q.output == {"tokens": 10}
    assert all("bound" not in i for i in q.line_items_json())
    assert q.total_range[0] == q.total_range[1] == q.total


def test_stated_thinking_is_in_both_ends_of_the_range() -> None:
    q = quote(flash(), PROMPT, model=FLASH, max_output_tokens=100, thinking_tokens=50)
    thinking = [i for i in q.line_items_json() if i["description"].startswith("thinking")]
    assert [(i["quantity"], i.get("bound")) for i in thinking] == [("50", None)]
    assert q.low.total < q.total


def test_no_output_to_bill_is_exact() -> None:
    embedding = resolve("gemini-embedding-001")
    prices = PriceList("gemini-embedding-001", date=DAY)
    q = quote(prices, PromptCounts(tokens=10), model=embedding, max_output_tokens=0)
    assert q.high is None and q.output == {"tokens": 0}


def test_character_billed_output_in_tokens_is_converted_and_said() -> None:
    model = resolve("gemini-1.5-flash")
    prices = PriceList("gemini-1.5-flash", date="2024-12-01")
    prompt = PromptCounts(tokens=3, billable_characters=12)
    q = quote(prices, prompt, model=model, output_tokens=100)
    assert q.low.line_items[-1].quantity == 400  # the catalogue's 4 characters per token
    assert any("converted to billable characters" in n for n in q.notes)
    with pytest.raises(VertexMeterError) as err:
        quote(flash(), PROMPT, model=FLASH, output_characters=100)
    assert err.value.field_path == "output_tokens"


def test_cached_tokens_are_cached_input_and_decide_the_tier() -> None:
    pro = PriceList("gemini-2.5-pro", date=DAY)
    q = quote(
        pro, PromptCounts(tokens=100_000, cached_tokens=150_000), model=resolve("gemini-2.5-pro"), output_tokens=0
    )
    assert {i.tier for i in q.low.line_items} == {">200000"}
    assert {i.description for i in q.low.line_items} == {"input: tokens", "cached input: tokens"}


def test_known_usage_is_quoted_exactly() -> None:
    usage = RequestUsage(
        input=Quantities(tokens=800),
        cached_input=Quantities(tokens=200),
        output=Quantities(tokens=50),
        thinking_tokens=25,
        prompt_tokens=1_000,
    )
    q = quote_usage(flash(), usage, mode="batch")
    assert q.high is None and q.output == {"tokens": 75}
    assert q.bill == price(flash(), Usage(requests=(usage,)), "batch")


def test_line_items_have_one_spelling() -> None:
    item = quote(flash(), PROMPT, model=FLASH, output_tokens=10).low.line_items[0]
    assert list(item.to_rest()) == [
        "description",
        "quantity",
        "quantityUnit",
        "unitPrice",
        "priceUnit",
        "amount",
        "entryId",
        "mode",
    ]
    assert item.to_rest("max")["bound"] == "max"
    # the ledger's stored rows keep their snake_case spelling, readable as before
    assert item.to_json()["entry_id"] == item.to_rest()["entryId"]


# ---- the price list and price() -------------------------------------------------------------------
def test_the_price_list_is_immutable_and_price_is_pure() -> None:
    prices = flash()
    with pytest.raises(AttributeError):
        prices.date = None  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del prices.entries
    assert not hasattr(prices, "used") and not hasattr(prices, "__dict__")
    small = Usage(requests=(RequestUsage(input=Quantities(tokens=10)),))
    big = Usage(requests=(RequestUsage(input=Quantities(tokens=10), output=Quantities(tokens=10)),))
    first = price(prices, small)
    assert len(price(prices, big).entries) == 2
    assert price(prices, small) == first == prices.price(small)  # nothing carried from bill to bill
    assert first.entries == tuple(e for e in prices.entries if e.id == first.line_items[0].entry_id)
    assert dataclasses.is_dataclass(first)


def test_an_unknown_api_is_refused() -> None:
    with pytest.raises(VertexMeterError) as err:
        PriceList("gemini-2.0-flash", date=DAY, api="gemini_api")
    assert err.value.field_path == "api"
    assert "vertex, gemini" in err.value.message


@settings(max_examples=40, deadline=None)
@given(
    case=st.sampled_from(
        [
            ("gemini-1.5-flash", "2024-12-01", "batch", "global"),  # a discount entry shared by input and output
            ("gemini-2.5-pro", DAY, "online", "global"),  # tiers
            ("gemini-3.5-flash", "2026-12-01", "online", "regional"),  # the regional uplift
        ]
    ),
    prompt=st.integers(0, 300_000),
    output=st.integers(0, 70_000),
    cached=st.integers(0, 100_000),
)
def test_bills_priced_together_are_the_bills_priced_alone(
    case: tuple[str, str, str, str], prompt: int, output: int, cached: int
) -> None:
    model, day, mode, endpoint = case
    prices = PriceList(model, date=day, endpoint=endpoint)
    characters = prices.model.billing == "characters"
    bucket = Quantities(text_characters=prompt) if characters else Quantities(tokens=prompt)
    out = Quantities(text_characters=output) if characters else Quantities(tokens=output)
    low = Usage(requests=(RequestUsage(input=bucket, prompt_tokens=prompt // 4 + cached),))
    high = Usage(requests=(RequestUsage(input=bucket, output=out, prompt_tokens=prompt // 4 + cached),))
    together = price_each(prices, [(low, mode, ("a note",)), (high, mode, ())])
    assert together == (price(prices, low, mode, notes=("a note",)), price(prices, high, mode))
