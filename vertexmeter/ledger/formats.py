"""Log shapes -> billed calls: a small table of recognisers, tried in order, each a test and a reader.

Every reader turns one decoded log item into zero or more `LoggedRequest`s (an OTLP line may hold many spans,
a stream's chunks are one call). Values are checked here, before any database sees them: lengths and
characters of the stored strings, token counts within Google's int32, times within a plausible range, so
SQLite and PostgreSQL refuse exactly the same lines with the same per-line reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vertexmeter.errors import invalid_argument
from vertexmeter.pricing import Quantities, RequestUsage, token_bucket, token_request
from vertexmeter.vocabulary import GEMINI

INT32_MAX = 2**31 - 1  # usageMetadata counts are int32 in Google's protos: anything larger is not a real count
EARLIEST = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)  # before Vertex AI existed: a broken clock or a typo
LATEST_AHEAD = dt.timedelta(days=1)  # a clock a little ahead is tolerated; next year is not
MAX_ID = 200  # responseId / the dedupe key column
MAX_NAME = 200  # model and project columns
MAX_LABEL = 63  # Google Cloud labels: keys and values up to 63 characters
MAX_LABELS = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# usageMetadata.trafficType -> billing mode. Provisioned Throughput is paid by subscription, not per call.
TRAFFIC_MODES: dict[Any, str | None] = {
    None: None,
    "TRAFFIC_TYPE_UNSPECIFIED": None,
    "ON_DEMAND": None,
    "ON_DEMAND_FLEX": "flex",
    "FLEX": "flex",
    "ON_DEMAND_PRIORITY": "priority",
    "PRIORITY": "priority",
    "PROVISIONED_THROUGHPUT": "provisioned",
}
# proto3 JSON may write an enum as its number (the vertexai SDK's REST transport does: "trafficType": 1,
# "modality": 1); the numbers of aiplatform's UsageMetadata.TrafficType and of Modality (content.proto).
TRAFFIC_NUMBERS = {
    0: "TRAFFIC_TYPE_UNSPECIFIED",
    1: "ON_DEMAND",
    2: "PROVISIONED_THROUGHPUT",
    3: "ON_DEMAND_PRIORITY",
    4: "ON_DEMAND_FLEX",
}
MODALITY_NUMBERS = {0: "MODALITY_UNSPECIFIED", 1: "TEXT", 2: "IMAGE", 3: "VIDEO", 4: "AUDIO", 5: "DOCUMENT"}
MODALITIES = frozenset(MODALITY_NUMBERS.values())
# Model names as partner APIs echo them -> the names the catalogue knows (publisher prefixes, Anthropic's
# `-YYYYMMDD` version suffix, which Vertex writes `@YYYYMMDD`).
MODEL_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^google/(gemini-.*)$"), r"\1"),
    (re.compile(r"^(claude-[a-z0-9.-]+?)-(\d{8})$"), r"\1@\2"),
)
# OpenTelemetry GenAI attributes (current names first, then the deprecated spellings still emitted).
OTEL_INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OTEL_OUTPUT = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
OTEL_CACHE_READ = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "gen_ai.usage.input_tokens.cached",
)
OTEL_CACHE_WRITE = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "gen_ai.usage.input_tokens.cache_write",
)
OTEL_PROJECT = ("gcp.project_id", "gcp.project.id", "cloud.account.id")
OTEL_GEMINI_API = ("gcp.gemini",)  # gen_ai.provider.name / gen_ai.system of the Gemini Developer API


@dataclass(frozen=True)
class LoggedRequest:
    key: str  # responseId (or the call's own id), else a hash of the item's canonical JSON
    response_id: str | None
    model: str
    created: dt.datetime
    mode: str  # online | batch | flex | priority | provisioned
    usage: RequestUsage
    source: str  # file:line
    project: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    api: str | None = None  # gemini for Gemini API lines; None: the caller's choice
    endpoint: str | None = None  # global | regional (a line's `endpoint` or `location`); None: the caller's
    grounding_queries: int = 0  # web search queries the answer ran
    grounded: bool = False  # the answer was grounded with Google Search
    maps_grounded: bool = False
    format: str = "gemini"


@dataclass
class Context:
    """What a wrapper (batch line, envelope, OTLP resource) says about the call inside it."""

    where: str
    model: str | None  # --model: for items without their own
    day: dt.date | None  # --day: for items without their own time
    mode: str = "online"
    api: str | None = None
    stamp: Any = None  # a wrapper's time
    project: Any = None
    labels: Any = None
    endpoint: Any = None
    envelope_model: Any = None
    key_source: Any = None  # the item hashed for a key when the call has no id


Reader = Callable[[Any, Context], list[LoggedRequest]]
NOTHING = token_bucket(0)  # the shared empty bucket (frozen): most calls write no cache, many read none


# ---- checks shared by every reader ---------------------------------------------------------------
def count(value: Any, path: str) -> int:
    """A token count: a whole number in 0..INT32_MAX (OTLP JSON writes int64 values as strings)."""
    if type(value) is int and 0 <= value <= INT32_MAX:  # nearly every count: nothing to convert
        return value
    if value is None:
        return 0
    if isinstance(value, str) and value.isdigit() and len(value) <= 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value < 0 or value != int(value):
        raise invalid_argument(f"{path} must be a whole number of tokens, got {_short(value)}.", path)
    if value > INT32_MAX:
        raise invalid_argument(f"{path} is {_short(value)}, above Google's int32 limit {INT32_MAX}.", path)
    return int(value)


def text(value: Any, path: str, limit: int) -> str:
    """A string stored in the ledger: at most `limit` characters, no control characters (PostgreSQL refuses
    NUL; the others are never part of an id, model, project or label)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise invalid_argument(f"{path} must be a string, got {_short(value)}.", path)
    value = str(value)
    if len(value) > limit:
        raise invalid_argument(f"{path} is {len(value)} characters long; the ledger keeps at most {limit}.", path)
    if _CONTROL.search(value):
        raise invalid_argument(f"{path} contains a control character ({_short(value)}).", path)
    return value


