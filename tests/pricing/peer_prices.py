"""Compare the catalogue with a peer catalogue, pydantic's genai-prices (test extra, pinned 0.2.3).

Every (peer model, catalogue model, api, unit, tier, date) both price is compared; the result is a list of
disagreements, which tests/pricing/test_pricing_peers.py checks against docs/pricing.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from vertexmeter.errors import VertexMeterError
from vertexmeter.pricing.catalogue import catalogue
from vertexmeter.pricing.engine import PriceList
from vertexmeter.pricing.usage import Quantities, RequestUsage, Usage

MILLION = Decimal(1_000_000)
SMALL, LARGE = 100_000, 300_000  # prompt sizes below and above every 200K tier
# genai-prices ModelPrice attribute -> (the request bucket and quantity that bills exactly that unit)
UNITS: dict[str, tuple[str, str]] = {
    "input_mtok": ("input", "tokens"),
    "output_mtok": ("output", "tokens"),
    "cache_read_mtok": ("cached_input", "tokens"),
    "cache_write_mtok": ("cache_write", "tokens"),
    "input_audio_mtok": ("input", "audio_tokens"),
    "cache_audio_read_mtok": ("cached_input", "audio_tokens"),
    "output_audio_mtok": ("output", "audio_tokens"),
}


@dataclass(frozen=True)
class Disagreement:
    peer_model: str
    model: str
    api: str
    mode: str
    unit: str
    tier: str
    date: dt.date
    ours: Decimal
    peer: Decimal

    def key(self) -> tuple[str, ...]:
        return (
            self.peer_model,
            self.model,
            self.api,
            self.mode,
            self.unit,
            self.tier,
            _plain(self.ours),
            _plain(self.peer),
        )


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def peer_api(peer_model: Any) -> str:
    """genai-prices' google provider mixes the Gemini API page with Vertex-cited rows (Claude, MaaS, Live)."""
    comment = peer_model.price_comments or ""
    if peer_model.id.startswith("claude") or peer_model.id.endswith("-maas"):
        return "vertex"
    if "cloud.google.com/vertex-ai" in comment and "ai.google.dev" not in comment:
        return "vertex"
    return "gemini"


def _periods(peer_model: Any) -> list[tuple[dt.date, dt.date | None, Any]]:
    prices = peer_model.prices
    if not isinstance(prices, list):
        return [(dt.date.min, None, prices)]
    starts = [(c.constraint.start_date if c.constraint is not None else dt.date.min, c.prices) for c in prices]
    starts.sort(key=lambda item: item[0])
    return [(start, starts[i + 1][0] if i + 1 < len(starts) else None, p) for i, (start, p) in enumerate(starts)]


def _variants(peer_model: Any) -> list[tuple[str, dt.date, dt.date | None, Any]]:
    """(mode, from, until, prices): the standard prices, then batch variants (genai-prices' `processing`)."""
    out = [("online", start, end, prices) for start, end, prices in _periods(peer_model)]
    for variant in peer_model.price_variants or []:
        if variant.when != {"processing": "batch"}:
            continue
        start = getattr(variant.constraint, "start_date", None) or dt.date.min
        out.append(("batch", start, None, variant.prices))
    return out


def _ours(model: str, api: str, date: dt.date, bucket: str, quantity: str, prompt: int, mode: str) -> Decimal | None:
    try:
        pricer = PriceList(model, date=date, api=api)
        request = RequestUsage(**{bucket: Quantities(**{quantity: 1_000_000})}, prompt_tokens=prompt)
        return pricer.price(Usage(requests=(request,)), mode).total
    except VertexMeterError:
        return None  # the catalogue has no such price: not an overlap


def _peer(value: Any, prompt: int) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    price = value.base
    for tier in value.tiers:
        if prompt > tier.start:
            price = tier.price
    return Decimal(price)


