"""A call's fingerprint: what makes two log lines with one key the same call (everything billed about it).

The ledger stores it with each row, so a fingerprint must never change for the same call: it is the SHA-256
of `json.dumps(basis, default=str, sort_keys=True)` as the first fingerprints were computed (`reference`).
`call_fingerprint` writes that same JSON text with fixed formats for the usage's dataclasses (their fields
sorted once, not per call) and falls back to `json.dumps` for any value it does not expect; the tests hold
the two equal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import fields
from decimal import Decimal
from json.encoder import encode_basestring_ascii  # json.dumps' own string encoder (ensure_ascii)
from operator import attrgetter
from typing import Any

from vertexmeter.ledger.formats import LoggedRequest
from vertexmeter.pricing import Quantities, RequestUsage
from vertexmeter.vocabulary import GEMINI

# The API as the first fingerprints spelt it (the price catalogue's word): stored fingerprints depend on it.
FINGERPRINT_API = {"vertex": "vertex", GEMINI: "gemini_api"}
# The fields in json.dumps' sorted order, with their formats: %d where the dataclass admits only ints (its
# __post_init__ checks), else the scalar's own JSON. If the dataclasses change, every call takes the reference.
_QUANTITY_FIELDS = (
    ("audio_seconds", "%s"), ("audio_tokens", "%d"), ("clips", "%d"), ("image_tokens", "%d"), ("images", "%d"),
    ("pdf_pages", "%d"), ("text_characters", "%d"), ("thinking_tokens", "%d"), ("tokens", "%d"),
    ("video_seconds", "%s"), ("video_tokens", "%d"),
)  # fmt: skip
_USAGE_FIELDS = (
    ("cache_write", "%s"), ("cached_input", "%s"), ("filtered", "%s"), ("grounded_requests", "%d"), ("input", "%s"),
    ("maps_requests", "%d"), ("mode", "%s"), ("operation", "%s"), ("output", "%s"), ("prompt_tokens", "%s"),
    ("repeat", "%d"), ("search_queries", "%d"), ("thinking_tokens", "%d"), ("video_resolution", "%s"),
    ("video_tier", "%s"),
)  # fmt: skip
_FAST = tuple(sorted(f.name for f in fields(Quantities))) == tuple(n for n, _ in _QUANTITY_FIELDS) and tuple(
    sorted(f.name for f in fields(RequestUsage))
) == tuple(n for n, _ in _USAGE_FIELDS)
_QUANTITY_FORMAT = "{" + ", ".join(f'"{name}": {form}' for name, form in _QUANTITY_FIELDS) + "}"
_USAGE_FORMAT = "{" + ", ".join(f'"{name}": {form}' for name, form in _USAGE_FIELDS) + "}"
_DEFAULTS = {f.name: f.default for f in fields(Quantities)}
_AUDIO_SECONDS, _VIDEO_SECONDS = _DEFAULTS["audio_seconds"], _DEFAULTS["video_seconds"]
_FAST = _FAST and str(_AUDIO_SECONDS) == str(_VIDEO_SECONDS) == "0"
_quantity_values = attrgetter(*(name for name, _ in _QUANTITY_FIELDS))


class _Unexpected(Exception):
    """A value the fixed formats do not write the way json.dumps does (the reference then computes it)."""


def _scalar(value: Any) -> str:
    """A value as json.dumps(..., default=str) writes it, for the kinds a usage holds."""
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is str:
        return encode_basestring_ascii(value)
    if kind is Decimal:  # default=str: the Decimal's own text, as a JSON string
        return encode_basestring_ascii(str(value))
    raise _Unexpected


def _quantities(value: Quantities) -> str:
    if type(value) is not Quantities:
        raise _Unexpected
    seconds_a, a, b, c, d, e, f, g, h, seconds_v, i = _quantity_values(value)
    # most buckets keep the dataclass's own default seconds (one Decimal(0) per field): their text is known
    audio = '"0"' if seconds_a is _AUDIO_SECONDS else _scalar(seconds_a)
    video = '"0"' if seconds_v is _VIDEO_SECONDS else _scalar(seconds_v)
    return _QUANTITY_FORMAT % (audio, a, b, c, d, e, f, g, h, video, i)


def reference(logged: LoggedRequest, api: str, endpoint: str) -> str:
    """The fingerprint as first defined (the slow, obviously right spelling)."""
    return hashlib.sha256(json.dumps(_basis(logged, api, endpoint), default=str, sort_keys=True).encode()).hexdigest()


def _basis(logged: LoggedRequest, api: str, endpoint: str) -> list[Any]:
    return [
        logged.model,
        logged.created.astimezone(dt.UTC).isoformat(),
        logged.mode,
        FINGERPRINT_API[logged.api or api],
        logged.endpoint or endpoint,
        logged.project,
        sorted(logged.labels.items()),
        {name: vars(v) if isinstance(v, Quantities) else v for name, v in vars(logged.usage).items()},
        [logged.grounding_queries, logged.grounded, logged.maps_grounded],
    ]


def _token_call_format() -> str | None:
    """The reference's text for a call of text tokens only (no project, labels or grounding), its counts and
    leading strings left as %-fields: cached, fresh, output, prompt and thinking tokens (None: the dataclasses
    changed shape, so no such format is known)."""
    if not _FAST:
        return None
    bucket = "{" + ", ".join(
        f'"{n}": ' + ('"0"' if f == "%s" else "%d" if n == "tokens" else "0") for n, f in _QUANTITY_FIELDS
    )
    bucket += "}"
    empty = bucket.replace("%d", "0")
    values = {
        "cache_write": empty, "cached_input": bucket, "filtered": "false", "grounded_requests": "0", "input": bucket,
        "maps_requests": "0", "mode": "null", "operation": '"generate"', "output": bucket, "prompt_tokens": "%d",
        "repeat": "1", "search_queries": "0", "thinking_tokens": "%d", "video_resolution": "null", "video_tier": "null",
    }  # fmt: skip
    if tuple(values) != tuple(name for name, _ in _USAGE_FIELDS):
        return None
    usage = "{" + ", ".join(f'"{name}": {value}' for name, value in values.items()) + "}"
    return "[%s, %s, %s, %s, %s, null, [], " + usage + ", [0, false, false]]"


TOKEN_CALL_FORMAT = _token_call_format()
# The format after its five leading strings (model, time, mode, API, endpoint): a call's counts only.
TOKEN_COUNTS_FORMAT = None if TOKEN_CALL_FORMAT is None else TOKEN_CALL_FORMAT.removeprefix("[%s, %s, %s, %s, %s, ")


def token_call_prefix(model: str, created: str, mode: str, api: str, endpoint: str) -> str:
    """The text of TOKEN_CALL_FORMAT before the counts: the same for every call of one model, second and mode."""
    return (
        f"[{encode_basestring_ascii(model)}, {encode_basestring_ascii(created)}, {encode_basestring_ascii(mode)}, "
        f"{encode_basestring_ascii(FINGERPRINT_API[api])}, {encode_basestring_ascii(endpoint)}, "
    )


def token_call_fingerprint(
    model: str, created: str, mode: str, api: str, endpoint: str, fresh: int, cached: int, output: int, thoughts: int,
    prompt: int
) -> str:  # fmt: skip
    """`call_fingerprint` of a call of text tokens only (token_request usage) with no project, labels or
    grounding; `created` is the UTC time's isoformat. Only when TOKEN_CALL_FORMAT is known."""
    return counted_fingerprint(
        token_call_prefix(model, created, mode, api, endpoint), fresh, cached, output, thoughts, prompt
    )


