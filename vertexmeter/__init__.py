"""vertexmeter: offline, exact Vertex AI / Gemini token counts and costs.

The public face:

    count_tokens(model, request, *, api="vertex") -> dict   # Vertex/Gemini countTokens JSON
    compute_tokens(model, request) -> dict                  # Vertex computeTokens JSON
    count(model, request, *, api="vertex") -> CountResult   # the typed layer behind count_tokens
    usage_metadata(model, request, *, api="vertex", response=None, as_of=None, media_options=None) -> dict
                                                            # generateContent usageMetadata: the bill
    usage(...) -> UsageResult                               # the typed layer behind usage_metadata
    estimate / price_scenario / prices                       # costs (docs/pricing.md)
    estimate_batch(inputs, model, output=...) -> BatchResult # whole batch JSONL files (docs/batch.md)
    bill(logs, db=..., month=...)                            # bills from usageMetadata logs, in a ledger DB
    VertexMeterError                                        # every refusal, in Google's shape
"""

from typing import Any

from vertexmeter.counting import (
    CountResult,
    MediaUsage,
    UsageResult,
    compute_tokens,
    count,
    count_tokens,
    usage,
    usage_metadata,
)
from vertexmeter.errors import VertexMeterError
from vertexmeter.registry import ModelInfo, all_models, resolve

__version__ = "0.1.0"

_PRICING = ("estimate", "price_scenario", "prices")


def __getattr__(name: str) -> Any:
    # Pricing (pydantic, the catalogue) loads on first use: counting alone should start fast.
    if name in _PRICING:
        import vertexmeter.pricing

        return getattr(vertexmeter.pricing, name)
    if name == "estimate_batch":  # batch jobs load pricing too
        import vertexmeter.batch

        return vertexmeter.batch.estimate_batch
    if name == "bill":
        import vertexmeter.ledger

        return vertexmeter.ledger.bill
    raise AttributeError(f"module 'vertexmeter' has no attribute {name!r}")

__all__ = [
    "CountResult",
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
    "price_scenario",
    "prices",
    "resolve",
    "usage",
    "usage_metadata",
]