def compare(peer_models: list[Any]) -> tuple[int, list[Disagreement]]:
    """(number of comparisons made, disagreements) over every overlap of the peer with the catalogue."""
    cat = catalogue()
    compared = 0
    found: list[Disagreement] = []
    for peer_model in peer_models:
        api = peer_api(peer_model)
        for model in cat.models.values():
            names = [model.id, *model.aliases]
            if not any(peer_model.is_match(name) for name in names):
                continue
            entries = [e for e in cat.entries_by_model.get(model.id, []) if e.api == api]
            if not entries:
                continue
            for mode, start, end, prices in _variants(peer_model):
                dates = {e.effective_from for e in entries} | {e.effective_until for e in entries if e.effective_until}
                dates |= {start} if start != dt.date.min else set()
                dates = {d for d in dates if d >= start and (end is None or d < end)}
                for date in sorted(dates):
                    for attr, (bucket, quantity) in UNITS.items():
                        raw = getattr(prices, attr, None)
                        for tier, prompt in (("base", SMALL), ("long", LARGE)):
                            if tier == "long" and (raw is None or isinstance(raw, Decimal)):
                                continue
                            peer = _peer(raw, prompt)
                            if peer is None:
                                continue
                            ours = _ours(model.id, api, date, bucket, quantity, prompt, mode)
                            if ours is None:
                                continue
                            compared += 1
                            if ours != peer:
                                found.append(
                                    Disagreement(peer_model.id, model.id, api, mode, attr, tier, date, ours, peer)
                                )
    return compared, found


# ---- LiteLLM (a vendored snapshot: tests/pricing/data/litellm-1.110.2-vertex-gemini.json) ------------------
LITELLM_DATE = dt.date(2026, 11, 20)  # the snapshot has no dates: compared as of its release month
_PREFIXES = ("vertex_ai/", "gemini/", "meta/", "deepseek-ai/", "qwen/", "openai/", "mistralai/", "google/")
_MODES = {"": "online", "_batches": "batch", "_flex": "flex", "_priority": "priority"}
_TIERS = {"": "base", "_above_200k_tokens": "long", "_above_128k_tokens": "long", "_above_100k_tokens": "long"}
# LiteLLM stem -> (bucket, quantity, extra request fields, per how many units the stem's price is)
_LL_STEMS: dict[str, tuple[str, str, dict[str, Any], int]] = {
    "input_cost_per_token": ("input", "tokens", {}, 1),
    "input_cost_per_audio_token": ("input", "audio_tokens", {}, 1),
    "input_cost_per_image_token": ("input", "image_tokens", {}, 1),
    "input_cost_per_video_token": ("input", "video_tokens", {}, 1),
    "input_cost_per_character": ("input", "text_characters", {}, 1),
    "input_cost_per_image": ("input", "images", {}, 1),
    "input_cost_per_video_per_second": ("input", "video_seconds", {}, 1),
    "input_cost_per_audio_per_second": ("input", "audio_seconds", {}, 1),
    "cache_read_input_token_cost": ("cached_input", "tokens", {}, 1),
    "cache_read_input_audio_token_cost": ("cached_input", "audio_tokens", {}, 1),
    "cache_creation_input_token_cost": ("cache_write", "tokens", {}, 1),
    "output_cost_per_token": ("output", "tokens", {}, 1),
    "output_cost_per_character": ("output", "text_characters", {}, 1),
    "output_cost_per_audio_token": ("output", "audio_tokens", {}, 1),
    "output_cost_per_image_token": ("output", "image_tokens", {}, 1),
    "output_cost_per_second": ("output", "video_seconds", {}, 1),
    "output_cost_per_second_1080p": ("output", "video_seconds", {"video_resolution": "1080p"}, 1),
    "output_cost_per_second_4k": ("output", "video_seconds", {"video_resolution": "4k"}, 1),
}


