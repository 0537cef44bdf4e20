"""Vertex AI (aiplatform.googleapis.com): `:countTokens` and `:computeTokens` on the four resource
forms of the v1 and v1beta1 surfaces.

    /{v}/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:{rpc}
    /{v}/projects/{p}/locations/{l}/endpoints/{e}:{rpc}
    /{v}/publishers/{pub}/models/{m}:{rpc}          (express mode: what the SDK sends with an API key)
    /{v}/endpoints/{e}:{rpc}

On endpoint paths the model is the body's `model` field.

vertexmeter's own extension, on the two model forms: `…/models/{m}:estimateCost` takes a countTokens
(or generateContent) body plus `estimateOptions` and answers the priced estimate (docs/server.md);
`…/models/{m}:usageMetadata` takes a generateContent body (plus `usageOptions`) and answers the
usageMetadata generateContent would bill (docs/counting.md).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from vertexmeter.server.openapi import body_spec, path_parameter
from vertexmeter.server.routes.rpc import RouteSpec, add_rpc_route
from vertexmeter.vocabulary import COMPUTE_TOKENS, COUNT_TOKENS, ESTIMATE_COST, USAGE_METADATA

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
    COUNT_TOKENS: "Count tokens (Vertex AI countTokens)",
    COMPUTE_TOKENS: "List tokens and ids (Vertex AI computeTokens)",
    ESTIMATE_COST: "Estimate the cost of a request (vertexmeter extension, not a Google API)",
    USAGE_METADATA: "The usageMetadata generateContent would bill (vertexmeter extension, not a Google API)",
}
_REQUEST_SCHEMAS = {
    COUNT_TOKENS: "VertexCountTokensRequest",
    COMPUTE_TOKENS: "VertexComputeTokensRequest",
    ESTIMATE_COST: "EstimateCostRequest",
    USAGE_METADATA: "UsageMetadataRequest",
}
_RESPONSES = {
    COUNT_TOKENS: ("VertexCountTokensResponse", "The count, exactly as Vertex AI answers it."),
    COMPUTE_TOKENS: ("ComputeTokensResponse", "Tokens and token ids per text."),
    ESTIMATE_COST: (
        "EstimateCostResponse",
        "The prompt counted and priced from the dated catalogue (USD decimal strings).",
    ),
    USAGE_METADATA: ("UsageMetadataResponse", "usageMetadata as generateContent reports it, and the model id."),
}
# estimateCost prices a publisher model; endpoints have no price of their own.
_ESTIMATE_FORMS = ("projects_models", "publishers_models")
_ESTIMATE_BODY = {**_TEXT_BODY, "estimateOptions": {"outputTokens": 200, "mode": "online"}}


def _operation_extra(form: str, rpc: str) -> dict[str, Any]:
    names = [part[1:-1] for part in FORMS[form].split("/") if part.startswith("{")]
    example = _ENDPOINT_BODY if "endpoints" in form else _ESTIMATE_BODY if rpc == ESTIMATE_COST else _TEXT_BODY
    if rpc == USAGE_METADATA:
        example = {**_TEXT_BODY, "usageOptions": {"response": "The longest word is pneumonoultramicroscopic..."}}
    return {
        "parameters": [path_parameter(n, *_PARAMETERS[n]) for n in names],
        **body_spec(_REQUEST_SCHEMAS[rpc], {"text": example}),
    }


def vertex_router() -> APIRouter:
    router = APIRouter(tags=["Vertex AI"])
    for version in VERSIONS:
        for form, template in FORMS.items():
            for rpc in (COUNT_TOKENS, COMPUTE_TOKENS, ESTIMATE_COST, USAGE_METADATA):
                if rpc in (ESTIMATE_COST, USAGE_METADATA) and form not in _ESTIMATE_FORMS:
                    continue
                spec = RouteSpec(api="vertex", version=version, rpc=rpc, form=form)
                add_rpc_route(
                    router,
                    spec,
                    f"/{version}{template}:{rpc}",
                    _SUMMARIES[rpc],
                    _RESPONSES[rpc],
                    _operation_extra(form, rpc),
                )
    return router
