"""Every model of the 2026-12 price audit (shared/spec/price-audit.md) prices, with a source and a date, never $0."""

from __future__ import annotations

from decimal import Decimal

import pytest

from vertexmeter.pricing import PriceList, resolve_priced_model
from vertexmeter.pricing.catalogue import catalogue
from vertexmeter.pricing.usage import Quantities, RequestUsage, Usage

TOKENS = RequestUsage(input=Quantities(tokens=1000), output=Quantities(tokens=1000))
CHARS = RequestUsage(input=Quantities(text_characters=1000), output=Quantities(text_characters=1000))
# (name as Vertex or the audit spells it, a day it was sold, what one request uses)
AUDIT: list[tuple[str, str, RequestUsage]] = [
    *[
        (m, "2024-12-01", CHARS)
        for m in (
            "gemini-1.0-pro",
            "gemini-1.0-pro-vision",
            "gemini-1.5-flash",
            "gemini-1.5-pro",
            "text-bison",
            "chat-bison",
            "code-bison",
            "codechat-bison",
            "text-bison-32k",
            "code-gecko",
        )
    ],
    *[
        (m, "2024-12-01", RequestUsage(input=Quantities(text_characters=1000)))
        for m in (
            "text-embedding-004",
            "text-embedding-005",
            "textembedding-gecko",
            "textembedding-gecko-multilingual",
            "multimodalembedding",
        )
    ],
    *[
        (m, "2025-11-20", TOKENS)
        for m in (
            "gemini-2.0-flash",
            "gemini-2.0-flash-lite",
            "gemini-2.5-pro",
            "gemini-2.5-flash",
            "gemini-2.5-flash-lite",
            "gemini-3-pro-preview",
            "claude-3-haiku",
            "claude-3-sonnet",
            "claude-3-opus",
            "claude-3-5-sonnet",
            "claude-3-5-sonnet-v2@20241022",
            "claude-3-5-haiku@20241022",
            "claude-3-7-sonnet@20250219",
            "claude-sonnet-4@20250514",
            "claude-opus-4@20250514",
            "claude-opus-4-1@20250805",
            "claude-sonnet-4-5",
            "claude-sonnet-4-5@20250929",
            "claude-haiku-4-5@20251001",
            "llama-3.1-405b-instruct-maas",
            "llama-3.3-70b-instruct-maas",
            "llama-4-maverick-17b-128e-instruct-maas",
            "llama-4-scout-17b-16e-instruct-maas",
            "mistral-large@2411",
            "mistral-large@2407",
            "mistral-nemo@2407",
            "codestral@2405",
            "mistral-small-2503@001",
            "mistral-medium-3@001",
            "codestral-2501",
            "codestral-2@001",
            "jamba-1.5-large@001",
            "jamba-1.5-mini@001",
            "deepseek-v3.1-maas",
            "deepseek-r1-0528-maas",
            "qwen3-235b-a22b-instruct-2507-maas",
            "qwen3-coder-480b-a35b-instruct-maas",
            "qwen3-next-80b-a3b-instruct-maas",
            "gpt-oss-120b-maas",
            "gpt-oss-20b-maas",
            "gemini-2.5-flash-tts",
            "gemini-2.5-pro-tts",
            "gemini-live-2.5-flash-native-audio",
            "text-unicorn@001",
        )
    ],
    *[
        (m, "2026-11-01", TOKENS)
        for m in (
            "gemini-3-flash-preview",
            "gemini-3.1-pro-preview",
            "gemini-3.1-flash-lite",
            "gemini-3.5-flash",
            "gemini-3.5-flash-lite",
            "gemini-3.6-flash",
            "gemini-3.7-flash",
            "gemini-3.8-flash",
            "claude-sonnet-4-6",
            "claude-opus-4-5",
            "claude-opus-4-6",
            "claude-opus-4-7",
            "claude-opus-4-8",
        )
    ],
    ("deepseek-v3.2-maas", "2026-01-15", TOKENS),
    ("gemini-2.5-flash-preview-05-20", "2025-06-01", TOKENS),
    (
        "gemini-2.5-flash-image",
        "2025-11-20",
        RequestUsage(input=Quantities(tokens=1000), output=Quantities(image_tokens=1290)),
    ),
    (
        "gemini-3-pro-image-preview",
        "2025-12-01",
        RequestUsage(input=Quantities(tokens=1000), output=Quantities(image_tokens=1120)),
    ),
    ("gemini-3.1-flash-image-preview", "2026-11-01", RequestUsage(output=Quantities(image_tokens=1120))),
    ("gemini-3.1-flash-lite-image", "2026-11-01", RequestUsage(output=Quantities(image_tokens=1120))),
    ("gemini-embedding-001", "2025-11-20", RequestUsage(input=Quantities(tokens=1000))),
    ("gemini-embedding-2", "2026-11-01", RequestUsage(input=Quantities(tokens=1000, video_tokens=100))),
    *[
        (m, "2025-11-20", RequestUsage(output=Quantities(images=1)))
        for m in (
            "imagegeneration@006",
            "imagen-3.0-generate-002",
            "imagen-3.0-fast-generate-001",
            "imagen-4.0-generate-001",
            "imagen-4.0-fast-generate-001",
            "imagen-4.0-ultra-generate-001",
        )
    ],
    ("imagen-3.0-capability-001", "2025-11-20", RequestUsage(output=Quantities(images=1), operation="edit")),
    *[
        (m, "2025-11-20", RequestUsage(output=Quantities(video_seconds=Decimal(8))))
        for m in (
            "veo-3.0-generate-001",
            "veo-3.0-fast-generate-001",
            "veo-3.1-generate-001",
            "veo-3.1-fast-generate-001",
        )
    ],
    ("veo-2.0-generate-001", "2025-06-01", RequestUsage(output=Quantities(video_seconds=Decimal(8)))),
    (
        "veo-3.1-lite-generate-001",
        "2026-11-01",
        RequestUsage(output=Quantities(video_seconds=Decimal(8)), video_resolution="1080p"),
    ),
    ("lyria-002", "2025-11-20", RequestUsage(output=Quantities(clips=1))),
]


