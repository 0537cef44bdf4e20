"""The price catalogue: catalogue.yaml validated on load, model names resolved, rates looked up by date.

Prices stay strings in the YAML and become `Decimal` here; a YAML float is a schema error, so no binary
float ever stands between the catalogue and an invoice.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vertexmeter.datafiles import load_yaml, load_yaml_text
from vertexmeter.errors import VertexMeterError, invalid_argument, not_found
from vertexmeter.registry import bare_model_name, match_version, resolve
from vertexmeter.vocabulary import Mode

Platform = Literal["vertex", "gemini_api"]  # the catalogue's word for the API (vocabulary.catalogue_platform)
PLATFORMS: tuple[str, ...] = get_args(Platform)
CHARGES: tuple[str, ...] = (
    "input",
    "cached_input",
    "cache_write",
    "output",
    "cache_storage",
    "tuning",
    "grounding",
    "image_generate",
    "image_edit",
    "image_customize",
    "image_upscale",
    "visual_captioning",
    "visual_qa",
    "image_fine_tuning",
    "pdf_page_as_image",
    "discount",
    "grounding_maps",
    "video_generate",
    "music_generate",
    "regional_uplift",
)
# Charges whose price is a multiplier of other rows (unit fraction_of_online_price), not an amount.
MULTIPLIER_CHARGES: tuple[str, ...] = ("discount", "regional_uplift")
MODALITIES: tuple[str, ...] = (
    "text",
    "image",
    "video",
    "audio",
    "text_image_video",
    "any",
    "video_plus",
    "video_standard",
    "video_essential",
    "video_1080p",
    "video_4k",
)
ENDPOINTS: tuple[str, ...] = ("global", "regional")
CONFIDENCES: tuple[str, ...] = ("confirmed", "secondary", "derived", "assumed")


@dataclass(frozen=True)
class Unit:
    """How a price is quoted: per `size` units of `measure` (per hour of storage when `per_hour`)."""

    measure: str  # characters | tokens | images | seconds | requests | search_queries | node_hours | ratio
    size: int
    per_hour: bool = False
    label: str = ""


UNITS: dict[str, Unit] = {
    "per_1k_characters": Unit("characters", 1000, label="per 1K characters"),
    "per_1m_characters": Unit("characters", 1_000_000, label="per 1M characters"),
    "per_1m_tokens": Unit("tokens", 1_000_000, label="per 1M tokens"),
    "per_image": Unit("images", 1, label="per image"),
    "per_second": Unit("seconds", 1, label="per second"),
    "per_1k_characters_per_hour": Unit("characters", 1000, per_hour=True, label="per 1K characters per hour"),
    "per_image_per_hour": Unit("images", 1, per_hour=True, label="per image per hour"),
    "per_second_per_hour": Unit("seconds", 1, per_hour=True, label="per second per hour"),
    "per_1m_tokens_per_hour": Unit("tokens", 1_000_000, per_hour=True, label="per 1M tokens per hour"),
    "per_1k_requests": Unit("requests", 1000, label="per 1K requests"),
    "per_1k_search_queries": Unit("search_queries", 1000, label="per 1K search queries"),
    "per_node_hour": Unit("node_hours", 1, label="per node hour"),
    "per_clip": Unit("clips", 1, label="per clip"),
    "fraction_of_online_price": Unit("ratio", 1, label="x online price"),
    "images_per_pdf_page": Unit("ratio", 1, label="images per PDF page"),
}

_TIER = re.compile(r"^(<=|>)(\d+)$")


def parse_decimal(value: Any, what: str) -> Decimal:
    """A Decimal from a string or int; floats are refused because they are already inexact."""
    if isinstance(value, (bool, float)):
        raise ValueError(f"{what} must be a quoted decimal string, not {value!r}")
    if isinstance(value, Decimal):
        return value
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{what} must be a decimal number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{what} must be finite, got {value!r}")
    return number


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    url: str
    date: str


class TokenEquivalents(BaseModel):
    model_config = ConfigDict(extra="forbid")
    characters_per_token: Decimal | None = None
    image: Decimal | None = None
    video_second: Decimal | None = None
    audio_second: Decimal | None = None
    pdf_page: Decimal | None = None
    sources: list[str]

    @field_validator("characters_per_token", "image", "video_second", "audio_second", "pdf_page", mode="before")
    @classmethod
    def _decimal(cls, value: Any) -> Decimal | None:
        return None if value is None else parse_decimal(value, "token equivalent")


class PricedModel(BaseModel):
    """A model the catalogue prices, with the names it answers to.

    `counted_with`: a registry model whose tokenizer counts this one (a preview id priced apart from its GA
    model). `generates`: what a per-operation model bills for. `released`/`retired`: when Google served it
    (`retired` from `retired_source`); a bill dated after `retired` carries a note, it is not refused.
    """

    model_config = ConfigDict(extra="forbid")
    id: str
    registry: bool
    billing: Literal["characters", "tokens", "per_operation"]
    publisher: str = "google"
    aliases: list[str] = Field(default_factory=list)
    not_priced_aliases: list[str] = Field(default_factory=list)
    tier_tokens: str | None = None
    cache_creation_billed_as: Literal["input"] | None = None
    counted_with: str | None = None
    generates: Literal["image", "video", "music"] = "image"
    preview: bool = False
    released: dt.date | None = None
    retired: dt.date | None = None
    retired_source: str | None = None


class FreeAllowance(BaseModel):
    """Units a price leaves free per day or month, shared by every model of `group` (grounding)."""

    model_config = ConfigDict(extra="forbid")
    count: int = Field(gt=0)
    period: Literal["day", "month"]
    group: str


class Sku(BaseModel):
    """The Cloud Billing SKU an entry's charges appear under (billing export `sku.id` / `sku.description`)."""

    model_config = ConfigDict(extra="forbid")
    description: str
    id: str | None = None
    source: str
    confidence: str


