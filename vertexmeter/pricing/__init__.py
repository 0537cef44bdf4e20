"""Pricing: a dated Vertex AI price catalogue and a Decimal-exact cost estimator (docs/pricing.md).

    estimate(model, request, ...) -> Estimate       # count a real request, then price it
    price_scenario(path_or_dict) -> ScenarioResult  # what-if over many requests, caches and tuning
    prices(model, date=None) -> PriceSheet          # the rates in force
    estimate_from_body(model, body) -> dict         # the :estimateCost answer for the server
"""

from vertexmeter.pricing.catalogue import (
    ENDPOINTS,
    UNITS,
    catalogue,
    first_price_day,
    priced_model_names,
    resolve_priced_model,
)
from vertexmeter.pricing.engine import Bill, LineItem, Pricer, money, parse_date, round_period_total
from vertexmeter.pricing.estimate import Estimate, PriceSheet, estimate, estimate_from_body, prices
from vertexmeter.pricing.scenario import ScenarioResult, load_scenario, price_scenario
from vertexmeter.pricing.usage import CacheUsage, Quantities, RequestUsage, Usage, decimal_number

__all__ = [
    "ENDPOINTS",
    "UNITS",
    "Bill",
    "CacheUsage",
    "Estimate",
    "LineItem",
    "PriceSheet",
    "Pricer",
    "Quantities",
    "RequestUsage",
    "ScenarioResult",
    "Usage",
    "catalogue",
    "decimal_number",
    "estimate",
    "estimate_from_body",
    "first_price_day",
    "load_scenario",
    "money",
    "parse_date",
    "price_scenario",
    "priced_model_names",
    "prices",
    "resolve_priced_model",
    "round_period_total",
]
