"""Google's `models.list` / `models.get` for the registry, on both APIs' paths (what `client.models.list()`
and `client.models.get()` of google-genai call):

    Gemini API  GET /{v1,v1beta}/models                      -> {"models": [Model…]}
                GET /{v1,v1beta}/models/{m}                  -> Model
    Vertex AI   GET /{v1,v1beta1}/publishers/{pub}/models    -> {"publisherModels": [PublisherModel…]}
                GET /{v1,v1beta1}/publishers/{pub}/models/{m} (and under projects/{p}/locations/{l}/)

A model is the registry's: its name, limits and what this server answers for it (countTokens,
computeTokens on Vertex, and the two extensions); each API lists the models it serves (models.yaml
`apis`). The lists have one page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response

from vertexmeter.errors import VertexMeterError
from vertexmeter.registry import ModelInfo, all_models, resolve
from vertexmeter.server.errors import ApiError, JSONResponse
from vertexmeter.server.openapi import error_responses, path_parameter
from vertexmeter.server.state import server_state
from vertexmeter.vocabulary import COMPUTE_TOKENS, COUNT_TOKENS, EMBEDDING, ESTIMATE_COST, USAGE_METADATA

_GEMINI_VERSIONS = ("v1", "v1beta")
_VERTEX_VERSIONS = ("v1", "v1beta1")
_VERTEX_PREFIXES = ("", "/projects/{project}/locations/{location}")
_GOOGLE = "google"
_EXTENSIONS = [USAGE_METADATA, ESTIMATE_COST]
_OBJECT = {"type": "object"}


class _ResourceId(Convertor[str]):
    """One path segment without a colon: `models/{m}` is a resource, `models/{m}:countTokens` a method
    (whose POST route then answers a GET with 405, and an unknown method with 404)."""

    regex = "[^/:]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("resource_id", _ResourceId())


def served_on_gemini(model: ModelInfo) -> bool:
    """The Gemini API serves the models the registry says it serves, never Vertex's PaLM / Codey ones."""
    return "gemini" in model.apis and (not model.is_legacy or model.generation == EMBEDDING)


def served_on_vertex(model: ModelInfo) -> bool:
    return "vertex" in model.apis


def gemini_model(model: ModelInfo) -> dict[str, Any]:
    """A registry model as the Gemini API's `Model` resource."""
    return {
        "name": f"models/{model.id}",
        "baseModelId": model.id,
        "displayName": model.id,
        "description": f"Counted offline by vertexmeter ({model.tokenizer} vocabulary).",
        "inputTokenLimit": model.input_token_limit,
        "outputTokenLimit": model.output_token_limit,
        "supportedGenerationMethods": [COUNT_TOKENS, *_EXTENSIONS],
    }


def vertex_model(model: ModelInfo, publisher: str = _GOOGLE) -> dict[str, Any]:
    """A registry model as Vertex AI's `PublisherModel` resource."""
    return {
        "name": f"publishers/{publisher}/models/{model.id}",
        "displayName": model.id,
        "description": f"Counted offline by vertexmeter ({model.tokenizer} vocabulary); "
        f"input limit {model.input_token_limit:,} tokens, output limit {model.output_token_limit:,}.",
        "versionId": "default",
        "openSourceCategory": "PROPRIETARY",
        "supportedActions": [COUNT_TOKENS, COMPUTE_TOKENS, *_EXTENSIONS],
    }


def _found(request: Request, model: str, api: str, version: str) -> ModelInfo:
    try:
        info = resolve(model, api=api, api_version=version)
    except VertexMeterError as error:
        raise ApiError.from_core(error) from None
    if api == "gemini" and not served_on_gemini(info):
        raise ApiError(404, "NOT_FOUND", f"models/{model} is not found for API version {version}.")
    return info


def _list_spec(key: str, description: str) -> dict[int | str, dict[str, Any]]:
    schema = {"type": "object", "properties": {key: {"type": "array", "items": _OBJECT}}, "required": [key]}
    return {
        200: {"description": description, "content": {"application/json": {"schema": schema}}},
        **error_responses("401", "403"),
    }


def _get_spec(description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"description": description, "content": {"application/json": {"schema": _OBJECT}}},
        **error_responses("400", "401", "403", "404"),  # 400: a blank model name
    }


_PREFIX_PARAMETERS = [
    path_parameter("project", "Any project id: the answer does not depend on it.", "my-project"),
    path_parameter("location", "Any location: the answer does not depend on it.", "us-central1"),
]


def models_router() -> APIRouter:
    router = APIRouter(tags=["Models"])
    for version in _GEMINI_VERSIONS:
        _gemini_routes(router, version)
    for version in _VERTEX_VERSIONS:
        for prefix in _VERTEX_PREFIXES:
            _vertex_routes(router, version, prefix)
    return router


def _gemini_routes(router: APIRouter, version: str) -> None:
    @router.get(
        f"/{version}/models",
        response_class=JSONResponse,
        operation_id=f"gemini_{version}_models_list",
        summary="List the models (Gemini API models.list)",
        responses=_list_spec("models", "The registry's models the Gemini API serves."),
    )
    async def gemini_list(request: Request) -> Response:
        server_state(request).keys.check(request)
        return JSONResponse({"models": [gemini_model(m) for m in all_models() if served_on_gemini(m)]})

    @router.get(
        f"/{version}/models/{{model:resource_id}}",
        response_class=JSONResponse,
        operation_id=f"gemini_{version}_models_get",
        summary="One model (Gemini API models.get)",
        responses=_get_spec("The model, as the Gemini API describes it."),
    )
    async def gemini_get(request: Request, model: str) -> Response:
        server_state(request).keys.check(request)
        return JSONResponse(gemini_model(_found(request, model, "gemini", version)))


def _vertex_routes(router: APIRouter, version: str, prefix: str) -> None:
    where = "projects" if prefix else "publishers"
    # The handlers do not read `project` / `location`; the document must still declare them.
    extra: dict[str, Any] = {"parameters": _PREFIX_PARAMETERS} if prefix else {}

    @router.get(
        f"/{version}{prefix}/publishers/{{publisher:resource_id}}/models",
        response_class=JSONResponse,
        operation_id=f"vertex_{version}_{where}_models_list",
        summary="List the publisher models (Vertex AI publishers.models.list)",
        responses=_list_spec("publisherModels", "The registry's models (publisher google)."),
        openapi_extra=extra,
    )
    async def vertex_list(request: Request, publisher: str) -> Response:
        server_state(request).keys.check(request)
        found = (
            [vertex_model(m, publisher) for m in all_models() if served_on_vertex(m)] if publisher == _GOOGLE else []
        )
        return JSONResponse({"publisherModels": found})

    @router.get(
        f"/{version}{prefix}/publishers/{{publisher}}/models/{{model:resource_id}}",
        response_class=JSONResponse,
        operation_id=f"vertex_{version}_{where}_models_get",
        summary="One publisher model (Vertex AI publishers.models.get)",
        responses=_get_spec("The model, as Vertex AI describes a publisher model."),
        openapi_extra=extra,
    )
    async def vertex_get(request: Request, publisher: str, model: str) -> Response:
        server_state(request).keys.check(request)
        info = _found(request, model, "vertex", version)
        if publisher != _GOOGLE:
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Publisher Model `publishers/{publisher}/models/{model}` was not found: this server "
                "knows the publisher google's models.",
            )
        return JSONResponse(vertex_model(info, publisher))
