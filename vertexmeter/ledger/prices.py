"""Prepared pricing for the ledger: the `PriceList`'s rates, looked up once per kind of call and reused.

A log holds millions of calls but few kinds: one model, API and endpoint with the same rates in force (days
between two price changes share them), one mode, the same usage counts present, the same long-context tier.
For one kind, the `PriceList` gives the same line items (entry, rate, unit, description) and only their
quantities and amounts change, each item's quantity being one usage count and its amount
`quantity x rate / unit size`. So the first call of a kind is priced by the `PriceList` itself, and once more
with a probe (the same kind, every count a distinct number) that shows which count each line item bills; the
template made from it must give the first call's exact line items and total, or the kind is always priced by
the `PriceList`. Later calls of the kind take the template: the same Decimal arithmetic, at the engine's
precision, without the rate search.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, getcontext, localcontext
from typing import Any

from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.pricing import UNITS, PriceList, Quantities, RequestUsage, catalogue, money, quote_usage

BUCKETS = ("input", "cached_input", "cache_write", "output")
COUNTS = ("tokens", "audio_tokens", "image_tokens", "video_tokens")  # what a usage log reports per bucket
EXTRAS = ("thinking_tokens", "grounded_requests", "search_queries", "maps_requests")
# Bucket fields a template does not cover (a call with one of them set is priced by the PriceList every time).
OTHER_COUNTS = ("text_characters", "images", "pdf_pages", "thinking_tokens", "clips", "video_seconds", "audio_seconds")
MAX_TEMPLATES = 10_000  # kinds of call per import; past it (a log of odd mixtures), the PriceList prices the rest
PRECISION = 60  # the engine's working precision (pricing.engine.PRECISION): amounts are computed alike
# Integer pricing (_apply_plan) gives what Decimal gives while no step rounds: a total and amounts of at most
# this many digits, and a caller's context at least as precise (the default's 28).
MONEY_DIGITS = 28
MONEY_LIMIT = 10**MONEY_DIGITS
ZERO = Decimal(0)


def pricer_for(model: str, day: dt.date, api: str, endpoint: str) -> PriceList:
    """The one place the ledger makes a `PriceList`; `api` is the project's word (vertex | gemini)."""
    return PriceList(model, date=day, api=api, endpoint=endpoint)


@dataclass(frozen=True)
class Priced:
    """A call's bill as the ledger stores it."""

    priced_model: str
    total: Decimal
    line_items: list[dict[str, Any]]
    grounding_entry: str | None  # the last grounding line item with a free allowance, if any
    grounding_amount: Decimal
    line_items_json: str | None = None  # json.dumps(line_items), when a template wrote it (None: not written)


@dataclass(frozen=True)
class _Item:
    source: int  # index of the count it bills in the usage vector
    price: Decimal
    size: int
    shown: dict[str, Any]  # the line item's JSON, its quantity and amount to be filled in (keys in order)
    allowance: bool  # a grounding entry with a free allowance
    # json.dumps of the line item cut around its quantity and amount (both written as plain JSON strings)
    json_parts: tuple[str, str, str] | None = None


@dataclass(frozen=True)
class _Template:
    items: tuple[_Item, ...]
    priced_model: str
    json_ready: bool = False  # every item has its json_parts


def usage_vector(usage: RequestUsage) -> tuple[int, ...] | None:
    """The usage's counts in a fixed order (per bucket COUNTS, then EXTRAS), or None when it has anything a
    template does not cover (characters, images, seconds, repeats, filtered, a mode or operation of its own)."""
    if usage.repeat != 1 or usage.filtered or usage.mode is not None or usage.operation != "generate":
        return None
    if usage.video_tier is not None or usage.video_resolution is not None:
        return None
    i, c, w, o = usage.input, usage.cached_input, usage.cache_write, usage.output
    for b in (i, c, w, o):  # spelt out (not a loop over OTHER_COUNTS): this runs once per logged call
        if b.text_characters or b.images or b.pdf_pages or b.thinking_tokens or b.clips or b.video_seconds:
            return None
        if b.audio_seconds:
            return None
    return (
        i.tokens, i.audio_tokens, i.image_tokens, i.video_tokens,
        c.tokens, c.audio_tokens, c.image_tokens, c.video_tokens,
        w.tokens, w.audio_tokens, w.image_tokens, w.video_tokens,
        o.tokens, o.audio_tokens, o.image_tokens, o.video_tokens,
        usage.thinking_tokens, usage.grounded_requests, usage.search_queries, usage.maps_requests,
    )  # fmt: skip


