"""Cross-check: the catalogue against the vendored peer snapshots (genai-prices 0.2.5, LiteLLM 1.110.2).

Every overlapping price is compared (standard, batch, flex and priority; text, audio, image and video; cache reads
and writes; both prompt tiers; grounding; every date where either side's price changes). A disagreement fails
unless tests/pricing/data/accepted_disagreements.yaml lists it with its reason; a listed one that stops occurring
fails too. Nothing is downloaded: the snapshots are files (tools/vendor_genai_prices.py made the genai-prices one).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from tests.pricing.peer_prices import compare_genai, compare_litellm, genai_unpriced

DATA = Path(__file__).parent / "data"
GENAI_SNAPSHOT = DATA / "genai-prices-0.2.5-google.json"
LITELLM_SNAPSHOT = DATA / "litellm-1.110.2-vertex-gemini.json"
ACCEPTED = DATA / "accepted_disagreements.yaml"


def accepted(peer: str) -> set[tuple[str, ...]]:
    """The keys accepted for `peer` (disagreements, or `PEER-unpriced` prices the catalogue lacks), each with a
    reason."""
    rows = yaml.safe_load(ACCEPTED.read_text("utf-8"))[peer] or []
    keys = set()
    for row in rows:
        assert str(row.get("reason") or "").strip(), f"an accepted disagreement needs a reason: {row}"
        keys.add(tuple(cell.strip() for cell in row["key"].split("|")))
    return keys


def check(found: list[Any], allowed: set[tuple[str, ...]], peer: str) -> None:
    unexplained = sorted({d.key() for d in found} - allowed)
    assert not unexplained, f"disagreements with {peer} not in accepted_disagreements.yaml:\n" + "\n".join(
        " | ".join(k) for k in unexplained
    )
    stale = sorted(allowed - {d.key() for d in found})
    assert not stale, f"accepted_disagreements.yaml lists disagreements with {peer} that no longer occur: {stale}"


def test_catalogue_agrees_with_genai_prices() -> None:
    snapshot = json.loads(GENAI_SNAPSHOT.read_text("utf-8"))
    assert snapshot["_snapshot"]["version"] == "0.2.5"
    compared, found = compare_genai(snapshot)
    assert compared >= 400, f"only {compared} overlapping prices compared: the comparison lost its reach"
    check(found, accepted("genai-prices-0.2.5"), "genai-prices 0.2.5")


def test_catalogue_agrees_with_the_litellm_snapshot() -> None:
    snapshot = json.loads(LITELLM_SNAPSHOT.read_text("utf-8"))
    assert snapshot["_snapshot"]["version"] == "1.110.2"
    unpriced: list[tuple[str, ...]] = []
    compared, found = compare_litellm(snapshot, unpriced)
    assert compared >= 1900, f"only {compared} LiteLLM prices compared: the comparison lost its reach"
    check(found, accepted("litellm-1.110.2"), "LiteLLM 1.110.2")
    check_unpriced(unpriced, accepted("litellm-1.110.2-unpriced"), "LiteLLM 1.110.2")


def check_unpriced(found: list[tuple[str, ...]], allowed: set[tuple[str, ...]], peer: str) -> None:
    """A price the peer has for a model the catalogue prices on that API, missing from the catalogue, fails unless
    accepted with a reason; an accepted one that is no longer missing fails too."""
    missing = sorted(set(found) - allowed)
    assert not missing, f"prices {peer} has that the catalogue lacks (price them or accept them):\n" + "\n".join(
        " | ".join(k) for k in missing
    )
    stale = sorted(allowed - set(found))
    assert not stale, f"accepted_disagreements.yaml lists {peer} prices the catalogue now has: {stale}"


def test_every_genai_prices_price_of_a_priced_model_is_in_the_catalogue() -> None:
    snapshot = json.loads(GENAI_SNAPSHOT.read_text("utf-8"))
    check_unpriced(genai_unpriced(snapshot), accepted("genai-prices-0.2.5-unpriced"), "genai-prices 0.2.5")


def _peer_model(model_id: str, prices: dict[str, Any], variants: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": model_id,
        "match": {"equals": model_id, "$type": "ClauseEquals"},
        "prices": prices,
        "price_variants": variants or [],
        "price_comments": "https://ai.google.dev/gemini-api/docs/pricing",
    }


def test_the_comparison_catches_a_wrong_price() -> None:
    wrong = _peer_model("gemini-2.5-flash", {"input_mtok": "0.31", "output_mtok": "2.5"})
    compared, found = compare_genai({"models": [wrong]})
    assert compared >= 2
    assert {(d.unit, str(d.ours), str(d.peer)) for d in found} == {("input_mtok", "0.3", "0.31")}


def test_the_comparison_reads_dated_prices_and_flex_priority_and_grounding() -> None:
    # Gemini 4 Argon on the Gemini API: 2 -> 4 per 1M on 2026-12-01; a wrong priority rate and grounding are caught.
    argon = _peer_model(
        "gemini-4-argon",
        [
            {"prices": {"input_mtok": "2", "web_searches_kcount": "15"}, "$type": "ConditionalPrice"},
            {"constraint": {"start_date": "2026-12-01"}, "prices": {"input_mtok": "4"}, "$type": "ConditionalPrice"},
        ],
        [
            {
                "when": {"service_tier": "priority"},
                "prices": {"input_mtok": "7.3"},
                "constraint": {"start_date": "2026-12-01"},
            }
        ],
    )
    compared, found = compare_genai({"models": [argon]})
    assert compared >= 4
    assert {(d.mode, d.unit, str(d.date), str(d.ours), str(d.peer)) for d in found} == {
        ("online", "web_searches_kcount", "2026-10-14", "14", "15"),
        ("priority", "input_mtok", "2026-12-01", "7.2", "7.3"),
    }


def test_accepted_disagreements_have_reasons_and_unique_keys() -> None:
    data = yaml.safe_load(ACCEPTED.read_text("utf-8"))
    for peer, rows in data.items():
        keys = [row["key"] for row in rows or []]
        assert len(keys) == len(set(keys)), f"{peer}: a disagreement is listed twice"
        for key in keys:
            if peer.endswith("-unpriced"):
                assert len(key.split("|")) == 5, key
            else:
                assert len(key.split("|")) == 8, key
                Decimal(key.split("|")[6].strip())


def test_a_missing_price_is_caught() -> None:
    # A peer price for a mode the catalogue does not price (3.8 Flash flex after 2027-01-01 on the Gemini API).
    peer = _peer_model(
        "gemini-3.8-flash",
        [{"prices": {"input_mtok": "0.75"}, "$type": "ConditionalPrice"}],
        [
            {
                "when": {"service_tier": "flex"},
                "prices": {"input_mtok": "0.75"},
                "constraint": {"start_date": "2027-01-01"},
            }
        ],
    )
    assert genai_unpriced({"models": [peer]}) == [
        ("gemini-3.8-flash", "gemini-3.8-flash", "gemini_api", "flex", "input_mtok")
    ]
