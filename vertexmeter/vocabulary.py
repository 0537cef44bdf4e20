"""The words every layer shares, defined once: API dialects, calls, modalities, pricing modes.

Kept free of project imports so that any layer (and the CLI, before it loads the engine) can use it.
"""

from __future__ import annotations

from typing import Literal, get_args

# Which Google API a request is read, answered and priced as: Vertex AI (aiplatform) or the Gemini
# Developer API (generativelanguage). One name, `api`, everywhere, the price catalogue's rows included.
Api = Literal["vertex", "gemini"]
APIS: tuple[str, ...] = get_args(Api)
VERTEX, GEMINI = APIS

# Google's RPC names. The call whose accounting applies: countTokens answers, generateContent /
# embedContent bill; computeTokens lists tokens; streamGenerateContent is generateContent streamed.
COUNT_TOKENS = "countTokens"
COMPUTE_TOKENS = "computeTokens"
GENERATE_CONTENT = "generateContent"
STREAM_GENERATE_CONTENT = "streamGenerateContent"
EMBED_CONTENT = "embedContent"
CALLS: tuple[str, ...] = (COUNT_TOKENS, GENERATE_CONTENT, EMBED_CONTENT)
# vertexmeter's own methods beside Google's, on the same model paths (`models/{m}:estimateCost`).
ESTIMATE_COST = "estimateCost"  # a countTokens or generateContent body plus estimateOptions, priced
USAGE_METADATA = "usageMetadata"  # a generateContent body -> the usageMetadata it would bill
# An Interactions API body (`POST /v1beta/interactions`) -> the `usage` it would bill, at `/{v}/interactions:usage`.
INTERACTIONS_USAGE = "interactionsUsage"
EMBEDDING = "embedding"  # the generation (models.yaml) of the Gemini embedding models

# Part fields a server-side tool writes (code execution's code and its run, a built-in tool's call and result):
# a response holding one ran a tool, and their thoughtSignatures may carry the run rather than thoughts.
SERVER_TOOL_PARTS: tuple[str, ...] = ("executableCode", "codeExecutionResult", "toolCall", "toolResponse")

# promptTokensDetails[].modality, in the order Google lists them.
MODALITIES: tuple[str, ...] = ("TEXT", "IMAGE", "VIDEO", "AUDIO", "DOCUMENT")

# How a request is served and priced: standard on-demand, batch prediction, Flex, Priority.
Mode = Literal["online", "batch", "flex", "priority"]
MODES: tuple[str, ...] = get_args(Mode)


def check_api(api: str) -> None:
    """Refuse an API dialect that is not one of `APIS`."""
    if api not in APIS:
        from vertexmeter.errors import invalid_argument  # here: this module imports nothing of the project

        raise invalid_argument(f"Unknown API dialect {api!r}; expected one of: {', '.join(APIS)}.", "api")