def usage_of(vector: tuple[int, ...], prompt_tokens: int | None) -> RequestUsage:
    """The RequestUsage of a usage vector (the inverse of usage_vector)."""

    def bucket(at: int) -> Quantities:
        return Quantities(
            tokens=vector[at], audio_tokens=vector[at + 1], image_tokens=vector[at + 2], video_tokens=vector[at + 3]
        )

    return RequestUsage(
        input=bucket(0),
        cached_input=bucket(4),
        cache_write=bucket(8),
        output=bucket(12),
        thinking_tokens=vector[16],
        grounded_requests=vector[17],
        search_queries=vector[18],
        maps_requests=vector[19],
        prompt_tokens=prompt_tokens,
    )


class PriceBook:
    """Pricers per (model, day, API, endpoint) and templates per kind of call, for one import."""

    def __init__(self) -> None:
        self.pricers: dict[tuple[str, dt.date, str, str], PriceList] = {}
        # id(pricer) -> (what its rates depend on, its long-context tier limits): days with the same entries in
        # force share their templates
        self.rates: dict[int, tuple[int, tuple[int, ...]]] = {}
        self.rate_ids: dict[tuple[Any, ...], int] = {}
        self.templates: dict[tuple[Any, ...], _Template | None] = {}  # None: always priced by the PriceList
        # for price_tokens: (model, day, API, endpoint) -> the rates' id and tier limits of its token-billed pricer;
        # a template's items as flat tuples
        self.rated: dict[tuple[str, dt.date, str, str], tuple[int, tuple[int, ...]]] = {}
        self.steps: dict[tuple[Any, ...], tuple[str, tuple[tuple[Any, ...], ...], Any]] = {}
        self.refused: set[tuple[str, dt.date, str, str]] = set()  # make_pricer's refusals
        self.work = getcontext().copy()  # the engine's precision, as _apply's localcontext gives it
        self.work.prec = PRECISION

    def pricer(self, model: str, day: dt.date, api: str, endpoint: str) -> PriceList:
        key = (model, day, api, endpoint)
        pricer = self.pricers.get(key)
        if pricer is None:
            pricer = self.pricers[key] = pricer_for(model, day, api, endpoint)
            rates = (pricer.model.id, api, endpoint, tuple(e.id for e in pricer.entries))
            rate_id = self.rate_ids.setdefault(rates, len(self.rate_ids))  # a small int hashes fast
            self.rates[id(pricer)] = (rate_id, tuple(sorted({b[1] for e in pricer.entries if (b := e.tier_bound)})))
        if pricer.model.billing != "tokens":
            raise invalid_argument(
                f"{pricer.model.id} bills per {pricer.model.billing.replace('_', ' ')}, and a "
                "usage log has only tokens; price it with a scenario instead.",
                "modelVersion",
            )
        return pricer

    def make_pricer(self, model: str, day: dt.date, api: str, endpoint: str) -> bool:
        """Make the token-billed pricer of (model, day, API, endpoint) if it is not made yet: False when it was
        made already or is refused (the checked path then prices the call, or says why it cannot)."""
        where = (model, day, api, endpoint)
        if where in self.pricers or where in self.refused:
            return False
        try:
            self.pricer(model, day, api, endpoint)
        except VertexMeterError:
            self.refused.add(where)  # (its lines are refused by the checked path, each with the reason)
            return False
        return True

    def price(self, pricer: PriceList, mode: str, usage: RequestUsage) -> Priced:
        """`usage` priced in `mode` by a `pricer` of this book."""
        vector = usage_vector(usage)
        if vector is None:
            return _from_bill(pricer, usage, mode)
        prompt = pricer.prompt_tokens(usage)
        rates, limits = self.rates[id(pricer)]
        kind = (rates, mode, tuple([prompt > limit for limit in limits]), tuple(map(bool, vector)))
        if kind not in self.templates:
            priced = _from_bill(pricer, usage, mode)
            if len(self.templates) < MAX_TEMPLATES:
                self.templates[kind] = _template(pricer, vector, prompt, mode, priced)
            return priced
        template = self.templates[kind]
        if template is None:
            return _from_bill(pricer, usage, mode)
        return _apply(template, vector)

    def price_tokens(
        self,
        model: str,
        day: dt.date,
        api: str,
        endpoint: str,
        mode: str,
        vector: tuple[int, ...],
        prompt: int,
        present: tuple[bool, ...] | None = None,
    ) -> tuple[str, Decimal, str, str | None, Decimal] | None:
        """A call whose kind has a template with its JSON: (priced model, total, line items JSON, grounding entry,
        grounding amount), as `price` stores it; None when the pricer or template is not made yet (the caller
        prices it by `price`, which makes them). `vector` as usage_vector gives it, `prompt` the prompt tokens,
        `present` tuple(map(bool, vector)) if the caller has it."""
        where = (model, day, api, endpoint)
        rated = self.rated.get(where)
        if rated is None:
            pricer = self.pricers.get(where)
            if pricer is None or pricer.model.billing != "tokens":
                return None
            rated = self.rated[where] = self.rates[id(pricer)]
        rates, limits = rated
        tiers = () if not limits else (prompt > limits[0],) if len(limits) == 1 else tuple([prompt > x for x in limits])
        kind = (rates, mode, tiers, tuple(map(bool, vector)) if present is None else present)
        steps = self.steps.get(kind)
        if steps is None:
            template = self.templates.get(kind)
            if template is None or not template.json_ready:
                return None
            items = tuple(
                (i.source, i.price, i.size, *(i.json_parts or ()), i.allowance, i.shown["entry_id"])
                for i in template.items
            )
            steps = self.steps[kind] = (template.priced_model, items, _plan(items))
        plan = steps[2]
        if plan is not None and getcontext().prec >= MONEY_DIGITS:
            priced = _apply_plan(steps[0], plan, vector)
            if priced is not None:
                return priced
        multiply, divide = self.work.multiply, self.work.divide
        total = Decimal(0)  # summed in the caller's context, as _apply's sum()
        parts = []
        allowance_entry, grounding_amount = None, Decimal(0)
        for source, price, size, head, middle, tail, allowance, entry in steps[1]:
            quantity = vector[source]
            amount = divide(multiply(Decimal(quantity), price), size)  # at the engine's precision, as _apply
            total += amount
            shown = format(amount.normalize(), "f")  # money(amount), in the caller's context
            parts.append(f"{head}{quantity}{middle}{shown if shown not in ('-0', '') else '0'}{tail}")
            if allowance:
                allowance_entry, grounding_amount = entry, amount
        return steps[0], total, "[" + ", ".join(parts) + "]", allowance_entry, grounding_amount