def _ll_key_parts(key: str) -> tuple[str, str, str] | None:
    """A LiteLLM price key -> (stem, tier, mode), or None for keys that are not a plain unit price."""
    for mode_suffix, mode in sorted(_MODES.items(), key=lambda kv: -len(kv[0])):
        if mode_suffix and not key.endswith(mode_suffix):
            continue
        rest = key[: len(key) - len(mode_suffix)] if mode_suffix else key
        for tier_suffix, tier in sorted(_TIERS.items(), key=lambda kv: -len(kv[0])):
            if tier_suffix and not rest.endswith(tier_suffix):
                continue
            stem = rest[: len(rest) - len(tier_suffix)] if tier_suffix else rest
            if stem in _LL_STEMS:
                return stem, tier, mode
    return None


def _ll_model(key: str) -> str:
    name = key
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
    for prefix in _PREFIXES:  # vertex_ai/meta/llama-...
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return name


def compare_litellm(
    snapshot: dict[str, Any], unpriced: list[tuple[str, ...]] | None = None
) -> tuple[int, list[Disagreement]]:
    """Every LiteLLM unit price whose model, api, mode and tier the catalogue also prices on LITELLM_DATE.
    `unpriced` collects (key, model, api, mode, field) the catalogue lacks for a model it prices there."""
    from vertexmeter.pricing.catalogue import resolve_priced_model

    cat = catalogue()
    compared = 0
    found: list[Disagreement] = []
    for key, entry in sorted(snapshot["models"].items()):
        api = "gemini" if entry["litellm_provider"] == "gemini" else "vertex"
        try:
            model = resolve_priced_model(_ll_model(key))
        except VertexMeterError:
            continue  # a model the catalogue does not price
        for field, value in sorted(entry.items()):
            parts = _ll_key_parts(field)
            if parts is None or not isinstance(value, int | float) or isinstance(value, bool):
                continue
            stem, tier, mode = parts
            bucket, quantity, extra, _ = _LL_STEMS[stem]
            if model.id.startswith("gemini") and bucket == "cache_write":
                continue  # Gemini cache creation is billed as input
            if model.billing == "per_operation" and bucket in ("input", "output") and quantity == "tokens":
                continue  # a generator bills per operation (image, second, clip), not per token
            if model.billing == "tokens" and quantity in (
                "text_characters",
                "images",
                "video_seconds",
                "audio_seconds",
            ):
                continue  # LiteLLM's per-character / per-image / per-second fields: token-billed models bill tokens
            if bucket == "output" and _is_embedding(model.id):
                continue  # an embedding has no output
            prompt = LARGE if tier == "long" else SMALL
            peer = Decimal(repr(value))
            units = 1_000_000
            if quantity in ("video_seconds", "images", "audio_seconds"):
                units = 10
            request_fields: dict[str, Any] = {
                bucket: Quantities(**{quantity: Decimal(units) if "seconds" in quantity else units})
            }
            if model.billing == "characters":
                request_fields["prompt_tokens"] = prompt
            else:
                request_fields["prompt_tokens"] = prompt
            request_fields.update(extra)
            if model.billing == "characters" and quantity in ("tokens", "audio_tokens"):
                continue
            try:
                pricer = PriceList(model.id, date=LITELLM_DATE, api=api)
                total = pricer.price(Usage(requests=(RequestUsage(**request_fields),)), mode).total
            except VertexMeterError:
                if unpriced is not None and any(e.api == api for e in cat.entries_by_model[model.id]):
                    unpriced.append((key, model.id, api, mode, field))
                continue  # not an overlap: the catalogue has no such price on that day
            ours = total / units
            compared += 1
            if ours != peer:
                found.append(Disagreement(key, model.id, api, mode, field, tier, LITELLM_DATE, ours, peer))
        for field, peer_value, request in _ll_grounding(entry):
            if model.publisher != "google":
                continue  # a partner's web search is the vendor's tool, not Google's grounding
            total = _price_one(model.id, api, LITELLM_DATE, "online", request, SMALL)
            if total is None:
                if unpriced is not None and any(e.api == api for e in cat.entries_by_model[model.id]):
                    unpriced.append((key, model.id, api, "online", field))
                continue
            ours = total / 1000
            compared += 1
            if ours != peer_value:
                found.append(Disagreement(key, model.id, api, "online", field, "base", LITELLM_DATE, ours, peer_value))
    return compared, found


