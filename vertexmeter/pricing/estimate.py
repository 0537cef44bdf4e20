"""Pre-flight estimates: read a real request for the bill (generateContent usageMetadata), then price it.

countTokens and generateContent bodies of either API are accepted; what is priced is what
generateContent would report (`usage`), not the countTokens answer (docs/counting.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from vertexmeter.counting import CountResult, UsageResult, count_body, model_info, usage_of_body
from vertexmeter.dates import day_or_today
from vertexmeter.errors import invalid_argument
from vertexmeter.media import MediaOptions
from vertexmeter.pricing.catalogue import Entry
from vertexmeter.pricing.engine import Bill, PriceList, entry_json, money
from vertexmeter.pricing.quote import PromptCounts, Quote, price_list_for, quote
from vertexmeter.pricing.usage import parse_mode, whole_number
from vertexmeter.requests import request_body
from vertexmeter.vocabulary import MODES


@dataclass(frozen=True)
class Estimate:
    """The cost of one request: exact when its output size is given, else a range from no output to the cap."""

    counted: CountResult  # the billed prompt (usageMetadata's promptTokenCount, cached tokens apart)
    quote: Quote
    usage: UsageResult | None = None  # None for the :predict models (PaLM, Codey), read by countTokens

    @property
    def low(self) -> Bill:
        return self.quote.low

    @property
    def high(self) -> Bill | None:  # None: output given, `low` is the estimate
        return self.quote.high

    @property
    def output(self) -> dict[str, Any]:
        return self.quote.output

    @property
    def total(self) -> Decimal:
        """The estimate (the upper bound when the output size was not given)."""
        return self.quote.total

    @property
    def total_range(self) -> tuple[Decimal, Decimal]:
        return self.quote.total_range

    @property
    def prompt_tokens_by_modality(self) -> dict[str, int]:
        """The billed prompt's tokens per modality (replayed thoughts as text, cache hits apart)."""
        if self.usage is not None:
            return self.usage.prompt_tokens_by_modality
        return dict(self.counted.tokens_by_modality)

    def to_json(self) -> dict[str, Any]:
        bill = self.quote.bill
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
        else:
            out["total"] = {"min": money(self.low.total), "max": money(self.high.total)}
        out["lineItems"] = self.quote.line_items_json()
        out["catalogue_entries"] = [entry_json(e) for e in bill.entries]
        notes = list(self.quote.notes)
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
    streamed: bool | None = None,
) -> Estimate:
    """Price what generateContent would bill for `request` (what `count` takes: text, a countTokens or
    generateContent body, google-genai types) on `api`'s price list.

    as_of: the date whose counting rules apply (default: `date`, else today's service).
    cached_content_tokens: the size of the cachedContent the request names, priced as cached input.
    history: the conversation's earlier generateContent responses, for the thoughts replayed thought signatures
        bill (docs/counting.md); without them an agent turn's prompt is priced at its point value and the JSON
        carries the prompt's `bounds`.
    streamed: the conversation's earlier answers came from streamGenerateContent (True) or generateContent (False);
        None: not said. It decides which replayed 2.5 signatures bill (`usage` takes it alike).
    config: google-genai's GenerateContentConfig (or its dict), as generate_content(config=) takes it: its
        max_output_tokens / thinking_config bound the output range like the body's generationConfig.
    """
    mode = parse_mode(mode, "mode")
    prices_, list_notes = price_list_for(model, api, date, prices)
    if not prices_.model.registry and not prices_.model.counted_with:
        raise invalid_argument(
            f"{prices_.model.id} has no offline tokenizer, so a request for it cannot be counted; price it with a "
            "scenario that gives its token counts (vertexmeter estimate --scenario).",
            "model",
        )
    # resolved once; counting and usage get the entry itself (a model priced apart is counted as `counted_with`)
    info = model_info(model if prices_.model.registry else prices_.model.counted_with or model, api)
    body = request_body(request, info, api, config=config, generate=True)
    billed: UsageResult | None = None
    rules_day = as_of if as_of is not None else date
    if "instances" in body:  # a Vertex :predict body (PaLM, Codey, embeddings): countTokens' rules
        counted = count_body(info, body, api, media_options, rules_day)
        prompt = PromptCounts(
            counted.total_tokens, counted.tokens_by_modality, counted.billable_characters, counted.media
        )
    else:
        billed = usage_of_body(
            info,
            body,
            api=api,
            as_of=rules_day,
            media_options=media_options,
            cached_content_tokens=cached_content_tokens,
            history=history,
            streamed=streamed,
        )
        counted = billed.prompt
        prompt = prompt_counts(billed)
    parsed = counted.request  # the parsed request: its generation config bounds the output
    quoted = quote(
        prices_,
        prompt,
        model=info,
        mode=mode,
        max_output_tokens=parsed.max_output_tokens,
        thinking_budget=parsed.thinking_budget,
        output_tokens=None if output_tokens is None else whole_number(output_tokens, "output_tokens"),
        output_characters=None if output_characters is None else whole_number(output_characters, "output_characters"),
        thinking_tokens=0 if thinking_tokens is None else whole_number(thinking_tokens, "thinking_tokens"),
        notes=list_notes,
    )
    return Estimate(counted, quoted, billed)


def prompt_counts(billed: UsageResult) -> PromptCounts:
    """What the bill needs of a generateContent usageMetadata: the prompt (replayed thoughts included, cache
    hits apart) and the cache hits."""
    prompt = billed.prompt
    return PromptCounts(
        tokens=billed.prompt_token_count - billed.cached_content_token_count,
        by_modality=billed.prompt_tokens_by_modality,
        billable_characters=prompt.billable_characters,
        media=prompt.media,
        cached_tokens=billed.cached_content_token_count,
    )


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
    pricer = PriceList(model, date=day_or_today(date), api=api)
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