def _plan(items: tuple[tuple[Any, ...], ...]) -> tuple[int, tuple[tuple[Any, ...], ...], tuple[str, ...]] | None:
    """The steps as integer arithmetic: (base exponent, per item (source, rate coefficient, rate exponent, unit
    size's power of ten, the amount's scale to the base exponent, allowance, entry), the line items' JSON around
    each item's quantity and amount); None when a rate is negative or not finite, or a unit size is not a power
    of ten (those keep the Decimal steps)."""
    out = []
    for source, price, size, _head, _middle, _tail, allowance, entry in items:
        sign, digits, exponent = price.as_tuple()
        power = len(str(size)) - 1
        if sign or type(exponent) is not int or size != 10**power:
            return None
        out.append((source, int("".join(map(str, digits)) or "0"), exponent, power, allowance, entry))
    base = min((e - k for _, _, e, k, *_ in out), default=0)
    steps = tuple((s, c, e, k, 10 ** (e - k - base), *rest) for s, c, e, k, *rest in out)
    # the JSON between the quantities and amounts: "[" head, middle, tail ", " head, ..., middle, tail "]"
    heads = [head for _, _, _, head, *_ in items]
    glue = ["[" + heads[0] if items else "[]"]
    for n, (_, _, _, _, middle, tail, *_) in enumerate(items):
        glue += [middle, tail + (", " + heads[n + 1] if n + 1 < len(items) else "]")]
    return base, steps, tuple(glue)