def _is_embedding(model: str) -> bool:
    return "embedding" in model


def _ll_grounding(entry: dict[str, Any]) -> list[tuple[str, Decimal, dict[str, Any]]]:
    """LiteLLM's grounding prices per query: Google Search (search_context_cost_per_query) and Maps."""
    out = []
    search = entry.get("search_context_cost_per_query")
    if isinstance(search, dict) and "search_context_size_low" in search:
        out.append(
            (
                "search_context_cost_per_query",
                Decimal(repr(search["search_context_size_low"])),
                {"search_queries": 1000},
            )
        )
    maps = entry.get("google_maps_grounding_cost_per_query")
    if isinstance(maps, int | float):
        out.append(("google_maps_grounding_cost_per_query", Decimal(repr(maps)), {"maps_requests": 1000}))
    return out


# ---- genai-prices (a vendored snapshot: tests/pricing/data/genai-prices-0.2.5-google.json) ------------------
def clause_matches(clause: dict[str, Any], name: str) -> bool:
    """genai-prices' match clauses (equals, starts_with, ends_with, contains, regex, or, and) on a model name."""
    import re

    kind = clause["$type"]
    if kind == "ClauseEquals":
        return name == clause["equals"]
    if kind == "ClauseStartsWith":
        return name.startswith(clause["starts_with"])
    if kind == "ClauseEndsWith":
        return name.endswith(clause["ends_with"])
    if kind == "ClauseContains":
        return clause["contains"] in name
    if kind == "ClauseRegex":
        return re.search(clause["regex"], name) is not None
    if kind == "ClauseOr":
        return any(clause_matches(c, name) for c in clause["or_"])
    if kind == "ClauseAnd":
        return all(clause_matches(c, name) for c in clause["and_"])
    raise ValueError(f"unknown genai-prices clause {kind}")


def clause_names(clause: dict[str, Any]) -> list[str]:
    """The literal names a clause spells out (equals, starts_with, ends_with, contains), for lookups."""
    out = [clause[k] for k in ("equals", "starts_with", "ends_with", "contains") if k in clause]
    for key in ("or_", "and_"):
        for sub in clause.get(key, []):
            out += clause_names(sub)
    return out


def snapshot_api(model: dict[str, Any]) -> str:
    """genai-prices' google provider mixes the Gemini API page with Vertex-cited rows (Claude, MaaS)."""
    comment = model.get("price_comments") or ""
    if model["id"].startswith("claude") or model["id"].endswith("-maas"):
        return "vertex"
    if "cloud.google.com/vertex-ai" in comment and "ai.google.dev" not in comment:
        return "vertex"
    return "gemini"


def catalogue_names(api: str) -> dict[str, str]:
    """Every name the catalogue prices on `api` (ids, own aliases, registry aliases) -> its model id."""
    from vertexmeter.registry import all_models

    cat = catalogue()
    priced = {m for m, entries in cat.entries_by_model.items() if any(e.api == api for e in entries)}
    names: dict[str, str] = {}
    for model in cat.models.values():
        if model.id in priced:
            for name in (model.id, *model.aliases):
                names[name] = model.id
    for info in all_models():
        priced_model = cat.models.get(info.id)
        if priced_model is not None and priced_model.registry and info.id in priced:
            for name in (info.id, *info.aliases):
                names.setdefault(name, info.id)
    return names


@dataclass(frozen=True)
class Gap:
    peer: str
    key: str
    api: str


def _priced_on(name: str, api: str) -> bool:
    from vertexmeter.pricing.catalogue import resolve_priced_model

    try:
        model = resolve_priced_model(name)
    except VertexMeterError:
        return False
    return any(e.api == api for e in catalogue().entries_by_model.get(model.id, []))


