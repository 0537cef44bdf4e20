"""Usage logs -> one `LoggedRequest` per billed call.

Reads JSONL (or a JSON array) of:
- generateContent responses (`GenerateContentResponse`: usageMetadata, modelVersion, responseId, createTime);
- Vertex batch-prediction output lines `{"request": {...}, "response": {...}, "processed_time"?, "status"?}`;
- Gemini API batch results `{"key": "...", "response": {...}}`.
A line may carry our own `project` and `labels` (Vertex batch lines: `request.labels`) for the breakdowns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.pricing.usage import Quantities, RequestUsage

MAX_LINE_BYTES = 32 * 1024 * 1024  # a response with inline images stays far below; bound heavy input first
# usageMetadata.trafficType -> billing mode. Provisioned Throughput is paid by subscription, not per call.
TRAFFIC_MODES = {
    None: None, "TRAFFIC_TYPE_UNSPECIFIED": None, "ON_DEMAND": None,
    "ON_DEMAND_FLEX": "flex", "FLEX": "flex", "ON_DEMAND_PRIORITY": "priority", "PRIORITY": "priority",
    "PROVISIONED_THROUGHPUT": "provisioned",
}


@dataclass(frozen=True)
class LoggedRequest:
    key: str  # responseId, else a hash of the line's canonical JSON
    response_id: str | None
    model: str
    created: dt.datetime
    mode: str  # online | batch | flex | priority | provisioned
    usage: RequestUsage
    source: str  # file:line
    project: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    platform: str | None = None  # gemini_api for Gemini API batch results; None: the caller's choice
    endpoint: str | None = None  # global | regional (a line's `endpoint` or `location`); None: the caller's
    grounding_queries: int = 0  # web search queries the answer ran
    grounded: bool = False  # the answer was grounded with Google Search
    maps_grounded: bool = False


def read_logs(
    paths: list[str], *, model: str | None = None, date: dt.date | None = None
) -> Iterator[LoggedRequest]:
    for path in paths:
        yield from read_log(path, model=model, date=date)


def read_log(path: str, *, model: str | None = None, date: dt.date | None = None) -> Iterator[LoggedRequest]:
    file = Path(path)
    try:
        handle = file.open("rb")
    except OSError as exc:
        raise invalid_argument(f"Cannot read usage log {path!r}: {exc.strerror}.", "logs") from None
    with handle:
        head = handle.read(1)
        while head in (b" ", b"\n", b"\r", b"\t"):
            head = handle.read(1)
        handle.seek(0)
        if head == b"[":  # one JSON array
            text = handle.read(MAX_LINE_BYTES + 1)
            if len(text) > MAX_LINE_BYTES:
                raise invalid_argument(f"{path}: a JSON array log is limited to {MAX_LINE_BYTES} bytes; use JSONL.")
            items = _loads(text, f"{path}")
            if not isinstance(items, list):
                raise invalid_argument(f"{path}: expected a JSON array of responses.", "logs")
            for number, item in enumerate(items, 1):
                yield parse_line(item, f"{path}[{number - 1}]", model=model, date=date)
            return
        for number, raw in enumerate(handle, 1):
            if len(raw) > MAX_LINE_BYTES:
                raise invalid_argument(f"{path}:{number}: line longer than {MAX_LINE_BYTES} bytes.", "logs")
            if not raw.strip():
                continue
            yield parse_line(_loads(raw, f"{path}:{number}"), f"{path}:{number}", model=model, date=date)


def _loads(raw: bytes, where: str) -> Any:
    try:
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_argument(f"{where}: not valid JSON ({exc}).", "logs") from None


def parse_line(
    item: Any, where: str, *, model: str | None = None, date: dt.date | None = None
) -> LoggedRequest:
    """One log item -> a LoggedRequest; errors name the file and line. `model` / `date` fill in lines
    without modelVersion / createTime (the Gemini API's responses carry no createTime)."""
    try:
        return _parse(item, where, model, date)
    except VertexMeterError as exc:
        if exc.message.startswith(where):
            raise
        raise VertexMeterError(exc.status, f"{where}: {exc.message}", exc.violations) from None


def _parse(item: Any, where: str, model: str | None, date: dt.date | None) -> LoggedRequest:
    if not isinstance(item, dict):
        raise invalid_argument("a log line must be a JSON object.")
    mode = "online"
    platform = None
    request: dict[str, Any] = {}
    response = item
    if "response" in item and isinstance(item["response"], dict):  # a batch output line
        mode, response = "batch", item["response"]
        given = item.get("request")
        request = given if isinstance(given, dict) else {}
        if item.get("status"):  # Vertex: a failed line carries status and no billed usage
            raise invalid_argument(f"the batch line failed ({item['status']}) and has no usage to bill.")
        if "key" in item and "request" not in item:  # Gemini API batch results: {key, response}
            platform = "gemini_api"
    usage = response.get("usageMetadata")
    if not isinstance(usage, dict):
        raise invalid_argument("no usageMetadata: only answered requests can be billed.", "usageMetadata")
    traffic = usage.get("trafficType")
    if traffic not in TRAFFIC_MODES:
        raise invalid_argument(f"unknown usageMetadata.trafficType {traffic!r}.", "usageMetadata.trafficType")
    if TRAFFIC_MODES[traffic]:
        mode = str(TRAFFIC_MODES[traffic])
    name = response.get("modelVersion") or item.get("model") or request.get("model") or model
    if not name:
        raise invalid_argument("no modelVersion on the response; give the model (--model).", "modelVersion")
    stamp = response.get("createTime") or item.get("createTime") or item.get("processed_time")
    if not stamp and date is not None:
        created = dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC)
    else:
        created = _created(stamp)
    endpoint = item.get("endpoint")
    if endpoint is None and item.get("location"):  # our own field: where the call was served
        endpoint = "global" if item["location"] == "global" else "regional"
    if endpoint not in (None, "global", "regional"):
        raise invalid_argument(f"endpoint must be global or regional, got {endpoint!r}.", "endpoint")
    response_id = response.get("responseId")
    key = str(response_id) if response_id else "sha256:" + hashlib.sha256(
        json.dumps(item, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()
    labels = request.get("labels") or item.get("labels") or {}
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise invalid_argument("labels must be an object of strings.", "labels")
    candidates = [c for c in response.get("candidates") or [] if isinstance(c, dict)]
    grounding: list[dict[str, Any]] = [
        c["groundingMetadata"] for c in candidates if isinstance(c.get("groundingMetadata"), dict)
    ]
    queries = sum(len(g.get("webSearchQueries") or []) for g in grounding)
    chunks = [ch for g in grounding for ch in g.get("groundingChunks") or [] if isinstance(ch, dict)]
    grounded = bool(queries) or any("web" in ch for ch in chunks)
    maps = any("maps" in ch for ch in chunks) or any(bool(g.get("googleMapsWidgetContextToken")) for g in grounding)
    return LoggedRequest(
        key=key, response_id=str(response_id) if response_id else None, model=str(name), created=created,
        mode=mode, usage=usage_from_metadata(usage), source=where, platform=platform, endpoint=endpoint,
        project=str(item["project"]) if item.get("project") else None, labels=dict(labels),
        grounding_queries=queries, grounded=grounded, maps_grounded=maps,
    )


def _created(value: Any) -> dt.datetime:
    if not value:
        raise invalid_argument(
            "no createTime: the day decides the rates in force (give --date for logs without it).", "createTime"
        )
    text = str(value).replace("Z", "+00:00")
    if "." in text:  # Google writes nanoseconds; Python parses microseconds
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        text = f"{head}.{digits[:6].ljust(6, '0')}{tail[len(digits):]}"
    try:
        created = dt.datetime.fromisoformat(text)
    except ValueError:
        raise invalid_argument(f"createTime {value!r} is not an RFC 3339 timestamp.", "createTime") from None
    return created.astimezone(dt.UTC) if created.tzinfo else created.replace(tzinfo=dt.UTC)


def _count(value: Any, path: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value < 0 or value != int(value):
        raise invalid_argument(f"{path} must be a whole number of tokens, got {value!r}.", path)
    return int(value)


def _by_modality(details: Any, path: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, entry in enumerate(details or []):
        if not isinstance(entry, dict):
            raise invalid_argument(f"{path}[{i}] must be an object.", path)
        modality = str(entry.get("modality", "TEXT")).upper()
        out[modality] = out.get(modality, 0) + _count(entry.get("tokenCount"), f"{path}[{i}].tokenCount")
    return out


def _quantities(by_modality: dict[str, int]) -> Quantities:
    text = by_modality.get("TEXT", 0) + by_modality.get("DOCUMENT", 0) + by_modality.get("MODALITY_UNSPECIFIED", 0)
    return Quantities(
        tokens=text, image_tokens=by_modality.get("IMAGE", 0), video_tokens=by_modality.get("VIDEO", 0),
        audio_tokens=by_modality.get("AUDIO", 0),
    )


def usage_from_metadata(meta: dict[str, Any]) -> RequestUsage:
    """usageMetadata -> what is billed: the prompt net of cache hits, cache hits, tool-use prompt, output, thoughts.

    promptTokenCount includes cachedContentTokenCount (Google's docs), so the fresh input is the difference,
    per modality when the details are given.
    """
    prompt = _count(meta.get("promptTokenCount"), "usageMetadata.promptTokenCount")
    cached = _count(meta.get("cachedContentTokenCount"), "usageMetadata.cachedContentTokenCount")
    tool = _count(meta.get("toolUsePromptTokenCount"), "usageMetadata.toolUsePromptTokenCount")
    output = _count(meta.get("candidatesTokenCount"), "usageMetadata.candidatesTokenCount")
    thoughts = _count(meta.get("thoughtsTokenCount"), "usageMetadata.thoughtsTokenCount")
    if cached > prompt:
        raise invalid_argument(
            f"cachedContentTokenCount ({cached}) exceeds promptTokenCount ({prompt}).", "usageMetadata"
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
    for modality, count in tool_details.items():
        fresh[modality] = fresh.get(modality, 0) + count
    if not output_details or sum(output_details.values()) != output:
        output_details = {"TEXT": output}
    return RequestUsage(
        input=_quantities(fresh),
        cached_input=_quantities(cache_details) if cached else Quantities(),
        output=_quantities(output_details),
        thinking_tokens=thoughts,
        prompt_tokens=prompt + tool,
    )