def counted_fingerprint(prefix: str, fresh: int, cached: int, output: int, thoughts: int, prompt: int) -> str:
    """token_call_fingerprint from the call's `token_call_prefix`."""
    assert TOKEN_COUNTS_FORMAT is not None
    text = prefix + TOKEN_COUNTS_FORMAT % (cached, fresh, output, prompt, thoughts)
    return hashlib.sha256(text.encode()).hexdigest()


def call_fingerprint(logged: LoggedRequest, api: str, endpoint: str) -> str:
    """The call's fingerprint (equal to `reference`)."""
    u = logged.usage
    try:
        if not _FAST or type(u) is not RequestUsage or type(logged.grounding_queries) is not int:
            raise _Unexpected
        labels = ", ".join(f"[{_scalar(key)}, {_scalar(value)}]" for key, value in sorted(logged.labels.items()))
        usage = _USAGE_FORMAT % (
            _quantities(u.cache_write),
            _quantities(u.cached_input),
            "false" if u.filtered is False else _scalar(u.filtered),
            u.grounded_requests,
            _quantities(u.input),
            u.maps_requests,
            "null" if u.mode is None else _scalar(u.mode),
            '"generate"' if u.operation == "generate" and type(u.operation) is str else _scalar(u.operation),
            _quantities(u.output),
            u.prompt_tokens if type(u.prompt_tokens) is int else _scalar(u.prompt_tokens),
            u.repeat,
            u.search_queries,
            u.thinking_tokens,
            "null" if u.video_resolution is None else _scalar(u.video_resolution),
            "null" if u.video_tier is None else _scalar(u.video_tier),
        )
        text = "[%s, %s, %s, %s, %s, %s, [%s], %s, [%d, %s, %s]]" % (  # noqa: UP031 - one format, C speed
            _scalar(logged.model),
            _scalar(logged.created.astimezone(dt.UTC).isoformat()),
            _scalar(logged.mode),
            _scalar(FINGERPRINT_API[logged.api or api]),
            _scalar(logged.endpoint or endpoint),
            _scalar(logged.project),
            labels,
            usage,
            logged.grounding_queries,
            _scalar(logged.grounded),
            _scalar(logged.maps_grounded),
        )
    except _Unexpected:
        return reference(logged, api, endpoint)
    return hashlib.sha256(text.encode()).hexdigest()