def _refused_on(name: str, api: str) -> bool:
    from vertexmeter.pricing.catalogue import refusal

    refused = refusal(name)
    return refused is not None and api in refused.apis


def litellm_gaps(snapshot: dict[str, Any]) -> list[Gap]:
    """LiteLLM keys of a model neither priced on the key's api nor refused there with a reason."""
    gaps = []
    for key, entry in sorted(snapshot["models"].items()):
        api = "gemini" if entry["litellm_provider"] == "gemini" else "vertex"
        name = _ll_model(key)
        if not (_priced_on(name, api) or _refused_on(name, api)):
            gaps.append(Gap("litellm", key, api))
    return gaps


def genai_gaps(snapshot: dict[str, Any]) -> list[Gap]:
    """genai-prices models no priced catalogue name matches on their api, and not refused by id."""
    gaps = []
    names_by_api = {p: catalogue_names(p) for p in ("vertex", "gemini")}
    for model in snapshot["models"]:
        api = snapshot_api(model)
        names = names_by_api[api]
        if any(clause_matches(model["match"], name) for name in names):
            continue
        if _refused_on(model["id"], api) or _priced_on(model["id"], api):
            continue
        gaps.append(Gap("genai-prices", model["id"], api))
    return gaps


# genai-prices ModelPrice field (snapshot JSON) -> the request fields that bill exactly one unit of it, per UNITS
SNAPSHOT_UNITS: dict[str, dict[str, Any]] = {
    "input_mtok": {"input": Quantities(tokens=1_000_000)},
    "output_mtok": {"output": Quantities(tokens=1_000_000)},
    "cache_read_mtok": {"cached_input": Quantities(tokens=1_000_000)},
    "cache_write_mtok": {"cache_write": Quantities(tokens=1_000_000)},
    "input_audio_mtok": {"input": Quantities(audio_tokens=1_000_000)},
    "cache_audio_read_mtok": {"cached_input": Quantities(audio_tokens=1_000_000)},
    "output_audio_mtok": {"output": Quantities(audio_tokens=1_000_000)},
    "input_image_mtok": {"input": Quantities(image_tokens=1_000_000)},
    "input_video_mtok": {"input": Quantities(video_tokens=1_000_000)},
    # a thousand search queries (3.x bills per query), else a thousand grounded prompts (2.x bills per prompt)
    "web_searches_kcount": {"search_queries": 1000},
}
SNAPSHOT_MODES = {
    ("processing", "batch"): "batch",
    ("service_tier", "flex"): "flex",
    ("service_tier", "priority"): "priority",
}


def _snapshot_periods(model: dict[str, Any]) -> list[tuple[str, dt.date, dt.date | None, dict[str, Any]]]:
    """(mode, from, until, prices): the dated standard prices, then each batch / flex / priority variant."""
    out: list[tuple[str, dt.date, dt.date | None, dict[str, Any]]] = []
    prices = model["prices"]
    items = (
        [(dt.date.min, prices)]
        if isinstance(prices, dict)
        else sorted(
            (
                (
                    dt.date.fromisoformat(p["constraint"]["start_date"]) if p.get("constraint") else dt.date.min,
                    p["prices"],
                )
                for p in prices
            ),
            key=lambda item: item[0],
        )
    )
    out += [("online", start, items[i + 1][0] if i + 1 < len(items) else None, p) for i, (start, p) in enumerate(items)]
    by_mode: dict[str, list[tuple[dt.date, dict[str, Any]]]] = {}
    for variant in model["price_variants"]:
        ((key, value),) = variant["when"].items()
        start = dt.date.fromisoformat(variant["constraint"]["start_date"]) if variant.get("constraint") else dt.date.min
        by_mode.setdefault(SNAPSHOT_MODES[(key, value)], []).append((start, variant["prices"]))
    for mode, variants in by_mode.items():
        variants.sort(key=lambda item: item[0])
        out += [
            (mode, start, variants[i + 1][0] if i + 1 < len(variants) else None, p)
            for i, (start, p) in enumerate(variants)
        ]
    return out


