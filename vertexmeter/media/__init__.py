"""Media parts (inlineData / fileData): how many tokens an image, video, audio or document costs.

The counting engine calls `count_media_part` for every media part of a prompt. The work lives in
modules: `mime` (types and sniffing), `inspect` (reading media headers), `rules` + `rules.yaml`
(token rules per model generation), `sources` (fileData URIs), `counter` (putting them together).
docs/media.md documents every rule with its evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vertexmeter.registry import ModelInfo

DEFAULT_MAX_FETCH_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class MediaOptions:
    """How `fileData` URIs may be resolved offline (see docs/media.md, "fileData URIs").

    media_root: a local directory mirroring remote files (gs://bucket/a -> ROOT/bucket/a).
    allow_gcs: read gs:// URIs with google-cloud-storage and the caller's credentials.
    allow_https: fetch https:// URLs (public addresses only, no redirects).
    https_hosts: allow-list for allow_https ("example.com", ".example.com" for subdomains too);
        empty means any public host.
    max_fetch_bytes / fetch_timeout: caps for GCS and HTTPS reads.
    """

    media_root: str | None = None
    allow_gcs: bool = False
    allow_https: bool = False
    https_hosts: tuple[str, ...] = ()
    max_fetch_bytes: int = DEFAULT_MAX_FETCH_BYTES
    fetch_timeout: float = 10.0


@dataclass
class MediaTally:
    """Per-request running totals, for the per-prompt limits."""

    images: int = 0
    videos: int = 0
    audio_files: int = 0
    inline_bytes: int = 0


@dataclass(frozen=True)
class MediaContext:
    model: ModelInfo
    generation_config: dict[str, Any]
    count_text: Callable[[str], int]
    options: MediaOptions = field(default_factory=MediaOptions)
    api: str = "vertex"
    tally: MediaTally = field(default_factory=MediaTally)
    call: str = "countTokens"  # or "generateContent": media rules differ per call (rules.yaml)
    media_parts: int = 0  # inlineData / fileData parts in the whole prompt (a lone image is tiled on some calls)


@dataclass
class MediaCount:
    """Tokens of one modality from one media part, plus the billable quantities behind them."""

    modality: str  # TEXT | IMAGE | VIDEO | AUDIO | DOCUMENT
    tokens: int
    images: int = 0
    video_seconds: Decimal = Decimal(0)
    audio_seconds: Decimal = Decimal(0)  # stand-alone audio only; a video's sound is in video_seconds
    pdf_pages: int = 0
    text_characters: int = 0  # billable characters of text found in a document
    # Details (not summed by the core): what the tokens were computed from.
    width: int = 0
    height: int = 0
    frames: int = 0
    text_tokens: int = 0  # tokens of native / plain text inside `tokens`
    from_video: bool = False  # the AUDIO tokens of a video's sound track


def count_media_part(part: dict[str, Any], path: str, context: MediaContext) -> list[MediaCount]:
    """The MediaCounts of one part (`inlineData`, `fileData` or `legacyMedia`) at field path `path`."""
    from vertexmeter.media.counter import count_part

    return count_part(part, path, context)


__all__ = ["MediaContext", "MediaCount", "MediaOptions", "MediaTally", "count_media_part"]
