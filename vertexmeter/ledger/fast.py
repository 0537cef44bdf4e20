"""The import's fast path for the common log line: a bare generateContent response billed by text tokens.

Most lines of a usage log are one shape: `{responseId, modelVersion, createTime, usageMetadata}` (perhaps with
candidates), counts as plain ints, all text. For such a line the checked path builds a dozen objects and runs
a hundred checks to arrive at a handful of values. Here the line is decoded by orjson, each field is checked
by the checked path's own rules, the fingerprint is written from the counts (`token_call_fingerprint`), and
the stored row's values come from the kind's pricing template (`PriceBook.price_tokens`).

A line is taken only when this is certain to give what the checked path gives; anything else (another shape,
a value the checked path would refuse or convert, grounding, modality details that are not all text, a kind
without a template yet, a key stored before fingerprints) goes to the checked path, which then gives the
line's calls or its error. The differential tests hold both paths to the same rows, counts and errors.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, NamedTuple

from vertexmeter.errors import VertexMeterError
from vertexmeter.ledger.fingerprint import TOKEN_CALL_FORMAT, counted_fingerprint, token_call_prefix
from vertexmeter.ledger.formats import (
    INT32_MAX,
    MAX_ID,
    TRAFFIC_MODES,
    grounding_of,
    model_name,
    timestamp,
    usage_from_metadata,
)
from vertexmeter.ledger.prices import PriceBook
from vertexmeter.pricing import RequestUsage, token_bucket

try:
    import orjson
except ImportError:  # pragma: no cover - a core dependency; without it every line takes the checked path
    orjson = None  # type: ignore[assignment]

# Off in the tests that compare the two paths (and when orjson or the fingerprint's format is missing).
ENABLED = orjson is not None and TOKEN_CALL_FORMAT is not None
# The keys a bare response line may have here: none of them makes the line another recogniser's (a batch
# line, an envelope, a span, a chat completion) or carries our own fields (project, labels, model, endpoint).
# The google-genai SDK's own fields of a dumped response (sdkHttpResponse, ...) are read by no recogniser either.
RESPONSE_KEYS = frozenset(
    {"responseId", "modelVersion", "createTime", "usageMetadata", "candidates", "promptFeedback"}
    | {"sdkHttpResponse", "automaticFunctionCallingHistory", "parsed"}
)
USAGE_COUNTS = (  # the counts of a usageMetadata, as the reader takes them
    "promptTokenCount",
    "cachedContentTokenCount",
    "toolUsePromptTokenCount",
    "candidatesTokenCount",
    "thoughtsTokenCount",
    "totalTokenCount",
)
_DETAILS = ("promptTokensDetails", "cacheTokensDetails", "toolUsePromptTokensDetails", "candidatesTokensDetails")
_USAGE_KEYS = frozenset((*USAGE_COUNTS, *_DETAILS, "trafficType"))
# What the one JSON decoder (vertexmeter.requests.decode_json) refuses and orjson takes: nesting deeper than
# its MAX_DEPTH (bounded here by counting brackets, strings included) and numbers longer than its
# _MAX_NUMBER_CHARS (any run of number characters that long, strings included). Such lines go the checked way.
MAX_BRACKETS = 100
_LONG_NUMBER = re.compile(rb"[-+.0-9eE]{401}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOTHING = token_bucket(0)
MAX_TIMES = 4096  # createTime values remembered (a log's calls of one second share one)
_LONG = 401  # a line shorter than this has no number that long
# tuple(map(bool, vector)) of a fast call's vector, by which of its four counts are not zero (bits 0-3)
SLOTS = (0, 4, 12, 16)  # fresh input, cached input, output and thoughts in the vector
_PRESENT = tuple(
    tuple(i in {slot for b, slot in enumerate(SLOTS) if bits >> b & 1} for i in range(20)) for bits in range(16)
)
_BEYOND_INT32 = ~INT32_MAX  # the bits of an int below 0 or above INT32_MAX
assert INT32_MAX & (INT32_MAX + 1) == 0  # all ones: the bit test is the range test


class FastCall(NamedTuple):
    """One call read by the fast path, with everything the importer needs to check, price and store it."""

    key: str  # the responseId (also the stored response_id)
    source: str  # file:line
    model: str
    created: dt.datetime  # UTC
    day: dt.date
    month: str  # YYYY-MM of the day, as stored
    mode: str
    vector: tuple[int, ...]  # prices.usage_vector's order
    present: tuple[bool, ...]  # which counts of the vector are not zero (the kind's part of PriceBook.price_tokens)
    prompt: int
    fingerprint: str
    file: str
    line: int
    raw: bytes


class FastReader:
    """Reads lines of one import (its API, endpoint, --model and --day) by the fast path, where it can."""

    def __init__(self, api: str, endpoint: str, model: str | None, day: dt.date | None) -> None:
        self.api, self.endpoint, self.model, self.day = api, endpoint, model, day
        # createTime -> (its time, the UTC isoformat, the UTC day, its month as stored)
        self.times: dict[str, tuple[dt.datetime, str, dt.date, str]] = {}
        # (model, UTC isoformat, mode) -> the fingerprint's text before the counts
        self.prefixes: dict[tuple[str, str, str], str] = {}

    def __call__(self, raw: bytes, file: str, line: int) -> FastCall | None:
        """The line's one call, or None: the checked path reads it."""
        if raw.count(b"[") + raw.count(b"{") > MAX_BRACKETS or (len(raw) >= _LONG and _LONG_NUMBER.search(raw)):
            return None
        try:
            item = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        if type(item) is not dict or not RESPONSE_KEYS.issuperset(item):
            return None
        meta = item.get("usageMetadata")
        if type(meta) is not dict or not _USAGE_KEYS.issuperset(meta):
            return None
        try:
            return self._call(item, meta, raw, file, line)
        except (VertexMeterError, ValueError, TypeError, AttributeError, OverflowError):
            return None  # the checked path raises it again, with its message

    def _call(self, item: dict[str, Any], meta: dict[str, Any], raw: bytes, file: str, line: int) -> FastCall | None:
        traffic = meta.get("trafficType")
        if traffic is None:
            mode = "online"
        else:
            if type(traffic) is not str or traffic not in TRAFFIC_MODES:
                return None
            mode = TRAFFIC_MODES[traffic] or "online"
            if mode == "provisioned":
                return None  # not billed per call: the checked path counts it
        key = item.get("responseId")
        if type(key) is not str or not key or len(key) > MAX_ID:
            return None  # no id (the key is a hash of the item's JSON), or one the checked path converts
        if not key.isprintable() if key.isascii() else _CONTROL.search(key):  # ASCII's unprintable: controls
            return None  # the checked path refuses it
        if item.get("candidates") and grounding_of([item]) != (0, False, False):
            return None
        name = item.get("modelVersion") or self.model
        if not name:
            return None
        model = model_name(name, "model")
        stamp = item.get("createTime")
        if stamp:
            when = self.times.get(stamp) if type(stamp) is str else None
            if when is None:
                created = timestamp(stamp)
                utc = created.astimezone(dt.UTC)
                when = (created, utc.isoformat(), utc.date(), f"{utc.year:04d}-{utc.month:02d}")
                if type(stamp) is str:
                    if len(self.times) >= MAX_TIMES:
                        self.times.clear()
                    # kept once plausible: the range's end only moves later
                    self.times[stamp] = when
        elif self.day is not None:
            created = dt.datetime(self.day.year, self.day.month, self.day.day, tzinfo=dt.UTC)
            when = (created, created.isoformat(), created.date(), f"{created.year:04d}-{created.month:02d}")
        else:
            return None
        counts = _tokens(meta)
        if counts is None:
            return None
        fresh, cached, output, thoughts, prompt = counts
        created, iso, day, month = when
        prefix = self.prefixes.get((model, iso, mode))
        if prefix is None:
            if len(self.prefixes) >= MAX_TIMES:
                self.prefixes.clear()
            prefix = self.prefixes[(model, iso, mode)] = token_call_prefix(model, iso, mode, self.api, self.endpoint)
        fingerprint = counted_fingerprint(prefix, fresh, cached, output, thoughts, prompt)
        vector = (fresh, 0, 0, 0, cached, 0, 0, 0, 0, 0, 0, 0, output, 0, 0, 0, thoughts, 0, 0, 0)
        present = _PRESENT[(fresh > 0) | (cached > 0) << 1 | (output > 0) << 2 | (thoughts > 0) << 3]
        return FastCall(
            key,
            f"{file}:{line}",
            model,
            created,
            day,
            month,
            mode,
            vector,
            present,
            prompt,
            fingerprint,
            file,
            line,
            raw,
        )


