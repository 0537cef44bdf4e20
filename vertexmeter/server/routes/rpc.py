"""One handler behind every countTokens / computeTokens / estimateCost route: auth, quota, body, count.

Credentials are checked first, then the quota (every call that gets past auth is charged, even one
that then fails validation), then the large lane's admission when the declared size says so, then
the body is read (with timeouts): a refused call costs no reading or parsing. The body's size (and
whether it names a file to read) picks the lane before any JSON is decoded; a small body whose text is
costly to encode (long runs of non-space characters) is handed from the small lane to the large one
before it is counted (docs/server.md, "Cost, not size alone"). Bodies of a few KiB are counted on the
event loop (`INLINE_BYTES`). `door.FrontDoor` calls these handlers directly, past FastAPI's routing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from vertexmeter.server.door import RPC_ATTRIBUTE
from vertexmeter.server.errors import JSON_TYPE, QUOTA_EXCEEDED, ApiError, JSONResponse, error_info
from vertexmeter.server.guard import ClientGone
from vertexmeter.server.lanes import deadline_exceeded
from vertexmeter.server.openapi import error_responses, ok_response
from vertexmeter.server.quota import retry_after_header
from vertexmeter.server.state import ServerState, server_state
from vertexmeter.server.work import SMALL_LANE_LONG_RUN_CHARS, Job, run_job
from vertexmeter.vocabulary import INTERACTIONS_USAGE

PAYLOAD_TOO_LARGE = "Request payload size exceeds the limit: {limit} bytes."
# Bodies up to this size are counted on the event loop, without a hop to a pool thread and back, which
# costs more than counting them: the worst such body measured (4 KiB of parts of one character each,
# or of one repeated character) takes ~1.3 ms; ordinary text of this size ~0.07 ms.
INLINE_BYTES = 4096


@dataclass(frozen=True)
class RouteSpec:
    """What a route template means: which API and version, which RPC, how to name the model."""

    api: str  # vertex | gemini
    version: str  # v1 | v1beta1 | v1beta
    rpc: str  # countTokens | computeTokens | estimateCost | usageMetadata | interactionsUsage
    form: str  # projects_models | projects_endpoints | publishers_models | endpoints | models | interactions


def resource_name(spec: RouteSpec, params: dict[str, str]) -> tuple[str | None, str]:
    """(model resource name or None for endpoint paths and Interactions bodies, endpoint resource name)."""
    p = params
    if spec.form == "interactions":  # the model is the body's `model`, as Google's Interactions API takes it
        return None, ""
    if spec.form == "projects_models":
        return f"projects/{p['project']}/locations/{p['location']}/publishers/{p['publisher']}/models/{p['model']}", ""
    if spec.form == "publishers_models":
        return f"publishers/{p['publisher']}/models/{p['model']}", ""
    if spec.form == "models":
        return f"models/{p['model']}", ""
    if spec.form == "projects_endpoints":
        return None, f"projects/{p['project']}/locations/{p['location']}/endpoints/{p['endpoint']}"
    return None, f"endpoints/{p['endpoint']}"


def charge_quota(state: ServerState, request: Request, key_id: str | None, units: int = 1) -> None:
    """Charge the caller's budget `units` requests: its API key when keys are configured, else its address.

    Project names in the path are the caller's to choose, so they never decide whose budget is spent.
    """
    if not state.quota.enabled:  # (off by default: no budget name to work out)
        return
    wait = state.quota.acquire([caller_budget(request, key_id)], units=units)
    if wait is not None:
        state.metrics.rejections.inc()
        raise ApiError(
            429,
            "RESOURCE_EXHAUSTED",
            QUOTA_EXCEEDED,
            [error_info("RATE_LIMIT_EXCEEDED", "aiplatform.googleapis.com", quota_limit_value=str(state.quota.limit))],
            headers={"Retry-After": retry_after_header(wait)},
        )


def caller_budget(request: Request, key_id: str | None) -> str:
    if key_id:
        return f"key:{key_id}"
    client = request.scope.get("client")
    return f"client:{client_network(client[0])}" if client else "client:unknown"


def client_network(host: str) -> str:
    """The address a budget is kept for: an IPv4 address, or the /64 of an IPv6 one (one host's share)."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def charge_lines(state: ServerState, request: Request, key_id: str | None, lines: int) -> None:
    """Charge a batch upload's request lines to the caller's budget, as that many RPCs (429 when they do
    not fit; a batch larger than the whole per-minute budget can never run here, and says so)."""
    quota = state.quota
    if not quota.enabled or lines <= 0:
        return
    if lines > quota.limit:
        state.metrics.rejections.inc()
        raise ApiError(
            429,
            "RESOURCE_EXHAUSTED",
            f"Resource exhausted: this batch holds {lines:,} requests and this server admits {quota.limit:,} "
            "requests per minute (quota_rpm). Split the file, or run `vertexmeter batch` on it.",
            [error_info("RATE_LIMIT_EXCEEDED", "aiplatform.googleapis.com", quota_limit_value=str(quota.limit))],
        )
    charge_quota(state, request, key_id, units=lines)


async def read_body(request: Request, limit: int, timeout: float, idle_timeout: float) -> bytes:
    """The whole body, refused with 413 as soon as it is known to exceed `limit` bytes, and with 408 when
    it takes longer than `timeout` or stalls for `idle_timeout`. A client that hangs up is `ClientGone`."""
    chunks: list[bytes] = []
    await receive_body(request, limit, timeout, idle_timeout, chunks.append)
    return b"".join(chunks)


async def receive_body(
    request: Request, limit: int, timeout: float, idle_timeout: float, sink: Callable[[bytes], object]
) -> int:
    """`read_body`, handing each piece to `sink` as it arrives (a file, for uploads); returns the size."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid Content-Length header.")
        if int(declared) > limit:
            raise _too_large(limit)
    size = 0
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    receive = request.receive
    more = True
    try:
        # One timer for the whole body, moved on at each piece (a task per piece, as `wait_for` makes,
        # costs more than reading a small body).
        async with asyncio.timeout(None) as timer:
            while more:
                timer.reschedule(min(loop.time() + idle_timeout, give_up))
                message = await receive()
                if message["type"] != "http.request":  # http.disconnect: the client hung up
                    raise ClientGone
                chunk = message.get("body", b"")
                more = message.get("more_body", False)
                if chunk:
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(limit)
                    sink(chunk)
    except TimeoutError:
        raise _body_late(timeout if loop.time() >= give_up else idle_timeout) from None
    return size


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "INVALID_ARGUMENT", PAYLOAD_TOO_LARGE.format(limit=limit))


def _body_late(seconds: float) -> ApiError:
    return ApiError(
        408,
        "DEADLINE_EXCEEDED",
        f"The request body was not received in time ({seconds:g} s).",
        headers={"Connection": "close"},
    )


# A JSON escape of an ASCII letter, `_` or `/` (`"file\u0055ri"`): no JSON writer escapes those (Go's escapes `<`,
# `>`, `&`), so a body holding one may be hiding a name from the byte checks below. DEL (`\u007f`) is left out:
# Python's `json.dumps` escapes it, and it hides no name.
_ESCAPED_LETTER = re.compile(rb"\\u00(?:[4-6][0-9A-Fa-f]|7[0-9A-Ea-e]|2[Ff])")


# Bodies that name a file to read (local mirror, GCS, HTTPS), or hold a PDF (pypdf is pure Python and
# a small PDF can expand), can cost far more than their size: they run in the large lane. An Interactions
# body names its files by `uri` (an image, audio, video or document item).
def is_large(raw: bytes, threshold: int, rpc: str = "") -> bool:
    # `in` on bytes is a fast substring search (a regex alternation is not, nor is a generator cheap); the regex
    # runs only on a body with a `\u00` escape (control characters, Latin-1 letters; rare)
    return (
        len(raw) > threshold
        or b"fileUri" in raw
        or b"file_uri" in raw
        or b"gcsUri" in raw
        or b"gcs_uri" in raw
        or b"application/pdf" in raw
        or b"application\\/pdf" in raw
        or (rpc == INTERACTIONS_USAGE and b'"uri"' in raw)
        or (b"\\u00" in raw and _ESCAPED_LETTER.search(raw) is not None)
    )


def rpc_handler(spec: RouteSpec) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        state = server_state(request)
        config = state.config
        loop = asyncio.get_running_loop()
        deadline = loop.time() + config.request_deadline
        caller = state.keys.check(request)
        charge_quota(state, request, caller.key_id)
        declared = request.headers.get("content-length", "")
        admitted_large = declared.isdigit() and int(declared) > config.large_request_bytes
        if admitted_large:  # refused before a byte of the body is read
            state.large.admit()
        try:
            raw = await read_body(request, config.max_body_bytes, config.body_timeout, config.body_idle_timeout)
            large = admitted_large or is_large(raw, config.large_request_bytes, spec.rpc)
            if large and not admitted_large:
                state.large.admit()
                admitted_large = True
            model, endpoint = resource_name(spec, request.path_params)
            job = Job(
                rpc=spec.rpc,
                api=spec.api,
                api_version=spec.version,
                body=raw,
                model=model,
                endpoint=endpoint,
                media_options=state.media,
                max_text_chars=config.max_text_chars,
                max_long_run_chars=0 if large else SMALL_LANE_LONG_RUN_CHARS,
            )
            del raw
            if not large and len(job.body) <= INLINE_BYTES:
                outcome = run_job(job)
            elif not large:
                try:
                    outcome = await state.until_stopped(
                        asyncio.wait_for(state.pool.run(job), max(0.0, deadline - loop.time()))
                    )
                except TimeoutError:
                    raise deadline_exceeded(config.request_deadline) from None
                if outcome.too_costly:  # small in bytes, costly in work: the large lane, or 503 when full
                    state.large.admit()
                    admitted_large = large = True
                    job = dataclasses.replace(job, max_long_run_chars=0)
            if large:
                outcome = await state.until_stopped(state.large.run(job, deadline, config.request_deadline))
        finally:
            if admitted_large:
                state.large.release()
        if outcome.model_id:
            request.state.model = outcome.model_id
            state.metrics.count_tokens(spec.rpc, outcome.model_id, outcome.tokens)
        if outcome.rendered is not None:
            return Response(outcome.rendered, status_code=outcome.code, media_type=JSON_TYPE)
        return JSONResponse(outcome.body, status_code=outcome.code)

    setattr(handle, RPC_ATTRIBUTE, spec)  # door.FrontDoor serves the routes of handlers so marked
    return handle


def add_rpc_route(
    router: APIRouter, spec: RouteSpec, path: str, summary: str, ok: tuple[str, str], openapi_extra: dict[str, Any]
) -> None:
    """Register `rpc_handler(spec)` at `path` (POST), documented with its 200 schema and every refusal."""
    router.add_api_route(
        path,
        rpc_handler(spec),
        methods=["POST"],
        name=f"{spec.api}.{spec.version}.{spec.form}.{spec.rpc}",
        operation_id=f"{spec.api}_{spec.version}_{spec.form}_{spec.rpc}",
        summary=f"{summary} — {spec.version}",
        response_class=JSONResponse,
        responses={**ok_response(*ok), **error_responses()},
        openapi_extra=openapi_extra,
    )
