"""Pricing: a dated Vertex AI price catalogue and a Decimal-exact cost estimator (docs/pricing.md).

    estimate(model, request, ...) -> Estimate       # count a real request, then price it
    price_scenario(path_or_dict) -> ScenarioResult  # what-if over many requests, caches and tuning
    prices(model, date=None) -> PriceSheet          # the rates in force
"""

from vertexmeter.pricing.catalogue import (
    ENDPOINTS,
    MULTIPLIER_CHARGES,
    UNITS,
    catalogue,
    first_price_day,
    load_catalogue_text,
    priced_model_names,
    resolve_priced_model,
)
from vertexmeter.pricing.engine import Bill, LineItem, Pricer, money, round_period_total
from vertexmeter.pricing.estimate import (
    Estimate,
    PriceSheet,
    estimate,
    output_at_cap,
    pricer_for,
    prices,
    prompt_quantities,
)
from vertexmeter.pricing.scenario import ScenarioResult, load_scenario, price_scenario
from vertexmeter.pricing.usage import (
    CacheUsage,
    Quantities,
    RequestUsage,
    Usage,
    decimal_number,
    parse_mode,
    whole_number,
)

__all__ = [
    "ENDPOINTS",
    "MULTIPLIER_CHARGES",
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
    "first_price_day",
    "load_scenario",
    "money",
    "load_catalogue_text",
    "output_at_cap",
    "parse_mode",
    "pricer_for",
    "prompt_quantities",
    "whole_number",
    "price_scenario",
    "priced_model_names",
    "prices",
    "resolve_priced_model",
    "round_period_total",
]
