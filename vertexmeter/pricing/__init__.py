"""Pricing: a dated Vertex AI price catalogue and a Decimal-exact cost estimator (docs/pricing.md).

estimate(model, request, ...) -> Estimate       # count a real request, then price it
price_scenario(path_or_dict) -> ScenarioResult  # what-if over many requests, caches and tuning
prices(model, date=None) -> PriceSheet          # the rates in force
quote(prices, prompt, model=..., mode=...)      # a counted request's cost (what estimate and batch use)
quote_usage(prices, usage, mode=...)            # the cost of known usage (a usageMetadata record)
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
from vertexmeter.pricing.engine import (
    Bill,
    LineItem,
    PriceList,
    money,
    price,
    round_period_total,
)
from vertexmeter.pricing.estimate import Estimate, PriceSheet, estimate, prices, prompt_counts
from vertexmeter.pricing.quote import PromptCounts, Quote, price_list_for, quote, quote_usage
from vertexmeter.pricing.scenario import ScenarioResult, load_scenario, price_scenario
from vertexmeter.pricing.usage import (
    CacheUsage,
    Quantities,
    RequestUsage,
    Usage,
    decimal_number,
    parse_mode,
    token_bucket,
    token_request,
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
    "PriceList",
    "PriceSheet",
    "PriceList",
    "PromptCounts",
    "Quantities",
    "Quote",
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
    "parse_mode",
    "price",
    "price_list_for",
    "whole_number",
    "price_scenario",
    "priced_model_names",
    "prices",
    "prompt_counts",
    "quote",
    "quote_usage",
    "resolve_priced_model",
    "round_period_total",
    "token_bucket",
    "token_request",
]
