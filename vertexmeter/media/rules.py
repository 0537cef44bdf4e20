"""Token rules per model generation and per API x call, loaded from rules.yaml (docs/media.md, docs/counting.md)."""

from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any

from vertexmeter.datafiles import load_yaml
from vertexmeter.errors import invalid_argument
from vertexmeter.vocabulary import COUNT_TOKENS

LEVELS = ("UNSPECIFIED", "LOW", "MEDIUM", "HIGH", "ULTRA_HIGH")
ROUNDINGS = ("ceil_seconds", "floor_seconds", "ceil_tokens", "floor_tokens")
DURATIONS = ("stated", "frames")
SIZINGS = ("fixed", "lone_item_tiles", "area_budget")
FRAME_ROUNDINGS = ("ceil", "floor")
# The seconds of the sound billed for a video without a sound track (`audio_track: always`): the container's
# (`stated`) or those its frames span by their timestamps (`frames`, an edit list not applied)
SILENT_SOUND = ("stated", "frames")
TILE_TOKENS = 258  # one tile of the lone-item tiling (acc§4)


@dataclass(frozen=True)
class AudioRule:
    tokens_per_second: int
    rounding: str
    extra_per_item: int
    # An MP3's seconds: `stated` (FFmpeg's, the encoder's delay and padding trimmed) or `frames` (every frame's)
    duration: str = "stated"

    def tokens(self, seconds: Fraction) -> int:
        """Tokens for `seconds` of sound (0 s costs nothing)."""
        if seconds <= 0:
            return 0
        if self.rounding == "ceil_seconds":
            base = self.tokens_per_second * math.ceil(seconds)
        elif self.rounding == "floor_seconds":
            base = self.tokens_per_second * math.floor(seconds)
        elif self.rounding == "floor_tokens":
            base = math.floor(self.tokens_per_second * seconds)
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
    image_sizing: str = "fixed"
    video_sizing: str = "fixed"
    pdf_sizing: str = "fixed"
    frame_rounding: str = "ceil"  # frames of a clip at `fps`: ceil or floor of seconds x fps (at least 1)
    video_audio_always: bool = False  # a video's sound is billed even when the file has no sound track
    silent_sound: str = "stated"  # the seconds of that sound (SILENT_SOUND)
    # A PDF in a function response's parts: its page table where it differs from `page_tokens` (None: the same).
    function_response_page_tokens: dict[str, int] | None = None
    output_image_tokens: int | None = None  # a generated image in a response; None: not known
    # A PDF page rendered to fit this many pixels on its long side before it is sized (None: sized in points)
    pdf_fit_long_side: int | None = None

    def page_size(self, width: float, height: float) -> tuple[float, float]:
        """A PDF page's size as sized: its points, or its render fitted to `pdf_fit_long_side` pixels."""
        longest = max(width, height)
        if self.pdf_fit_long_side is None or longest <= self.pdf_fit_long_side:
            return width, height
        scale = self.pdf_fit_long_side / longest
        return width * scale, height * scale

    def sized(self, sizing: str, table_tokens: int, width: float, height: float, lone: bool) -> int:
        """Tokens of one image / page / frame of `width` x `height` under `sizing` (see rules.yaml)."""
        if sizing == "area_budget" and width > 0 and height > 0:
            return area_budget_tokens(width, height, table_tokens)
        if sizing == "lone_item_tiles" and lone and width > 0 and height > 0:
            return lone_item_tiles(width, height)
        return table_tokens


def lone_item_tiles(width: float, height: float) -> int:
    """A prompt's only image or page on 2.0 / Vertex 2.x generateContent: 258 x (tiles + 1) (acc§4)."""
    if max(width, height) <= 384:
        return TILE_TOKENS
    tile = min(max(Fraction(min(width, height)) / Fraction(3, 2), Fraction(256)), Fraction(768))
    tiles = math.ceil(Fraction(width) / tile) * math.ceil(Fraction(height) / tile)
    return TILE_TOKENS * (tiles + 1)