@pytest.mark.parametrize(("name", "day", "request_usage"), AUDIT, ids=[a[0] for a in AUDIT])
def test_every_audited_model_prices_with_source_and_date(name: str, day: str, request_usage: RequestUsage) -> None:
    bill = PriceList(name, date=day).price(Usage(requests=(request_usage,)))
    assert bill.total > 0, f"{name} priced at $0"
    sources = catalogue().sources
    for entry in bill.entries:
        assert entry.source in sources and entry.effective_from.isoformat() <= day
        assert entry.confidence


def test_preview_ids_are_priced_as_previews() -> None:
    preview = PriceList("gemini-2.5-flash-preview-04-17", date="2025-05-01").price(Usage(requests=(TOKENS,)))
    assert resolve_priced_model("gemini-2.5-flash-preview-04-17").preview
    assert preview.total == Decimal("0.00075")  # 1K x 0.15 + 1K x 0.60 per 1M, not GA 0.30 / 2.50


def test_regional_endpoint_uplift_where_published() -> None:
    usage = Usage(requests=(TOKENS,))
    global_ = PriceList("claude-sonnet-4-5", date="2025-11-01").price(usage).total
    regional = PriceList("claude-sonnet-4-5", date="2025-11-01", endpoint="regional").price(usage)
    assert regional.total == global_ * Decimal("1.1")
    plain = PriceList("gemini-2.5-flash", date="2025-11-01", endpoint="regional").price(usage)
    assert plain.total == PriceList("gemini-2.5-flash", date="2025-11-01").price(usage).total
    assert any("No regional-endpoint uplift" in n for n in plain.notes)


def test_maps_grounding_and_retirement_note() -> None:
    bill = PriceList("gemini-2.5-flash", date="2026-11-01").price(Usage(requests=(RequestUsage(maps_requests=1000),)))
    assert bill.total == Decimal(25)
    assert any("gemini-2.5-flash was retired on 2026-10-20 (S32)" in n for n in bill.notes)
    api = PriceList("gemini-2.5-flash", date="2026-11-01", api="gemini").price(Usage(requests=(TOKENS,)))
    assert not any("retired" in n for n in api.notes)  # the retirement date is Vertex's
    veo = PriceList("veo-2.0-generate-001", date="2026-07-01").price(
        Usage(requests=(RequestUsage(output=Quantities(video_seconds=Decimal(1))),))
    )
    assert any("retired on 2026-06-30" in n for n in veo.notes)


def test_no_entry_is_zero_without_a_reason() -> None:
    for entry in catalogue().entries_by_id.values():
        if entry.price == 0:
            assert entry.notes, entry.id
