"""Extract LiteLLM's Vertex AI and Gemini API price keys into the JSON snapshot the tests read.

Usage: pip download --no-deps litellm==VERSION -d DIR
       unzip DIR/litellm-*.whl litellm/model_prices_and_context_window_backup.json -d DIR/x
       python tools/vendor_litellm.py DIR/x/litellm/model_prices_and_context_window_backup.json VERSION \
           > tests/pricing/data/litellm-VERSION-vertex-gemini.json

Kept: entries whose litellm_provider is vertex_ai* or gemini; of each, the *cost* fields, the provider, the
source and the deprecation date. (Run on 1.110.2 it reproduces the vendored snapshot byte for byte.) MIT.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _kept_provider(provider: str) -> bool:
    return provider.startswith("vertex_ai") or provider == "gemini"


def extract(prices: dict[str, Any], version: str) -> dict[str, Any]:
    models = {
        key: {
            field: value
            for field, value in sorted(entry.items())
            if "cost" in field or field in ("litellm_provider", "source", "deprecation_date")
        }
        for key, entry in sorted(prices.items())
        if isinstance(entry, dict) and _kept_provider(str(entry.get("litellm_provider", "")))
    }
    return {
        "_snapshot": {
            "file": "litellm/model_prices_and_context_window_backup.json",
            "kept": "entries whose litellm_provider is vertex_ai* or gemini; only *cost* fields, provider, source, "
            "deprecation_date",
            "license": "MIT (BerriAI/litellm)",
            "obtained_with": f"pip download --no-deps litellm=={version}",
            "package": "litellm",
            "version": version,
        },
        "models": models,
    }


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        prices = json.load(handle)
    json.dump(extract(prices, sys.argv[2]), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