def area_budget_tokens(width: float, height: float, budget: int) -> int:
    """Gemini 3: floor(w k) x floor(h k) with k = sqrt(budget / (w h)) (acc§4)."""
    k = math.sqrt(budget / (width * height))
    return math.floor(width * k) * math.floor(height * k)


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
class _Reading:
    """What both kinds of uncertain reading share: where and on which days the one repository's answers show it."""

    apis: tuple[str, ...]
    calls: tuple[str, ...]
    generations: tuple[str, ...]
    first_seen: dt.date
    last_seen: dt.date
    seen_otherwise_before: dt.date | None
    seen_otherwise_after: dt.date | None
    source: str
    evidence: tuple[str, ...]

    def _in_scope(self, api: str, call: str, generation: str, day: dt.date | None) -> bool:
        """For this API, call and generation, on `day` (None: any day) no answer nearer says otherwise."""
        if api not in self.apis or call not in self.calls or generation not in self.generations:
            return False
        if day is None:
            return True
        before, after = self.seen_otherwise_before, self.seen_otherwise_after
        return (before is None or day > before) and (after is None or day < after)


@dataclass(frozen=True)
class UncertainAudio(_Reading):
    """One `uncertain_audio` entry: a reading of audio one repository's answers show where the rules say otherwise
    (not applied; the other end of the bounds a count would carry on the days it may hold)."""

    audio: AudioRule
    # Why the reading bounds the count when it is no contrary bill (e.g. a rounding no answer tells apart); "": one
    # repository's answers bill it against the rule
    reason: str = ""

    def may_hold(self, api: str, call: str, generation: str, day: dt.date | None = None) -> bool:
        """It may be what the service billed on `day` (None: any day): no answer nearer says otherwise."""
        return self._in_scope(api, call, generation, day)


# What an `uncertain_media` entry may replace: (family, field in rules.yaml) -> GenerationRules attribute
UNCERTAIN_MEDIA_FIELDS = {
    ("image", "sizing"): "image_sizing",
    ("image", "tokens"): "image_tokens",
    ("pdf", "sizing"): "pdf_sizing",
    ("pdf", "page_tokens"): "page_tokens",
    ("pdf", "fit_long_side"): "pdf_fit_long_side",
    ("video", "frame_tokens"): "frame_tokens",
    ("video", "sizing"): "video_sizing",
}


@dataclass(frozen=True)
class UncertainMedia(_Reading):
    """One `uncertain_media` entry: a reading of images, PDF pages or video frames that one repository's answers show
    where the rules say otherwise, or that no answer tells apart from them (not applied; the other end of the bounds
    a count carries on the days it may hold)."""

    models: tuple[str, ...]  # model ids (aliases resolved); empty: every model of those generations
    family: str  # image | pdf | video
    fields: dict[str, Any]  # GenerationRules attributes the reading replaces
    reason: str

    def may_hold(self, api: str, call: str, generation: str, model: str, family: str, day: dt.date) -> bool:
        if family != self.family or (self.models and model not in self.models):
            return False
        return self._in_scope(api, call, generation, day)

    def applied(self, rules: GenerationRules) -> GenerationRules:
        """The rules of the count with this reading's fields in place (a level table replaces the levels it names)."""
        fields: dict[str, Any] = {
            name: {**getattr(rules, name), **value} if isinstance(value, dict) else value
            for name, value in self.fields.items()
        }
        return replace(rules, **fields)


@dataclass(frozen=True)
class DatedRules:
    """The rules of an (api, call, generation) from `since` on (a call_overrides entry with `from`). On the days after
    `seen_otherwise_before` (the last answer billing the rules before) and before `since`, either may hold."""

    since: dt.date
    seen_otherwise_before: dt.date | None
    rules: GenerationRules
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Rules:
    generations: dict[str, GenerationRules]
    limits: dict[str, Limits]
    safety: Safety
    # (api, call, generation) -> the rules where they differ from `generations` (call_overrides without `from`)
    by_call: dict[tuple[str, str, str], GenerationRules]
    uncertain_audio: tuple[UncertainAudio, ...] = ()
    # (api, call, generation) -> the rules from a day on, oldest first: call_overrides with `from`
    by_call_dated: dict[tuple[str, str, str], tuple[DatedRules, ...]] = field(default_factory=dict)
    uncertain_media: tuple[UncertainMedia, ...] = ()


def _levels(table: dict[str, Any], where: str) -> dict[str, int]:
    unknown = set(table) - set(LEVELS)
    if unknown or "UNSPECIFIED" not in table:
        raise ValueError(f"rules.yaml {where}: bad resolution levels {sorted(table)}")
    return {str(k): int(v) for k, v in table.items()}


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise ValueError(f"rules.yaml {where}: {value!r} is not one of {allowed}")
    return str(value)


