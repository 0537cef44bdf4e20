"""Pre-flight estimates: read a real request for the bill (generateContent usageMetadata), then price it.

countTokens and generateContent bodies of either API are accepted; what is priced is what
generateContent would report (`usage`), not the countTokens answer (docs/counting.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from vertexmeter.counting import CountResult, UsageResult, count, usage
from vertexmeter.errors import invalid_argument
from vertexmeter.media import MediaOptions
from vertexmeter.pricing.catalogue import Entry, catalogue
from vertexmeter.pricing.engine import Bill, Pricer, entry_json, money, parse_date
from vertexmeter.pricing.usage import Quantities, RequestUsage, Usage, parse_mode, whole_number
from vertexmeter.requests import split_options

ESTIMATE_OPTION_KEYS = (
    "mode", "outputTokens", "outputCharacters", "thinkingTokens", "date", "asOf", "cachedContentTokens", "platform",
)


@dataclass(frozen=True)
class Estimate:
    """The cost of one request: exact when its output size is given, else a range from no output to the cap."""

    counted: CountResult  # the billed prompt (usageMetadata's promptTokenCount, cached tokens apart)
    low: Bill
    high: Bill | None  # None: output given, `low` is the estimate
    output: dict[str, Any]
    usage: UsageResult | None = None  # None for the :predict models (PaLM, Codey), read by countTokens

    @property
    def total(self) -> Decimal:
        """The estimate (the upper bound when the output size was not given)."""
        return (self.high or self.low).total

    @property
    def total_range(self) -> tuple[Decimal, Decimal]:
        return self.low.total, (self.high or self.low).total

    def to_json(self) -> dict[str, Any]:
        bill = self.high or self.low
        out: dict[str, Any] = {
            "model": bill.model,
            "date": bill.date.isoformat(),
            "mode": bill.mode,
            "platform": bill.platform,
            "currency": "USD",
            "prompt": prompt_json(self.counted, self.usage),
            "output": self.output,
        }
        if self.high is None:
            out["total"] = money(self.low.total)
            out["line_items"] = [item.to_json() for item in self.low.line_items]
        else:
            out["total"] = {"min": money(self.low.total), "max": money(self.high.total)}
            low_keys = {item.key() for item in self.low.line_items}
            out["line_items"] = [
                {**item.to_json(), **({} if item.key() in low_keys else {"bound": "max"})}
                for item in self.high.line_items
            ]
        out["catalogue_entries"] = [entry_json(e) for e in bill.entries]
        notes = list(dict.fromkeys([*self.low.notes, *(self.high.notes if self.high else ())]))
        if notes:
            out["notes"] = notes
        return out


def prompt_json(counted: CountResult, billed: UsageResult | None = None) -> dict[str, Any]:
    """`total_tokens` is the billed prompt count (usageMetadata.promptTokenCount)."""
    total = billed.prompt_token_count if billed is not None else counted.total_tokens
    out: dict[str, Any] = {"total_tokens": total}
    if billed is not None:
        out["usage_metadata"] = billed.to_rest()
        if billed.cached_content_token_count:
            out["cached_tokens"] = billed.cached_content_token_count
    if counted.model.billed_by_characters:
        out["billable_characters"] = counted.billable_characters
    out["tokens_by_modality"] = dict(counted.tokens_by_modality)
    media = counted.media
    if media.images or media.video_seconds or media.audio_seconds or media.pdf_pages:
        out["media"] = {
            "images": media.images,
            "video_seconds": money(media.video_seconds),
            "audio_seconds": money(media.audio_seconds),
            "pdf_pages": media.pdf_pages,
        }
    return out


def estimate(
    model: str,
    request: Any,
    *,
    api: str = "vertex",
    mode: str = "online",
    output_tokens: int | None = None,
    output_characters: int | None = None,
    thinking_tokens: int | None = None,
    date: Any = None,
    platform: str = "vertex",
    prices: dict[str, Any] | None = None,
    media_options: MediaOptions | None = None,
    as_of: Any = None,
    cached_content_tokens: int | None = None,
) -> Estimate:
    """Price what generateContent would bill for `request` (a countTokens or generateContent body).

    as_of: the date whose counting rules apply (default: `date`, else today's service).
    cached_content_tokens: the size of the cachedContent the request names, priced as cached input.
    """
    mode = parse_mode(mode, "mode")
    pricer = Pricer(model, date=date, platform=platform, overrides=prices)
    if not pricer.model.registry and not pricer.model.counted_with:
        raise invalid_argument(
            f"{pricer.model.id} has no offline tokenizer, so a request for it cannot be counted; price it with a "
            "scenario that gives its token counts (vertexmeter estimate --scenario).",
            "model",
        )
    billed: UsageResult | None = None
    rules_day = as_of if as_of is not None else date
    if _is_predict_body(request):
        counted = count(model, request, api=api, media_options=media_options, as_of=rules_day)
    else:
        billed = usage(
            model, request, api=api, as_of=rules_day, media_options=media_options,
            cached_content_tokens=cached_content_tokens,
        )
        counted = billed.prompt
    info = counted.model
    by_characters = pricer.model.billing == "characters"
    audio = counted.tokens_by_modality.get("AUDIO", 0)
    cached = billed.cached_content_token_count if billed is not None else 0
    if by_characters:
        media = counted.media
        prompt = Quantities(
            text_characters=counted.billable_characters,
            images=media.images,
            video_seconds=media.video_seconds,
            audio_seconds=media.audio_seconds,
            pdf_pages=media.pdf_pages,
        )
    else:
        prompt = Quantities(tokens=counted.total_tokens - audio, audio_tokens=audio)
    thinking = 0 if thinking_tokens is None else whole_number(thinking_tokens, "thinking_tokens")
    base = RequestUsage(
        input=prompt,
        cached_input=Quantities(tokens=cached),
        thinking_tokens=thinking,
        prompt_tokens=counted.total_tokens + cached,
    )

    chars_per_token = _characters_per_token(pricer)
    if output_tokens is None and output_characters is None:
        limit_from = "generationConfig.maxOutputTokens"
        max_tokens = billed.max_output_tokens if billed is not None else _max_output_tokens(request)
        if max_tokens is None:
            max_tokens, limit_from = info.output_token_limit, f"the output limit of {info.id}"
        if max_tokens == 0:  # embeddings: no output to bill
            return Estimate(counted, pricer.price(Usage(requests=(base,)), mode), None, {"tokens": 0}, billed)
        output_json: dict[str, Any] = {"range": {"min_tokens": 0, "max_tokens": max_tokens, "max_from": limit_from}}
        # Thoughts count against maxOutputTokens and bill as output: the bound splits, never grows.
        budget = billed.thinking_budget if billed is not None else None
        max_thinking = min(budget, max_tokens) if budget is not None and budget > 0 else 0
        if budget is not None:
            output_json["range"]["max_thinking_tokens"] = max_thinking
            output_json["range"]["thinking_from"] = "generationConfig.thinkingConfig.thinkingBudget"
        high_output = _output(pricer, max_tokens - max_thinking, None, chars_per_token)
        if by_characters:
            output_json["range"]["max_characters"] = high_output.text_characters
        low = pricer.price(Usage(requests=(base,)), mode)
        high_usage = RequestUsage(**{**vars(base), "output": high_output, "thinking_tokens": thinking + max_thinking})
        high = pricer.price(Usage(requests=(high_usage,)), mode)
        return Estimate(counted, low, high, output_json, billed)
    tokens = None if output_tokens is None else whole_number(output_tokens, "output_tokens")
    characters = None if output_characters is None else whole_number(output_characters, "output_characters")
    output = _output(pricer, tokens, characters, chars_per_token)
    output_json = {k: v for k, v in (("tokens", tokens), ("characters", characters)) if v is not None}
    bill = pricer.price(Usage(requests=(RequestUsage(**{**vars(base), "output": output}),)), mode)
    return Estimate(counted, bill, None, output_json, billed)


def _output(pricer: Pricer, tokens: int | None, characters: int | None, chars_per_token: Decimal) -> Quantities:
    if pricer.model.billing == "characters":
        if characters is None:
            # Character-billed output given in tokens: the seed's ~4 characters per token.
            assert tokens is not None
            characters = int(tokens * chars_per_token)
            pricer.notes.append(
                f"Output tokens converted to billable characters at {money(chars_per_token)} per token "
                "(the pricing page's rule of thumb)."
            )
        return Quantities(text_characters=characters)
    if tokens is None:
        raise invalid_argument(
            f"{pricer.model.id} bills output per token: give output_tokens, not output_characters.",
            "output_tokens",
        )
    return Quantities(tokens=tokens)


def _characters_per_token(pricer: Pricer) -> Decimal:
    equivalents = catalogue().token_equivalents(pricer.model)
    if equivalents and equivalents.characters_per_token:
        return equivalents.characters_per_token
    return Decimal(4)


def _is_predict_body(request: Any) -> bool:
    """A Vertex :predict body (`instances`: PaLM, Codey, embeddings), read by countTokens' rules."""
    return isinstance(request, dict) and "instances" in request


def _max_output_tokens(request: Any) -> int | None:
    if isinstance(request, dict):
        config = request.get("generationConfig") or request.get("generation_config") or {}
        value = config.get("maxOutputTokens", config.get("max_output_tokens")) if isinstance(config, dict) else None
        if value is not None:
            return whole_number(value, "generationConfig.maxOutputTokens")
    return None


def estimate_from_body(
    model: str, body: Any, *, api: str = "vertex", media_options: MediaOptions | None = None
) -> dict[str, Any]:
    """The `:estimateCost` answer: `body` is a countTokens/generateContent body plus optional
    `estimateOptions` {mode, outputTokens, outputCharacters, thinkingTokens, date, asOf, cachedContentTokens,
    platform}; returns the estimate JSON. `api` says how the body is counted (whose bill), `platform`
    whose price list prices it (default vertex; gemini_api where the catalogue has its prices).
    Errors are VertexMeterError (Google's error shape via `.to_json()`)."""
    request, options = split_options(body, "estimateOptions", ESTIMATE_OPTION_KEYS)
    result = estimate(
        model,
        request,
        api=api,
        mode=options.get("mode", "online"),
        output_tokens=options.get("outputTokens"),
        output_characters=options.get("outputCharacters"),
        thinking_tokens=options.get("thinkingTokens"),
        date=options.get("date"),
        media_options=media_options,
        as_of=options.get("asOf"),
        cached_content_tokens=options.get("cachedContentTokens"),
        platform=options.get("platform", "vertex"),
    )
    return result.to_json()


@dataclass(frozen=True)
class PriceSheet:
    """The rates in force for a model on a date."""

    model: str
    date: dt.date
    platform: str
    entries: tuple[Entry, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "date": self.date.isoformat(),
            "platform": self.platform,
            "currency": "USD",
            "rates": [
                {
                    "charge": e.charge,
                    "modality": e.modality,
                    "tier": e.tier,
                    "mode": e.mode,
                    **({"applies_to": e.applies_to} if e.applies_to else {}),
                    **entry_json(e),
                }
                for e in self.entries
            ],
        }


def prices(model: str, date: Any = None, *, platform: str = "vertex") -> PriceSheet:
    """Every catalogue rate in force for `model` on `date` (today when None)."""
    pricer = Pricer(model, date=parse_date(date), platform=platform)
    order = {"input": 0, "cached_input": 1, "cache_write": 2, "output": 3, "cache_storage": 4}
    entries = sorted(
        pricer.entries,
        key=lambda e: (
            order.get(e.charge, 9),
            e.charge,
            e.modality,
            ("online", "batch", "flex", "priority").index(e.mode),
            e.tier or "",
        ),
    )
    return PriceSheet(pricer.model.id, pricer.date, platform, tuple(entries))