class Entry(BaseModel):
    """One price: what is charged, for which models, how it is quoted and when it was in force."""

    model_config = ConfigDict(extra="forbid")
    id: str
    platform: Platform
    models: list[str]
    charge: str
    modality: str
    tier: str | None = None
    mode: Mode
    unit: str
    price: Decimal | None
    effective_from: dt.date
    effective_until: dt.date | None = None
    source: str
    confidence: str
    notes: str | None = None
    applies_to: list[str] | None = None
    daily_cap: int | None = None
    free_allowance: FreeAllowance | None = None
    sku: Sku | None = None  # where Google's invoice shows it (ledger reconciliation)

    @field_validator("price", mode="before")
    @classmethod
    def _price(cls, value: Any) -> Decimal | None:
        if value is None:
            return None
        price = parse_decimal(value, "price")
        if price < 0:
            raise ValueError(f"price must not be negative, got {value!r}")
        return price

    @model_validator(mode="after")
    def _check(self) -> Entry:
        if self.charge not in CHARGES:
            raise ValueError(f"unknown charge {self.charge!r}; expected one of {', '.join(CHARGES)}")
        if self.modality not in MODALITIES:
            raise ValueError(f"unknown modality {self.modality!r}; expected one of {', '.join(MODALITIES)}")
        if self.unit not in UNITS:
            raise ValueError(f"unknown unit {self.unit!r}; expected one of {', '.join(UNITS)}")
        if self.confidence not in CONFIDENCES:
            raise ValueError(f"unknown confidence {self.confidence!r}; expected one of {', '.join(CONFIDENCES)}")
        if self.tier is not None and not _TIER.match(self.tier):
            raise ValueError(f"tier must look like '<=128000' or '>128000', got {self.tier!r}")
        if self.effective_until is not None and self.effective_until <= self.effective_from:
            raise ValueError("effective_until must be after effective_from")
        multiplier = self.charge in MULTIPLIER_CHARGES
        if multiplier != (self.unit == "fraction_of_online_price"):
            raise ValueError(
                f"{'/'.join(MULTIPLIER_CHARGES)} entries (and only they) use unit fraction_of_online_price"
            )
        if multiplier and not self.applies_to:
            raise ValueError(f"a {self.charge} entry needs applies_to (the charges it scales)")
        return self

    @property
    def tier_bound(self) -> tuple[str, int] | None:
        if self.tier is None:
            return None
        match = _TIER.match(self.tier)
        assert match is not None
        return match.group(1), int(match.group(2))

    def tier_matches(self, prompt_tokens: Decimal | int) -> bool:
        bound = self.tier_bound
        if bound is None:
            return True
        op, limit = bound
        return prompt_tokens <= limit if op == "<=" else prompt_tokens > limit

    def in_force(self, on: dt.date) -> bool:
        return self.effective_from <= on and (self.effective_until is None or on < self.effective_until)


def _all_platforms() -> list[Platform]:
    return ["vertex", "gemini_api"]