def _audio_rule(audio: dict[str, Any], where: str) -> AudioRule:
    return AudioRule(
        int(audio["tokens_per_second"]),
        _choice(audio["rounding"], ROUNDINGS, f"{where}.rounding"),
        int(audio["extra_per_item"]),
        _choice(audio.get("duration", "stated"), DURATIONS, f"{where}.duration"),
    )


def _day(value: Any, where: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"rules.yaml {where}: {value!r} is not a date (YYYY-MM-DD)") from exc


def _reading_scope(entry: dict[str, Any], raw: dict[str, Any], where: str) -> dict[str, Any]:
    """An uncertain reading's APIs, calls, generations (checked) and days seen: the fields both kinds share."""
    generations = tuple(_as_list(entry["generations"]))
    for gen in generations:
        if gen not in raw["generations"]:
            raise ValueError(f"rules.yaml {where}: unknown generation {gen}")
    first, last, before, after = _seen_days(entry, where)
    return {
        "apis": tuple(_as_list(entry["api"])),
        "calls": tuple(_as_list(entry["call"])),
        "generations": generations,
        "first_seen": first,
        "last_seen": last,
        "seen_otherwise_before": before,
        "seen_otherwise_after": after,
        "source": str(entry["source"]),
        "evidence": tuple(str(e) for e in entry.get("evidence") or ()),
    }


def _uncertain_audio(raw: dict[str, Any]) -> tuple[UncertainAudio, ...]:
    out = []
    for n, entry in enumerate(raw.get("uncertain_audio") or []):
        where = f"uncertain_audio[{n}]"
        out.append(
            UncertainAudio(
                **_reading_scope(entry, raw, where),
                audio=_audio_rule(entry["audio"], f"{where}.audio"),
                reason=str(entry.get("reason") or ""),
            )
        )
    return tuple(out)


def _seen_days(entry: dict[str, Any], where: str) -> tuple[dt.date, dt.date, dt.date | None, dt.date | None]:
    """An uncertain reading's [first, last] day seen and the nearest days seen otherwise, checked."""
    seen = [_day(d, f"{where}.seen") for d in entry["seen"]]
    if len(seen) != 2 or seen[0] is None or seen[1] is None or seen[0] > seen[1]:
        raise ValueError(f"rules.yaml {where}.seen: [first day, last day] expected")
    before = _day(entry.get("seen_otherwise_before"), f"{where}.seen_otherwise_before")
    after = _day(entry.get("seen_otherwise_after"), f"{where}.seen_otherwise_after")
    if (before is not None and before >= seen[0]) or (after is not None and after <= seen[1]):
        raise ValueError(f"rules.yaml {where}: an answer seen otherwise lies inside the days it was seen")
    return seen[0], seen[1], before, after


def _uncertain_field(name: str, value: Any, where: str) -> Any:
    if name.endswith("tokens"):
        return {str(k): int(v) for k, v in _levels({"UNSPECIFIED": 0, **value}, where).items() if k in value}
    if name == "sizing":
        return _choice(value, SIZINGS, where)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"rules.yaml {where}: {value!r} is not a positive number of pixels")
    return value


def _uncertain_media(raw: dict[str, Any]) -> tuple[UncertainMedia, ...]:
    out = []
    for n, entry in enumerate(raw.get("uncertain_media") or []):
        where = f"uncertain_media[{n}]"
        scope = _reading_scope(entry, raw, where)
        families = [f for f in ("image", "pdf", "video") if f in entry]
        if len(families) != 1:
            raise ValueError(f"rules.yaml {where}: one of image, pdf or video expected, not {families}")
        family = families[0]
        fields = {}
        for name, value in (entry[family] or {}).items():
            attribute = UNCERTAIN_MEDIA_FIELDS.get((family, str(name)))
            if attribute is None:
                raise ValueError(f"rules.yaml {where}.{family}: {name!r} is not a field a reading may replace")
            fields[attribute] = _uncertain_field(str(name), value, f"{where}.{family}.{name}")
        if not fields:
            raise ValueError(f"rules.yaml {where}.{family}: no field replaced")
        if not entry.get("reason"):
            raise ValueError(f"rules.yaml {where}: a reading needs its reason")
        out.append(
            UncertainMedia(
                **scope,
                models=tuple(_as_list(entry["models"])) if entry.get("models") else (),
                family=family,
                fields=fields,
                reason=str(entry["reason"]),
            )
        )
    return tuple(out)