def _apply_plan(
    priced_model: str, plan: tuple[int, tuple[tuple[Any, ...], ...], tuple[str, ...]], vector: tuple[int, ...]
) -> tuple[str, Decimal, str, str | None, Decimal] | None:
    """price_tokens' Decimal steps done on integers, exactly: an amount `quantity x rate / 10^k` is the integer
    quantity x rate coefficient at the rate's exponent - k, with the exponent Decimal's exact division gives it
    (the ideal one, the rate's, as far as trailing zeros allow). The total is made a Decimal once, with the
    coefficient and exponent Decimal's exact additions give it (None: past MONEY_DIGITS, where they may
    round: the Decimal steps then)."""
    base, steps, glue = plan
    scaled = 0  # the total's coefficient at the base exponent
    low = 0  # the total's exponent: the least of Decimal(0)'s and the amounts'
    shown_items: list[str] = []  # each item's quantity and amount text, between the glue
    allowance_entry, grounding_amount = None, ZERO
    for source, coefficient, exponent, power, scale, allowance, entry in steps:
        quantity = vector[source]
        whole = quantity * coefficient
        text = str(whole)
        digits = text.rstrip("0")
        if digits:
            zeros = len(text) - len(digits)
            place = exponent - power + (zeros if zeros < power else power)  # the amount's own exponent
            at = exponent - power + zeros  # the normalized amount's exponent (money's text)
            if at >= 0:
                shown = digits + "0" * at
            elif len(digits) > -at:
                shown = digits[:at] + "." + digits[at:]
            else:
                shown = "0." + "0" * (-at - len(digits)) + digits
        else:
            place, shown = exponent, "0"
        if place < low:
            low = place
        scaled += whole * scale
        shown_items += (str(quantity), shown)
        if allowance:
            allowance_entry = entry
            grounding_amount = Decimal(f"{whole // 10 ** (place - exponent + power)}E{place}")
    coefficient = scaled // 10 ** (low - base) if low >= base else scaled * 10 ** (base - low)
    if coefficient >= MONEY_LIMIT:
        return None
    pieces = [*glue, *shown_items]  # (as many places as both)
    pieces[::2], pieces[1::2] = glue, shown_items
    return priced_model, Decimal(f"{coefficient}E{low}"), "".join(pieces), allowance_entry, grounding_amount


def _from_bill(pricer: PriceList, usage: RequestUsage, mode: str) -> Priced:
    bill = quote_usage(pricer, usage, mode=mode).bill  # the one quote of known usage
    entries = catalogue().entries_by_id
    allowance_entry, grounding_amount = None, Decimal(0)
    for item in bill.line_items:
        entry = entries[item.entry_id]
        if entry.charge == "grounding" and entry.free_allowance is not None:
            allowance_entry, grounding_amount = entry.id, item.amount
    return Priced(
        pricer.model.id, bill.total, [item.to_json() for item in bill.line_items], allowance_entry, grounding_amount
    )