def _snapshot_price(value: Any, prompt: int) -> Decimal:
    if not isinstance(value, dict):
        return Decimal(value)
    price = Decimal(value["base"])
    for tier in value["tiers"]:
        if prompt > tier["start"]:
            price = Decimal(tier["price"])
    return price


def compare_genai(snapshot: dict[str, Any]) -> tuple[int, list[Disagreement]]:
    """Every (genai-prices model, catalogue model, mode, unit, tier, date) both price, on the model's api;
    dates are every day where either side's price changes within the peer's period."""
    cat = catalogue()
    compared = 0
    found: list[Disagreement] = []
    for peer_model in snapshot["models"]:
        api = snapshot_api(peer_model)
        matched = sorted({m for name, m in catalogue_names(api).items() if clause_matches(peer_model["match"], name)})
        for model in matched:
            entries = [e for e in cat.entries_by_model.get(model, []) if e.api == api]
            edges = {e.effective_from for e in entries} | {e.effective_until for e in entries if e.effective_until}
            for mode, start, end, prices in _snapshot_periods(peer_model):
                dates = {d for d in edges | ({start} - {dt.date.min}) if d >= start and (end is None or d < end)}
                for date in sorted(dates):
                    for attr, request in SNAPSHOT_UNITS.items():
                        raw = prices.get(attr)
                        if raw is None or (attr == "web_searches_kcount" and mode != "online"):
                            continue
                        tiers = (("base", SMALL), ("long", LARGE)) if isinstance(raw, dict) else (("base", SMALL),)
                        for tier, prompt in tiers:
                            ours = _price_one(model, api, date, mode, request, prompt)
                            if ours is None:
                                continue  # the catalogue has no such price that day: not an overlap
                            peer = _snapshot_price(raw, prompt)
                            compared += 1
                            if ours != peer:
                                found.append(
                                    Disagreement(peer_model["id"], model, api, mode, attr, tier, date, ours, peer)
                                )
    return compared, found


def _price_one(model: str, api: str, date: dt.date, mode: str, request: dict[str, Any], prompt: int) -> Decimal | None:
    """The catalogue's total for one request, or None where it has no such price; grounding counted per search
    query is retried as grounded prompts for the models that bill per prompt (2.x)."""
    tries = [request]
    if "search_queries" in request:
        tries.append({"grounded_requests": request["search_queries"]})
    for fields in tries:
        try:
            usage = Usage(requests=(RequestUsage(**fields, prompt_tokens=prompt),))
            return PriceList(model, date=date, api=api).price(usage, mode).total
        except VertexMeterError:
            continue
    return None


def genai_unpriced(snapshot: dict[str, Any]) -> list[tuple[str, ...]]:
    """Prices genai-prices has that the catalogue lacks for a model it prices on that API: (peer model, model,
    api, mode, unit), checked on the first day both vouch for (a later start on either side is no gap)."""
    cat = catalogue()
    out: list[tuple[str, ...]] = []
    for peer_model in snapshot["models"]:
        api = snapshot_api(peer_model)
        matched = sorted({m for name, m in catalogue_names(api).items() if clause_matches(peer_model["match"], name)})
        for model in matched:
            entries = [e for e in cat.entries_by_model[model] if e.api == api]
            for mode, start, end, prices in _snapshot_periods(peer_model):
                # the model's first priced day in this mode (else online): before it the catalogue refuses on purpose
                base = [e for e in entries if e.charge in ("input", "output") and e.mode == mode] or [
                    e for e in entries if e.charge in ("input", "output")
                ]
                day = max(start, min(e.effective_from for e in base or entries))
                if end is not None and day >= end:
                    continue
                for attr, request in SNAPSHOT_UNITS.items():
                    if attr not in prices or (attr == "web_searches_kcount" and mode != "online"):
                        continue
                    if _price_one(model, api, day, mode, request, SMALL) is None:
                        out.append((peer_model["id"], model, api, mode, attr))
    return sorted(set(out))