def _generation(gen: str, entry: dict[str, Any]) -> GenerationRules:
    audio = entry["audio"]
    return GenerationRules(
        generation=gen,
        honors_media_resolution=entry["media_resolution"] == "honored",
        image_tokens=_levels(entry["image"]["tokens"], f"{gen}.image"),
        frame_tokens=_levels(entry["video"]["frame_tokens"], f"{gen}.video"),
        video_audio_track=bool(_audio_track(entry["video"]["audio_track"], gen)),
        video_audio_always=entry["video"]["audio_track"] == "always",
        silent_sound=_choice(entry["video"].get("silent_sound", "stated"), SILENT_SOUND, f"{gen}.video.silent_sound"),
        audio=_audio_rule(audio, f"{gen}.audio"),
        page_tokens=_levels(entry["pdf"]["page_tokens"], f"{gen}.pdf"),
        pdf_native_text=bool(entry["pdf"]["native_text"]),
        pdf_modality=str(entry["pdf"]["modality"]),
        image_sizing=_choice(entry["image"].get("sizing", "fixed"), SIZINGS, f"{gen}.image.sizing"),
        video_sizing=_choice(entry["video"].get("sizing", "fixed"), SIZINGS, f"{gen}.video.sizing"),
        pdf_sizing=_choice(entry["pdf"].get("sizing", "fixed"), SIZINGS, f"{gen}.pdf.sizing"),
        frame_rounding=_choice(
            entry["video"].get("frame_rounding", "ceil"), FRAME_ROUNDINGS, f"{gen}.video.frame_rounding"
        ),
        output_image_tokens=int(entry["output_image"]["tokens"]) if entry.get("output_image") else None,
        pdf_fit_long_side=int(entry["pdf"]["fit_long_side"]) if entry["pdf"].get("fit_long_side") else None,
        function_response_page_tokens=(
            _levels(entry["pdf"]["function_response_page_tokens"], f"{gen}.pdf.function_response_page_tokens")
            if entry["pdf"].get("function_response_page_tokens")
            else None
        ),
    )


def _audio_track(value: Any, gen: str) -> bool:
    """`audio_track`: true (the sound track is billed), false (never), always (billed with or without one)."""
    if value not in (True, False, "always"):
        raise ValueError(f"rules.yaml {gen}.video.audio_track: {value!r} is not true, false or always")
    return value is not False


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _by_call(
    raw: dict[str, Any],
) -> tuple[dict[tuple[str, str, str], GenerationRules], dict[tuple[str, str, str], tuple[DatedRules, ...]]]:
    """Each override's fields replace the generation's, for every (api, call, generation) it lists. An override with
    `from` (a day) holds from that day on: (the rules before any such day, the rules from each such day on)."""
    overrides = list(enumerate(raw.get("call_overrides") or []))
    dated_entries = {}
    for n, override in overrides:
        since = _day(override.get("from"), f"call_overrides[{n}].from")
        if since is not None:
            before = _day(override.get("seen_otherwise_before"), f"call_overrides[{n}].seen_otherwise_before")
            if before is not None and before >= since:
                raise ValueError(f"rules.yaml call_overrides[{n}]: seen_otherwise_before is not before `from`")
            dated_entries[since] = (before, tuple(str(e) for e in override.get("evidence") or ()))

    def merged(until: dt.date | None) -> dict[tuple[str, str, str], dict[str, Any]]:
        out: dict[tuple[str, str, str], dict[str, Any]] = {}
        for n, override in overrides:
            since = _day(override.get("from"), f"call_overrides[{n}].from")
            if since is not None and (until is None or since > until):
                continue
            for api in _as_list(override["api"]):
                for call in _as_list(override["call"]):
                    for gen in _as_list(override["generations"]):
                        if gen not in raw["generations"]:
                            raise ValueError(f"rules.yaml call_overrides[{n}]: unknown generation {gen}")
                        entry = out.setdefault((api, call, gen), copy.deepcopy(raw["generations"][gen]))
                        for family in ("image", "video", "audio", "pdf"):
                            entry[family] = {**entry[family], **(override.get(family) or {})}
        return out

    def built(entries: dict[tuple[str, str, str], dict[str, Any]]) -> dict[tuple[str, str, str], GenerationRules]:
        return {key: _generation(f"{key[2]} ({key[0]} {key[1]})", entry) for key, entry in entries.items()}

    undated = built(merged(None))
    dated: dict[tuple[str, str, str], list[DatedRules]] = {}
    for day in sorted(dated_entries):
        before, evidence = dated_entries[day]
        for key, rules in built(merged(day)).items():
            if rules != (dated[key][-1].rules if key in dated else undated.get(key)):
                dated.setdefault(key, []).append(DatedRules(day, before, rules, evidence))
    return undated, {key: tuple(versions) for key, versions in dated.items()}


