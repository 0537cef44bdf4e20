"""Usage -> line items -> total, in Decimal from the catalogue's price strings to the invoice.

Rules (docs/pricing.md): the long-context tier is chosen per request from its prompt size (cached tokens
included) and applies to all of that request's input and output; thinking tokens are billed at the output
rate; cache creation at the input rate; a filtered response pays input only; batch/flex/priority use the
mode's own catalogue rows, else the catalogue's discount row for the mode; amounts keep full precision
and only a billing period's total is rounded to the cent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, Context, Decimal, localcontext
from types import MappingProxyType
from typing import Any

from vertexmeter.dates import day_or_today
from vertexmeter.errors import VertexMeterError, invalid_argument, not_found
from vertexmeter.pricing.catalogue import (
    ENDPOINTS,
    MULTIPLIER_CHARGES,
    UNITS,
    Entry,
    PricedModel,
    catalogue,
    parse_decimal,
    refusal,
    resolve_priced_model,
)
from vertexmeter.pricing.usage import NOTHING, CacheUsage, Quantities, RequestUsage, Usage
from vertexmeter.vocabulary import APIS, GEMINI, MODES, VERTEX

API_NAMES = {VERTEX: "Vertex AI", GEMINI: "Gemini API"}  # how messages name a price list

CENT = Decimal("0.01")
# Charges that do not depend on how the model was called (storage, search, training): always online rows.
MODE_INDEPENDENT_CHARGES = frozenset({"cache_storage", "grounding", "grounding_maps", "tuning"})
GENERATION_CHARGES = {
    "video": ("video_generate", "video_seconds", "seconds"),
    "music": ("music_generate", "clips", "clips"),
}
OPERATION_CHARGES = {
    "generate": "image_generate",
    "edit": "image_edit",
    "customize": "image_customize",
    "upscale": "image_upscale",
    "visual_captioning": "visual_captioning",
    "visual_qa": "visual_qa",
    "fine_tuning": "image_fine_tuning",
}
# quantity name -> (what the catalogue unit must measure, modalities to look for, in order, label)
QUANTITY_RULES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "text_characters": ("characters", ("text",), "text characters"),
    "tokens": ("tokens", ("text_image_video", "text", "any"), "tokens"),
    "audio_tokens": ("tokens", ("audio", "any"), "audio tokens"),
    "image_tokens": ("tokens", ("image", "text_image_video", "any"), "image tokens"),
    "video_tokens": ("tokens", ("video", "text_image_video", "any"), "video tokens"),
    "images": ("images", ("image",), "images"),
    "video_seconds": ("seconds", ("video",), "video seconds"),
    "audio_seconds": ("seconds", ("audio",), "audio seconds"),
}
PRECISION = 60  # digits: far beyond any price x quantity, so no arithmetic step ever rounds
_EXACT = Context(prec=PRECISION)


def money(value: Decimal) -> str:
    """A Decimal as a plain decimal string without exponent or trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def round_period_total(total: Decimal) -> Decimal:
    """ "At the end of each billing cycle, fractions of one cent are rounded to one cent": up, once per cycle."""
    return total.quantize(CENT, rounding=ROUND_CEILING)


@dataclass(frozen=True)
class Rate:
    entry: Entry
    price: Decimal  # after override and mode discount
    discount: Entry | None = None
    overridden: bool = False
    used: tuple[Entry, ...] = ()  # every entry the price rests on (the rate, its discount, the uplift)

    @property
    def unit(self) -> str:
        return self.entry.unit


# The ledger's stored spelling of the line-item keys that are camelCase in `LineItem.to_rest()`.
_SNAKE_CASE = {
    "quantityUnit": "quantity_unit",
    "unitPrice": "unit_price",
    "priceUnit": "price_unit",
    "entryId": "entry_id",
}


