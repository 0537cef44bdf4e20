"""The media layer's types: options, the context counting passes in, and one part's counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vertexmeter.registry import ModelInfo
from vertexmeter.vocabulary import COUNT_TOKENS

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
    loopback_ports: ports on 127.0.0.1 / localhost / ::1 that fetches may reach, over plain http too (a
        local mirror, or a test's server). Only code can set it: no request field and no server setting
        reaches it.
    """

    media_root: str | None = None
    allow_gcs: bool = False
    allow_https: bool = False
    https_hosts: tuple[str, ...] = ()
    max_fetch_bytes: int = DEFAULT_MAX_FETCH_BYTES
    fetch_timeout: float = 10.0
    loopback_ports: frozenset[int] = frozenset()


@dataclass
class MediaTally:
    """Per-request running totals, for the per-prompt limits."""

    images: int = 0
    videos: int = 0
    audio_files: int = 0
    inline_bytes: int = 0


@dataclass(frozen=True)
class MediaContext:
    """What the media counter needs from the request and from counting (passed in: media never imports
    counting). count_text: tokens of a text; billable_characters: its billable characters."""

    model: ModelInfo
    generation_config: dict[str, Any]
    count_text: Callable[[str], int]
    billable_characters: Callable[[str], int]
    options: MediaOptions = field(default_factory=MediaOptions)
    api: str = "vertex"
    tally: MediaTally = field(default_factory=MediaTally)
    call: str = COUNT_TOKENS  # or GENERATE_CONTENT: media rules differ per call (rules.yaml)
    # inlineData / fileData parts in the whole prompt but text documents (a lone image is tiled on some calls)
    media_parts: int = 0
    day: dt.date | None = None  # the day counted (None: today), for readings that hold on some days only


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
    # [low, high] around `tokens` when a reading one repository's answers show (rules.yaml `uncertain_audio`) may be
    # what the service billed on the day counted, and `bounds_reason` why; None: no other reading is known
    bounds: tuple[int, int] | None = None
    bounds_reason: str = ""
