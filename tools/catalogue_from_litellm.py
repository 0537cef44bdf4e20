"""LiteLLM price keys -> catalogue.yaml entries: `rows()` is the transcription tools/catalogue_from_peers.py uses.

Usage: python tools/catalogue_from_litellm.py path/to/model_prices_and_context_window_backup.json [vertex|gemini]

Run on its own it prints the rows of the models below, as they were first transcribed (the earlier rows of
catalogue.yaml, kept as they are); newer models are generated between the catalogue's `generated from peers`
markers by tools/catalogue_from_peers.py, which calls `rows()`. LiteLLM 1.110.2 (PyPI wheel) cites
cloud.google.com/gemini-enterprise-agent-platform/generative-ai/pricing for these rows; the catalogue marks them
`source: S32, confidence: secondary` (a peer quoting Google's page).
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal

# catalogue model id -> LiteLLM key
MODELS: dict[str, str] = {
    "gemini-3.1-pro-preview": "vertex_ai/gemini-3.1-pro-preview",
    "gemini-3.1-flash-lite": "gemini-3.1-flash-lite",
    "gemini-3.5-flash": "vertex_ai/gemini-3.5-flash",
    "gemini-3.5-flash-lite": "gemini-3.5-flash-lite",
    "gemini-3.6-flash": "vertex_ai/gemini-3.6-flash",
    "gemini-3.7-flash": "vertex_ai/gemini-3.7-flash",
    "gemini-3.8-flash": "vertex_ai/gemini-3.8-flash",
    "gemini-2.5-flash-image": "gemini-2.5-flash-image",
    "gemini-3-pro-image-preview": "gemini-3-pro-image-preview",
    "gemini-3.1-flash-image": "gemini-3.1-flash-image",
    "gemini-3.1-flash-lite-image": "gemini-3.1-flash-lite-image",
    "gemini-live-2.5-flash-native-audio": "gemini-live-2.5-flash-native-audio",
    "gemini-2.5-flash-tts": "vertex_ai/gemini-2.5-flash-tts",
    "gemini-2.5-pro-tts": "vertex_ai/gemini-2.5-pro-tts",
    "gemini-embedding-001": "gemini-embedding-001",
    "gemini-embedding-2": "gemini-embedding-2",
    "text-unicorn": "text-unicorn",
    "claude-haiku-4-5": "vertex_ai/claude-haiku-4-5",
    "claude-sonnet-4-5": "vertex_ai/claude-sonnet-4-5",
    "claude-sonnet-4-6": "vertex_ai/claude-sonnet-4-6",
    "claude-opus-4-5": "vertex_ai/claude-opus-4-5",
    "claude-opus-4-6": "vertex_ai/claude-opus-4-6",
    "claude-opus-4-7": "vertex_ai/claude-opus-4-7",
    "claude-opus-4-8": "vertex_ai/claude-opus-4-8",
    "llama-3.3-70b-instruct-maas": "vertex_ai/meta/llama-3.3-70b-instruct-maas",
    "llama-4-maverick-17b-128e-instruct-maas": "vertex_ai/meta/llama-4-maverick-17b-128e-instruct-maas",
    "llama-4-scout-17b-16e-instruct-maas": "vertex_ai/meta/llama-4-scout-17b-16e-instruct-maas",
    "mistral-small-2503": "vertex_ai/mistral-small-2503",
    "mistral-medium-3": "vertex_ai/mistral-medium-3",
    "codestral-2501": "vertex_ai/codestral-2501",
    "codestral-2": "vertex_ai/codestral-2",
    "deepseek-v3.1-maas": "vertex_ai/deepseek-ai/deepseek-v3.1-maas",
    "deepseek-v3.2-maas": "vertex_ai/deepseek-ai/deepseek-v3.2-maas",
    "deepseek-r1-0528-maas": "vertex_ai/deepseek-ai/deepseek-r1-0528-maas",
    "qwen3-235b-a22b-instruct-2507-maas": "vertex_ai/qwen/qwen3-235b-a22b-instruct-2507-maas",
    "qwen3-coder-480b-a35b-instruct-maas": "vertex_ai/qwen/qwen3-coder-480b-a35b-instruct-maas",
    "qwen3-next-80b-a3b-instruct-maas": "vertex_ai/qwen/qwen3-next-80b-a3b-instruct-maas",
    "qwen3-next-80b-a3b-thinking-maas": "vertex_ai/qwen/qwen3-next-80b-a3b-thinking-maas",
    "gpt-oss-120b-maas": "vertex_ai/openai/gpt-oss-120b-maas",
    "gpt-oss-20b-maas": "vertex_ai/openai/gpt-oss-20b-maas",
    "veo-2.0-generate-001": "vertex_ai/veo-2.0-generate-001",
    "veo-3.0-generate-001": "vertex_ai/veo-3.0-generate-001",
    "veo-3.0-fast-generate-001": "vertex_ai/veo-3.0-fast-generate-001",
    "veo-3.1-generate-001": "vertex_ai/veo-3.1-generate-001",
    "veo-3.1-fast-generate-001": "vertex_ai/veo-3.1-fast-generate-001",
    "veo-3.1-lite-generate-001": "vertex_ai/veo-3.1-lite-generate-001",
    "lyria-002": "vertex_ai/lyria-002",
}
# Gemini Developer API rows: LiteLLM's `gemini/` entries cite https://ai.google.dev/gemini-api/docs/pricing.
GEMINI_API_MODELS: dict[str, str] = {
    "gemini-2.5-pro": "gemini/gemini-2.5-pro",
    "gemini-2.5-flash": "gemini/gemini-2.5-flash",
    "gemini-2.5-flash-lite": "gemini/gemini-2.5-flash-lite",
    "gemini-3-flash-preview": "gemini/gemini-3-flash-preview",
    "gemini-3.1-pro-preview": "gemini/gemini-pro-latest",
    "gemini-3.1-flash-lite": "gemini/gemini-3.1-flash-lite",
    "gemini-3.5-flash": "gemini/gemini-3.5-flash",
    "gemini-3.5-flash-lite": "gemini/gemini-3.5-flash-lite",
    "gemini-3.6-flash": "gemini/gemini-3.6-flash",
    "gemini-3.7-flash": "gemini/gemini-3.7-flash",
    "gemini-3.8-flash": "gemini/gemini-3.8-flash",
    "gemini-2.5-flash-image": "gemini/gemini-2.5-flash-image",
    "gemini-3-pro-image-preview": "gemini/gemini-3-pro-image-preview",
    "gemini-3.1-flash-image": "gemini/gemini-3.1-flash-image",
    "gemini-3.1-flash-lite-image": "gemini/gemini-3.1-flash-lite-image",
    "gemini-live-2.5-flash-native-audio": "gemini/gemini-2.5-flash-native-audio-latest",
    "gemini-2.5-flash-tts": "gemini/gemini-2.5-flash-preview-tts",
    "gemini-embedding-001": "gemini/gemini-embedding-001",
    "gemini-embedding-2": "gemini/gemini-embedding-2",
    "veo-3.1-generate-001": "gemini/veo-3.1-generate-001",
    "veo-3.1-fast-generate-001": "gemini/veo-3.1-fast-generate-001",
}
MODES = {"": "online", "_batches": "batch", "_flex": "flex", "_priority": "priority"}
TIER = {"": None, "_above_200k_tokens": (">200000", "<=200000"), "_above_100k_tokens": (">100000", "<=100000")}
# LiteLLM key stem -> (charge, modality, unit, per-unit multiplier)
STEMS = {
    "input_cost_per_token": ("input", "TEXT", "per_1m_tokens", 1_000_000),
    "input_cost_per_audio_token": ("input", "audio", "per_1m_tokens", 1_000_000),
    "input_cost_per_image_token": ("input", "image", "per_1m_tokens", 1_000_000),
    "input_cost_per_video_token": ("input", "video", "per_1m_tokens", 1_000_000),
    "cache_read_input_token_cost": ("cached_input", "TEXT", "per_1m_tokens", 1_000_000),
    "cache_read_input_audio_token_cost": ("cached_input", "audio", "per_1m_tokens", 1_000_000),
    "cache_creation_input_token_cost": ("cache_write", "any", "per_1m_tokens", 1_000_000),
    "output_cost_per_token": ("output", "text", "per_1m_tokens", 1_000_000),
    "output_cost_per_audio_token": ("output", "audio", "per_1m_tokens", 1_000_000),
    "output_cost_per_image_token": ("output", "image", "per_1m_tokens", 1_000_000),
    "output_cost_per_second": ("video_generate", "video", "per_second", 1),
    "output_cost_per_second_1080p": ("video_generate", "video_1080p", "per_second", 1),
    "output_cost_per_second_4k": ("video_generate", "video_4k", "per_second", 1),
}


def price(value: float, scale: int) -> str:
    text = format((Decimal(repr(value)) * scale).normalize(), "f")
    return text


ID_PREFIX = {"vertex": "vertex", "gemini": "gemini_api"}  # entry ids keep the Gemini API's page word


def rows(model: str, data: dict, effective_from: str, api: str = "vertex") -> list[str]:
    out: list[str] = []
    separate = any(k.startswith("input_cost_per_audio_token") for k in data) or any(
        k.startswith(("input_cost_per_image_token", "input_cost_per_video_token")) for k in data
    )
    tiered = any("_above_200k_tokens" in k or "_above_100k_tokens" in k for k in data)
    for key, value in sorted(data.items()):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        for stem, (charge, modality, unit, scale) in STEMS.items():
            for tier_suffix, tier in TIER.items():
                for mode_suffix, mode in MODES.items():
                    if key != stem + tier_suffix + mode_suffix:
                        continue
                    if modality == "TEXT":
                        modality = "text_image_video" if separate else "any"
                    if model.startswith("gemini") and charge == "cache_write":
                        continue  # Gemini cache creation is billed as input
                    if data.get("mode") == "embedding" and charge == "output":
                        continue
                    tier_value = None
                    if tier is not None:
                        tier_value = tier[0]
                    else:
                        for long_suffix, (_, short) in ((k, v) for k, v in TIER.items() if v):
                            if f"{stem}{long_suffix}" in data:
                                # the online price is tiered: a mode row without its own long-tier price covers
                                # only short prompts (a long batch prompt is refused, not priced at the short rate)
                                tier_value = short
                            elif any(long_suffix in k for k in data):
                                tiered = True
                        if tier_value is None and tiered and f"{stem}_above_200k_tokens" in data:
                            tier_value = "<=200000"
                    mod = modality.replace("_", "-")
                    size = f"{int(tier_value.lstrip('<=>')) // 1000}k" if tier_value else ""
                    name = (
                        f"{ID_PREFIX[api]}.{model}.{charge}.{mod}"
                        + (
                            f".{'gt' if tier_value and tier_value.startswith('>') else 'le'}{size}"
                            if tier_value
                            else ""
                        )
                        + ("" if mode == "online" else f".{mode}")
                    )
                    fields = [
                        f"id: {name}",
                        f"api: {api}",
                        f"models: [{model}]",
                        f"charge: {charge}",
                        f"modality: {modality}",
                    ]
                    if tier_value:
                        fields.append(f"tier: '{tier_value}'")
                    fields += [
                        f"mode: {mode}",
                        f"unit: {unit}",
                        f"price: '{price(value, scale)}'",
                        f"effective_from: {effective_from}",
                        "source: S32",
                        "confidence: secondary",
                    ]
                    out.append("- {" + ", ".join(fields) + "}")
    if "output_cost_per_image" in data and data.get("mode") != "chat" and model.startswith("lyria"):
        out.append(
            f"- {{id: vertex.{model}.music_generate, api: vertex, models: [{model}], "
            f"charge: music_generate, modality: audio, mode: online, unit: per_clip, "
            f"price: '{price(data['output_cost_per_image'], 1)}', effective_from: {effective_from}, "
            "source: S32, confidence: secondary, "
            "notes: LiteLLM stores the per-clip price as output_cost_per_image}"
        )
    return out


def main() -> None:
    with open(sys.argv[1]) as handle:
        data = json.load(handle)
    api = sys.argv[2] if len(sys.argv) > 2 else "vertex"
    for model, key in (GEMINI_API_MODELS if api == "gemini" else MODELS).items():
        entry = data[key]
        print(
            f"# {model}  <- LiteLLM {key}"
            + (f" (deprecation_date {entry['deprecation_date']})" if entry.get("deprecation_date") else "")
        )
        for line in rows(model, entry, "EFFECTIVE", api):
            print(line)
        extra = {
            k: entry[k]
            for k in (
                "search_free_requests",
                "google_maps_grounding_cost_per_query",
                "regional_endpoint_uplift_multiplier",
                "search_context_cost_per_query",
            )
            if k in entry
        }
        if extra:
            print(f"#   extra: {json.dumps(extra)}")


if __name__ == "__main__":
    main()