@cache
def load_rules() -> Rules:
    return parse_rules(load_yaml("vertexmeter.media", "rules.yaml"))


def parse_rules(raw: dict[str, Any]) -> Rules:
    """rules.yaml's content, checked (a broken entry is a ValueError naming it)."""
    generations = {str(gen): _generation(str(gen), entry) for gen, entry in raw["generations"].items()}
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
    by_call, by_call_dated = _by_call(raw)
    return Rules(generations, limits, safety, by_call, _uncertain_audio(raw), by_call_dated, _uncertain_media(raw))


def rules_for(
    generation: str, api: str = "vertex", call: str = COUNT_TOKENS, day: dt.date | None = None
) -> GenerationRules:
    """The media rules of a generation for one API and call (countTokens or generateContent) on `day` (None: today)."""
    loaded = load_rules()
    if generation not in loaded.generations:
        raise invalid_argument(f"Media parts are not supported for models of generation {generation}.")
    key = (api, call, generation)
    when = day or dt.date.today()
    for dated in reversed(loaded.by_call_dated.get(key, ())):
        if dated.since <= when:
            return dated.rules
    return loaded.by_call.get(key, loaded.generations[generation])


def rules_changing(
    generation: str, api: str = "vertex", call: str = COUNT_TOKENS, day: dt.date | None = None
) -> DatedRules | None:
    """The dated rules that may already hold on `day` (None: today) though they are not yet in force: `day` lies
    after the last answer billing the rules before them and before the first billing them."""
    when = day or dt.date.today()
    for dated in load_rules().by_call_dated.get((api, call, generation), ()):
        if dated.seen_otherwise_before is not None and dated.seen_otherwise_before < when < dated.since:
            return dated
    return None


def uncertain_audio(
    generation: str, api: str = "vertex", call: str = COUNT_TOKENS, day: dt.date | None = None
) -> tuple[UncertainAudio, ...]:
    """The `uncertain_audio` readings that may be what the service billed for audio of `generation` through `api`
    and `call` on `day` (None: on any day)."""
    return tuple(u for u in load_rules().uncertain_audio if u.may_hold(api, call, generation, day))


def uncertain_media(
    generation: str, api: str, call: str, model: str, family: str, day: dt.date
) -> tuple[UncertainMedia, ...]:
    """The `uncertain_media` readings of `family` (image, pdf, video) that may be what the service billed for
    `model` of `generation` through `api` and `call` on `day`."""
    return tuple(u for u in load_rules().uncertain_media if u.may_hold(api, call, generation, model, family, day))


def pick(table: dict[str, int], level: str, what: str, field_path: str) -> int:
    """Tokens of `what` at `level`; a level the table lacks is refused."""
    if level in table:
        return table[level]
    if len(table) == 1:  # generation without mediaResolution: one number for every level
        return table["UNSPECIFIED"]
    raise invalid_argument(f"Media resolution MEDIA_RESOLUTION_{level} is not supported for {what}.", field_path)


def frames_sampled(seconds: Fraction, fps: Fraction, rounding: str = "ceil") -> int:
    """Frames taken within a clip of `seconds`: ceil (or floor, per rule) of seconds x fps, at least 1."""
    if seconds <= 0:
        return 0
    exact = seconds * fps
    return max(1, math.floor(exact) if rounding == "floor" else math.ceil(exact))


def as_decimal(seconds: Fraction) -> Decimal:
    """Seconds as a Decimal with microsecond precision (for billing quantities)."""
    return (Decimal(seconds.numerator) / Decimal(seconds.denominator)).quantize(Decimal("0.000001"))