def labels_of(value: Any, path: str = "labels") -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid_argument("labels must be an object of strings.", path)
    if len(value) > MAX_LABELS:
        raise invalid_argument(f"{path} has {len(value)} labels; at most {MAX_LABELS}.", path)
    return {text(k, f"{path} key", MAX_LABEL): text(v, f"{path}.{k}", MAX_LABEL) for k, v in value.items()}


def timestamp(value: Any, path: str = "createTime") -> dt.datetime:
    """An RFC 3339 time (nanoseconds allowed) or Unix seconds, in UTC, within the plausible range."""
    if isinstance(value, bool):
        raise invalid_argument(f"{path} {_short(value)} is not a time.", path)
    if isinstance(value, int | Decimal):
        if not 0 <= value < 10**11:
            raise invalid_argument(f"{path} {_short(value)} is not a Unix time in seconds.", path)
        created = dt.datetime.fromtimestamp(int(value), dt.UTC)
    else:
        raw = str(value)
        stamp = raw.replace("Z", "+00:00").replace("z", "+00:00")
        if "." in stamp:  # Google writes nanoseconds; Python parses microseconds
            head, _, tail = stamp.partition(".")
            digits = "".join(ch for ch in tail if ch.isdigit())
            stamp = f"{head}.{digits[:6].ljust(6, '0')}{tail[len(digits) :]}"
        try:
            created = dt.datetime.fromisoformat(stamp)
        except ValueError:
            raise invalid_argument(f"{path} {_short(value)} is not an RFC 3339 timestamp.", path) from None
        created = created.astimezone(dt.UTC) if created.tzinfo else created.replace(tzinfo=dt.UTC)
    return plausible(created, path)


def plausible(created: dt.datetime, path: str) -> dt.datetime:
    latest = dt.datetime.now(dt.UTC) + LATEST_AHEAD
    if not EARLIEST <= created <= latest:
        raise invalid_argument(
            f"{path} {created.isoformat()} is outside the plausible range {EARLIEST.date()} .. {latest.date()}.",
            path,
        )
    return created


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def model_name(value: Any, path: str) -> str:
    name = _MODEL_NAMES.get(value) if type(value) is str else None
    if name is None:
        name = text(value, path, MAX_NAME)
        for pattern, replacement in MODEL_REWRITES:
            name = pattern.sub(replacement, name)
        if len(_MODEL_NAMES) < 4096:  # a log names few models; a hostile one cannot grow this without bound
            _MODEL_NAMES[value] = name
    return name


