"""Vertex AI (aiplatform.googleapis.com): `:countTokens` and `:computeTokens` on the four resource
forms of the v1 and v1beta1 surfaces.

    /{v}/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:{rpc}
    /{v}/projects/{p}/locations/{l}/endpoints/{e}:{rpc}
    /{v}/publishers/{pub}/models/{m}:{rpc}          (express mode: what the SDK sends with an API key)
    /{v}/endpoints/{e}:{rpc}

On endpoint paths the model is the body's `model` field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from vertexmeter.server.errors import JSONResponse
from vertexmeter.server.openapi import body_spec, error_responses, ok_response, path_parameter
from vertexmeter.server.routes.rpc import RouteSpec, rpc_handler
from vertexmeter.server.work import COMPUTE, COUNT

VERSIONS = ("v1", "v1beta1")
FORMS: dict[str, str] = {
    "projects_models": "/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}",
    "projects_endpoints": "/projects/{project}/locations/{location}/endpoints/{endpoint}",
    "publishers_models": "/publishers/{publisher}/models/{model}",
    "endpoints": "/endpoints/{endpoint}",
}
_PARAMETERS = {
    "project": ("Google Cloud project id (also the quota budget).", "my-project"),
    "location": ("Region, e.g. us-central1 or global (not checked).", "us-central1"),
    "publisher": ("Model publisher, `google` for Gemini and PaLM.", "google"),
    "model": ("Model id, with or without a version suffix (`gemini-2.5-flash`, `text-bison@002`).", "gemini-2.5-flash"),
    "endpoint": ("Endpoint id; the model comes from the body's `model` field.", "my-endpoint"),
}
_TEXT_BODY = {"contents": [{"role": "user", "parts": [{"text": "What's the longest word in the English language?"}]}]}
_ENDPOINT_BODY = {"model": "publishers/google/models/gemini-2.5-flash", **_TEXT_BODY}
_SUMMARIES = {
    COUNT: "Count tokens (Vertex AI countTokens)",
    COMPUTE: "List tokens and ids (Vertex AI computeTokens)",
}


def _operation_extra(form: str, rpc: str) -> dict[str, Any]:
    names = [part[1:-1] for part in FORMS[form].split("/") if part.startswith("{")]
    example = _ENDPOINT_BODY if "endpoints" in form else _TEXT_BODY
    schema = "VertexCountTokensRequest" if rpc == COUNT else "VertexComputeTokensRequest"
    return {
        "parameters": [path_parameter(n, *_PARAMETERS[n]) for n in names],
        **body_spec(schema, {"text": example}),
    }


def vertex_router() -> APIRouter:
    router = APIRouter(tags=["Vertex AI"])
    for version in VERSIONS:
        for form, template in FORMS.items():
            for rpc in (COUNT, COMPUTE):
                spec = RouteSpec(api="vertex", version=version, rpc=rpc, form=form)
                router.add_api_route(
                    f"/{version}{template}:{rpc}",
                    rpc_handler(spec),
                    methods=["POST"],
                    name=f"vertex.{version}.{form}.{rpc}",
                    operation_id=f"vertex_{version}_{form}_{rpc}",
                    summary=f"{_SUMMARIES[rpc]} — {version}",
                    response_class=JSONResponse,
                    responses={
                        **ok_response(
                            "VertexCountTokensResponse" if rpc == COUNT else "ComputeTokensResponse",
                            "The count, exactly as Vertex AI answers it." if rpc == COUNT else "Tokens per text.",
                        ),
                        **error_responses(),
                    },
                    openapi_extra=_operation_extra(form, rpc),
                )
    return router