def _tokens(meta: dict[str, Any]) -> tuple[int, int, int, int, int] | None:
    """(fresh input, cached input, output, thoughts, prompt) tokens as usage_from_metadata bills them, when all
    are text tokens; None for anything else."""
    get = meta.get
    prompt, cached, tool = (
        get("promptTokenCount", 0),
        get("cachedContentTokenCount", 0),
        get("toolUsePromptTokenCount", 0),
    )
    output, thoughts, total = get("candidatesTokenCount", 0), get("thoughtsTokenCount", 0), get("totalTokenCount", 0)
    # each a plain int in 0..INT32_MAX (None is 0); anything else (a string, a Decimal, a bool, out of range)
    # is the checked path's count() to read or refuse. The common case at once: all ints, their bits together
    # within INT32_MAX's (2**31 - 1: a negative int has every higher bit set)
    if not (
        int is type(prompt) is type(cached) is type(tool) is type(output) is type(thoughts) is type(total)
        and not (prompt | cached | tool | output | thoughts | total) & _BEYOND_INT32
    ):
        for value in (prompt, cached, tool, output, thoughts, total):
            if (type(value) is not int or not 0 <= value <= INT32_MAX) and value is not None:
                return None
        prompt, cached, tool = prompt or 0, cached or 0, tool or 0
    if cached > prompt:
        return None
    details, cache, tool_use, candidates = _DETAILS
    if not (get(details) or get(cache) or get(tool_use) or get(candidates)):  # usage_from_metadata's all-text case
        return prompt - cached + tool, cached, output or 0, thoughts or 0, prompt + tool
    return _text_only(usage_from_metadata(meta))  # details by modality: the rule itself, then all text or not


def _text_only(usage: RequestUsage) -> tuple[int, int, int, int, int] | None:
    if usage.cache_write != _NOTHING or usage.prompt_tokens is None:
        return None
    buckets = (usage.input, usage.cached_input, usage.output)
    if any(b != token_bucket(b.tokens) for b in buckets):
        return None
    return (
        usage.input.tokens,
        usage.cached_input.tokens,
        usage.output.tokens,
        usage.thinking_tokens,
        usage.prompt_tokens,
    )


def price_values(call: FastCall, book: PriceBook, api: str, endpoint: str, now: dt.datetime) -> tuple[Any, ...] | None:
    """The stored row's values (store.INSERT_COLUMNS) of a fast call, or None when its kind has no template yet."""
    priced = book.price_tokens(call.model, call.day, api, endpoint, call.mode, call.vector, call.prompt, call.present)
    if priced is None:
        return None
    priced_model, total, line_items, entry, grounding_amount = priced
    day = call.day
    return (
        call.key,
        call.key,
        call.source,
        call.model,
        priced_model,
        api,
        call.mode,
        call.created,
        day,
        call.month,
        None,
        "{}",
        str(total),
        entry,
        str(grounding_amount),
        line_items,
        now,
        call.fingerprint,
    )