_MODEL_NAMES: dict[str, str] = {}  # checked and rewritten model names, by the text logged


def _key(call_id: Any, ctx: Context, item: Any) -> tuple[str, str | None]:
    if call_id:
        rid = text(call_id, "responseId", MAX_ID)
        return rid, rid
    basis = ctx.key_source if ctx.key_source is not None else item
    digest = hashlib.sha256(json.dumps(basis, sort_keys=True, separators=(",", ":"), default=str).encode())
    return "sha256:" + digest.hexdigest(), None


def _finish(
    ctx: Context,
    item: Any,
    *,
    call_id: Any,
    model: Any,
    stamp: Any,
    usage: RequestUsage,
    fmt: str,
    mode: str | None = None,
    **extra: Any,
) -> LoggedRequest:
    name = model or ctx.envelope_model or ctx.model
    if not name:
        raise invalid_argument("no model on the line; give the model (--model).", "modelVersion")
    stamp = stamp or ctx.stamp
    if stamp:
        created = timestamp(stamp)
    elif ctx.day is not None:
        created = dt.datetime(ctx.day.year, ctx.day.month, ctx.day.day, tzinfo=dt.UTC)
    else:
        raise invalid_argument(
            "no createTime: the day decides the rates in force (give --day for logs without it).", "createTime"
        )
    endpoint = ctx.endpoint
    if endpoint not in (None, "global", "regional"):
        raise invalid_argument(f"endpoint must be global or regional, got {_short(endpoint)}.", "endpoint")
    key, response_id = _key(call_id, ctx, item)
    return LoggedRequest(
        key=key,
        response_id=response_id,
        model=model_name(name, "model"),
        created=created,
        mode=mode or ctx.mode,
        usage=usage,
        source=ctx.where,
        api=ctx.api,
        endpoint=endpoint,
        project=text(ctx.project, "project", MAX_NAME) if ctx.project else None,
        labels=labels_of(ctx.labels),
        format=fmt,
        **extra,
    )


