"""vertexmeter: offline, exact Vertex AI / Gemini token counts and costs.

The public face:

    count_tokens(model, request, *, api="vertex", config=None) -> dict  # Vertex/Gemini countTokens JSON
    compute_tokens(model, request) -> dict                               # Vertex computeTokens JSON
    count(model, request, *, api="vertex") -> CountResult                # the typed layer behind count_tokens
    usage_metadata(model, request, *, api="vertex", response=None, as_of=None) -> dict
                                                                         # generateContent usageMetadata: the bill
    usage(...) -> UsageResult                                            # the typed layer behind usage_metadata
    interactions_usage(body, *, response=None, history=None, as_of=None) -> dict
                                                                         # an Interactions API request's `usage`
    LocalTokenizer(model_name)                                           # google-genai's LocalTokenizer, exact
    estimate / price_scenario / prices                                    # costs (docs/pricing.md)
    estimate_batch(inputs, model, output=...) -> BatchResult              # whole batch JSONL files (docs/batch.md)
    bill(logs, db=..., month=...)                                         # bills from usageMetadata logs (ledger)
    VertexMeterError                                                     # every refusal, in Google's shape

`request` is text, a REST body, Contents / Parts or google-genai types (docs/inputs.md).
Names load on first use, so that `import vertexmeter` (and the CLI) starts without the engines.
"""

from __future__ import annotations

from vertexmeter.lazy import lazy_attributes

TYPE_CHECKING = False  # not typing's: importing typing costs ~3.5 ms of a clean start (the quick count path)
if TYPE_CHECKING:
    from vertexmeter.batch import estimate_batch
    from vertexmeter.counting import (
        CountResult,
        LocalTokenizer,
        MediaUsage,
        UsageResult,
        compute_tokens,
        count,
        count_tokens,
        interactions_usage,
        usage,
        usage_metadata,
    )
    from vertexmeter.errors import VertexMeterError
    from vertexmeter.ledger import bill
    from vertexmeter.pricing import estimate, price_scenario, prices
    from vertexmeter.registry import ModelInfo, all_models, resolve

__version__ = "0.1.0"

_HOMES = {
    "CountResult": "vertexmeter.counting",
    "LocalTokenizer": "vertexmeter.counting",
    "MediaUsage": "vertexmeter.counting",
    "compute_tokens": "vertexmeter.counting",
    "count": "vertexmeter.counting",
    "count_tokens": "vertexmeter.counting",
    "UsageResult": "vertexmeter.counting",
    "usage": "vertexmeter.counting",
    "interactions_usage": "vertexmeter.counting",
    "usage_metadata": "vertexmeter.counting",
    "ModelInfo": "vertexmeter.registry",
    "all_models": "vertexmeter.registry",
    "resolve": "vertexmeter.registry",
    "estimate": "vertexmeter.pricing",
    "price_scenario": "vertexmeter.pricing",
    "prices": "vertexmeter.pricing",
    "bill": "vertexmeter.ledger",
    "estimate_batch": "vertexmeter.batch",
    "VertexMeterError": "vertexmeter.errors",
}


__getattr__ = lazy_attributes(__name__, _HOMES)


def __dir__() -> list[str]:
    """The public API (the lazy names included, loaded or not) and the version: what a REPL should offer."""
    return sorted({*__all__, "__version__"})


__all__ = [
    "CountResult",
    "LocalTokenizer",
    "MediaUsage",
    "ModelInfo",
    "UsageResult",
    "VertexMeterError",
    "all_models",
    "compute_tokens",
    "count",
    "count_tokens",
    "bill",
    "estimate_batch",
    "estimate",
    "interactions_usage",
    "price_scenario",
    "prices",
    "resolve",
    "usage",
    "usage_metadata",
]
