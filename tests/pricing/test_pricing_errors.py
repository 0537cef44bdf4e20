"""Every refusal: a VertexMeterError that says what is valid, never a silent $0."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.pricing.pricing_helpers import EXAMPLES, price_one
from vertexmeter import estimate, price_scenario, prices
from vertexmeter.errors import VertexMeterError
from vertexmeter.pricing import Quantities, RequestUsage

HELLO = {"contents": [{"role": "user", "parts": [{"text": "Hello there"}]}]}


def scenario(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = json.loads((EXAMPLES / "text_bison.json").read_text())
    base.update(changes)
    return base


def refused(call: Any, *args: Any, **kwargs: Any) -> VertexMeterError:
    with pytest.raises(VertexMeterError) as err:
        call(*args, **kwargs)
    return err.value


def test_unknown_model() -> None:
    error = refused(prices, "gpt-4o")
    assert error.status == "NOT_FOUND"
    assert "Priced models:" in error.message and "gemini-1.5-pro" in error.message


def test_known_but_unpriced_model() -> None:
    # Every registry model is priced now (issue 11), so the refusal is checked on a catalogue without one.
    import importlib

    catalogue_module = importlib.import_module("vertexmeter.pricing.catalogue")

    original = catalogue_module.catalogue()
    trimmed = catalogue_module.Catalogue(
        original.data,
        {k: v for k, v in original.models.items() if k != "gemini-3.1-pro-preview"},
        original.names,
        original.entries_by_model,
        original.entries_by_id,
    )
    catalogue_module.catalogue.cache_clear()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(catalogue_module, "catalogue", lambda: trimmed)
            error = refused(catalogue_module.resolve_priced_model, "gemini-3.1-pro-preview")
    finally:
        catalogue_module.catalogue.cache_clear()
    assert error.status == "NOT_FOUND"
    assert "no price" in error.message and "gemini-3-pro-preview" in error.message


def test_a_date_before_the_first_price() -> None:
    error = refused(prices, "gemini-1.5-pro", "2024-01-01")
    assert error.status == "INVALID_ARGUMENT"
    assert "2024-05-14" in error.message and error.field_path == "date"
    assert "2024-10-07" in refused(prices, "claude-3-5-haiku", "2024-06-01").message


def test_a_charge_with_no_price_on_that_date() -> None:
    # No cache price is sourced for 1.5 Pro before 2024-10-07: cache hits are refused, not priced at $0.
    error = refused(price_one, "gemini-1.5-pro", date="2024-09-01", cached_input={"text_characters": 1})
    assert "no price for cached input text characters" in error.message and "It prices:" in error.message


def test_a_bad_date() -> None:
    assert refused(prices, "gemini-1.5-pro", "yesterday").field_path == "date"


@pytest.mark.parametrize(
    ("request_changes", "field"),
    [
        ({"input": {"text_characters": -1}}, "requests[0].input.text_characters"),
        ({"input": {"text_characters": "many"}}, "requests[0].input.text_characters"),
        ({"input": {"text_characters": 1.5}}, "requests[0].input.text_characters"),
        ({"input": {"text_characters": "2.5"}}, "requests[0].input.text_characters"),
        ({"repeat": 0}, "requests[0].repeat"),
        ({"output": {"text_charcters": 400}}, "requests[0].output.text_charcters"),
        ({"colour": "blue"}, "requests[0].colour"),
        ({"mode": "cheap"}, "requests[0].mode"),
        ({"filtered": "yes"}, "requests[0].filtered"),
    ],
)
def test_bad_request_quantities(request_changes: dict[str, Any], field: str) -> None:
    request = {"input": {"text_characters": 200}, **request_changes}
    error = refused(price_scenario, scenario(requests=[request]))
    assert error.status == "INVALID_ARGUMENT"
    assert error.field_path == field


def test_unknown_scenario_key_names_the_valid_ones() -> None:
    error = refused(price_scenario, scenario(requsts=[]))
    assert error.field_path == "requsts"
    assert "requests" in error.message and "cache" in error.message


def test_scenario_needs_something_to_price_and_a_model() -> None:
    assert "nothing to price" in refused(price_scenario, scenario(requests=[])).message
    assert refused(price_scenario, scenario(model=None)).field_path == "model"


def test_cache_needs_hours() -> None:
    data = scenario(model="gemini-1.5-pro", cache=[{"text_characters": 1000}])
    assert refused(price_scenario, data).field_path == "cache[0].hours"
    data = scenario(model="gemini-1.5-pro", cache=[{"text_characters": 1000, "hours": -2}])
    assert refused(price_scenario, data).field_path == "cache[0].hours"


def test_unknown_override_entry() -> None:
    error = refused(price_scenario, scenario(prices={"vertex.text-bison.input": "1"}))
    assert error.field_path == "prices.vertex.text-bison.input"
    assert "vertex.palm-text-bison.input.example" in error.message


def test_float_and_negative_overrides() -> None:
    assert refused(price_scenario, scenario(prices={"vertex.palm-text-bison.input.example": 0.1})).field_path
    error = refused(price_scenario, scenario(prices={"vertex.palm-text-bison.input.example": "-1"}))
    assert "negative" in error.message


def test_unpriced_mode() -> None:
    error = refused(price_one, "claude-3-opus", date="2024-12-01", mode="batch", input={"tokens": 10})
    assert "no batch price" in error.message and "online" in error.message


def test_character_model_given_tokens_only() -> None:
    error = refused(price_one, "gemini-1.5-pro", date="2024-12-01", input={"tokens": 1000})
    assert "text_characters" in error.message


def test_token_model_given_characters() -> None:
    error = refused(price_one, "gemini-2.5-flash", date="2026-01-15", input={"text_characters": 1000})
    assert "no price for input text characters" in error.message and "per 1M tokens" in error.message


def test_grounding_units_do_not_mix() -> None:
    error = refused(price_one, "gemini-3-pro-preview", date="2026-01-15", grounded_requests=10)
    assert "search queries" in error.message and "search_queries" in error.message


def test_imagen_bills_images_only() -> None:
    error = refused(price_one, "imagen-3", date="2024-12-01", output={"images": 1, "text_characters": 5})
    assert "output.images" in error.message


def test_unpriced_entry_needs_an_override() -> None:
    error = refused(price_one, "imagen-2", date="2024-12-01", operation="fine_tuning", output={"images": 1})
    assert error.status == "NOT_FOUND" and "override" in error.message


def test_estimate_refusals() -> None:
    assert refused(estimate, "claude-3-5-haiku", HELLO).field_path == "model"
    assert refused(estimate, "gemini-2.5-flash", HELLO, mode="overnight").field_path == "mode"
    assert refused(estimate, "gemini-2.5-flash", HELLO, output_tokens=-5).field_path == "output_tokens"
    assert refused(estimate, "gemini-2.5-flash", HELLO, output_characters=10).field_path == "output_tokens"
    assert refused(estimate, "gemini-2.5-flash", {**HELLO, "cachedContent": "cachedContents/1"}).status == (
        "FAILED_PRECONDITION"
    )
    assert refused(estimate, "gemini-2.5-flash", {"contents": []}, date="2020-01-01").field_path == "date"


def test_scenario_file_errors(tmp_path: Path) -> None:
    missing = refused(price_scenario, tmp_path / "nope.json")
    assert "Cannot read" in missing.message
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert "not valid JSON" in refused(price_scenario, bad).message


@pytest.mark.parametrize(
    "build",
    [
        lambda: Quantities(video_seconds=1.5),  # type: ignore[arg-type]
        lambda: Quantities(tokens=-1),
        lambda: Quantities(text_characters=Decimal("2.5")),  # type: ignore[arg-type]
        lambda: RequestUsage(repeat=0),
        lambda: RequestUsage(thinking_tokens=True),
    ],
)
def test_usage_built_in_python_is_checked_too(build: Any) -> None:
    with pytest.raises(VertexMeterError):
        build()
