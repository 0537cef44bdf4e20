"""Extract pydantic genai-prices' google provider into a JSON snapshot the tests read (no package at test time).

Usage: pip download --no-deps genai-prices==VERSION -d DIR && unzip DIR/genai_prices-*.whl -d DIR/x
       PYTHONPATH=DIR/x python tools/vendor_genai_prices.py > tests/pricing/data/genai-prices-VERSION-google.json

Kept: every model of the `google` provider (ids, match clauses, prices, dated price changes, batch / flex /
priority variants, comments citing Google's pages), decimals as strings. genai-prices is MIT-licensed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from decimal import Decimal
from importlib import metadata
from typing import Any


def _plain(value: Any) -> Any:
    """genai-prices' dataclasses (and their few plain classes) as JSON: decimals and dates as strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    fields = (
        {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if dataclasses.is_dataclass(value)
        else {k: v for k, v in vars(value).items() if not k.startswith("_")}
    )
    out = {k: _plain(v) for k, v in fields.items() if v is not None}
    out["$type"] = type(value).__name__
    return out


def main() -> None:
    import genai_prices.data as data

    version = metadata.version("genai-prices")
    google = next(p for p in data.providers if p.id == "google")
    models = []
    for model in google.models:
        models.append(
            {
                "id": model.id,
                "name": model.name,
                "match": _plain(model.match),
                "prices": _plain(model.prices),
                "price_variants": [_plain(v) for v in model.price_variants or []],
                "price_comments": model.price_comments,
                "deprecated": bool(getattr(model, "deprecated", False)),
            }
        )
    snapshot = {
        "_snapshot": {
            "package": "genai-prices",
            "version": version,
            "provider": "google",
            "obtained_with": f"pip download --no-deps genai-prices=={version}",
            "license": "MIT (pydantic/genai-prices)",
        },
        "models": models,
    }
    json.dump(snapshot, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