# ---- Gemini / Vertex generateContent (and its stream chunks) -------------------------------------
def _by_modality(details: Any, path: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, entry in enumerate(details or []):
        if not isinstance(entry, dict):
            raise invalid_argument(f"{path}[{i}] must be an object.", path)
        modality = _modality(entry.get("modality", "TEXT"), f"{path}[{i}].modality")
        out[modality] = out.get(modality, 0) + count(entry.get("tokenCount"), f"{path}[{i}].tokenCount")
    return out


def _modality(value: Any, path: str) -> str:
    """A details entry's modality by name (any case) or proto number; null is proto3's default. An unknown one
    is refused: its tokens would otherwise be billed as nothing."""
    if value is None:
        return "MODALITY_UNSPECIFIED"
    name = MODALITY_NUMBERS.get(value) if type(value) is int else value.upper() if isinstance(value, str) else None
    if name not in MODALITIES:
        raise invalid_argument(f"unknown modality {_short(value)}.", path)
    return name


def traffic_mode(usage: dict[str, Any]) -> str | None:
    """The billing mode usageMetadata.trafficType names (by name or proto number): None for on-demand."""
    traffic = usage.get("trafficType")
    if type(traffic) is int:
        traffic = TRAFFIC_NUMBERS.get(traffic, traffic)
    if not isinstance(traffic, str | None) or traffic not in TRAFFIC_MODES:
        raise invalid_argument(
            f"unknown usageMetadata.trafficType {_short(usage.get('trafficType'))}.", "usageMetadata.trafficType"
        )
    return TRAFFIC_MODES[traffic]


def _quantities(by_modality: dict[str, int]) -> Quantities:
    if len(by_modality) == 1 and "TEXT" in by_modality:  # most lines: text only
        return token_bucket(by_modality["TEXT"])
    tokens = by_modality.get("TEXT", 0) + by_modality.get("DOCUMENT", 0) + by_modality.get("MODALITY_UNSPECIFIED", 0)
    return Quantities(
        tokens=tokens,
        image_tokens=by_modality.get("IMAGE", 0),
        video_tokens=by_modality.get("VIDEO", 0),
        audio_tokens=by_modality.get("AUDIO", 0),
    )


_DETAILS = ("promptTokensDetails", "cacheTokensDetails", "toolUsePromptTokensDetails", "candidatesTokensDetails")
_DETAIL_KEYS = frozenset(_DETAILS)


def usage_from_metadata(meta: dict[str, Any]) -> RequestUsage:
    """usageMetadata -> what is billed: the prompt net of cache hits, cache hits, tool-use prompt, output, thoughts.

    promptTokenCount includes cachedContentTokenCount (explicit and implicit cache hits alike, Google's docs),
    so the fresh input is the difference, per modality when the details are given.
    """
    prompt = count(meta.get("promptTokenCount"), "usageMetadata.promptTokenCount")
    cached = count(meta.get("cachedContentTokenCount"), "usageMetadata.cachedContentTokenCount")
    tool = count(meta.get("toolUsePromptTokenCount"), "usageMetadata.toolUsePromptTokenCount")
    output = count(meta.get("candidatesTokenCount"), "usageMetadata.candidatesTokenCount")
    thoughts = count(meta.get("thoughtsTokenCount"), "usageMetadata.thoughtsTokenCount")
    count(meta.get("totalTokenCount"), "usageMetadata.totalTokenCount")
    if cached > prompt:
        raise invalid_argument(
            f"cachedContentTokenCount ({cached}) exceeds promptTokenCount ({prompt}).", "usageMetadata"
        )
    # no split by modality (most lines name no details at all): all text, as the rule below says
    if _DETAIL_KEYS.isdisjoint(meta) or not any(meta.get(name) for name in _DETAILS):
        return token_request(
            prompt - cached + tool, cached, output, thinking_tokens=thoughts, prompt_tokens=prompt + tool
        )
    prompt_details = _by_modality(meta.get("promptTokensDetails"), "usageMetadata.promptTokensDetails")
    cache_details = _by_modality(meta.get("cacheTokensDetails"), "usageMetadata.cacheTokensDetails")
    tool_details = _by_modality(meta.get("toolUsePromptTokensDetails"), "usageMetadata.toolUsePromptTokensDetails")
    output_details = _by_modality(meta.get("candidatesTokensDetails"), "usageMetadata.candidatesTokensDetails")
    if not cache_details and cached:
        cache_details = {"TEXT": cached}
    if sum(prompt_details.values()) != prompt:  # no details, or details that do not add up: all as text
        prompt_details = {"TEXT": prompt}
    fresh = {m: prompt_details.get(m, 0) - cache_details.get(m, 0) for m in set(prompt_details) | set(cache_details)}
    if any(v < 0 for v in fresh.values()):  # cache details by a modality the prompt details do not show
        fresh = {"TEXT": prompt - cached}
    if not tool_details and tool:
        tool_details = {"TEXT": tool}
    for modality, amount in tool_details.items():
        fresh[modality] = fresh.get(modality, 0) + amount
    if not output_details or sum(output_details.values()) != output:
        output_details = {"TEXT": output}
    return RequestUsage(
        input=_quantities(fresh),
        cached_input=_quantities(cache_details) if cached else NOTHING,
        cache_write=NOTHING,
        output=_quantities(output_details),
        thinking_tokens=thoughts,
        prompt_tokens=prompt + tool,
    )


def _gemini(item: Any, ctx: Context) -> list[LoggedRequest]:
    """One response (a dict with usageMetadata): the stream reader's rules, read without its chunk walks."""
    usage = item["usageMetadata"]
    if not isinstance(usage, dict):
        raise invalid_argument("no usageMetadata: only answered requests can be billed.", "usageMetadata")
    mode = traffic_mode(usage)
    queries, grounded, maps = grounding_of([item]) if item.get("candidates") else (0, False, False)
    return [
        _finish(
            ctx,
            item,
            call_id=item.get("responseId") or None,
            model=item.get("modelVersion") or None,
            stamp=item.get("createTime") or None,
            usage=usage_from_metadata(usage),
            fmt="gemini",
            mode=mode,
            grounding_queries=queries,
            grounded=grounded,
            maps_grounded=maps,
        )
    ]


def grounding_of(chunks: list[dict[str, Any]]) -> tuple[int, bool, bool]:
    """(web search queries, grounded with Google Search, grounded with Google Maps) from the candidates."""
    candidates = [cand for c in chunks for cand in c.get("candidates") or [] if isinstance(cand, dict)]
    grounding = [cand["groundingMetadata"] for cand in candidates if isinstance(cand.get("groundingMetadata"), dict)]
    queries = len({q for g in grounding for q in g.get("webSearchQueries") or [] if isinstance(q, str)})
    found = [ch for g in grounding for ch in g.get("groundingChunks") or [] if isinstance(ch, dict)]
    grounded = bool(queries) or any("web" in ch for ch in found)
    maps = any("maps" in ch for ch in found) or any(bool(g.get("googleMapsWidgetContextToken")) for g in grounding)
    return queries, grounded, maps


def _gemini_stream(items: list[Any], ctx: Context) -> list[LoggedRequest]:
    """A stream's chunks share one responseId; a list of responses with different ids (a compact JSON array
    log on one line) is each its own call."""
    ids = {c.get("responseId") for c in items if isinstance(c, dict) and c.get("responseId")}
    if len(ids) > 1:
        return [_gemini_call([c], c, _top(c, ctx) if isinstance(c, dict) else ctx) for c in items]
    return [_gemini_call(items, items, ctx)]


def _gemini_call(chunks: list[Any], item: Any, ctx: Context) -> LoggedRequest:
    """One call from its response or its stream's chunks: the last usageMetadata is the call's (each
    chunk's usage is cumulative), ids, model and time from whichever chunk has them."""
    if not all(isinstance(c, dict) for c in chunks):
        raise invalid_argument("a stream must be a list of response objects.")
    usage = next((c["usageMetadata"] for c in reversed(chunks) if isinstance(c.get("usageMetadata"), dict)), None)
    if usage is None:
        raise invalid_argument("no usageMetadata: only answered requests can be billed.", "usageMetadata")
    mode = traffic_mode(usage)

    def first(name: str) -> Any:
        return next((c[name] for c in chunks if c.get(name)), None)

    queries, grounded, maps = grounding_of(chunks)
    return _finish(
        ctx,
        item,
        call_id=first("responseId"),
        model=first("modelVersion"),
        stamp=first("createTime"),
        usage=usage_from_metadata(usage),
        fmt="gemini",
        mode=mode,
        grounding_queries=queries,
        grounded=grounded,
        maps_grounded=maps,
    )


# ---- Anthropic Messages (Vertex rawPredict / streamRawPredict) ----------------------------------
def _anthropic(item: Any, ctx: Context) -> list[LoggedRequest]:
    return [_anthropic_call(item, item.get("usage"), item, ctx)]


def _anthropic_stream(items: list[Any], ctx: Context) -> list[LoggedRequest]:
    """streamRawPredict events: message_start carries the message and the input usage, message_delta the
    cumulative output usage; later values win."""
    start = next((e.get("message") for e in items if isinstance(e, dict) and e.get("type") == "message_start"), None)
    if not isinstance(start, dict):
        raise invalid_argument("an Anthropic stream needs its message_start event.", "message_start")
    usage: dict[str, Any] = dict(start.get("usage") or {})
    for event in items:
        if isinstance(event, dict) and event.get("type") == "message_delta" and isinstance(event.get("usage"), dict):
            usage.update({k: v for k, v in event["usage"].items() if v is not None})
    return [_anthropic_call(start, usage, items, ctx)]


def _anthropic_call(message: dict[str, Any], usage: Any, item: Any, ctx: Context) -> LoggedRequest:
    if not isinstance(usage, dict):
        raise invalid_argument("no usage on the Anthropic message.", "usage")
    fresh = count(usage.get("input_tokens"), "usage.input_tokens")
    read = count(usage.get("cache_read_input_tokens"), "usage.cache_read_input_tokens")
    written = count(usage.get("cache_creation_input_tokens"), "usage.cache_creation_input_tokens")
    output = count(usage.get("output_tokens"), "usage.output_tokens")
    split = usage.get("cache_creation")
    if isinstance(split, dict) and count(split.get("ephemeral_1h_input_tokens"), "usage.cache_creation"):
        raise invalid_argument(
            "1-hour cache writes are billed at twice the input rate, and the catalogue has "
            "only the 5-minute cache-write rate.",
            "usage.cache_creation",
        )
    tools = usage.get("server_tool_use")
    if isinstance(tools, dict) and count(tools.get("web_search_requests"), "usage.server_tool_use"):
        raise invalid_argument("Claude web search requests have no price in the catalogue.", "usage.server_tool_use")
    requested = RequestUsage(
        input=Quantities(tokens=fresh),
        cached_input=Quantities(tokens=read),
        cache_write=Quantities(tokens=written),
        output=Quantities(tokens=output),
        prompt_tokens=fresh + read + written,
    )
    return _finish(
        ctx, item, call_id=message.get("id"), model=message.get("model"), stamp=None, usage=requested, fmt="anthropic"
    )


# ---- OpenAI chat completions (Vertex's OpenAI-compatible endpoint, MaaS partners) ---------------
def _openai(item: Any, ctx: Context) -> list[LoggedRequest]:
    return [_openai_call(item, item.get("usage"), item, ctx)]


def _openai_stream(items: list[Any], ctx: Context) -> list[LoggedRequest]:
    usage = next(
        (c["usage"] for c in reversed(items) if isinstance(c, dict) and isinstance(c.get("usage"), dict)), None
    )
    if usage is None:
        raise invalid_argument("the stream has no usage chunk (stream_options.include_usage).", "usage")
    first = next(c for c in items if isinstance(c, dict))
    return [_openai_call(first, usage, items, ctx)]


def _openai_call(message: dict[str, Any], usage: Any, item: Any, ctx: Context) -> LoggedRequest:
    """prompt_tokens includes cached_tokens and completion_tokens includes reasoning_tokens (OpenAI's
    definitions): fresh input is the difference; reasoning is billed as thinking (the output rate)."""
    if not isinstance(usage, dict):
        raise invalid_argument("no usage on the chat completion.", "usage")
    prompt = count(usage.get("prompt_tokens"), "usage.prompt_tokens")
    completion = count(usage.get("completion_tokens"), "usage.completion_tokens")
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    if not isinstance(prompt_details, dict) or not isinstance(completion_details, dict):
        raise invalid_argument("usage details must be objects.", "usage")
    cached = count(prompt_details.get("cached_tokens"), "usage.prompt_tokens_details.cached_tokens")
    reasoning = count(completion_details.get("reasoning_tokens"), "usage.completion_tokens_details.reasoning_tokens")
    if cached > prompt or reasoning > completion:
        raise invalid_argument("cached_tokens / reasoning_tokens exceed the totals they are part of.", "usage")
    requested = RequestUsage(
        input=Quantities(tokens=prompt - cached),
        cached_input=Quantities(tokens=cached),
        output=Quantities(tokens=completion - reasoning),
        thinking_tokens=reasoning,
        prompt_tokens=prompt,
    )
    return _finish(
        ctx,
        item,
        call_id=message.get("id"),
        model=message.get("model"),
        stamp=message.get("created"),
        usage=requested,
        fmt="openai",
    )


# ---- OpenTelemetry GenAI spans (OTLP JSON) -------------------------------------------------------
def _otlp_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return None
    for kind in ("stringValue", "intValue", "boolValue"):
        if kind in value:
            return value[kind]
    return None


def _attributes(entries: Any) -> dict[str, Any]:
    if not isinstance(entries, list):
        return {}
    return {
        e["key"]: _otlp_value(e.get("value")) for e in entries if isinstance(e, dict) and isinstance(e.get("key"), str)
    }


def _pick(attrs: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((attrs[n] for n in names if attrs.get(n) is not None), None)


def _otlp(item: Any, ctx: Context) -> list[LoggedRequest]:
    """Every span with gen_ai.usage.* attributes is one call; other spans (HTTP, tools, agents) are not billed.
    gen_ai.usage.input_tokens includes cache reads and writes (the semantic conventions say SHOULD)."""
    out: list[LoggedRequest] = []
    for r_index, resource in enumerate(item.get("resourceSpans") or []):
        if not isinstance(resource, dict):
            raise invalid_argument(f"resourceSpans[{r_index}] must be an object.", "resourceSpans")
        resource_attrs = _attributes((resource.get("resource") or {}).get("attributes"))
        for scope in resource.get("scopeSpans") or []:
            for span in (scope or {}).get("spans") or []:
                if not isinstance(span, dict):
                    raise invalid_argument("a span must be an object.", "spans")
                attrs = _attributes(span.get("attributes"))
                if _pick(attrs, OTEL_INPUT) is None and _pick(attrs, OTEL_OUTPUT) is None:
                    continue
                total_in = count(_pick(attrs, OTEL_INPUT), "gen_ai.usage.input_tokens")
                read = count(_pick(attrs, OTEL_CACHE_READ), "gen_ai.usage.cache_read.input_tokens")
                written = count(_pick(attrs, OTEL_CACHE_WRITE), "gen_ai.usage.cache_creation.input_tokens")
                output = count(_pick(attrs, OTEL_OUTPUT), "gen_ai.usage.output_tokens")
                if read + written > total_in:
                    raise invalid_argument("cache tokens exceed gen_ai.usage.input_tokens.", "gen_ai.usage")
                usage = RequestUsage(
                    input=Quantities(tokens=total_in - read - written),
                    cached_input=Quantities(tokens=read),
                    cache_write=Quantities(tokens=written),
                    output=Quantities(tokens=output),
                    prompt_tokens=total_in,
                )
                provider = attrs.get("gen_ai.provider.name") or attrs.get("gen_ai.system")
                nanos = count_nanos(span.get("startTimeUnixNano"))
                span_ctx = Context(
                    where=ctx.where,
                    model=ctx.model,
                    day=ctx.day,
                    mode=ctx.mode,
                    api=GEMINI if provider in OTEL_GEMINI_API else ctx.api,
                    project=_pick(resource_attrs, OTEL_PROJECT) or ctx.project,
                    labels=ctx.labels,
                    endpoint=ctx.endpoint,
                    key_source={"traceId": span.get("traceId"), "spanId": span.get("spanId")},
                )
                out.append(
                    _finish(
                        span_ctx,
                        span,
                        call_id=attrs.get("gen_ai.response.id"),
                        model=attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model"),
                        stamp=None if nanos is None else _from_nanos(nanos),
                        usage=usage,
                        fmt="otel",
                    )
                )
    return out


def count_nanos(value: Any) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, str) and value.isdigit() and len(value) <= 20:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise invalid_argument(f"startTimeUnixNano {_short(value)} is not a time in nanoseconds.", "startTimeUnixNano")


def _from_nanos(nanos: int) -> str:
    if nanos >= 10**19:
        raise invalid_argument("startTimeUnixNano is beyond any plausible time.", "startTimeUnixNano")
    return dt.datetime.fromtimestamp(nanos // 10**9, dt.UTC).isoformat()


# ---- wrappers: batch prediction output, request+response envelopes ------------------------------
def _is_batch(item: dict[str, Any]) -> bool:
    """Vertex batch output lines carry `status` / `processed_time` (Claude batches a `custom_id`); Gemini API
    batch results are `{key, response}`."""
    if "response" not in item:
        return False
    return any(k in item for k in ("status", "processed_time", "custom_id")) or (
        "key" in item and "request" not in item
    )


def _batch(item: Any, ctx: Context) -> list[LoggedRequest]:
    if item.get("status"):  # Vertex: a failed line carries status and no billed usage
        raise invalid_argument(f"the batch line failed ({_short(item['status'])}) and has no usage to bill.")
    gemini_api = "key" in item and "request" not in item
    api = GEMINI if gemini_api else ctx.api
    return response(item["response"], _wrapped(item, ctx, "batch", api, item.get("processed_time")))


def _envelope(item: Any, ctx: Context) -> list[LoggedRequest]:
    """`{request, response, time?, project?, labels?, model?, mode?, location?}`: a gateway's or an app's own
    log of one call; online unless it says `mode`."""
    mode = item.get("mode", "online")
    if mode not in ("online", "batch", "flex", "priority"):
        raise invalid_argument(f"mode must be online, batch, flex or priority, got {_short(mode)}.", "mode")
    stamp = item.get("time") or item.get("timestamp") or item.get("createTime")
    return response(item["response"], _wrapped(item, ctx, mode, ctx.api, stamp))


def _wrapped(item: dict[str, Any], ctx: Context, mode: str, api: str | None, stamp: Any) -> Context:
    """The context of the response a wrapper (batch output line, envelope) holds: its own project, labels,
    endpoint and model where it states them."""
    found = item.get("request")
    request: dict[str, Any] = found if isinstance(found, dict) else {}
    return Context(
        where=ctx.where,
        model=ctx.model,
        day=ctx.day,
        mode=mode,
        api=api,
        stamp=stamp,
        project=item.get("project"),
        labels=request.get("labels") or item.get("labels"),
        endpoint=_endpoint(item),
        envelope_model=item.get("model") or request.get("model"),
        key_source=item,
    )


def _endpoint(item: dict[str, Any]) -> Any:
    endpoint = item.get("endpoint")
    if endpoint is None and item.get("location"):  # our own field: where the call was served
        endpoint = "global" if item["location"] == "global" else "regional"
    return endpoint


def _top(item: Any, ctx: Context) -> Context:
    """A bare response line: our own optional fields on it."""
    return Context(
        where=ctx.where,
        model=ctx.model,
        day=ctx.day,
        api=ctx.api,
        project=item.get("project"),
        labels=item.get("labels"),
        endpoint=_endpoint(item),
        envelope_model=item.get("model"),
        stamp=item.get("createTime") if "usageMetadata" not in item else None,
    )


def _is_anthropic(item: dict[str, Any]) -> bool:
    return item.get("type") == "message" and "usage" in item


def _is_openai(item: dict[str, Any]) -> bool:
    return str(item.get("object", "")).startswith("chat.completion") and "usage" in item


# The recognisers: (name, test, reader), tried in order; the first whose test holds reads the item.
RESPONSES: tuple[tuple[str, Callable[[dict[str, Any]], bool], Reader], ...] = (
    # a chat.completion.chunk logged on its own line, before the usage chunk: part of a call, billed by that chunk
    ("openai-chunk", lambda d: d.get("object") == "chat.completion.chunk" and not d.get("usage"), lambda d, c: []),
    ("gemini", lambda d: "usageMetadata" in d, _gemini),
    ("anthropic", _is_anthropic, _anthropic),
    ("openai", _is_openai, _openai),
)
STREAMS: tuple[
    tuple[str, Callable[[dict[str, Any]], bool], Callable[[list[Any], Context], list[LoggedRequest]]], ...
] = (
    ("anthropic-stream", lambda d: d.get("type") == "message_start", _anthropic_stream),
    ("openai-stream", lambda d: str(d.get("object", "")) == "chat.completion.chunk", _openai_stream),
    ("gemini-stream", lambda d: "candidates" in d or "usageMetadata" in d or "responseId" in d, _gemini_stream),
)
WRAPPERS: tuple[tuple[str, Callable[[dict[str, Any]], bool], Reader], ...] = (
    ("otel", lambda d: "resourceSpans" in d, _otlp),
    ("batch", _is_batch, _batch),
    ("envelope", lambda d: "response" in d and "request" in d, _envelope),
)
FORMATS = tuple(name for name, _, _ in WRAPPERS + RESPONSES) + tuple(name for name, _, _ in STREAMS)


def response(item: Any, ctx: Context) -> list[LoggedRequest]:
    """A response or a stream (a JSON array of chunks / events) -> its call."""
    if isinstance(item, list):
        head = next((c for c in item if isinstance(c, dict)), None)
        if head is not None:
            for _, test, stream_reader in STREAMS:
                if test(head):
                    return stream_reader(item, ctx)
        raise invalid_argument("a list that is not a stream of Gemini, Anthropic or OpenAI chunks.")
    if not isinstance(item, dict):
        raise invalid_argument("a response must be a JSON object.")
    for _, test, reader in RESPONSES:
        if test(item):
            return reader(item, ctx)
    raise invalid_argument(
        "no usageMetadata (nor any usage): only answered requests can be billed, from generateContent responses, "
        "Anthropic messages, OpenAI chat completions, OTLP spans, batch output lines or request/response "
        "envelopes.",
        "usageMetadata",
    )


def read_item(item: Any, where: str, *, model: str | None = None, day: dt.date | None = None) -> list[LoggedRequest]:
    """One decoded log line -> the calls it records (errors are INVALID_ARGUMENT without the place)."""
    ctx = Context(where=where, model=model, day=day)
    if isinstance(item, dict):
        for _, test, reader in WRAPPERS:
            if test(item):
                return reader(item, ctx)
        return response(item, _top(item, ctx))
    if isinstance(item, list):
        return response(item, ctx)
    raise invalid_argument("a log line must be a JSON object (or a stream's array of chunks).")
