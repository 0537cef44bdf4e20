"""What was (or will be) used: quantities per request, caches and tuning, parsed strictly from JSON-like data."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from operator import itemgetter
from typing import Any

from vertexmeter.errors import invalid_argument
from vertexmeter.pricing.catalogue import parse_decimal
from vertexmeter.vocabulary import MODES

# Quantity names inside `input`, `cached_input`, `cache_write`, `output` and `cache` items.
INTEGER_QUANTITIES: tuple[str, ...] = (
    "text_characters",
    "tokens",
    "audio_tokens",
    "image_tokens",
    "video_tokens",
    "images",
    "pdf_pages",
    "thinking_tokens",
    "clips",
)
DECIMAL_QUANTITIES: tuple[str, ...] = ("video_seconds", "audio_seconds")
OPERATIONS: tuple[str, ...] = (
    "generate",
    "edit",
    "customize",
    "upscale",
    "visual_captioning",
    "visual_qa",
    "fine_tuning",
)
VIDEO_TIERS: tuple[str, ...] = ("plus", "standard", "essential")
VIDEO_RESOLUTIONS: tuple[str, ...] = ("720p", "1080p", "4k")


_INT_ONLY = frozenset({int})  # exactly int: bool, float and Decimal counts take the checking path
_counts = itemgetter(*INTEGER_QUANTITIES)
_REQUEST_COUNTS = ("thinking_tokens", "grounded_requests", "search_queries", "maps_requests")
_request_counts = itemgetter(*_REQUEST_COUNTS)


@dataclass(frozen=True)
class Quantities:
    """Amounts of one kind of input or output. Counts are whole numbers; seconds may be fractional."""

    text_characters: int = 0
    tokens: int = 0
    audio_tokens: int = 0
    image_tokens: int = 0
    video_tokens: int = 0
    images: int = 0
    pdf_pages: int = 0
    thinking_tokens: int = 0
    clips: int = 0
    video_seconds: Decimal = Decimal(0)
    audio_seconds: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        values = self.__dict__
        counts = _counts(values)
        video, audio = values["video_seconds"], values["audio_seconds"]
        # one pass at C speed for the common case (int counts, Decimal seconds, none negative); any other
        # value goes through the per-field checks, which raise the precise error
        if (
            _INT_ONLY.issuperset(map(type, counts))
            and min(counts) >= 0
            and type(video) is Decimal
            and type(audio) is Decimal
            and video >= 0
            and audio >= 0
        ):
            return
        for name, value in values.items():
            kind = type(value)
            if (kind is int or (kind is Decimal and name in DECIMAL_QUANTITIES)) and value >= 0:
                continue
            _check_amount(value, name, whole=name in INTEGER_QUANTITIES)

    def is_empty(self) -> bool:
        return not any(self.__dict__.values())

    def __add__(self, other: Quantities) -> Quantities:
        return Quantities(**{name: getattr(self, name) + getattr(other, name) for name in QUANTITY_FIELDS})


QUANTITY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Quantities))  # once: fields() is slow
NOTHING = Quantities()  # the empty bucket, shared (immutable): most requests leave most buckets empty


@dataclass(frozen=True)
class RequestUsage:
    """One request (or `repeat` identical ones)."""

    input: Quantities = NOTHING
    cached_input: Quantities = NOTHING
    cache_write: Quantities = NOTHING
    output: Quantities = NOTHING
    thinking_tokens: int = 0
    grounded_requests: int = 0
    search_queries: int = 0
    maps_requests: int = 0
    prompt_tokens: int | None = None  # the real prompt size (cached included) when known; decides the tier
    filtered: bool = False  # a filtered response: input is charged, output is not
    repeat: int = 1
    mode: str | None = None  # None: the usage's mode
    operation: str = "generate"  # Imagen
    video_tier: str | None = None  # multimodal embeddings: plus | standard | essential
    video_resolution: str | None = None  # Veo: 720p | 1080p | 4k

    def __post_init__(self) -> None:
        values = self.__dict__
        counts = _request_counts(values)
        prompt, repeat = values["prompt_tokens"], values["repeat"]
        if (  # the common case in one test: int counts, none negative, an int prompt size or none, repeat >= 1
            _INT_ONLY.issuperset(map(type, counts))
            and min(counts) >= 0
            and (prompt is None or (type(prompt) is int and prompt >= 0))
            and type(repeat) is int
            and repeat >= 1
        ):
            return
        for name in _REQUEST_COUNTS:
            value = values[name]
            if type(value) is not int or value < 0:
                _check_amount(value, name, whole=True)
        if prompt is not None:
            _check_amount(prompt, "prompt_tokens", whole=True)
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            raise invalid_argument(f"repeat must be a whole number of at least 1, got {repeat!r}.", "repeat")


_QUANTITY_DEFAULTS = {f.name: f.default for f in fields(Quantities)}
_REQUEST_DEFAULTS = {f.name: f.default for f in fields(RequestUsage)}


def token_bucket(tokens: int) -> Quantities:
    """`Quantities(tokens=tokens)` (NOTHING for 0), built without the frozen dataclass's setattr per field (a
    third of a usage log's reading); a value the checks would refuse goes through them."""
    if type(tokens) is not int or tokens < 0:
        return Quantities(tokens=tokens)  # refused by the dataclass's own checks, with their error
    if not tokens:
        return NOTHING
    bucket = object.__new__(Quantities)  # a positive int among the valid defaults: nothing left to check
    values = bucket.__dict__
    values.update(_QUANTITY_DEFAULTS)
    values["tokens"] = tokens
    return bucket