def _template(
    pricer: PriceList, vector: tuple[int, ...], prompt: Decimal, mode: str, priced: Priced
) -> _Template | None:
    """The kind's template from a probe, checked against the call the PriceList just priced; None if it differs."""
    probe = tuple(1_000_003 + 7919 * i if v else 0 for i, v in enumerate(vector))  # distinct, non-zero counts
    try:
        probe_bill = quote_usage(pricer, usage_of(probe, int(prompt)), mode=mode).bill
    except VertexMeterError:
        return None
    entries = catalogue().entries_by_id
    items: list[_Item] = []
    for item in probe_bill.line_items:
        sources = [i for i, v in enumerate(probe) if v and Decimal(v) == item.quantity]
        if len(sources) != 1:
            return None  # an item that is not one count (merged, scaled): not a template
        shown = item.to_json()
        entry = entries[item.entry_id]
        items.append(
            _Item(
                source=sources[0],
                price=item.unit_price,
                size=UNITS[item.price_unit].size,
                shown=shown,
                allowance=entry.charge == "grounding" and entry.free_allowance is not None,
                json_parts=_json_parts(shown),
            )
        )
    ready = all(item.json_parts is not None for item in items)
    template = _Template(tuple(items), pricer.model.id, ready)
    return template if _same(_apply(template, vector), priced) else None


_QUANTITY_MARK, _AMOUNT_MARK = "\x00quantity\x00", "\x00amount\x00"


def _json_parts(shown: dict[str, Any]) -> tuple[str, str, str] | None:
    """The line item's JSON around its quantity and amount, as _apply fills them in (None: not cut cleanly)."""
    marked = shown.copy()
    marked["quantity"], marked["amount"] = _QUANTITY_MARK, _AMOUNT_MARK
    text = json.dumps(marked)
    quantity, amount = json.dumps(_QUANTITY_MARK), json.dumps(_AMOUNT_MARK)
    if text.count(quantity) != 1 or text.count(amount) != 1 or text.index(quantity) > text.index(amount):
        return None
    head, _, rest = text.partition(quantity)
    middle, _, tail = rest.partition(amount)
    return head + '"', '"' + middle + '"', '"' + tail


def _same(a: Priced, b: Priced) -> bool:
    """Equal as stored: amounts compared as the text the ledger keeps, not as numbers."""
    shown = (a.priced_model, str(a.total), a.line_items, a.grounding_entry, str(a.grounding_amount))
    return shown == (b.priced_model, str(b.total), b.line_items, b.grounding_entry, str(b.grounding_amount))


def _apply(template: _Template, vector: tuple[int, ...]) -> Priced:
    amounts: list[Decimal] = []
    with localcontext() as ctx:
        ctx.prec = PRECISION
        for item in template.items:
            amounts.append(Decimal(vector[item.source]) * item.price / item.size)
    total = sum(amounts, Decimal(0))  # in the caller's context, as Bill.total sums
    line_items: list[dict[str, Any]] = []
    allowance_entry, grounding_amount = None, Decimal(0)
    for item, amount in zip(template.items, amounts, strict=True):
        shown = item.shown.copy()  # a copy keeps the keys' order; the two values change
        shown["quantity"] = str(vector[item.source])
        shown["amount"] = money(amount)
        line_items.append(shown)
        if item.allowance:
            allowance_entry, grounding_amount = shown["entry_id"], amount
    text = None
    if template.json_ready:  # quantities (int text) and amounts (decimal text) need no JSON escaping
        parts = []
        for item, shown in zip(template.items, line_items, strict=True):
            head, middle, tail = item.json_parts  # type: ignore[misc]
            parts.append(head + shown["quantity"] + middle + shown["amount"] + tail)
        text = "[" + ", ".join(parts) + "]"
    return Priced(template.priced_model, total, line_items, allowance_entry, grounding_amount, text)