class Refused(BaseModel):
    """Model names a user can call (a peer prices them, or the counting registry knows them) that the
    catalogue does not price, with why: asked for, they are refused with this reason."""

    model_config = ConfigDict(extra="forbid")
    models: list[str] = Field(min_length=1)
    reason: str = Field(min_length=10)
    platforms: list[Platform] = Field(default_factory=_all_platforms)


class CatalogueFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1]
    currency: Literal["USD"]
    compiled: dt.date
    sources: dict[str, Source]
    token_equivalents: dict[str, TokenEquivalents]
    models: list[PricedModel]
    refused: list[Refused] = Field(default_factory=list)
    entries: list[Entry]


@dataclass(frozen=True)
class Catalogue:
    """The validated catalogue with its indexes."""

    data: CatalogueFile
    models: dict[str, PricedModel]
    names: dict[str, PricedModel]  # ids and aliases of registry: false models
    entries_by_model: dict[str, list[Entry]]
    entries_by_id: dict[str, Entry]
    refused: dict[str, Refused] = field(default_factory=dict)  # model name -> why the catalogue does not price it

    @property
    def sources(self) -> dict[str, Source]:
        return self.data.sources

    def token_equivalents(self, model: PricedModel) -> TokenEquivalents | None:
        return self.data.token_equivalents.get(model.tier_tokens) if model.tier_tokens else None


class CatalogueError(ValueError):
    """catalogue.yaml breaks its schema: a packaging bug, reported with the offending entry."""


def load_catalogue_text(text: str) -> Catalogue:
    """Parse and validate catalogue YAML text (a test's variant of the packaged file)."""
    return _validated(load_yaml_text(text))


def _validated(raw: Any) -> Catalogue:
    try:
        data = CatalogueFile.model_validate(raw)
    except ValidationError as exc:
        raise CatalogueError(f"price catalogue is invalid:\n{exc}") from exc
    return _index(data)


@cache
def catalogue() -> Catalogue:
    return _validated(load_yaml("vertexmeter.pricing", "catalogue.yaml"))


def _index(data: CatalogueFile) -> Catalogue:
    problems: list[str] = []
    models: dict[str, PricedModel] = {}
    names: dict[str, PricedModel] = {}
    for model in data.models:
        if model.id in models:
            problems.append(f"model {model.id!r} is listed twice")
        models[model.id] = model
        if model.retired_source and model.retired_source not in data.sources:
            problems.append(f"model {model.id!r}: unknown retired_source {model.retired_source!r}")
        if model.tier_tokens and model.tier_tokens not in data.token_equivalents:
            problems.append(f"model {model.id!r}: unknown tier_tokens {model.tier_tokens!r}")
        if not model.registry:
            for name in (model.id, *model.aliases):
                if name in names:
                    problems.append(f"model name {name!r} is listed twice")
                names[name] = model
        elif model.aliases:
            problems.append(f"model {model.id!r}: registry models take their aliases from the registry")
    by_model: dict[str, list[Entry]] = defaultdict(list)
    by_id: dict[str, Entry] = {}
    for entry in data.entries:
        if entry.id in by_id:
            problems.append(f"entry id {entry.id!r} is listed twice")
        by_id[entry.id] = entry
        if entry.source not in data.sources:
            problems.append(f"entry {entry.id}: unknown source {entry.source!r}")
        if entry.sku is not None and entry.sku.source not in data.sources:
            problems.append(f"entry {entry.id}: unknown sku source {entry.sku.source!r}")
        if entry.sku is not None and entry.sku.confidence not in CONFIDENCES:
            problems.append(f"entry {entry.id}: unknown sku confidence {entry.sku.confidence!r}")
        if entry.price == 0 and not entry.notes:
            problems.append(f"entry {entry.id}: a $0 price needs notes saying why it is free")
        for name in entry.models:
            if name not in models:
                problems.append(f"entry {entry.id}: model {name!r} is not in `models`")
            by_model[name].append(entry)
    refused: dict[str, Refused] = {}
    for group in data.refused:
        everywhere = set(group.platforms) == set(PLATFORMS)
        for name in group.models:
            if name in refused or (everywhere and (name in names or name in models)):
                problems.append(f"refused model {name!r} is also priced or refused twice")
            refused[name] = group
    problems += _overlaps(data.entries)
    if problems:
        raise CatalogueError("price catalogue is invalid:\n- " + "\n- ".join(problems))
    return Catalogue(data, models, names, dict(by_model), by_id, refused)


