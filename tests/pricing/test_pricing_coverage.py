"""Coverage: every Vertex AI or Gemini API model a vendored peer prices is priced by the catalogue on that API, or
refused there with a reason (catalogue.yaml `refused`). A new peer snapshot with a model the catalogue lacks fails
here until tools/catalogue_from_peers.py generates its rows or the catalogue states why it is refused."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.pricing.peer_prices import Gap, genai_gaps, litellm_gaps
from vertexmeter.errors import VertexMeterError
from vertexmeter.pricing.catalogue import catalogue, refusal, resolve_priced_model

DATA = Path(__file__).parent / "data"
LITELLM = json.loads((DATA / "litellm-1.110.2-vertex-gemini.json").read_text("utf-8"))
GENAI = json.loads((DATA / "genai-prices-0.2.5-google.json").read_text("utf-8"))


def test_every_litellm_model_is_priced_or_refused() -> None:
    assert len(LITELLM["models"]) == 297
    assert litellm_gaps(LITELLM) == []


def test_every_genai_prices_model_is_priced_or_refused() -> None:
    assert len(GENAI["models"]) == 73
    assert genai_gaps(GENAI) == []


def test_a_model_the_catalogue_lacks_is_a_gap() -> None:
    unknown = {
        "models": {
            "vertex_ai/gemini-9-ultra": {"litellm_provider": "vertex_ai", "input_cost_per_token": 1e-6},
            "gemini/gemini-9-ultra": {"litellm_provider": "gemini", "input_cost_per_token": 1e-6},
        }
    }
    assert litellm_gaps(unknown) == [
        Gap("litellm", "gemini/gemini-9-ultra", "gemini_api"),
        Gap("litellm", "vertex_ai/gemini-9-ultra", "vertex"),
    ]
    peer = {
        "models": [
            {
                "id": "gemini-9-ultra",
                "match": {"starts_with": "gemini-9-ultra", "$type": "ClauseStartsWith"},
                "prices": {},
                "price_variants": [],
                "price_comments": "https://ai.google.dev",
            }
        ]
    }
    assert genai_gaps(peer) == [Gap("genai-prices", "gemini-9-ultra", "gemini_api")]


def test_a_model_priced_on_one_api_only_is_a_gap_on_the_other() -> None:
    # Veo 3.1 Lite is priced on Vertex; its Gemini API preview is refused there (shut down), with a reason.
    only_vertex = {"models": {"gemini/veo-3.1-lite-generate-001": {"litellm_provider": "gemini"}}}
    assert litellm_gaps(only_vertex) == [Gap("litellm", "gemini/veo-3.1-lite-generate-001", "gemini_api")]
    assert refusal("veo-3.1-lite-generate-preview") is not None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("gemini-exp-1206", "experimental"),
        ("chirp_2", "Speech-to-Text"),
        ("semantic-ranker-fast@latest", "Search"),
        ("meta/llama3-8b-instruct-maas", "preview"),
    ],
)
def test_a_refused_model_names_its_reason(name: str, reason: str) -> None:
    with pytest.raises(VertexMeterError) as refused:
        resolve_priced_model(name)
    assert refused.value.status == "NOT_FOUND"
    assert "has no price for" in refused.value.message and reason in refused.value.message


def test_every_refusal_has_a_reason() -> None:
    for group in catalogue().data.refused:
        assert group.reason.strip() and group.models


def test_the_generated_rows_are_the_generators_output() -> None:
    # No hand edits between the markers: tools/catalogue_from_peers.py regenerates them from the snapshots.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
    import catalogue_from_peers as generator

    text = generator.CATALOGUE.read_text("utf-8")
    models, entries = generator.generate()
    assert (
        generator.replace_block(
            generator.replace_block(text, generator.MODELS_BLOCK, models), generator.ENTRIES_BLOCK, entries
        )
        == text
    )
    assert len(entries) > 500