def token_request(
    fresh: int, cached: int, output: int, *, thinking_tokens: int, prompt_tokens: int | None, cache_write: int = 0
) -> RequestUsage:
    """A request of text tokens only (the shape of most logged calls), as `RequestUsage(...)` of token buckets
    builds it, with the same checks, without the per-field setattr."""
    request = object.__new__(RequestUsage)
    values = request.__dict__
    values.update(_REQUEST_DEFAULTS)
    values["input"] = token_bucket(fresh)
    values["cached_input"] = token_bucket(cached)
    values["cache_write"] = token_bucket(cache_write)
    values["output"] = token_bucket(output)
    values["thinking_tokens"] = thinking_tokens
    values["prompt_tokens"] = prompt_tokens
    request.__post_init__()
    return request


@dataclass(frozen=True)
class CacheUsage:
    """An explicit context cache: its contents, how long it lives, and whether its creation is billed here."""

    contents: Quantities
    hours: Decimal
    creation: bool = True


@dataclass(frozen=True)
class Usage:
    requests: tuple[RequestUsage, ...] = ()
    caches: tuple[CacheUsage, ...] = ()
    training_tokens: int = 0


def _check_amount(value: object, name: str, *, whole: bool) -> None:
    """A backstop for usage built in Python: no floats (already inexact), no negatives, whole counts."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or (whole and not isinstance(value, int)):
        expected = "an int" if whole else "an int or Decimal"
        raise invalid_argument(f"{name} must be {expected}, got {value!r}.", name)
    if value < 0:
        raise invalid_argument(f"{name} must not be negative, got {value!r}.", name)


# ---- strict parsing (scenario files, the server body) -------------------------------------------
INPUT_KEYS = (
    "text_characters",
    "tokens",
    "audio_tokens",
    "image_tokens",
    "video_tokens",
    "images",
    "video_seconds",
    "audio_seconds",
    "pdf_pages",
)
OUTPUT_KEYS = (
    "text_characters",
    "tokens",
    "audio_tokens",
    "image_tokens",
    "images",
    "thinking_tokens",
    "video_seconds",
    "clips",
)
REQUEST_KEYS = (
    "repeat",
    "input",
    "cached_input",
    "cache_write",
    "output",
    "thinking_tokens",
    "grounded_requests",
    "search_queries",
    "maps_requests",
    "prompt_tokens",
    "filtered",
    "mode",
    "operation",
    "video_tier",
    "video_resolution",
    "description",
)
CACHE_KEYS = (*INPUT_KEYS, "hours", "creation", "description")


def check_keys(data: Any, allowed: tuple[str, ...], path: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise invalid_argument(f"{path or 'scenario'} must be an object, got {type(data).__name__}.", path or None)
    for key in data:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise invalid_argument(
                f"Unknown key {where!r}. Valid keys{' of ' + path if path else ''}: {', '.join(allowed)}.", where
            )
    return data


def whole_number(value: Any, path: str, *, minimum: int = 0) -> int:
    number = decimal_number(value, path, minimum=Decimal(minimum))
    if number != number.to_integral_value():
        raise invalid_argument(f"{path} must be a whole number, got {value!r}.", path)
    return int(number)


def decimal_number(value: Any, path: str, *, minimum: Decimal = Decimal(0)) -> Decimal:
    try:
        number = parse_decimal(value, path)
    except ValueError as exc:
        raise invalid_argument(f"{exc}.", path) from None
    if number < minimum:
        raise invalid_argument(f"{path} must be at least {minimum}, got {value!r}.", path)
    return number


def parse_quantities(data: Any, path: str, allowed: tuple[str, ...]) -> Quantities:
    data = check_keys(data, allowed, path)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in INTEGER_QUANTITIES:
            values[key] = whole_number(value, f"{path}.{key}")
        elif key in DECIMAL_QUANTITIES:
            values[key] = decimal_number(value, f"{path}.{key}")
    return Quantities(**values)


def parse_request(data: Any, path: str) -> RequestUsage:
    data = check_keys(data, REQUEST_KEYS, path)
    values: dict[str, Any] = {}
    for bucket in ("input", "cached_input", "cache_write", "output"):
        if bucket in data:
            allowed = OUTPUT_KEYS if bucket == "output" else INPUT_KEYS
            values[bucket] = parse_quantities(data[bucket], f"{path}.{bucket}", allowed)
    for key in ("thinking_tokens", "grounded_requests", "search_queries", "maps_requests"):
        if key in data:
            values[key] = whole_number(data[key], f"{path}.{key}")
    if data.get("prompt_tokens") is not None:
        values["prompt_tokens"] = whole_number(data["prompt_tokens"], f"{path}.prompt_tokens")
    if "repeat" in data:
        values["repeat"] = whole_number(data["repeat"], f"{path}.repeat", minimum=1)
    if "filtered" in data:
        if not isinstance(data["filtered"], bool):
            raise invalid_argument(f"{path}.filtered must be true or false.", f"{path}.filtered")
        values["filtered"] = data["filtered"]
    if "mode" in data:
        values["mode"] = parse_mode(data["mode"], f"{path}.mode")
    if "operation" in data:
        values["operation"] = parse_choice(data["operation"], OPERATIONS, f"{path}.operation")
    if "video_tier" in data:
        values["video_tier"] = parse_choice(data["video_tier"], VIDEO_TIERS, f"{path}.video_tier")
    if "video_resolution" in data:
        values["video_resolution"] = parse_choice(
            data["video_resolution"], VIDEO_RESOLUTIONS, f"{path}.video_resolution"
        )
    return RequestUsage(**values)


def parse_cache(data: Any, path: str) -> CacheUsage:
    data = check_keys(data, CACHE_KEYS, path)
    if "hours" not in data:
        raise invalid_argument(f"{path}.hours is required (how long the cache is stored).", f"{path}.hours")
    contents = parse_quantities({k: v for k, v in data.items() if k in INPUT_KEYS}, path, INPUT_KEYS)
    creation = data.get("creation", True)
    if not isinstance(creation, bool):
        raise invalid_argument(f"{path}.creation must be true or false.", f"{path}.creation")
    return CacheUsage(contents, decimal_number(data["hours"], f"{path}.hours"), creation)


def parse_mode(value: Any, path: str) -> str:
    return parse_choice(value, MODES, path)


def parse_choice(value: Any, choices: tuple[str, ...], path: str) -> str:
    if value not in choices:
        raise invalid_argument(f"{path} must be one of {', '.join(choices)}; got {value!r}.", path)
    return str(value)