def _overlaps(entries: list[Entry]) -> list[str]:
    """Two prices for the same thing on the same day, or a tier without its complement, is a data bug."""
    problems: list[str] = []
    groups: dict[tuple[str, ...], list[Entry]] = defaultdict(list)
    for entry in entries:
        for model in entry.models:
            scaled = ",".join(sorted(entry.applies_to or ()))  # multipliers of different charges do not clash
            groups[(entry.platform, model, entry.charge, entry.modality, entry.mode, scaled)].append(entry)
    for key, group in groups.items():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                dates_overlap = a.effective_from < (b.effective_until or dt.date.max) and b.effective_from < (
                    a.effective_until or dt.date.max
                )
                tiers_overlap = a.tier is None or b.tier is None or a.tier == b.tier
                if dates_overlap and tiers_overlap:
                    problems.append(f"{a.id} and {b.id} price {'/'.join(key)} twice for the same dates")
        limits = {e.tier_bound[1] for e in group if e.tier_bound}
        if len(limits) > 1:
            problems.append(f"{'/'.join(key)} mixes tier thresholds {sorted(limits)}")
    return problems


# ---- model resolution ---------------------------------------------------------------------------
# Partner models version with any `@…` tag (claude-3-5-sonnet-v2@20241022), not only digits.
_VERSION_SUFFIXES = (re.compile(r"@[\w.-]+$"), re.compile(r"-\d{3}$"))


def resolve_priced_model(name: str, *, on: dt.date | None = None) -> PricedModel:
    """The catalogue model for any spelling of a name: registry ids via `resolve()` first, then pricing's own.
    `on`: the day a dated alias (`gemini-flash-latest`) is read for (default today)."""
    if not isinstance(name, str) or not name.strip():
        raise invalid_argument("A model name is required.", "model")
    cat = catalogue()
    bare = bare_model_name(name.strip())
    for model in cat.models.values():
        if bare in model.not_priced_aliases:
            raise _unpriced(bare, f"{bare} is not {model.id}: the catalogue has no price for it")
    refused = refusal(bare)
    if refused is not None and set(refused.platforms) == set(PLATFORMS):  # one API's refusal: see the Pricer
        raise _unpriced(bare, f"The price catalogue has no price for {bare}: {refused.reason}")
    own = match_version(bare, cat.names, _VERSION_SUFFIXES[:1])  # exact, or minus an @version only
    if own is not None:
        return cat.names[own]
    try:
        info = resolve(bare, on=on, any_api=True)
    except VertexMeterError:
        info = None
    if info is not None:
        priced = cat.models.get(info.id)
        if priced is None:
            raise _unpriced(bare, f"{info.id} is a known model, but the price catalogue has no price for it")
        return priced
    found = match_version(bare, cat.names, _VERSION_SUFFIXES)
    if found is None:
        raise _unpriced(bare, f"Unknown model {bare!r}")
    return cat.names[found]


def first_price_day(model: str, platform: str = "vertex") -> dt.date | None:
    """The first day the catalogue prices `model` itself on `platform` (shared multipliers aside: a batch
    discount may predate the model), or None for a model it does not price."""
    try:
        priced = resolve_priced_model(model)
    except VertexMeterError:
        return None
    own = [
        e.effective_from
        for e in catalogue().entries_by_model.get(priced.id, [])
        if e.platform == platform and e.charge not in MULTIPLIER_CHARGES
    ]
    return min(own, default=None)


def refusal(name: str) -> Refused | None:
    """Why the catalogue refuses `name` (a listed name, with or without an `@version` or a publisher folder)."""
    table = catalogue().refused
    bare = bare_model_name(name.strip())
    for candidate in (bare, bare.rsplit("/", 1)[-1]):
        found = match_version(candidate, table, _VERSION_SUFFIXES[:1])
        if found is not None:
            return table[found]
    return None


def priced_model_names() -> list[str]:
    return sorted(catalogue().models)


def _unpriced(bare: str, message: str) -> VertexMeterError:
    known = priced_model_names()
    names = list(dict.fromkeys([*known, *catalogue().names]))
    # A name from another vendor (gpt-4o) is like none closely; the loosest match still points somewhere.
    close = difflib.get_close_matches(bare, names, n=3, cutoff=0.5) or difflib.get_close_matches(
        bare, names, n=3, cutoff=0.3
    )
    hint = f" Closest priced models: {', '.join(close)}." if close else ""
    return not_found(f"{message}.{hint} Priced models: {', '.join(known)}.")
