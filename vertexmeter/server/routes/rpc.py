"""One handler behind every countTokens / computeTokens / estimateCost route: auth, quota, body, count.

Credentials are checked first, then the quota (every call that gets past auth is charged, even one
that then fails validation), then the body is read: a refused call costs no reading or parsing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from vertexmeter.server.errors import QUOTA_EXCEEDED, ApiError, JSONResponse, error_info
from vertexmeter.server.openapi import error_responses, ok_response
from vertexmeter.server.quota import retry_after_header
from vertexmeter.server.state import ServerState, server_state
from vertexmeter.server.work import Job

PAYLOAD_TOO_LARGE = "Request payload size exceeds the limit: {limit} bytes."


@dataclass(frozen=True)
class RouteSpec:
    """What a route template means: which API and version, which RPC, how to name the model."""

    api: str  # vertex | gemini
    version: str  # v1 | v1beta1 | v1beta
    rpc: str  # countTokens | computeTokens | estimateCost
    form: str  # projects_models | projects_endpoints | publishers_models | endpoints | models


def resource_name(spec: RouteSpec, params: dict[str, str]) -> tuple[str | None, str]:
    """(model resource name or None for endpoint paths, endpoint resource name)."""
    p = params
    if spec.form == "projects_models":
        return f"projects/{p['project']}/locations/{p['location']}/publishers/{p['publisher']}/models/{p['model']}", ""
    if spec.form == "publishers_models":
        return f"publishers/{p['publisher']}/models/{p['model']}", ""
    if spec.form == "models":
        return f"models/{p['model']}", ""
    if spec.form == "projects_endpoints":
        return None, f"projects/{p['project']}/locations/{p['location']}/endpoints/{p['endpoint']}"
    return None, f"endpoints/{p['endpoint']}"


def charge_quota(state: ServerState, project: str | None, key_id: str | None) -> None:
    budgets = [f"project:{project}"] if project else []
    if key_id:
        budgets.append(f"key:{key_id}")
    wait = state.quota.acquire(budgets or ["anonymous"])
    if wait is not None:
        state.metrics.rejections.inc()
        raise ApiError(
            429,
            "RESOURCE_EXHAUSTED",
            QUOTA_EXCEEDED,
            [error_info("RATE_LIMIT_EXCEEDED", "aiplatform.googleapis.com", quota_limit_value=str(state.quota.limit))],
            headers={"Retry-After": retry_after_header(wait)},
        )


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    too_large = ApiError(413, "INVALID_ARGUMENT", PAYLOAD_TOO_LARGE.format(limit=limit))
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid Content-Length header.")
        if int(declared) > limit:
            raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def rpc_handler(spec: RouteSpec) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        state = server_state(request)
        caller = state.keys.check(request)
        charge_quota(state, request.path_params.get("project"), caller.key_id)
        raw = await read_body(request, state.config.max_body_bytes)
        model, endpoint = resource_name(spec, request.path_params)
        job = Job(
            rpc=spec.rpc,
            api=spec.api,
            api_version=spec.version,
            body=raw,
            model=model,
            endpoint=endpoint,
            media_options=state.media,
        )
        outcome = await state.pool.run(job)
        if outcome.model_id:
            request.state.model = outcome.model_id
            state.metrics.count_tokens(spec.rpc, outcome.model_id, outcome.tokens)
        return JSONResponse(outcome.body, status_code=outcome.code)

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
