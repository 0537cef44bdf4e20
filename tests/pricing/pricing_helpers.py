"""Shared helpers for the pricing tests. Golden numbers come from the seed page, prices.yaml or hand arithmetic."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from vertexmeter.pricing import PriceList, Quantities, RequestUsage, Usage
from vertexmeter.pricing.engine import Bill

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "scenarios"
SHARED_PRICES = ROOT.parent / "shared" / "spec" / "prices.yaml"  # the team's shared folder beside the checkout


def D(value: str | int) -> Decimal:
    return Decimal(str(value))


def price_one(
    model: str, *, date: str, mode: str = "online", overrides: dict[str, Any] | None = None, **request: Any
) -> Bill:
    """Price one request given as RequestUsage keyword arguments (dicts become Quantities)."""
    fields = {k: Quantities(**v) if isinstance(v, dict) else v for k, v in request.items()}
    return PriceList(model, date=date, overrides=overrides).price(Usage(requests=(RequestUsage(**fields),)), mode)


def amounts(bill: Bill) -> dict[str, Decimal]:
    return {item.description: item.amount for item in bill.line_items}


def by_entry(bill: Bill) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for item in bill.line_items:
        out[item.entry_id] = out.get(item.entry_id, Decimal(0)) + item.amount
    return out


def shared_prices() -> dict[str, Any]:
    """The compiled catalogue this package's catalogue was built from (an independent copy of the numbers)."""
    if not SHARED_PRICES.exists():
        pytest.skip("shared/spec/prices.yaml is not available")
    import yaml

    return yaml.safe_load(SHARED_PRICES.read_text("utf-8"))
