"""The seed page's two worked examples, line by line (vertex-spec.md 8.2; seed 000_d051b4ad03054c83.txt)."""

from __future__ import annotations

import json

from tests.pricing.pricing_helpers import EXAMPLES, D
from vertexmeter import price_scenario

CACHE_EXAMPLE = EXAMPLES / "context_cache_gemini_1_5_pro.json"
CACHE_EXAMPLE_TABLE = EXAMPLES / "context_cache_gemini_1_5_pro_table_price.json"
TEXT_BISON = EXAMPLES / "text_bison.json"


def lines(result):  # description -> (quantity, unit price, amount)
    return {i.description: (i.quantity, i.unit_price, i.amount) for i in result.bill.line_items}


def test_context_cache_example_as_printed() -> None:
    result = price_scenario(CACHE_EXAMPLE)
    got = lines(result)
    # "250,000 input characters x ($0.0003125 / 1000) = $0.078125"
    assert got["cache creation: text characters"] == (D(250000), D("0.0003125"), D("0.078125"))
    # "500,000 total character hours x ($0.001125 / 1000) = $0.5625"
    assert got["cache storage: text characters x 2 h"] == (D(500000), D("0.001125"), D("0.5625"))
    # "4,000 total character inputs * ($0.0003125 / 1000) = $0.00125"
    assert got["input: text characters"] == (D(4000), D("0.0003125"), D("0.00125"))
    # "5,000,000 total cached character inputs * ($0.000078125 / 1000) = $0.390625"
    assert got["cached input: text characters"] == (D(5000000), D("0.000078125"), D("0.390625"))
    # input subtotal "$0.391875"
    assert got["input: text characters"][2] + got["cached input: text characters"][2] == D("0.391875")
    # "8,000 total output characters x ($0.00375 / 1000) = $0.03"
    assert got["output: text characters"] == (D(8000), D("0.00375"), D("0.03"))
    assert result.total == D("1.0625")
    assert len(got) == 5


def test_context_cache_example_at_the_table_price() -> None:
    # The page's own table: 1.5 Pro text output $0.00125 / 1K characters -> 8,000 x 0.00125 / 1000 = $0.01.
    result = price_scenario(CACHE_EXAMPLE_TABLE)
    got = lines(result)
    assert got["output: text characters"] == (D(8000), D("0.00125"), D("0.01"))
    assert result.total == D("1.0425")  # 0.078125 + 0.5625 + 0.391875 + 0.01
    assert result.billed_total == D("1.05")


def test_the_override_is_the_only_difference() -> None:
    printed = json.loads(CACHE_EXAMPLE.read_text())
    printed.pop("prices")
    assert price_scenario(printed).total == D("1.0425")


def test_text_bison_example() -> None:
    result = price_scenario(TEXT_BISON)
    got = lines(result)
    # "1,000 total input characters x ($0.00025 / 1000) = $0.00025"
    assert got["input: text characters"] == (D(1000), D("0.00025"), D("0.00025"))
    # "2,000 total output characters x ($0.0005 / 1000) = $0.001"
    assert got["output: text characters"] == (D(2000), D("0.0005"), D("0.001"))
    assert result.total == D("0.00125")
    assert result.billed_total == D("0.01")  # the seed page: fractions of a cent are rounded to one cent


def test_scenario_json_has_decimal_strings() -> None:
    out = price_scenario(CACHE_EXAMPLE).to_json()
    assert out["total"] == "1.0625"
    assert out["billed_total"] == "1.07"  # $1.0625: the fraction of a cent is rounded up to a cent
    assert [item["amount"] for item in out["line_items"]] == ["0.078125", "0.5625", "0.00125", "0.390625", "0.03"]
    assert all(isinstance(item["amount"], str) for item in out["line_items"])
    overridden = [item for item in out["line_items"] if item.get("overridden")]
    assert [item["entry_id"] for item in overridden] == ["vertex.gemini-1.5-pro.output.text.le128k"]
