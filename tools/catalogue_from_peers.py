"""Regenerate the peer-derived part of catalogue.yaml from the vendored peer snapshots and print the diff.

Usage: python tools/catalogue_from_peers.py            # print the unified diff against the catalogue
       python tools/catalogue_from_peers.py --write    # rewrite the generated blocks in place

Reads tests/pricing/data/litellm-1.110.2-vertex-gemini.json (LiteLLM, source S32) and
tests/pricing/data/genai-prices-0.2.5-google.json (genai-prices, source S37); PLANS below says, per model and
API, which peer row a price comes from and from which day it holds. The rows between the `BEGIN generated from
peers` / `END generated from peers` markers of vertexmeter/pricing/catalogue.yaml (one block of models, one of
entries) are this script's output: edit PLANS and re-run, never the rows. Review the printed diff before
committing; tests/pricing/test_pricing_coverage.py then compares every row with both peers.

Dates: LiteLLM has none, so a LiteLLM row holds from `since` (the model's announced release where known, else
the snapshot's day, 2026-11-20: earlier usage is refused rather than priced with a guess). genai-prices dates
its price changes (`StartDateConstraint`) and its batch / flex / priority rows; those dates are kept.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from catalogue_from_litellm import ID_PREFIX, price, rows  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "vertexmeter" / "pricing" / "catalogue.yaml"
LITELLM = ROOT / "tests" / "pricing" / "data" / "litellm-1.110.2-vertex-gemini.json"
GENAI = ROOT / "tests" / "pricing" / "data" / "genai-prices-0.2.5-google.json"
LITELLM_DAY = dt.date(2026, 11, 20)
MODELS_BLOCK = ("# BEGIN generated from peers: models", "# END generated from peers: models")
ENTRIES_BLOCK = ("# BEGIN generated from peers: entries", "# END generated from peers: entries")


@dataclass(frozen=True)
class Plan:
    """One catalogue model: where its rows come from on each API (`litellm:KEY` or `genai:ID`)."""

    id: str
    since: dt.date
    vertex: str | None = None
    gemini_api: str | None = None
    registry: bool = False
    publisher: str = "google"
    billing: str = "tokens"
    aliases: tuple[str, ...] = ()
    counted_with: str | None = None
    generates: str | None = None
    existing: bool = False  # the model line is hand-written above the block: only its rows are generated
    modes: tuple[str, ...] = ()  # genai-prices rows: only these modes (empty: all)
    from_day: dt.date | None = None  # genai-prices rows: only the periods starting on or after this day
    audio_output: bool = False  # genai-prices rows: its output price is for audio too (token-priced TTS)
    keys: tuple[str, ...] = ()  # LiteLLM rows: only those these price fields give (rows a hand model lacks)


D = dt.date
ARGON = D(2026, 10, 14)  # genai-prices: Gemini 4 Argon's batch rows verified on 2026-10-14 (its first dated row)
PLANS: tuple[Plan, ...] = (
    # ---- Gemini 4 --------------------------------------------------------------------------------------
    # Vertex too from genai-prices: LiteLLM (2026-11-20) predates the 2026-12-01 change and agrees before it.
    Plan("gemini-4-argon", ARGON, "genai:gemini-4-argon", "genai:gemini-4-argon", registry=True),
    Plan(
        "gemini-4-argon-cyber-permissive",
        LITELLM_DAY,
        "litellm:vertex_ai/gemini-4-argon-cyber-permissive",
        registry=True,
    ),
    Plan("gemini-4-carbon", D(2026, 11, 16), "genai:gemini-4-carbon", "genai:gemini-4-carbon", registry=True),
    Plan(
        "gemini-4-hydrogen",
        D(2026, 11, 16),
        "litellm:vertex_ai/gemini-4-hydrogen",
        "genai:gemini-4-hydrogen",
        registry=True,
    ),
    Plan("gemini-4-neon", D(2026, 11, 18), "genai:gemini-4-neon", "genai:gemini-4-neon", registry=True),
    # ---- Gemini 3.x variants ---------------------------------------------------------------------------
    Plan("gemini-3.8-flash-cyber", LITELLM_DAY, "litellm:vertex_ai/gemini-3.8-flash-cyber", registry=True),
    Plan(
        "gemini-3.8-flash-tts",
        D(2026, 10, 15),
        "litellm:vertex_ai/gemini-3.8-flash-tts",
        "genai:gemini-3.8-flash-tts",
        counted_with="gemini-3.8-flash",
        audio_output=True,
    ),
    Plan(
        "gemini-3.8-flash-lite-tts",
        D(2026, 10, 15),
        "litellm:vertex_ai/gemini-3.8-flash-lite-tts",
        "genai:gemini-3.8-flash-lite-tts",
        counted_with="gemini-3.8-flash",
        audio_output=True,
    ),
    Plan(
        "gemini-3.8-live",
        LITELLM_DAY,
        "litellm:vertex_ai/gemini-3.8-live",
        "litellm:gemini/gemini-3.8-live",
        counted_with="gemini-3.8-flash",
    ),
    Plan(
        "gemini-3.8-live-extended-thinking",
        LITELLM_DAY,
        "litellm:gemini-3.8-live-extended-thinking",
        "litellm:gemini/gemini-3.8-live-extended-thinking",
        counted_with="gemini-3.8-flash",
    ),
    Plan(
        "gemini-3.1-flash-live-preview",
        LITELLM_DAY,
        None,
        "litellm:gemini/gemini-3.1-flash-live-preview",
        counted_with="gemini-3.5-flash",
    ),
    Plan(
        "gemini-3.1-flash-tts-preview",
        LITELLM_DAY,
        "litellm:vertex_ai/gemini-3.1-flash-tts-preview",
        "litellm:gemini/gemini-3.1-flash-tts-preview",
        counted_with="gemini-3.5-flash",
    ),
    Plan(
        "gemini-3.5-transcribe",
        LITELLM_DAY,
        "litellm:vertex_ai/gemini-3.5-transcribe",
        "litellm:gemini/gemini-3.5-transcribe",
        counted_with="gemini-3.5-flash",
        aliases=("gemini-3.5-transcribe-preview",),
    ),
    Plan(
        "gemini-3.5-transcribe-live",
        LITELLM_DAY,
        "litellm:vertex_ai/gemini-3.5-transcribe-live",
        "litellm:gemini/gemini-3.5-transcribe-live",
        counted_with="gemini-3.5-flash",
        aliases=("gemini-3.5-transcribe-live-preview",),
    ),
    Plan(
        "gemini-3.5-live-translate-preview",
        LITELLM_DAY,
        "litellm:vertex_ai/gemini-3.5-live-translate-preview",
        "litellm:gemini/gemini-3.5-live-translate-preview",
        counted_with="gemini-3.5-flash",
    ),
    Plan(
        "gemini-3.1-pro-preview-customtools",
        LITELLM_DAY,
        "litellm:vertex_ai/gemini-3.1-pro-preview-customtools",
        "litellm:gemini/gemini-3.1-pro-preview-customtools",
        counted_with="gemini-3.1-pro-preview",
    ),
    Plan(
        "gemini-omni-flash-preview",
        LITELLM_DAY,
        "litellm:gemini-omni-flash-preview",
        "litellm:gemini/gemini-omni-flash-preview",
        counted_with="gemini-3.5-flash",
    ),
    Plan(
        "gemini-omni-1.1-flash",
        LITELLM_DAY,
        "litellm:vertex_ai/gemini-omni-1.1-flash",
        "litellm:gemini/gemini-omni-1.1-flash",
        counted_with="gemini-3.5-flash",
        aliases=("gemini-omni-1.1-flash-preview",),
    ),
    Plan(
        "gemini-omni-1.2-flash",
        LITELLM_DAY,
        "litellm:vertex_ai/gemini-omni-1.2-flash",
        "litellm:gemini/gemini-omni-1.2-flash",
        counted_with="gemini-3.5-flash",
    ),
    Plan(
        "gemini-nano-banana-2.1",
        LITELLM_DAY,
        "litellm:vertex_ai/gemini-nano-banana-2.1",
        "litellm:gemini/gemini-nano-banana-2.1",
        counted_with="gemini-3.1-flash-image-preview",
    ),
    Plan(
        "gemini-robotics-er-2-preview",
        LITELLM_DAY,
        "litellm:vertex_ai/gemini-robotics-er-2-preview",
        "genai:gemini-robotics-er-2-preview",
        registry=True,
    ),  # genai dates the 2027 rise
    Plan(
        "gemini-robotics-er-2-streaming-preview",
        LITELLM_DAY,
        None,
        "genai:gemini-robotics-er-2-streaming-preview",
        counted_with="gemini-3.5-flash",
    ),
    # Gemini API only, shut down 2025-09-24; its registry entry is vicentereig/dspy.rb's answers of 2025-09-22.
    Plan("gemini-1.5-flash-8b", D(2024, 10, 3), None, "genai:gemini-flash-1.5-8b", registry=True),
    Plan(
        "gemini-robotics-er-1.5-preview",
        LITELLM_DAY,
        "litellm:gemini-robotics-er-1.5-preview",
        registry=True,
    ),
    Plan(
        "gemini-2.5-computer-use-preview-10-2025",
        LITELLM_DAY,
        "litellm:gemini-2.5-computer-use-preview-10-2025",
        "litellm:gemini/gemini-2.5-computer-use-preview-10-2025",
        counted_with="gemini-2.5-pro",
    ),
    Plan(
        "deep-research-pro-preview-12-2025",
        LITELLM_DAY,
        "litellm:vertex_ai/deep-research-pro-preview-12-2025",
        "litellm:gemini/deep-research-pro-preview-12-2025",
        counted_with="gemini-3-pro-preview",
    ),
    Plan(
        "deep-research-preview-04-2026",
        LITELLM_DAY,
        None,
        "litellm:gemini/deep-research-preview-04-2026",
        counted_with="gemini-3.1-pro-preview",
    ),
    Plan(
        "deep-research-max-preview-04-2026",
        LITELLM_DAY,
        None,
        "litellm:gemini/deep-research-max-preview-04-2026",
        counted_with="gemini-3.1-pro-preview",
    ),
    Plan("gemini-2.5-pro-tts", D(2025, 9, 1), None, "litellm:gemini/gemini-2.5-pro-preview-tts", existing=True),
    # Rows the hand-transcribed models lack, from the LiteLLM key that has them (3.1 Pro Preview's rows were taken
    # from gemini/gemini-pro-latest, which has no batch cache or long flex prices).
    Plan(
        "gemini-3.1-pro-preview",
        D(2026, 2, 19),
        None,
        "litellm:gemini/gemini-3.1-pro-preview",
        existing=True,
        keys=(
            "cache_read_input_token_cost_batches",
            "cache_read_input_token_cost_above_200k_tokens_batches",
            "cache_read_input_token_cost_above_200k_tokens_flex",
            "input_cost_per_token_above_200k_tokens_flex",
            "output_cost_per_token_above_200k_tokens_flex",
        ),
    ),
    Plan(
        "gemini-3-pro-image-preview",
        LITELLM_DAY,
        "litellm:vertex_ai/gemini-3-pro-image",
        None,
        existing=True,
        keys=("cache_read_input_token_cost_flex", "input_cost_per_token_flex", "output_cost_per_token_flex"),
    ),
    Plan(
        "gemini-3-pro-image-preview",
        LITELLM_DAY,
        None,
        "litellm:gemini/gemini-3-pro-image",
        existing=True,
        keys=("output_cost_per_image_token_batches",),
    ),
    Plan(
        "gemini-2.5-pro-tts",
        LITELLM_DAY,
        "litellm:gemini-2.5-pro-preview-tts",
        None,
        existing=True,
        keys=("cache_read_input_token_cost",),
    ),
    # genai-prices 0.2.5 dates the Gemini API batch rates after the introductory period (half the 2027 list rates)
    *(
        Plan(model, D(2027, 1, 1), None, f"genai:{model}", existing=True, modes=("batch",), from_day=D(2027, 1, 1))
        for model in ("gemini-3.6-flash", "gemini-3.8-flash")
    ),
    Plan(
        "gemini-2.5-flash-lite-preview-tts",
        LITELLM_DAY,
        None,
        "genai:gemini-2.5-flash-lite-preview-tts",
        counted_with="gemini-2.5-flash-lite",
    ),
    # ---- Gemma on the Gemini API (free) and as Vertex MaaS ----------------------------------------------
    Plan("gemma-3-27b-it", LITELLM_DAY, None, "litellm:gemini/gemma-3-27b-it", registry=True),
    *(
        Plan(model, LITELLM_DAY, None, "genai:gemma-3", registry=True)
        for model in ("gemma-3-12b-it", "gemma-3-4b-it", "gemma-3-1b-it")
    ),
    Plan("gemma-3n-e4b-it", LITELLM_DAY, None, "genai:gemma-3n", registry=True),
    Plan("gemma-4-31b-it", LITELLM_DAY, None, "litellm:gemini/gemma-4-31b-it", registry=True),
    Plan(
        "gemma-4-26b-a4b-it",
        LITELLM_DAY,
        "litellm:vertex_ai/gemma-4-26b-a4b-it",
        "litellm:gemini/gemma-4-26b-a4b-it",
        registry=True,
    ),
    # ---- media generation ------------------------------------------------------------------------------
    Plan(
        "virtual-try-on-001",
        LITELLM_DAY,
        "litellm:vertex_ai/virtual-try-on-001",
        billing="per_operation",
        generates="image",
    ),
    Plan(
        "lyria-3-pro-preview",
        LITELLM_DAY,
        "litellm:vertex_ai/lyria-3-pro-preview",
        "litellm:gemini/lyria-3-pro-preview",
        billing="per_operation",
        generates="music",
    ),
    Plan(
        "lyria-3-clip-preview",
        LITELLM_DAY,
        "litellm:vertex_ai/lyria-3-clip-preview",
        "litellm:gemini/lyria-3-clip-preview",
        billing="per_operation",
        generates="music",
    ),
    Plan("lyria-3.5", LITELLM_DAY, None, "litellm:gemini/lyria-3.5", billing="per_operation", generates="music"),
    Plan(
        "lyria-3.5-pro-preview",
        LITELLM_DAY,
        None,
        "litellm:gemini/lyria-3.5-pro-preview",
        billing="per_operation",
        generates="music",
    ),
    Plan(
        "lyria-3.5-clip-preview",
        LITELLM_DAY,
        None,
        "litellm:gemini/lyria-3.5-clip-preview",
        billing="per_operation",
        generates="music",
    ),
    # ---- partner models (Model Garden MaaS) -------------------------------------------------------------
    *(
        Plan(model, LITELLM_DAY, f"litellm:vertex_ai/{model}", publisher="anthropic", aliases=(f"{model}@default",))
        for model in (
            "claude-sonnet-5",
            "claude-sonnet-5-5",
            "claude-opus-5",
            "claude-opus-5-5",
            "claude-haiku-5-5",
            "claude-fable-5",
            "claude-fable-5-1",
        )
    ),
    Plan(
        "claude-fable-5-2",
        LITELLM_DAY,
        "genai:claude-fable-5-2",
        publisher="anthropic",
        aliases=("claude-fable-5-2@default",),
    ),
    *(
        Plan(model, LITELLM_DAY, f"litellm:vertex_ai/xai/{model}", publisher="xai", aliases=(f"xai/{model}",))
        for model in (
            "grok-4.1-fast-non-reasoning",
            "grok-4.1-fast-reasoning",
            "grok-4.20-non-reasoning",
            "grok-4.20-reasoning",
            "grok-4.3",
            "grok-4.6",
            "grok-4.7",
        )
    ),
    *(
        Plan(model, LITELLM_DAY, f"litellm:vertex_ai/zai-org/{model}", publisher="zai", aliases=(f"zai-org/{model}",))
        for model in ("glm-4.7-maas", "glm-5-maas", "glm-5.2-maas")
    ),
    Plan(
        "kimi-k2-thinking-maas",
        LITELLM_DAY,
        "litellm:vertex_ai/moonshotai/kimi-k2-thinking-maas",
        publisher="moonshotai",
        aliases=("moonshotai/kimi-k2-thinking-maas",),
    ),
    Plan(
        "minimax-m2-maas",
        LITELLM_DAY,
        "litellm:vertex_ai/minimaxai/minimax-m2-maas",
        publisher="minimaxai",
        aliases=("minimaxai/minimax-m2-maas",),
    ),
    Plan(
        "deepseek-v4.1-flash-maas",
        LITELLM_DAY,
        "litellm:vertex_ai/deepseek-ai/deepseek-v4.1-flash-maas",
        publisher="deepseek-ai",
        aliases=("deepseek-ai/deepseek-v4.1-flash-maas",),
    ),
    *(
        Plan(model, LITELLM_DAY, f"litellm:vertex_ai/meta/{model}", publisher="meta", aliases=(f"meta/{model}",))
        for model in (
            "llama-3.1-70b-instruct-maas",
            "llama-3.1-8b-instruct-maas",
            "llama-3.2-90b-vision-instruct-maas",
            "llama-4-maverick-17b-16e-instruct-maas",
        )
    ),
)

# genai-prices ModelPrice field -> (charge, modality, unit, multiplier to the unit); TEXT resolved per model
GENAI_FIELDS: dict[str, tuple[str, str, str, int]] = {
    "input_mtok": ("input", "TEXT", "per_1m_tokens", 1),
    "input_audio_mtok": ("input", "audio", "per_1m_tokens", 1),
    "input_image_mtok": ("input", "image", "per_1m_tokens", 1),
    "input_video_mtok": ("input", "video", "per_1m_tokens", 1),
    "cache_read_mtok": ("cached_input", "TEXT", "per_1m_tokens", 1),
    "cache_audio_read_mtok": ("cached_input", "audio", "per_1m_tokens", 1),
    "cache_write_mtok": ("cache_write", "any", "per_1m_tokens", 1),
    "output_mtok": ("output", "text", "per_1m_tokens", 1),
    "output_audio_mtok": ("output", "audio", "per_1m_tokens", 1),
    "web_searches_kcount": ("grounding", "any", "per_1k_search_queries", 1),
}
# Grounding with Google Search on Gemini 3 and later: 5,000 free prompts a month shared by the family, then per query.
GROUNDING_GROUP = {"vertex": "gemini-3", "gemini": "gemini-api-3"}
GENAI_MODES = {
    ("processing", "batch"): "batch",
    ("service_tier", "flex"): "flex",
    ("service_tier", "priority"): "priority",
}


def _genai_periods(prices: Any, since: dt.date) -> list[tuple[dt.date, dt.date | None, dict[str, Any]]]:
    if isinstance(prices, dict):
        return [(since, None, prices)]
    starts = sorted(
        (
            (D.fromisoformat(p["constraint"]["start_date"]) if p.get("constraint") else since, p["prices"])
            for p in prices
        ),
        key=lambda item: item[0],
    )
    return [(start, starts[i + 1][0] if i + 1 < len(starts) else None, p) for i, (start, p) in enumerate(starts)]


def genai_rows(plan: Plan, api: str, model: dict[str, Any]) -> list[str]:
    """Rows of one genai-prices model: its dated standard prices and its batch / flex / priority variants."""
    periods = [("online", start, end, p) for start, end, p in _genai_periods(model["prices"], plan.since)]
    variants: dict[str, list[tuple[dt.date, dict[str, Any]]]] = {}
    for variant in model["price_variants"]:
        ((key, value),) = variant["when"].items()
        mode = GENAI_MODES[(key, value)]
        start = D.fromisoformat(variant["constraint"]["start_date"]) if variant.get("constraint") else plan.since
        variants.setdefault(mode, []).append((start, variant["prices"]))
    for mode, items in variants.items():
        items.sort(key=lambda item: item[0])
        periods += [
            (mode, start, items[i + 1][0] if i + 1 < len(items) else None, p) for i, (start, p) in enumerate(items)
        ]
    out = []
    for mode, raw_start, end, prices in periods:
        if end is not None and end <= plan.since:
            continue  # over before the catalogue prices the model at all
        start = max(raw_start, plan.since)  # the peer's dates, from the model's first priced day
        if (plan.modes and mode not in plan.modes) or (plan.from_day and start < plan.from_day):
            continue
        if not set(prices) & set(GENAI_FIELDS):  # genai-prices lists the model with no price: free of charge
            prices = {"input_mtok": "0", "output_mtok": "0", "$type": "ModelPrice"}
        if plan.audio_output and "output_mtok" in prices:
            # genai-prices: "Token-priced TTS rates": the output price is also the audio a TTS model speaks
            prices = {**prices, "output_audio_mtok": prices["output_mtok"]}
        separate_audio = "input_audio_mtok" in prices
        separate_visual = "input_image_mtok" in prices or "input_video_mtok" in prices
        text = "text" if separate_audio and separate_visual else "text_image_video" if separate_audio else "any"
        for name, value in prices.items():
            if name not in GENAI_FIELDS:
                continue
            charge, modality, unit, _ = GENAI_FIELDS[name]
            if charge == "grounding" and (mode != "online" or plan.publisher != "google"):
                continue
            modality = text if modality == "TEXT" else modality
            tiers = (
                [(None, value)]
                if not isinstance(value, dict)
                else [
                    ("<=" + str(value["tiers"][0]["start"]), value["base"]),
                    *((">" + str(t["start"]), t["price"]) for t in value["tiers"]),
                ]
            )
            for tier, amount in tiers:
                ident = f"{ID_PREFIX[api]}.{plan.id}.{charge}.{modality.replace('_', '-')}"
                ident += f".{'gt' if tier.startswith('>') else 'le'}{int(tier.lstrip('<=>')) // 1000}k" if tier else ""
                ident += "" if mode == "online" else f".{mode}"
                ident += "" if start == plan.since and mode == "online" else f".from-{start.isoformat()}"
                fields = [
                    f"id: {ident}",
                    f"api: {api}",
                    f"models: [{plan.id}]",
                    f"charge: {charge}",
                    f"modality: {modality}",
                ]
                if tier:
                    fields.append(f"tier: '{tier}'")
                fields += [
                    f"mode: {mode}",
                    f"unit: {unit}",
                    f"price: '{Decimal(amount).normalize():f}'",
                    f"effective_from: {start.isoformat()}",
                ]
                if end is not None:
                    fields.append(f"effective_until: {end.isoformat()}")
                fields += ["source: S37", "confidence: secondary"]
                if charge == "grounding":
                    fields.append(f"free_allowance: {{count: 5000, period: month, group: {GROUNDING_GROUP[api]}}}")
                if Decimal(amount) == 0:
                    fields.append("notes: 'free of charge (genai-prices lists no price: a free model)'")
                out.append("- {" + ", ".join(fields) + "}")
    return out


def litellm_rows(plan: Plan, api: str, entry: dict[str, Any]) -> list[str]:
    generated = rows(plan.id, entry, "EFFECTIVE", api)
    if plan.keys:  # what the kept fields add to the rows of the rest of the entry
        others = set(rows(plan.id, {k: v for k, v in entry.items() if k not in plan.keys}, "EFFECTIVE", api))
        generated = [line for line in generated if line not in others]
    out = [
        line.replace("effective_from: EFFECTIVE", f"effective_from: {plan.since.isoformat()}")
        for line in generated
        if plan.billing == "tokens" or "charge: input" not in line and "charge: output" not in line
    ]
    out = [
        line[:-1] + ", notes: 'free of charge (LiteLLM, citing Google''s page)'}" if "price: '0'" in line else line
        for line in out
    ]
    since = plan.since.isoformat()
    if plan.billing == "per_operation" and "output_cost_per_image" in entry:
        charge, unit, modality = (
            ("music_generate", "per_clip", "audio")
            if plan.generates == "music"
            else ("image_generate", "per_image", "image")
        )
        out.append(
            f"- {{id: {ID_PREFIX[api]}.{plan.id}.{charge}, api: {api}, models: [{plan.id}], "
            f"charge: {charge}, modality: {modality}, mode: online, unit: {unit}, "
            f"price: '{price(entry['output_cost_per_image'], 1)}', effective_from: {since}, "
            "source: S32, confidence: secondary, notes: LiteLLM stores the per-operation price as "
            "output_cost_per_image}"
        )
        out = [line for line in out if "charge: music_generate" not in line or line == out[-1]]
    search = entry.get("search_context_cost_per_query") if not plan.keys else None
    if isinstance(search, dict) and plan.billing == "tokens" and plan.publisher == "google":
        rate = Decimal(repr(search["search_context_size_low"])) * 1000
        out.append(
            f"- {{id: {ID_PREFIX[api]}.{plan.id}.grounding.any, api: {api}, models: [{plan.id}], "
            f"charge: grounding, modality: any, mode: online, unit: per_1k_search_queries, "
            f"price: '{rate.normalize():f}', free_allowance: {{count: 5000, period: month, "
            f"group: {GROUNDING_GROUP[api]}}}, effective_from: {since}, source: S32, "
            "confidence: secondary}"
        )
    return out


def model_line(plan: Plan) -> str:
    fields = [f"id: {plan.id}", f"registry: {'true' if plan.registry else 'false'}"]
    if not plan.registry:
        fields.append(f"publisher: {plan.publisher}")
    fields.append(f"billing: {plan.billing}")
    if plan.billing == "tokens":
        fields += ["tier_tokens: gemini-tokens"] if plan.publisher == "google" else []
        fields += ["cache_creation_billed_as: input"] if plan.publisher == "google" else []
    if plan.counted_with:
        fields.append(f"counted_with: {plan.counted_with}")
    if plan.generates:
        fields.append(f"generates: {plan.generates}")
    fields.append(f"released: {plan.since.isoformat()}")
    if not plan.registry:
        fields.append(f"aliases: [{', '.join(plan.aliases)}]")
    return "- {" + ", ".join(fields) + "}"


def generate() -> tuple[list[str], list[str]]:
    litellm = json.loads(LITELLM.read_text("utf-8"))["models"]
    genai = {m["id"]: m for m in json.loads(GENAI.read_text("utf-8"))["models"]}
    models, entries = [], []
    for plan in PLANS:
        if not plan.existing:
            models.append(model_line(plan))
        for api, ref in (("vertex", plan.vertex), ("gemini", plan.gemini_api)):
            if ref is None:
                continue
            peer, _, key = ref.partition(":")
            entries.append(f"# {plan.id} ({api}) <- {peer} {key}")
            if peer == "litellm":
                entries += litellm_rows(plan, api, litellm[key])
            else:
                entries += genai_rows(plan, api, genai[key])
    return models, entries


def replace_block(text: str, markers: tuple[str, str], lines: list[str]) -> str:
    start, end = markers
    head, rest = text.split(start + "\n", 1)
    _, tail = rest.split(end + "\n", 1)
    return head + start + "\n" + "".join(line + "\n" for line in lines) + end + "\n" + tail


def main() -> None:
    old = CATALOGUE.read_text("utf-8")
    models, entries = generate()
    new = replace_block(replace_block(old, MODELS_BLOCK, models), ENTRIES_BLOCK, entries)
    sys.stdout.writelines(
        difflib.unified_diff(
            old.splitlines(True), new.splitlines(True), "catalogue.yaml", "catalogue.yaml (regenerated)"
        )
    )
    if "--write" in sys.argv[1:]:
        CATALOGUE.write_text(new, "utf-8")


if __name__ == "__main__":
    main()
