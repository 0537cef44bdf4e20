"""Every answer that is not a 200, in Google's shape: {"error": {"code", "message", "status", "details"}}."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from vertexmeter.errors import HTTP_CODES, VertexMeterError
from vertexmeter.vocabulary import GENERATE_CONTENT, STREAM_GENERATE_CONTENT

JSON_TYPE = "application/json; charset=UTF-8"
log = logging.getLogger("vertexmeter.server")

# Google's standard texts for the auth and quota refusals.
MISSING_CREDENTIALS = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or "
    "other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
PERMISSION_DENIED = "The caller does not have permission"
QUOTA_EXCEEDED = (
    "Resource exhausted. Please try again later. Please refer to "
    "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details."
)

SHUTTING_DOWN = "The service is currently unavailable: the server shut down before the request was answered."


class JSONResponse(Response):
    """Compact JSON, UTF-8, with the Content-Type Google's front end sends."""

    media_type = JSON_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class ApiError(Exception):
    """A refusal with an HTTP code that may differ from the canonical one (405, 413) and extra headers."""

    def __init__(
        self,
        code: int,
        status: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    @classmethod
    def from_core(cls, error: VertexMeterError) -> ApiError:
        body = error.to_json()["error"]
        return cls(error.code, error.status, error.message, body.get("details") or [])

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status, "details": self.details}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.to_json(), status_code=self.code, headers=self.headers)


def error_info(reason: str, domain: str = "googleapis.com", **metadata: str) -> dict[str, Any]:
    info: dict[str, Any] = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": domain}
    if metadata:
        info["metadata"] = metadata
    return info


def canonical(status: str, message: str, details: list[dict[str, Any]] | None = None) -> ApiError:
    return ApiError(HTTP_CODES[status], status, message, details)


# What this server does instead of generating: the same body, POSTed to its own two methods.
_GENERATE_METHODS = (f":{GENERATE_CONTENT}", f":{STREAM_GENERATE_CONTENT}")
# Google's Interactions API (`POST /v1beta/interactions`), on the versions the Gemini API routes serve.
_INTERACTIONS = re.compile(r"^/(v1|v1beta)/interactions/?$")


def not_found_path(path: str) -> ApiError:
    shown = path if len(path) <= 200 else path[:197] + "..."
    message = f"The requested URL {shown} was not found on this server."
    method = next((m for m in _GENERATE_METHODS if path.endswith(m) and "/models/" in path), None)
    if method is not None and len(path) <= 200:
        base = path[: -len(method)]
        message += (
            " vertexmeter counts and prices offline; it does not generate content. POST the same generateContent "
            f"body to {base}:usageMetadata for the usageMetadata it would bill, or to {base}:estimateCost "
            "for its price (add `estimateOptions` for the output size)."
        )
    elif _INTERACTIONS.match(path):
        message += (
            " vertexmeter counts offline; it does not run interactions. POST the same Interactions body to "
            f"{path.rstrip('/')}:usage for the usage its answer would report."
        )
    return canonical("NOT_FOUND", message)


def install_handlers(app: FastAPI) -> None:
    """Route FastAPI/Starlette's own refusals (404, 405, validation) and crashes through Google's shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return exc.response()

    @app.exception_handler(VertexMeterError)
    async def _core_error(request: Request, exc: VertexMeterError) -> Response:
        return ApiError.from_core(exc).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return not_found_path(request.url.path).response()
        if exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow", "POST")
            return ApiError(
                405,
                "UNIMPLEMENTED",
                f"Method Not Allowed: {request.method} {request.url.path}; use {allow}.",
                headers={"Allow": allow},
            ).response()
        status = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED"}
        return ApiError(exc.status_code, status.get(exc.status_code, "UNKNOWN"), str(exc.detail)).response()

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return canonical("INVALID_ARGUMENT", f"Invalid request at {where}: {first.get('msg', 'invalid')}").response()

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("internal error while serving %s %s", request.method, request.url.path)
        return canonical("INTERNAL", "Internal error encountered.").response()
