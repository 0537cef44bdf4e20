"""Properties: cost never falls when usage grows; online never costs less than batch."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vertexmeter.pricing import PriceList, Quantities, RequestUsage, Usage

TOKENS = st.integers(min_value=0, max_value=400_000)
CHARS = st.integers(min_value=0, max_value=1_200_000)

token_requests = st.builds(
    RequestUsage,
    input=st.builds(Quantities, tokens=TOKENS, audio_tokens=st.integers(0, 50_000)),
    cached_input=st.builds(Quantities, tokens=TOKENS),
    output=st.builds(Quantities, tokens=st.integers(0, 65_000)),
    thinking_tokens=st.integers(0, 30_000),
)
char_requests = st.builds(
    RequestUsage,
    input=st.builds(Quantities, text_characters=CHARS, images=st.integers(0, 20)),
    cached_input=st.builds(Quantities, text_characters=CHARS),
    output=st.builds(Quantities, text_characters=st.integers(0, 40_000)),
)
growth = st.sampled_from(["input", "cached_input", "output"])


def grown(request: RequestUsage, where: str, amount: int, field: str) -> RequestUsage:
    bucket: Quantities = getattr(request, where)
    more = Quantities(**{**vars(bucket), field: getattr(bucket, field) + amount})
    return RequestUsage(**{**vars(request), where: more})


PRO_25 = PriceList("gemini-2.5-pro", date="2026-01-15")
FLASH_25 = PriceList("gemini-2.5-flash", date="2026-01-15")
PRO_15 = PriceList("gemini-1.5-pro", date="2024-12-01")
HAIKU = PriceList("claude-3-5-haiku", date="2024-12-01")


def cost(pricer: PriceList, request: RequestUsage, mode: str = "online"):
    return pricer.price(Usage(requests=(request,)), mode).total


@settings(max_examples=60, deadline=None)
@given(token_requests, growth, st.integers(1, 300_000))
def test_token_cost_never_falls_when_usage_grows(request: RequestUsage, where: str, amount: int) -> None:
    bigger = grown(request, where, amount, "tokens")
    for pricer in (PRO_25, FLASH_25):
        assert cost(pricer, bigger) >= cost(pricer, request)


@settings(max_examples=60, deadline=None)
@given(char_requests, growth, st.integers(1, 600_000))
def test_character_cost_never_falls_when_usage_grows(request: RequestUsage, where: str, amount: int) -> None:
    assert cost(PRO_15, grown(request, where, amount, "text_characters")) >= cost(PRO_15, request)


@settings(max_examples=60, deadline=None)
@given(token_requests)
def test_online_never_costs_less_than_batch(request: RequestUsage) -> None:
    for pricer in (PRO_25, FLASH_25):
        assert cost(pricer, request, "online") >= cost(pricer, request, "batch")
        assert cost(pricer, request, "priority") >= cost(pricer, request, "online")


@settings(max_examples=40, deadline=None)
@given(char_requests)
def test_online_never_costs_less_than_batch_for_characters(request: RequestUsage) -> None:
    plain = RequestUsage(input=request.input, output=request.output)  # 1.x has no batch rate for cached reads
    assert cost(PRO_15, plain, "online") >= cost(PRO_15, plain, "batch")


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 5_000_000), st.integers(0, 5_000_000), st.integers(0, 5_000_000))
def test_claude_online_never_costs_less_than_batch(tokens: int, cached: int, written: int) -> None:
    request = RequestUsage(
        input=Quantities(tokens=tokens),
        cached_input=Quantities(tokens=cached),
        cache_write=Quantities(tokens=written),
        output=Quantities(tokens=tokens),
    )
    assert cost(HAIKU, request, "online") >= cost(HAIKU, request, "batch")


@settings(max_examples=40, deadline=None)
@given(token_requests, st.integers(1, 50))
def test_repeat_is_multiplication(request: RequestUsage, times: int) -> None:
    repeated = RequestUsage(**{**vars(request), "repeat": times})
    assert cost(PRO_25, repeated) == cost(PRO_25, request) * times
