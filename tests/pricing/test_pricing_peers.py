"""Cross-check: the catalogue against pydantic's genai-prices (the test extra pins 0.2.3).

Every overlapping (model, unit, tier, date) is compared; a disagreement fails unless docs/pricing.md lists it,
with its reason, in the table under "Known disagreements with genai-prices".
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from peer_prices import compare  # noqa: E402

DOCS = Path(__file__).resolve().parents[2] / "docs" / "pricing.md"
PINNED = "0.2.3"


def documented(section: str, header: str) -> set[tuple[str, ...]]:
    """The disagreement keys listed in docs/pricing.md under `section` (a 9-column table, reason last)."""
    text = DOCS.read_text("utf-8")
    body = text.split(f"### {section}", 1)[1].split("\n#", 1)[0]
    rows = set()
    for line in body.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0] and cells[0] != header and not cells[0].startswith("-"):
            assert cells[8], f"a listed disagreement needs a reason: {line}"
            rows.add(tuple(cells[:8]))
    return rows


def check(found: list[Any], allowed: set[tuple[str, ...]], peer: str) -> None:
    unexplained = sorted({d.key() for d in found} - allowed)
    assert not unexplained, f"disagreements with {peer} not listed in docs/pricing.md:\n" + "\n".join(
        " | ".join(k) for k in unexplained
    )
    stale = sorted(allowed - {d.key() for d in found})
    assert not stale, f"docs/pricing.md lists disagreements with {peer} that no longer occur: {stale}"


def test_catalogue_agrees_with_genai_prices() -> None:
    genai_prices = pytest.importorskip("genai_prices.data", reason="the test extra installs genai-prices")
    assert metadata.version("genai-prices") == PINNED, "re-run the cross-check and update docs when the peer moves"
    google = next(p for p in genai_prices.providers if p.id == "google")
    compared, found = compare(google.models)
    assert compared >= 200, f"only {compared} overlapping prices compared: the comparison lost its reach"
    check(found, documented("Known disagreements with genai-prices", "peer model"), "genai-prices")


def test_the_comparison_catches_a_wrong_price() -> None:
    types = pytest.importorskip("genai_prices.types", reason="the test extra installs genai-prices")
    from decimal import Decimal

    wrong = types.ModelInfo(
        id="gemini-2.5-flash", match=types.ClauseEquals(equals="gemini-2.5-flash"),
        prices=types.ModelPrice(input_mtok=Decimal("0.31"), output_mtok=Decimal("2.5")),
    )
    compared, found = compare([wrong])
    assert compared >= 2
    assert {(d.unit, str(d.ours), str(d.peer)) for d in found} == {("input_mtok", "0.3", "0.31")}


LITELLM_SNAPSHOT = Path(__file__).parent / "data" / "litellm-1.110.2-vertex-gemini.json"


def test_catalogue_agrees_with_the_litellm_snapshot() -> None:
    import json

    from peer_prices import compare_litellm

    snapshot = json.loads(LITELLM_SNAPSHOT.read_text("utf-8"))
    assert snapshot["_snapshot"]["version"] == "1.110.2"
    compared, found = compare_litellm(snapshot)
    assert compared >= 1000, f"only {compared} LiteLLM prices compared: the comparison lost its reach"
    check(found, documented("Known disagreements with LiteLLM 1.110.2", "LiteLLM key"), "LiteLLM 1.110.2")
