"""Properties of usageMetadata -> billed quantities: every token lands in exactly one billed bucket."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vertexmeter.ledger.logs import usage_from_metadata
from vertexmeter.pricing.usage import Quantities

MODALITIES = ("TEXT", "IMAGE", "VIDEO", "AUDIO", "DOCUMENT")


def tokens(q: Quantities) -> int:
    return q.tokens + q.image_tokens + q.video_tokens + q.audio_tokens


@st.composite
def metadata(draw: st.DrawFn) -> dict:
    prompt_by = {m: draw(st.integers(0, 10_000)) for m in draw(st.sets(st.sampled_from(MODALITIES), max_size=5))}
    cached_by = {m: draw(st.integers(0, n)) for m, n in prompt_by.items() if draw(st.booleans())}
    meta: dict = {"promptTokenCount": sum(prompt_by.values())}
    if draw(st.booleans()):
        meta["promptTokensDetails"] = [{"modality": m, "tokenCount": n} for m, n in prompt_by.items()]
    if cached_by and sum(cached_by.values()):
        meta["cachedContentTokenCount"] = sum(cached_by.values())
        if draw(st.booleans()):
            meta["cacheTokensDetails"] = [{"modality": m, "tokenCount": n} for m, n in cached_by.items()]
    for key in ("candidatesTokenCount", "thoughtsTokenCount", "toolUsePromptTokenCount"):
        if draw(st.booleans()):
            meta[key] = draw(st.integers(0, 5000))
    return meta


@given(metadata())
def test_every_token_is_billed_once(meta: dict) -> None:
    usage = usage_from_metadata(meta)
    prompt = meta["promptTokenCount"]
    cached = meta.get("cachedContentTokenCount", 0)
    assert tokens(usage.cached_input) == cached
    assert tokens(usage.input) == prompt - cached + meta.get("toolUsePromptTokenCount", 0)
    assert tokens(usage.output) == meta.get("candidatesTokenCount", 0)
    assert usage.thinking_tokens == meta.get("thoughtsTokenCount", 0)
    assert usage.prompt_tokens == prompt + meta.get("toolUsePromptTokenCount", 0)
    if "promptTokensDetails" in meta and "cacheTokensDetails" in meta:  # per modality, net of the cache
        details = {d["modality"]: d["tokenCount"] for d in meta["promptTokensDetails"]}
        cache = {d["modality"]: d["tokenCount"] for d in meta["cacheTokensDetails"]}
        assert usage.input.audio_tokens == details.get("AUDIO", 0) - cache.get("AUDIO", 0)
        assert usage.cached_input.audio_tokens == cache.get("AUDIO", 0)
