"""A request's bill, assembled in one place: what an estimate, a batch line and (from known usage) a ledger
line cost.

    price_list_for(model, api, date) -> (PriceList, notes)   # the API's list, else Vertex AI's, said so
    quote(prices, prompt, model=..., mode=...) -> Quote      # a counted prompt and its output range
    quote_usage(prices, usage, mode=...) -> Quote             # usage already known (a usageMetadata record)

The rules live here once: the prompt as the model's list bills it (tokens with audio apart, or billable
characters and media units), the output range (none given: from no output to the request's
`maxOutputTokens`, else the model's output limit, never above that limit; a thinking budget splits the cap),
and which line items are only the upper end of that range (`bound: "max"`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vertexmeter.counting import MediaUsage
from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.pricing.catalogue import catalogue
from vertexmeter.pricing.engine import Bill, PriceList, money, price, price_each
from vertexmeter.pricing.usage import NOTHING, Quantities, RequestUsage, Usage
from vertexmeter.registry import ModelInfo
from vertexmeter.vocabulary import VERTEX


@dataclass(frozen=True)
class PromptCounts:
    """What a bill needs of a counted prompt (usageMetadata's, or countTokens' for the :predict models)."""

    tokens: int  # the billed prompt without cache hits (promptTokenCount - cachedContentTokenCount)
    by_modality: Mapping[str, int] = field(default_factory=dict)  # of `tokens`
    billable_characters: int = 0
    media: MediaUsage = field(default_factory=MediaUsage)
    cached_tokens: int = 0


@dataclass(frozen=True)
class Quote:
    """A request's cost: exact (`high` None) when its output size is known, else the range from no output
    (`low`) to the output at the cap (`high`)."""

    low: Bill
    high: Bill | None
    output: dict[str, Any]  # the output priced: {"tokens": n, "characters": c} or {"range": {...}}
    max_output_tokens: int  # the output size priced at the top (the stated size when exact)

    @property
    def bill(self) -> Bill:
        """The bill at the top of the range (the only one when exact)."""
        return self.high or self.low

    @property
    def total(self) -> Decimal:
        """The cost (the upper bound when the output size was not given)."""
        return self.bill.total

    @property
    def total_range(self) -> tuple[Decimal, Decimal]:
        return self.low.total, self.bill.total

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.low.notes, *(self.high.notes if self.high else ())]))

    def line_items_json(self) -> list[dict[str, Any]]:
        """The top bill's line items (LineItem.to_rest); those the lower bill has no match for (same rate,
        same description) price only the upper end of the range: `"bound": "max"`."""
        if self.high is None:
            return [item.to_rest() for item in self.low.line_items]
        low_keys = {item.key() for item in self.low.line_items}
        return [item.to_rest(None if item.key() in low_keys else "max") for item in self.high.line_items]


def price_list_for(
    model: str, api: str, date: Any, overrides: dict[str, Any] | None = None
) -> tuple[PriceList, tuple[str, ...]]:
    """The price list of `api`; where the catalogue has no Gemini API list for the model, Vertex AI's, said
    in a note (the two lists agree for most models; the catalogue holds the Gemini API rows that differ)."""
    try:
        return PriceList(model, date=date, api=api, overrides=overrides), ()
    except VertexMeterError as error:
        if api == VERTEX or error.status != "NOT_FOUND":
            raise
    prices = PriceList(model, date=date, api=VERTEX, overrides=overrides)
    return prices, (f"The catalogue has no Gemini API price list for {prices.model.id}; priced at Vertex AI rates.",)


def prompt_quantities(prices: PriceList, prompt: PromptCounts) -> Quantities:
    """The prompt as the model's price list bills it: billable characters and media units (1.x, PaLM), else
    tokens with the audio tokens apart (they have their own rate)."""
    if prices.model.billing == "characters":
        media = prompt.media
        return Quantities(
            text_characters=prompt.billable_characters,
            images=media.images,
            video_seconds=media.video_seconds,
            audio_seconds=media.audio_seconds,
            pdf_pages=media.pdf_pages,
        )
    audio = prompt.by_modality.get("AUDIO", 0)
    return Quantities(tokens=prompt.tokens - audio, audio_tokens=audio)


def quote(
    prices: PriceList,
    prompt: PromptCounts,
    *,
    model: ModelInfo,
    mode: str = "online",
    max_output_tokens: int | None = None,
    thinking_budget: int | None = None,
    output_tokens: int | None = None,
    output_characters: int | None = None,
    thinking_tokens: int = 0,
    notes: Iterable[str] = (),
) -> Quote:
    """The cost of a counted request on `prices`.

    model: the counted model (its output limit caps the range). max_output_tokens / thinking_budget: the
    request's generationConfig. output_tokens / output_characters: the output size when known (then the
    quote is exact). thinking_tokens: thoughts known to be billed whatever the output. notes: the caller's
    (e.g. price_list_for's), listed first.
    """
    notes = tuple(notes)
    base = RequestUsage(
        input=prompt_quantities(prices, prompt),
        cached_input=Quantities(tokens=prompt.cached_tokens) if prompt.cached_tokens else NOTHING,
        thinking_tokens=thinking_tokens,
        prompt_tokens=prompt.tokens + prompt.cached_tokens,
    )
    if output_tokens is not None or output_characters is not None:
        output, said = _output(prices, output_tokens, output_characters)
        bill = price(prices, Usage(requests=(_with(base, output=output),)), mode, notes=(*notes, *said))
        stated = {k: v for k, v in (("tokens", output_tokens), ("characters", output_characters)) if v is not None}
        return Quote(bill, None, stated, output_tokens or 0)
    limit_from = "generationConfig.maxOutputTokens"
    cap = max_output_tokens
    clamped: tuple[str, ...] = ()  # said by the top of the range only
    if cap is None:
        cap, limit_from = model.output_token_limit, f"the output limit of {model.id}"
    elif model.output_token_limit and cap > model.output_token_limit:
        clamped = (
            f"generationConfig.maxOutputTokens {cap:,} is above the output limit of {model.id} "
            f"({model.output_token_limit:,} tokens), which the service does not exceed: the range stops there.",
        )
        cap, limit_from = model.output_token_limit, f"the output limit of {model.id}"
    if cap == 0:  # embeddings: no output to bill
        return Quote(price(prices, Usage(requests=(base,)), mode, notes=notes), None, {"tokens": 0}, 0)
    # Thoughts count against maxOutputTokens and bill as output: a thinking budget splits the cap, never grows it.
    thinking = min(thinking_budget, cap) if thinking_budget is not None and thinking_budget > 0 else 0
    output, said = _output(prices, cap - thinking, None)
    top = _with(base, output=output, thinking_tokens=thinking_tokens + thinking)
    low, high = price_each(
        prices,
        ((Usage(requests=(base,)), mode, notes), (Usage(requests=(top,)), mode, (*notes, *clamped, *said))),
    )
    span: dict[str, Any] = {"min_tokens": 0, "max_tokens": cap, "max_from": limit_from}
    if thinking_budget is not None:
        span["max_thinking_tokens"] = thinking
        span["thinking_from"] = "generationConfig.thinkingConfig.thinkingBudget"
    if prices.model.billing == "characters":
        span["max_characters"] = output.text_characters
    return Quote(low, high, {"range": span}, cap)


def quote_usage(prices: PriceList, usage: RequestUsage, *, mode: str = "online", notes: Iterable[str] = ()) -> Quote:
    """The exact cost of a request whose usage is known (a billed log line's usageMetadata, read into a
    RequestUsage: prompt net of cache hits, cache hits, output, thoughts, grounding)."""
    bill = price(prices, Usage(requests=(usage,)), mode, notes=notes)
    output = usage.output.tokens + usage.output.thinking_tokens + usage.thinking_tokens
    return Quote(bill, None, {"tokens": output}, output)


def _with(base: RequestUsage, **changes: Any) -> RequestUsage:
    return RequestUsage(**{**vars(base), **changes})


def _output(prices: PriceList, tokens: int | None, characters: int | None) -> tuple[Quantities, tuple[str, ...]]:
    """The output quantities to price, and a note when they were derived rather than given."""
    if prices.model.billing == "characters":
        if characters is None:
            assert tokens is not None
            per_token = characters_per_token(prices)
            note = (
                f"Output tokens converted to billable characters at {money(per_token)} per token "
                "(the pricing page's rule of thumb)."
            )
            return Quantities(text_characters=int(tokens * per_token)), (note,)
        return Quantities(text_characters=characters), ()
    if tokens is None:
        raise invalid_argument(
            f"{prices.model.id} bills output per token: give output_tokens, not output_characters.",
            "output_tokens",
        )
    return Quantities(tokens=tokens), ()


def characters_per_token(prices: PriceList) -> Decimal:
    """The characters a token stands for on a character-billed list (the catalogue's, else ~4)."""
    equivalents = catalogue().token_equivalents(prices.model)
    if equivalents and equivalents.characters_per_token:
        return equivalents.characters_per_token
    return Decimal(4)
