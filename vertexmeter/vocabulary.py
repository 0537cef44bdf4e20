"""The words every layer shares, defined once: API dialects, modalities, pricing modes.

Kept free of imports so that the CLI can build its option lists without loading the engine.
"""

from __future__ import annotations

# Which Google API a request is read and answered as: Vertex AI (aiplatform) or the Gemini Developer
# API (generativelanguage). One name, `api`, everywhere (the price catalogue's `platform: gemini_api`
# is the same fact spelled by the pricing pages; `catalogue_platform` maps it).
VERTEX = "vertex"
GEMINI = "gemini"
APIS: tuple[str, ...] = (VERTEX, GEMINI)

# promptTokensDetails[].modality, in the order Google lists them.
MODALITIES: tuple[str, ...] = ("TEXT", "IMAGE", "VIDEO", "AUDIO", "DOCUMENT")

# How a request is served and priced: standard on-demand, batch prediction, Flex, Priority.
MODES: tuple[str, ...] = ("online", "batch", "flex", "priority")


def catalogue_platform(api: str) -> str:
    """The price catalogue's platform name for an API dialect (`gemini` -> `gemini_api`)."""
    return "gemini_api" if api == GEMINI else api
