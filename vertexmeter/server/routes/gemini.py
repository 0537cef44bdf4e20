"""Gemini Developer API (generativelanguage.googleapis.com): `/{v1,v1beta}/models/{m}:countTokens`.

This API has no computeTokens; the path is an unknown one (404), as on the real service.
"""

from __future__ import annotations

from fastapi import APIRouter

from vertexmeter.server.openapi import body_spec, path_parameter
from vertexmeter.server.routes.rpc import RouteSpec, add_rpc_route
from vertexmeter.server.work import COUNT

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


def gemini_router() -> APIRouter:
    router = APIRouter(tags=["Gemini Developer API"])
    for version in VERSIONS:
        spec = RouteSpec(api="gemini", version=version, rpc=COUNT, form="models")
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
