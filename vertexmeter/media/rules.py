"""Token rules per model generation, loaded from rules.yaml (docs/media.md gives the evidence)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any

import yaml

from vertexmeter.errors import invalid_argument

LEVELS = ("UNSPECIFIED", "LOW", "MEDIUM", "HIGH", "ULTRA_HIGH")
ROUNDINGS = ("ceil_seconds", "floor_seconds", "ceil_tokens")


@dataclass(frozen=True)
class AudioRule:
    tokens_per_second: int
    rounding: str
    extra_per_item: int

    def tokens(self, seconds: Fraction) -> int:
        """Tokens for `seconds` of sound (0 s costs nothing)."""
        if seconds <= 0:
            return 0
        if self.rounding == "ceil_seconds":
            base = self.tokens_per_second * math.ceil(seconds)
        elif self.rounding == "floor_seconds":
            base = self.tokens_per_second * math.floor(seconds)
        else:
            base = math.ceil(self.tokens_per_second * seconds)
        return base + self.extra_per_item


@dataclass(frozen=True)
class GenerationRules:
    generation: str
    honors_media_resolution: bool
    image_tokens: dict[str, int]
    frame_tokens: dict[str, int]
    video_audio_track: bool
    audio: AudioRule
    page_tokens: dict[str, int]
    pdf_native_text: bool
    pdf_modality: str


@dataclass(frozen=True)
class Limits:
    inline_image_bytes: int | None
    inline_request_bytes: int | None
    document_bytes: int | None
    pdf_pages: int | None
    images_per_request: int | None
    images_per_request_by_model: dict[str, int]
    videos_per_request: int | None
    audio_files_per_request: int | None


@dataclass(frozen=True)
class Safety:
    max_image_pixels: int
    max_video_seconds: int
    max_text_document_bytes: int
    max_audio_seconds: int
    min_bytes_per_second: int


@dataclass(frozen=True)
class Rules:
    generations: dict[str, GenerationRules]
    limits: dict[str, Limits]
    safety: Safety


def _levels(table: dict[str, Any], where: str) -> dict[str, int]:
    unknown = set(table) - set(LEVELS)
    if unknown or "UNSPECIFIED" not in table:
        raise ValueError(f"rules.yaml {where}: bad resolution levels {sorted(table)}")
    return {str(k): int(v) for k, v in table.items()}


@cache
def load_rules() -> Rules:
    raw = yaml.safe_load(resources.files("vertexmeter.media").joinpath("rules.yaml").read_text("utf-8"))
    generations: dict[str, GenerationRules] = {}
    for gen, entry in raw["generations"].items():
        audio = entry["audio"]
        if audio["rounding"] not in ROUNDINGS:
            raise ValueError(f"rules.yaml {gen}.audio.rounding: {audio['rounding']!r}")
        generations[str(gen)] = GenerationRules(
            generation=str(gen),
            honors_media_resolution=entry["media_resolution"] == "honored",
            image_tokens=_levels(entry["image"]["tokens"], f"{gen}.image"),
            frame_tokens=_levels(entry["video"]["frame_tokens"], f"{gen}.video"),
            video_audio_track=bool(entry["video"]["audio_track"]),
            audio=AudioRule(int(audio["tokens_per_second"]), audio["rounding"], int(audio["extra_per_item"])),
            page_tokens=_levels(entry["pdf"]["page_tokens"], f"{gen}.pdf"),
            pdf_native_text=bool(entry["pdf"]["native_text"]),
            pdf_modality=str(entry["pdf"]["modality"]),
        )
    limits = {
        api: Limits(
            inline_image_bytes=entry.get("inline_image_bytes"),
            inline_request_bytes=entry.get("inline_request_bytes"),
            document_bytes=entry.get("document_bytes"),
            pdf_pages=entry.get("pdf_pages"),
            images_per_request=entry.get("images_per_request"),
            images_per_request_by_model=dict(entry.get("images_per_request_by_model") or {}),
            videos_per_request=entry.get("videos_per_request"),
            audio_files_per_request=entry.get("audio_files_per_request"),
        )
        for api, entry in raw["limits"].items()
    }
    safety = Safety(**{k: int(v) for k, v in raw["safety"].items()})
    return Rules(generations, limits, safety)


def rules_for(generation: str) -> GenerationRules:
    rules = load_rules().generations
    if generation not in rules:
        raise invalid_argument(f"Media parts are not supported for models of generation {generation}.")
    return rules[generation]


def pick(table: dict[str, int], level: str, what: str, field_path: str) -> int:
    """Tokens of `what` at `level`; a level the table lacks is refused."""
    if level in table:
        return table[level]
    if len(table) == 1:  # generation without mediaResolution: one number for every level
        return table["UNSPECIFIED"]
    raise invalid_argument(
        f"Media resolution MEDIA_RESOLUTION_{level} is not supported for {what}.", field_path
    )


def frames_sampled(seconds: Fraction, fps: Fraction) -> int:
    """Frames taken at t = 0, 1/fps, 2/fps, ... within a clip of `seconds`: ceil(seconds x fps)."""
    if seconds <= 0:
        return 0
    return max(1, math.ceil(seconds * fps))


def as_decimal(seconds: Fraction) -> Decimal:
    """Seconds as a Decimal with microsecond precision (for billing quantities)."""
    return (Decimal(seconds.numerator) / Decimal(seconds.denominator)).quantize(Decimal("0.000001"))
