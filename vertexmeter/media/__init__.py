"""Media parts (inlineData / fileData): how many tokens an image, video, audio or document costs.

The counting engine calls `count_media_part` for every media part of a prompt. Until multimodal
counting lands, it refuses clearly instead of counting zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vertexmeter.errors import invalid_argument
from vertexmeter.registry import ModelInfo


@dataclass(frozen=True)
class MediaOptions:
    """How `fileData` URIs may be resolved offline (see docs/media.md)."""

    media_root: str | None = None
    allow_gcs: bool = False
    allow_https: bool = False


@dataclass(frozen=True)
class MediaContext:
    model: ModelInfo
    generation_config: dict[str, Any]
    count_text: Callable[[str], int]
    options: MediaOptions = field(default_factory=MediaOptions)


@dataclass
class MediaCount:
    """Tokens of one modality from one media part, plus the billable quantities behind them."""

    modality: str  # TEXT | IMAGE | VIDEO | AUDIO | DOCUMENT
    tokens: int
    images: int = 0
    video_seconds: Decimal = Decimal(0)
    audio_seconds: Decimal = Decimal(0)
    pdf_pages: int = 0
    text_characters: int = 0  # billable characters of text found in a document


def count_media_part(part: dict[str, Any], path: str, context: MediaContext) -> list[MediaCount]:
    kind = "inline_data" if "inlineData" in part else "file_data"
    raise invalid_argument(
        "Media counting is not supported yet by this version of vertexmeter: "
        f"'{path}.{kind}' cannot be counted offline. Send text parts only.",
        f"{path}.{kind}",
    )
