"""Pre-flight estimates: read a real request for the bill (generateContent usageMetadata), then price it.

countTokens and generateContent bodies of either API are accepted; what is priced is what
generateContent would report (`usage`), not the countTokens answer (docs/counting.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from vertexmeter.counting import CountResult, MediaUsage, UsageResult, count_body, model_info, usage_of_body
from vertexmeter.dates import day_or_today
from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.media import MediaOptions
from vertexmeter.pricing.catalogue import Entry, catalogue
from vertexmeter.pricing.engine import Bill, Pricer, entry_json, money
from vertexmeter.pricing.usage import Quantities, RequestUsage, Usage, parse_mode, whole_number
from vertexmeter.requests import request_body
from vertexmeter.vocabulary import MODES, VERTEX, catalogue_platform


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
            "api": self.counted.api,
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
        if self.counted.model.confidence_note:
            notes.append(self.counted.model.confidence_note.removeprefix("vertexmeter: "))
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
    out["tokens_by_modality"] = (
        billed.prompt_tokens_by_modality if billed is not None else dict(counted.tokens_by_modality)
    )
    if billed is not None and billed.bounds is not None:
        out["bounds"] = billed.bounds
    if counted.inferred:  # vertexmeter's own JSON: an inferred count is said to be one
        out["count_confidence"] = counted.confidence
        out["count_confidence_reason"] = counted.model.confidence_reason
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
    prices: dict[str, Any] | None = None,
    media_options: MediaOptions | None = None,
    as_of: Any = None,
    cached_content_tokens: int | None = None,
    history: Any = None,
    config: Any = None,
) -> Estimate:
    """Price what generateContent would bill for `request` (what `count` takes: text, a countTokens or
    generateContent body, google-genai types) on `api`'s price list.

    as_of: the date whose counting rules apply (default: `date`, else today's service).
    cached_content_tokens: the size of the cachedContent the request names, priced as cached input.
    history: the conversation's earlier generateContent responses, for the thoughts replayed thought signatures
        bill (docs/counting.md); without them an agent turn's prompt is priced at its point value and the JSON
        carries the prompt's `bounds`.
    config: google-genai's GenerateContentConfig (or its dict), as generate_content(config=) takes it: its
        max_output_tokens / thinking_config bound the output range like the body's generationConfig.
    """
    mode = parse_mode(mode, "mode")
    pricer, price_list_note = pricer_for(model, api, date, prices)
    if not pricer.model.registry and not pricer.model.counted_with:
        raise invalid_argument(
            f"{pricer.model.id} has no offline tokenizer, so a request for it cannot be counted; price it with a "
            "scenario that gives its token counts (vertexmeter estimate --scenario).",
            "model",
        )
    # resolved once; counting and usage get the entry itself (a model priced apart is counted as `counted_with`)
    info = model_info(model if pricer.model.registry else pricer.model.counted_with or model, api)
    body = request_body(request, info, api, config=config, generate=True)
    billed: UsageResult | None = None
    rules_day = as_of if as_of is not None else date
    if "instances" in body:  # a Vertex :predict body (PaLM, Codey, embeddings): countTokens' rules
        counted = count_body(info, body, api, media_options, rules_day)
    else:
        billed = usage_of_body(
            info,
            body,
            api=api,
            as_of=rules_day,
            media_options=media_options,
            cached_content_tokens=cached_content_tokens,
            history=history,
        )
        counted = billed.prompt
    cached = billed.cached_content_token_count if billed is not None else 0
    replayed = billed.replayed_thoughts_token_count if billed is not None else 0
    by_modality = billed.prompt_tokens_by_modality if billed is not None else counted.tokens_by_modality
    prompt = prompt_quantities(
        pricer, counted.total_tokens + replayed, by_modality, counted.billable_characters, counted.media
    )
    thinking = 0 if thinking_tokens is None else whole_number(thinking_tokens, "thinking_tokens")
    base = RequestUsage(
        input=prompt,
        cached_input=Quantities(tokens=cached),
        thinking_tokens=thinking,
        prompt_tokens=counted.total_tokens + replayed + cached,
    )

    parsed = counted.request  # the parsed request: its generation config bounds the output
    if output_tokens is None and output_characters is None:
        limit_from = "generationConfig.maxOutputTokens"
        max_tokens = parsed.max_output_tokens
        if max_tokens is None:
            max_tokens, limit_from = info.output_token_limit, f"the output limit of {info.id}"
        elif info.output_token_limit and max_tokens > info.output_token_limit:
            price_list_note = (
                *price_list_note,
                f"generationConfig.maxOutputTokens {max_tokens:,} is above the output limit of {info.id} "
                f"({info.output_token_limit:,} tokens), which the service does not exceed: the range stops there.",
            )
            max_tokens, limit_from = info.output_token_limit, f"the output limit of {info.id}"
        if max_tokens == 0:  # embeddings: no output to bill
            bill = pricer.price(Usage(requests=(base,)), mode, notes=price_list_note)
            return Estimate(counted, bill, None, {"tokens": 0}, billed)
        output_json: dict[str, Any] = {"range": {"min_tokens": 0, "max_tokens": max_tokens, "max_from": limit_from}}
        high_output, max_thinking, notes = output_at_cap(pricer, max_tokens, parsed.thinking_budget)
        if parsed.thinking_budget is not None:
            output_json["range"]["max_thinking_tokens"] = max_thinking
            output_json["range"]["thinking_from"] = "generationConfig.thinkingConfig.thinkingBudget"
        if pricer.model.billing == "characters":
            output_json["range"]["max_characters"] = high_output.text_characters
        low = pricer.price(Usage(requests=(base,)), mode, notes=price_list_note)
        high_usage = RequestUsage(**{**vars(base), "output": high_output, "thinking_tokens": thinking + max_thinking})
        high = pricer.price(Usage(requests=(high_usage,)), mode, notes=(*price_list_note, *notes))
        return Estimate(counted, low, high, output_json, billed)
    tokens = None if output_tokens is None else whole_number(output_tokens, "output_tokens")
    characters = None if output_characters is None else whole_number(output_characters, "output_characters")
    output, notes = _output(pricer, tokens, characters, _characters_per_token(pricer))
    output_json = {k: v for k, v in (("tokens", tokens), ("characters", characters)) if v is not None}
    requests = (RequestUsage(**{**vars(base), "output": output}),)
    bill = pricer.price(Usage(requests=requests), mode, notes=(*price_list_note, *notes))
    return Estimate(counted, bill, None, output_json, billed)


def pricer_for(model: str, api: str, date: Any, prices: dict[str, Any] | None = None) -> tuple[Pricer, tuple[str, ...]]:
    """The price list of `api`; where the catalogue has no Gemini API list for the model, Vertex AI's, said
    in a note (the two lists agree for most models; the catalogue holds the Gemini API rows that differ)."""
    try:
        return Pricer(model, date=date, platform=catalogue_platform(api), overrides=prices), ()
    except VertexMeterError as error:
        if api == VERTEX or error.status != "NOT_FOUND":
            raise
    pricer = Pricer(model, date=date, platform=catalogue_platform(VERTEX), overrides=prices)
    return pricer, (f"The catalogue has no Gemini API price list for {pricer.model.id}; priced at Vertex AI rates.",)


def prompt_quantities(
    pricer: Pricer, prompt_tokens: int, by_modality: dict[str, int], billable_characters: int, media: MediaUsage
) -> Quantities:
    """The prompt as the model's price list bills it: billable characters and media units (1.x, PaLM), else
    tokens with the audio tokens apart (they have their own rate)."""
    if pricer.model.billing == "characters":
        return Quantities(
            text_characters=billable_characters,
            images=media.images,
            video_seconds=media.video_seconds,
            audio_seconds=media.audio_seconds,
            pdf_pages=media.pdf_pages,
        )
    audio = by_modality.get("AUDIO", 0)
    return Quantities(tokens=prompt_tokens - audio, audio_tokens=audio)


def output_at_cap(
    pricer: Pricer, max_tokens: int, thinking_budget: int | None
) -> tuple[Quantities, int, tuple[str, ...]]:
    """The upper bound's output quantities, thinking tokens and notes. Thoughts count against
    maxOutputTokens and bill as output: a thinking budget splits the cap, never grows it."""
    thinking = min(thinking_budget, max_tokens) if thinking_budget is not None and thinking_budget > 0 else 0
    output, notes = _output(pricer, max_tokens - thinking, None, _characters_per_token(pricer))
    return output, thinking, notes


def _output(
    pricer: Pricer, tokens: int | None, characters: int | None, chars_per_token: Decimal
) -> tuple[Quantities, tuple[str, ...]]:
    """The output quantities to price, and a note when they were derived rather than given."""
    if pricer.model.billing == "characters":
        if characters is None:
            # Character-billed output given in tokens: the seed's ~4 characters per token.
            assert tokens is not None
            note = (
                f"Output tokens converted to billable characters at {money(chars_per_token)} per token "
                "(the pricing page's rule of thumb)."
            )
            return Quantities(text_characters=int(tokens * chars_per_token)), (note,)
        return Quantities(text_characters=characters), ()
    if tokens is None:
        raise invalid_argument(
            f"{pricer.model.id} bills output per token: give output_tokens, not output_characters.",
            "output_tokens",
        )
    return Quantities(tokens=tokens), ()


def _characters_per_token(pricer: Pricer) -> Decimal:
    equivalents = catalogue().token_equivalents(pricer.model)
    if equivalents and equivalents.characters_per_token:
        return equivalents.characters_per_token
    return Decimal(4)


@dataclass(frozen=True)
class PriceSheet:
    """The rates in force for a model on a date."""

    model: str
    date: dt.date
    api: str
    entries: tuple[Entry, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "date": self.date.isoformat(),
            "api": self.api,
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


def prices(model: str, date: Any = None, *, api: str = "vertex") -> PriceSheet:
    """Every catalogue rate in force for `model` on `date` (today when None)."""
    pricer = Pricer(model, date=day_or_today(date), platform=catalogue_platform(api))
    order = {"input": 0, "cached_input": 1, "cache_write": 2, "output": 3, "cache_storage": 4}
    entries = sorted(
        pricer.entries,
        key=lambda e: (
            order.get(e.charge, 9),
            e.charge,
            e.modality,
            MODES.index(e.mode),
            e.tier or "",
        ),
    )
    return PriceSheet(pricer.model.id, pricer.date, api, tuple(entries))
