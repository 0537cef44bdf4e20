"""Gemini Developer API (generativelanguage.googleapis.com): `/{v1,v1beta}/models/{m}:countTokens`.

This API has no computeTokens; the path is an unknown one (404), as on the real service.
vertexmeter's own extensions, as on Vertex: `:estimateCost` (a countTokens or generateContent body plus
`estimateOptions`) and `:usageMetadata` (a generateContent body -> the usageMetadata it would bill); and
`/{v}/interactions:usage`: an Interactions API body (what `POST /v1beta/interactions` takes) -> the `usage`
its answer would report.
"""

from __future__ import annotations

from fastapi import APIRouter

from vertexmeter.server.openapi import body_spec, path_parameter
from vertexmeter.server.routes.rpc import RouteSpec, add_rpc_route
from vertexmeter.vocabulary import COUNT_TOKENS, ESTIMATE_COST, INTERACTIONS_USAGE, USAGE_METADATA

VERSIONS = ("v1", "v1beta")
_EXAMPLES = {
    "contents": {"contents": [{"role": "user", "parts": [{"text": "The quick brown fox jumps over the lazy dog."}]}]},
    "generateContentRequest": {
        "generateContentRequest": {
            "model": "models/gemini-2.5-flash",
            "contents": [{"role": "user", "parts": [{"text": "Hello"}]}],
            "systemInstruction": {"parts": [{"text": "You are a cat."}]},
        }
    },
}
_INTERACTIONS_BODY = {
    "model": "gemini-3-flash-preview",
    "system_instruction": "Always use a tool to answer.",
    "input": [{"type": "user_input", "content": [{"type": "text", "text": "What's the date today?"}]}],
    "tools": [{"type": "function", "name": "current_date", "description": "Return the current date"}],
    "generation_config": {"temperature": 0},
}


def gemini_router() -> APIRouter:
    router = APIRouter(tags=["Gemini Developer API"])
    model = path_parameter("model", "Model id, e.g. gemini-2.5-flash.", "gemini-2.5-flash")
    generate_body = {
        "contents": [{"role": "user", "parts": [{"text": "Hello"}]}],
        "systemInstruction": {"parts": [{"text": "You are a cat."}]},
        "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
        "generationConfig": {"maxOutputTokens": 50},
    }
    for version in VERSIONS:
        add_rpc_route(
            router,
            RouteSpec(api="gemini", version=version, rpc=ESTIMATE_COST, form="models"),
            f"/{version}/models/{{model}}:estimateCost",
            "Estimate the cost of a request (vertexmeter extension, not a Google API)",
            ("EstimateCostResponse", "The billed prompt counted and priced from the dated catalogue."),
            {"parameters": [model], **body_spec("GeminiEstimateCostRequest", {"generateContent": generate_body})},
        )
        add_rpc_route(
            router,
            RouteSpec(api="gemini", version=version, rpc=USAGE_METADATA, form="models"),
            f"/{version}/models/{{model}}:usageMetadata",
            "The usageMetadata generateContent would bill (vertexmeter extension, not a Google API)",
            ("UsageMetadataResponse", "usageMetadata as generateContent reports it, and the model id."),
            {"parameters": [model], **body_spec("GeminiUsageMetadataRequest", {"generateContent": generate_body})},
        )
        add_rpc_route(
            router,
            RouteSpec(api="gemini", version=version, rpc=INTERACTIONS_USAGE, form="interactions"),
            f"/{version}/interactions:usage",
            "The usage an Interactions API answer would report (vertexmeter extension, not a Google API)",
            ("InteractionsUsageResponse", "The Interactions API's `usage` JSON, with `bounds` where not exact."),
            body_spec(
                "InteractionsUsageRequest",
                {
                    "input": _INTERACTIONS_BODY,
                    "withAnswer": {
                        **_INTERACTIONS_BODY,
                        "usageOptions": {
                            "response": {
                                "steps": [{"type": "model_output", "content": [{"type": "text", "text": "Hi"}]}]
                            },
                            "asOf": "2026-09-25",
                        },
                    },
                },
            ),
        )
        spec = RouteSpec(api="gemini", version=version, rpc=COUNT_TOKENS, form="models")
        add_rpc_route(
            router,
            spec,
            f"/{version}/models/{{model}}:countTokens",
            "Count tokens (Gemini Developer API countTokens)",
            ("GeminiCountTokensResponse", "The count, exactly as the Gemini API answers it."),
            {
                "parameters": [path_parameter("model", "Model id, e.g. gemini-2.5-flash.", "gemini-2.5-flash")],
                **body_spec("GeminiCountTokensRequest", _EXAMPLES),
            },
        )
    return router