@dataclass(frozen=True)
class LineItem:
    description: str
    quantity: Decimal
    quantity_unit: str
    unit_price: Decimal
    price_unit: str
    amount: Decimal
    entry_id: str
    mode: str
    tier: str | None = None
    adjustment: str | None = None  # the discount entry applied to the entry's price
    overridden: bool = False

    def key(self) -> tuple[Any, ...]:
        return (self.description, self.entry_id, self.adjustment, self.unit_price, self.mode, self.tier)

    def to_rest(self, bound: str | None = None) -> dict[str, Any]:
        """The line item in vertexmeter's one JSON spelling (camelCase, as Google's answers): estimates,
        scenarios and batch results. `bound="max"`: the item prices only the upper end of a range."""
        out: dict[str, Any] = {
            "description": self.description,
            "quantity": money(self.quantity),
            "quantityUnit": self.quantity_unit,
            "unitPrice": money(self.unit_price),
            "priceUnit": UNITS[self.price_unit].label,
            "amount": money(self.amount),
            "entryId": self.entry_id,
            "mode": self.mode,
        }
        if self.tier:
            out["tier"] = self.tier
        if self.adjustment:
            out["adjustment"] = self.adjustment
        if self.overridden:
            out["overridden"] = True
        if bound:
            out["bound"] = bound
        return out

    def to_json(self) -> dict[str, Any]:
        """The snake_case spelling the ledger's stored rows use (read back by its invoices); new JSON
        answers use `to_rest()`."""
        return {_SNAKE_CASE.get(key, key): value for key, value in self.to_rest().items()}


@dataclass(frozen=True)
class Bill:
    """Line items and their exact total; `billed_total` is that total rounded as a billing period is."""

    model: str
    date: dt.date
    mode: str
    api: str
    line_items: tuple[LineItem, ...]
    entries: tuple[Entry, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> Decimal:
        return sum((item.amount for item in self.line_items), Decimal(0))

    @property
    def billed_total(self) -> Decimal:
        return round_period_total(self.total)

    def to_json(self, *, period: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": self.model,
            "date": self.date.isoformat(),
            "mode": self.mode,
            "api": self.api,
            "currency": "USD",
            "total": money(self.total),
        }
        if period:
            out["billed_total"] = format(self.billed_total, "f")
        out["lineItems"] = [item.to_rest() for item in self.line_items]
        out["catalogue_entries"] = [entry_json(e) for e in self.entries]
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def entry_json(entry: Entry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": entry.id,
        "price": None if entry.price is None else money(entry.price),
        "unit": entry.unit,
        "effective_from": entry.effective_from.isoformat(),
        "source": entry.source,
        "confidence": entry.confidence,
    }
    if entry.effective_until:
        out["effective_until"] = entry.effective_until.isoformat()
    if entry.daily_cap is not None:
        out["daily_cap"] = entry.daily_cap
    if entry.notes:
        out["notes"] = entry.notes
    return out


class PriceList:
    """The rates of one model on one date for one API (with optional per-entry price overrides): immutable,
    so one list serves any number of bills, in any thread. `price()` makes a bill of it."""

    __slots__ = ("date", "endpoint", "entries", "model", "api", "overrides", "uplift", "notes", "_by_charge")

    model: PricedModel
    date: dt.date
    api: str
    endpoint: str
    entries: tuple[Entry, ...]
    overrides: Mapping[str, Decimal]
    uplift: Entry | None
    notes: tuple[str, ...]  # what every bill on this list says (no regional uplift published, retired model)
    _by_charge: Mapping[str, tuple[Entry, ...]]

    def __init__(
        self,
        model: str,
        *,
        date: Any = None,
        api: str = VERTEX,
        overrides: dict[str, Any] | None = None,
        endpoint: str = "global",
    ) -> None:
        if endpoint not in ENDPOINTS:
            raise invalid_argument(f"endpoint must be one of {', '.join(ENDPOINTS)}; got {endpoint!r}.", "endpoint")
        if api not in APIS:
            raise invalid_argument(f"api must be one of {', '.join(APIS)}; got {api!r}.", "api")
        day = day_or_today(date)
        priced = resolve_priced_model(model, on=day)  # a dated alias: its model that day
        all_entries = [e for e in catalogue().entries_by_model.get(priced.id, []) if e.api == api]
        if not all_entries:
            refused = refusal(model)
            why = f" {refused.reason}." if refused is not None and api in refused.apis else ""
            raise not_found(f"The catalogue has no {API_NAMES[api]} prices for {priced.id}.{why}")
        entries = tuple(e for e in all_entries if e.in_force(day))
        # The model's own rates say when it is priced; shared multipliers (batch discount, regional uplift)
        # may have been in force long before it existed.
        own = [e for e in all_entries if e.charge not in MULTIPLIER_CHARGES] or all_entries
        if not any(e in own for e in entries):
            first = min(e.effective_from for e in own)
            ends = [e.effective_until for e in own]
            if day >= first and all(end is not None for end in ends):
                when = f"its last prices were in force until {max(e for e in ends if e is not None).isoformat()}"
            else:
                when = f"the catalogue prices it from {first.isoformat()}"
            raise invalid_argument(
                f"No {API_NAMES[api]} prices for {priced.id} are in force on {day.isoformat()}: {when}.", "date"
            )
        uplift = next((e for e in entries if e.charge == "regional_uplift"), None)
        notes = []
        if endpoint == "regional" and uplift is None:
            notes.append(f"No regional-endpoint uplift is published for {priced.id}; list prices used.")
        retired = priced.retired
        if retired is not None and day >= retired and api == VERTEX:  # Vertex dates
            notes.append(
                f"{priced.id} was retired on {retired.isoformat()} ({priced.retired_source}); priced at its last rates."
            )
        for name, value in (
            ("model", priced),
            ("date", day),
            ("api", api),
            ("endpoint", endpoint),
            ("entries", entries),
            ("overrides", MappingProxyType(_parse_overrides(overrides or {}, entries, priced.id, day))),
            ("uplift", uplift),
            ("notes", tuple(notes)),
            ("_by_charge", _by_charge(entries)),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a PriceList is immutable ({name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a PriceList is immutable ({name!r})")

    def price(self, usage: Usage, mode: str = "online", *, notes: Iterable[str] = ()) -> Bill:
        """The bill of `usage` (`price(self, usage, mode, notes=notes)`)."""
        return price(self, usage, mode, notes=notes)

    def rate(self, charge: str, modalities: Iterable[str], prompt_tokens: Decimal, mode: str, what: str) -> Rate:
        if mode not in MODES:
            raise invalid_argument(f"mode must be one of {', '.join(MODES)}; got {mode!r}.", "mode")
        of_charge = self._by_charge.get(charge, ())
        candidates: list[Entry] = []
        for modality in modalities:
            candidates = [e for e in of_charge if e.modality == modality]
            if candidates:
                break
        if not candidates:
            raise self.no_price(what)
        effective_mode = "online" if charge in MODE_INDEPENDENT_CHARGES else mode
        exact = [e for e in candidates if e.mode == effective_mode and e.tier_matches(prompt_tokens)]
        if exact:
            return self._finish(exact[0], None)
        online = [e for e in candidates if e.mode == "online" and e.tier_matches(prompt_tokens)]
        discount = next(
            (e for e in self.entries if e.charge == "discount" and e.mode == mode and charge in (e.applies_to or ())),
            None,
        )
        if online and discount:
            return self._finish(online[0], discount)
        discounted = {e.mode for e in self.entries if e.charge == "discount" and charge in (e.applies_to or ())}
        modes = sorted({e.mode for e in candidates} | discounted)
        raise invalid_argument(
            f"The catalogue has no {mode} price for {what} of {self.model.id} on {self.date.isoformat()}; "
            f"modes priced for it: {', '.join(modes)}.",
            "mode",
        )

    def _finish(self, entry: Entry, discount: Entry | None) -> Rate:
        overridden = entry.id in self.overrides
        price = self.overrides[entry.id] if overridden else entry.price
        if price is None:
            raise not_found(
                f"{entry.id} has no list price in the catalogue ({entry.notes or 'not priced'}); "
                "give one with a price override."
            )
        used = [entry]
        if discount is not None:
            assert discount.price is not None
            used.append(discount)
            price = price * discount.price
        uplift = self.uplift
        if self.endpoint == "regional" and uplift is not None and entry.charge in (uplift.applies_to or ()):
            assert uplift.price is not None
            used.append(uplift)
            price = price * uplift.price
            discount = discount or uplift
        return Rate(entry, price, discount, overridden, tuple(used))

    def no_price(self, what: str) -> VertexMeterError:
        priced = sorted(
            {
                f"{e.charge} {e.modality} ({UNITS[e.unit].label})"
                for e in self.entries
                if e.charge not in MULTIPLIER_CHARGES
            }
        )
        return invalid_argument(
            f"The catalogue has no price for {what} of {self.model.id} on {self.date.isoformat()}. "
            + (f"It prices: {'; '.join(priced)}." if priced else "It has no per-unit rate for the model that day.")
        )

    # ---- the tier ---------------------------------------------------------------------------------
    def prompt_tokens(self, request: RequestUsage) -> Decimal:
        """The prompt size that decides the long-context tier: real when known, else estimated."""
        if request.prompt_tokens is not None:
            return Decimal(request.prompt_tokens)
        return sum(
            (self.bucket_tokens(b) for b in (request.input, request.cached_input, request.cache_write)), Decimal(0)
        )

    def bucket_tokens(self, bucket: Quantities) -> Decimal:
        """Tokens of one bucket: `tokens` + `audio_tokens` when given, else from the token equivalents."""
        tokens = bucket.tokens + bucket.audio_tokens + bucket.image_tokens + bucket.video_tokens
        if tokens:
            return Decimal(tokens)
        eq = catalogue().token_equivalents(self.model)
        if eq is None:
            return Decimal(0)
        total = Decimal(0)
        if eq.characters_per_token:
            total += Decimal(bucket.text_characters) / eq.characters_per_token
        total += bucket.images * (eq.image or 0) + bucket.pdf_pages * (eq.pdf_page or 0)
        total += bucket.video_seconds * (eq.video_second or 0) + bucket.audio_seconds * (eq.audio_second or 0)
        return total


def _by_charge(entries: tuple[Entry, ...]) -> Mapping[str, tuple[Entry, ...]]:
    """The entries of each charge, in catalogue order (what a rate lookup starts from)."""
    grouped: dict[str, list[Entry]] = {}
    for entry in entries:
        grouped.setdefault(entry.charge, []).append(entry)
    return MappingProxyType({charge: tuple(group) for charge, group in grouped.items()})


def _parse_overrides(
    overrides: dict[str, Any], entries: tuple[Entry, ...], model_id: str, day: dt.date
) -> dict[str, Decimal]:
    if not isinstance(overrides, dict):
        raise invalid_argument("prices must be an object of catalogue entry id -> price.", "prices")
    valid = {e.id for e in entries}
    parsed: dict[str, Decimal] = {}
    for entry_id, value in overrides.items():
        path = f"prices.{entry_id}"
        if entry_id not in valid:
            raise invalid_argument(
                f"prices: {entry_id!r} is not a catalogue entry in force for {model_id} on "
                f"{day.isoformat()}. Valid entry ids: {', '.join(sorted(valid))}.",
                path,
            )
        try:
            price = parse_decimal(value, path)
        except ValueError as exc:
            raise invalid_argument(f"{exc}.", path) from None
        if price < 0:
            raise invalid_argument(f"{path} must not be negative, got {value!r}.", path)
        parsed[entry_id] = price
    return parsed


def price(prices: PriceList, usage: Usage, mode: str = "online", *, notes: Iterable[str] = ()) -> Bill:
    """The bill of `usage` on `prices`; `notes` are the caller's own (e.g. how it derived a quantity), listed
    first. Pure: all that one bill collects (the entries it used, its notes) lives in this call."""
    return _Billing(prices, list(notes)).bill(usage, mode)


# A bucket's priced items and the entries they rest on, by what decides them (see _Billing._bucket_items).
_Shared = dict[tuple[Any, ...], tuple[tuple[LineItem, ...], tuple[Entry, ...]]]


def price_each(prices: PriceList, bills: Iterable[tuple[Usage, str, Iterable[str]]]) -> tuple[Bill, ...]:
    """The bills of several (usage, mode, notes) on one list, each as `price()` makes it; a bucket that
    recurs (a quote's prompt, in its low and its high bill) is priced once, within this call."""
    shared: _Shared = {}
    return tuple(_Billing(prices, list(notes), shared).bill(usage, mode) for usage, mode, notes in bills)


class _Billing:
    """One bill being made: the price list, the entries used so far and the notes to say."""

    def __init__(self, prices: PriceList, notes: list[str], shared: _Shared | None = None) -> None:
        self.prices = prices
        self.model = prices.model
        self.used: dict[str, Entry] = {}
        self.notes = notes
        self.shared = shared

    def rate(self, charge: str, modalities: Iterable[str], prompt_tokens: Decimal, mode: str, what: str) -> Rate:
        found = self.prices.rate(charge, modalities, prompt_tokens, mode, what)
        used = self.used
        for entry in found.used:
            used[entry.id] = entry
        return found

    def bill(self, usage: Usage, mode: str) -> Bill:
        items: list[LineItem] = []
        with localcontext(_EXACT):
            for cache in usage.caches:
                items += self._cache_items(cache)
            for request in usage.requests:
                items += self._request_items(request, request.mode or mode)
            if usage.training_tokens:
                rate = self.rate("tuning", ("text", "any"), Decimal(0), mode, "training tokens")
                items.append(self._item("tuning: training tokens", usage.training_tokens, "tokens", rate, "online"))
        self._check_daily_caps(items)
        return Bill(
            model=self.model.id,
            date=self.prices.date,
            mode=mode,
            api=self.prices.api,
            line_items=tuple(merge(items)),
            entries=tuple(self.used.values()),
            notes=tuple(dict.fromkeys([*self.notes, *self.prices.notes])),
        )

    def _check_daily_caps(self, items: list[LineItem]) -> None:
        for entry in self.used.values():
            if entry.daily_cap is None:
                continue
            quantity = sum((i.quantity for i in items if i.entry_id == entry.id), Decimal(0))
            if quantity > entry.daily_cap:
                self.notes.append(
                    f"{money(quantity)} {UNITS[entry.unit].measure.replace('_', ' ')} exceed the {entry.daily_cap:,} "
                    f"per day that {entry.id} covers: if they fall on one day, Google asks for a sales contract."
                )

    def _item(
        self,
        description: str,
        quantity: Decimal | int,
        quantity_unit: str,
        rate: Rate,
        mode: str,
        tier: str | None = None,
    ) -> LineItem:
        unit = UNITS[rate.unit]
        quantity = Decimal(quantity)
        return LineItem(
            description=description,
            quantity=quantity,
            quantity_unit=quantity_unit,
            unit_price=rate.price,
            price_unit=rate.unit,
            amount=quantity * rate.price / unit.size,
            entry_id=rate.entry.id,
            mode=mode,
            tier=rate.entry.tier if tier is None else tier,
            adjustment=rate.discount.id if rate.discount else None,
            overridden=rate.overridden,
        )

    def _request_items(self, request: RequestUsage, mode: str) -> list[LineItem]:
        prompt = self.prices.prompt_tokens(request)
        items: list[LineItem] = []
        if self.model.billing == "per_operation":
            items += self._operation_items(request, mode)
        else:
            items += self._bucket_items("input", "input", request.input, prompt, mode, request.video_tier)
            items += self._bucket_items("cached_input", "cached input", request.cached_input, prompt, mode, None)
            creation = self.model.cache_creation_billed_as or "cache_write"
            label = "cache creation" if self.model.cache_creation_billed_as else "cache write"
            items += self._bucket_items(creation, label, request.cache_write, prompt, mode, None)
            output = request.output
            thinking = request.thinking_tokens + output.thinking_tokens
            if request.filtered:
                if not output.is_empty() or thinking:
                    self.notes.append("Filtered responses are charged for input only; their output is not billed.")
            else:
                bucket = replace(output, thinking_tokens=0) if output.thinking_tokens else output
                items += self._bucket_items("output", "output", bucket, prompt, mode, None)
                if thinking:
                    rate = self.rate("output", QUANTITY_RULES["tokens"][1], prompt, mode, "thinking tokens")
                    self._require_measure(rate, "tokens", "thinking_tokens")
                    items.append(self._item("thinking tokens (at the output rate)", thinking, "tokens", rate, mode))
        if request.grounded_requests:
            rate = self.rate("grounding", ("any",), prompt, mode, "grounded requests")
            self._require_measure(rate, "requests", "grounded_requests", hint="search_queries")
            items.append(
                self._item(
                    "grounding with Google Search: requests", request.grounded_requests, "requests", rate, "online"
                )
            )
        if request.maps_requests:
            rate = self.rate("grounding_maps", ("any",), prompt, mode, "Google Maps grounded requests")
            self._require_measure(rate, "requests", "maps_requests")
            items.append(
                self._item("grounding with Google Maps: requests", request.maps_requests, "requests", rate, "online")
            )
        if request.search_queries:
            rate = self.rate("grounding", ("any",), prompt, mode, "grounding search queries")
            self._require_measure(rate, "search_queries", "search_queries", hint="grounded_requests")
            items.append(
                self._item(
                    "grounding with Google Search: search queries",
                    request.search_queries,
                    "search queries",
                    rate,
                    "online",
                )
            )
        if request.repeat != 1:
            items = [replace(i, quantity=i.quantity * request.repeat, amount=i.amount * request.repeat) for i in items]
        return items

    def _operation_items(self, request: RequestUsage, mode: str) -> list[LineItem]:
        if self.model.generates != "image":
            return self._generation_items(request, mode)
        charge = OPERATION_CHARGES[request.operation]
        reads_images = request.operation in ("visual_captioning", "visual_qa")
        billed, other = (request.input, request.output) if reads_images else (request.output, request.input)
        extra = [f.replace("_", " ") for f, v in vars(billed).items() if v and f != "images"]
        if extra or not other.is_empty() or not request.cached_input.is_empty():
            side = "input" if reads_images else "output"
            raise invalid_argument(
                f"{self.model.id} bills {request.operation} per image: give only {side}.images.", side
            )
        if not billed.images:
            return []
        rate = self.rate(charge, ("image",), Decimal(0), mode, f"{request.operation} images")
        return [self._item(f"{request.operation}: images", billed.images, "images", rate, mode)]

    def _generation_items(self, request: RequestUsage, mode: str) -> list[LineItem]:
        """Veo (per second of video, by resolution) and Lyria (per clip): only the output is billed."""
        charge, quantity_name, measure = GENERATION_CHARGES[self.model.generates]
        quantity = getattr(request.output, quantity_name)
        others = [f for f, v in vars(request.output).items() if v and f != quantity_name]
        if others or not request.input.is_empty() or not request.cached_input.is_empty():
            raise invalid_argument(
                f"{self.model.id} bills generated {measure} only: give output.{quantity_name}.", "output"
            )
        if not quantity:
            return []
        modality = (
            "audio"
            if self.model.generates == "music"
            else ("video" if request.video_resolution in (None, "720p") else f"video_{request.video_resolution}")
        )
        what = f"generated {measure}" + (f" ({request.video_resolution})" if request.video_resolution else "")
        rate = self.rate(charge, (modality,), Decimal(0), mode, what)
        self._require_measure(rate, measure, what)
        return [self._item(what, quantity, measure, rate, mode)]

    def _bucket_items(
        self, charge: str, label: str, bucket: Quantities, prompt: Decimal, mode: str, video_tier: str | None
    ) -> list[LineItem]:
        if bucket is NOTHING or bucket.is_empty():  # most requests: nothing cached, nothing written to a cache
            return []
        if self.shared is None:
            return self._priced_bucket(charge, label, bucket, prompt, mode, video_tier)
        # The items depend on these arguments and the list alone (a bucket adds no notes), so another bill
        # of the same call reuses them, with the entries they rest on, in the order they were first used.
        key = (charge, label, bucket, prompt, mode, video_tier)
        known = self.shared.get(key)
        if known is None:
            outer, self.used = self.used, {}
            try:
                items = self._priced_bucket(charge, label, bucket, prompt, mode, video_tier)
            finally:
                used, self.used = self.used, outer
            known = self.shared[key] = (tuple(items), tuple(used.values()))
        for entry in known[1]:
            self.used.setdefault(entry.id, entry)
        return list(known[0])

    def _priced_bucket(
        self, charge: str, label: str, bucket: Quantities, prompt: Decimal, mode: str, video_tier: str | None
    ) -> list[LineItem]:
        items: list[LineItem] = []
        characters_billed = self.model.billing == "characters"
        for name, (measure, modalities, what) in QUANTITY_RULES.items():
            amount = getattr(bucket, name)
            if not amount:
                continue
            quantity: Decimal = Decimal(amount)
            if characters_billed and name in ("tokens", "audio_tokens"):
                if bucket_billable(bucket):
                    continue  # tokens of a character-billed model only size the prompt (the tier)
                raise invalid_argument(
                    f"{self.model.id} bills text per character: give {label.replace(' ', '_')}.text_characters "
                    "(tokens only decide its long-context tier)."
                )
            if name == "video_seconds" and video_tier:
                modalities = (f"video_{video_tier}",)
            if name == "audio_seconds" and not characters_billed:
                equivalents = catalogue().token_equivalents(self.model)
                if equivalents is None or equivalents.audio_second is None:
                    raise self.prices.no_price(f"{label} audio seconds")
                quantity, measure, modalities, what = (
                    quantity * equivalents.audio_second,
                    "tokens",
                    QUANTITY_RULES["audio_tokens"][1],
                    f"audio tokens (audio seconds x {money(equivalents.audio_second)})",
                )
            rate = self.rate(charge, modalities, prompt, mode, f"{label} {what}")
            self._require_measure(rate, measure, f"{label} {what}")
            items.append(self._item(f"{label}: {what}", quantity, measure.replace("_", " "), rate, mode))
        if bucket.pdf_pages:
            items.append(self._pdf_item(charge, label, bucket.pdf_pages, prompt, mode))
        if bucket.clips:
            raise invalid_argument(
                f"{self.model.id} does not generate music clips; clips are for Lyria.", "output.clips"
            )
        return items

    def _pdf_item(self, charge: str, label: str, pages: int, prompt: Decimal, mode: str) -> LineItem:
        rule = next((e for e in self.prices.entries if e.charge == "pdf_page_as_image"), None)
        if rule is None or rule.price is None:
            raise invalid_argument(
                f"{self.model.id} bills PDF pages as tokens: give the document's tokens (count the request with "
                "`vertexmeter count`) instead of pdf_pages."
            )
        self.used[rule.id] = rule
        rate = self.rate(charge, ("image",), prompt, mode, f"{label} PDF pages (as images)")
        self._require_measure(rate, "images", f"{label} PDF pages")
        images = pages * rule.price
        return self._item(
            f"{label}: PDF pages billed as images ({money(rule.price)} per page)", images, "images", rate, mode
        )

    def _require_measure(self, rate: Rate, measure: str, what: str, hint: str | None = None) -> None:
        unit = UNITS[rate.unit]
        if unit.measure != measure:
            instead = f" (give {hint})" if hint else ""
            raise invalid_argument(
                f"{self.model.id} prices {what.replace('_', ' ')} {unit.label} ({rate.entry.id}), "
                f"not per {measure.replace('_', ' ')}{instead}."
            )

    def _cache_items(self, cache: CacheUsage) -> list[LineItem]:
        size = self.prices.bucket_tokens(cache.contents)
        items: list[LineItem] = []
        if cache.creation:
            # Creating a cache is a separate, online call billed like normal input of the cache's own size.
            charge = self.model.cache_creation_billed_as or "cache_write"
            items += self._bucket_items(charge, "cache creation", cache.contents, size, "online", None)
        equivalents = catalogue().token_equivalents(self.model)
        characters_billed = self.model.billing == "characters"
        for name, (measure, modalities, what) in QUANTITY_RULES.items():
            quantity = Decimal(getattr(cache.contents, name))
            if not quantity:
                continue
            if characters_billed and name in ("tokens", "audio_tokens"):
                continue  # sizes only
            if not characters_billed and name in ("tokens", "audio_tokens"):
                modalities = ("any",)
            if name == "audio_seconds" and not characters_billed:
                if equivalents is None or equivalents.audio_second is None:
                    raise self.prices.no_price("cache storage of audio seconds")
                quantity, measure, modalities = quantity * equivalents.audio_second, "tokens", ("any",)
            rate = self.rate("cache_storage", modalities, size, "online", f"cache storage of {what}")
            self._require_measure(rate, measure, f"cache storage of {what}")
            hours_unit = f"{measure.rstrip('s').replace('_', ' ')}-hours"
            items.append(
                self._item(
                    f"cache storage: {what} x {money(cache.hours)} h",
                    quantity * cache.hours,
                    hours_unit,
                    rate,
                    "online",
                )
            )
        if cache.contents.pdf_pages:
            raise invalid_argument("Give a cached PDF as images (1.x) or tokens (2.x+), not pdf_pages.", "cache")
        return items


def bucket_billable(bucket: Quantities) -> bool:
    return bool(
        bucket.text_characters or bucket.images or bucket.video_seconds or bucket.audio_seconds or bucket.pdf_pages
    )


def merge(items: list[LineItem]) -> list[LineItem]:
    """Sum line items that bill the same thing at the same rate, keeping first-seen order."""
    merged: dict[tuple[Any, ...], LineItem] = {}
    for item in items:
        key = item.key()
        if key in merged:
            prev = merged[key]
            merged[key] = replace(prev, quantity=prev.quantity + item.quantity, amount=prev.amount + item.amount)
        else:
            merged[key] = item
    return list(merged.values())
