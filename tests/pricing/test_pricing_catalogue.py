"""The catalogue file: schema, dates, sources, model resolution, and parity with the compiled prices.yaml."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest
import yaml

from tests.pricing.pricing_helpers import D, shared_prices
from vertexmeter.errors import VertexMeterError
from vertexmeter.pricing.catalogue import (
    CatalogueError,
    catalogue,
    load_catalogue_text,
    resolve_priced_model,
)
from vertexmeter.registry import resolve

CATALOGUE_TEXT = resources.files("vertexmeter.pricing").joinpath("catalogue.yaml").read_text("utf-8")

# Every row of the seed page (seed file 000_d051b4ad03054c83.txt), read off the page by hand.
SEED_ROWS = {
    "vertex.gemini-1.5-flash.input.image.le128k": "0.00002",
    "vertex.gemini-1.5-flash.input.image.gt128k": "0.00004",
    "vertex.gemini-1.5-flash.input.video.le128k": "0.00002",
    "vertex.gemini-1.5-flash.input.video.gt128k": "0.00004",
    "vertex.gemini-1.5-flash.input.text.le128k": "0.00001875",
    "vertex.gemini-1.5-flash.input.text.gt128k": "0.0000375",
    "vertex.gemini-1.5-flash.input.audio.le128k": "0.000002",
    "vertex.gemini-1.5-flash.input.audio.gt128k": "0.000004",
    "vertex.gemini-1.5-flash.output.text.le128k": "0.000075",
    "vertex.gemini-1.5-flash.output.text.gt128k": "0.00015",
    "vertex.gemini-1.5-flash.tuning.training_tokens": "8",
    "vertex.gemini-1.5-pro.input.image.le128k": "0.00032875",
    "vertex.gemini-1.5-pro.input.image.gt128k": "0.0006575",
    "vertex.gemini-1.5-pro.input.video.le128k": "0.00032875",
    "vertex.gemini-1.5-pro.input.video.gt128k": "0.0006575",
    "vertex.gemini-1.5-pro.input.text.le128k": "0.0003125",
    "vertex.gemini-1.5-pro.input.text.gt128k": "0.000625",
    "vertex.gemini-1.5-pro.input.audio.le128k": "0.00003125",
    "vertex.gemini-1.5-pro.input.audio.gt128k": "0.0000625",
    "vertex.gemini-1.5-pro.output.text.le128k": "0.00125",
    "vertex.gemini-1.5-pro.output.text.gt128k": "0.0025",
    "vertex.gemini-1.5-pro.tuning.training_tokens": "80",
    "vertex.gemini-1.0-pro.input.image": "0.0025",
    "vertex.gemini-1.0-pro.input.video": "0.002",
    "vertex.gemini-1.0-pro.input.text": "0.000125",
    "vertex.gemini-1.0-pro.output.text": "0.000375",
    "vertex.gemini.grounding.google_search.v1x": "35",
    "vertex.gemini.batch_discount.v1x": "0.5",
    "vertex.gemini.pdf_page_as_image.v1x": "1",
    "vertex.imagen-3.generate": "0.04",
    "vertex.imagen-3.edit": "0.04",
    "vertex.imagen-3.customize": "0.04",
    "vertex.imagen-3-fast.generation": "0.02",
    "vertex.imagen-2.generate": "0.020",
    "vertex.imagen-2.edit": "0.020",
    "vertex.imagen-2.upscale": "0.003",
    "vertex.imagen-2.visual_captioning": "0.0015",
    "vertex.imagen-2.visual_qa": "0.0015",
    "vertex.multimodalembedding.text": "0.0002",
    "vertex.multimodalembedding.image": "0.0001",
    "vertex.multimodalembedding.video_plus": "0.0020",
    "vertex.multimodalembedding.video_standard": "0.0010",
    "vertex.multimodalembedding.video_essential": "0.0005",
    "vertex.text-embeddings.input.online": "0.000025",
    "vertex.text-embeddings.input.batch": "0.00002",
    "vertex.text-embeddings.output.online": "0",
    "vertex.text-embeddings.output.batch": "0",
    "vertex.codey-completion.input": "0.00025",
    "vertex.codey-completion.output": "0.0005",
    "vertex.palm-text-bison.input.example": "0.00025",
    "vertex.palm-text-bison.output.example": "0.0005",
    "vertex.translation-llm.input": "10",
    "vertex.translation-llm.output": "10",
    "vertex.gemini-1.5-flash.cached_input.image.le128k": "0.000005",
    "vertex.gemini-1.5-flash.cached_input.image.gt128k": "0.00001",
    "vertex.gemini-1.5-flash.cached_input.video.le128k": "0.000005",
    "vertex.gemini-1.5-flash.cached_input.video.gt128k": "0.00001",
    "vertex.gemini-1.5-flash.cached_input.text.le128k": "0.0000046875",
    "vertex.gemini-1.5-flash.cached_input.text.gt128k": "0.000009375",
    "vertex.gemini-1.5-flash.cached_input.audio.le128k": "0.0000005",
    "vertex.gemini-1.5-flash.cached_input.audio.gt128k": "0.000001",
    "vertex.gemini-1.5-flash.cache_storage.image": "0.000263",
    "vertex.gemini-1.5-flash.cache_storage.video": "0.000263",
    "vertex.gemini-1.5-flash.cache_storage.text": "0.00025",
    "vertex.gemini-1.5-flash.cache_storage.audio": "0.000025",
    "vertex.gemini-1.5-pro.cached_input.image.le128k": "0.0000821875",
    "vertex.gemini-1.5-pro.cached_input.image.gt128k": "0.000164375",
    "vertex.gemini-1.5-pro.cached_input.video.le128k": "0.0000821875",
    "vertex.gemini-1.5-pro.cached_input.video.gt128k": "0.000164375",
    "vertex.gemini-1.5-pro.cached_input.text.le128k": "0.000078125",
    "vertex.gemini-1.5-pro.cached_input.text.gt128k": "0.00015625",
    "vertex.gemini-1.5-pro.cached_input.audio.le128k": "0.0000078125",
    "vertex.gemini-1.5-pro.cached_input.audio.gt128k": "0.000015625",
    "vertex.gemini-1.5-pro.cache_storage.image": "0.0011835",
    "vertex.gemini-1.5-pro.cache_storage.video": "0.0011835",
    "vertex.gemini-1.5-pro.cache_storage.text": "0.001125",
    "vertex.gemini-1.5-pro.cache_storage.audio": "0.0001125",
    "vertex.jamba-1.5-large.input": "2",
    "vertex.jamba-1.5-large.output": "8",
    "vertex.jamba-1.5-mini.input": "0.20",
    "vertex.jamba-1.5-mini.output": "0.40",
    "vertex.claude-3-5-haiku.input": "0.80",
    "vertex.claude-3-5-haiku.output": "4",
    "vertex.claude-3-5-haiku.input.batch": "0.40",
    "vertex.claude-3-5-haiku.output.batch": "2",
    "vertex.claude-3-5-haiku.cache_write": "1",
    "vertex.claude-3-5-haiku.cache_hit": "0.08",
    "vertex.claude-3-5-haiku.cache_write.batch": "0.50",
    "vertex.claude-3-5-haiku.cache_hit.batch": "0.04",
    "vertex.claude-3-5-sonnet-v2.input": "3",
    "vertex.claude-3-5-sonnet-v2.output": "15",
    "vertex.claude-3-5-sonnet-v2.input.batch": "1.50",
    "vertex.claude-3-5-sonnet-v2.output.batch": "7.50",
    "vertex.claude-3-5-sonnet-v2.cache_write": "3.75",
    "vertex.claude-3-5-sonnet-v2.cache_hit": "0.30",
    "vertex.claude-3-5-sonnet-v2.cache_write.batch": "1.875",
    "vertex.claude-3-5-sonnet-v2.cache_hit.batch": "0.15",
    "vertex.claude-3-5-sonnet.input": "3",
    "vertex.claude-3-5-sonnet.output": "15",
    "vertex.claude-3-haiku.input": "0.25",
    "vertex.claude-3-haiku.output": "1.25",
    "vertex.claude-3-sonnet.input": "3",
    "vertex.claude-3-sonnet.output": "15",
    "vertex.claude-3-opus.input": "15",
    "vertex.claude-3-opus.output": "75",
    "vertex.llama-3.1-405b.input": "5.00",
    "vertex.llama-3.1-405b.output": "16.00",
    "vertex.mistral-large-2411.input": "2.00",
    "vertex.mistral-large-2411.output": "6.00",
    "vertex.mistral-large-2407.input": "2.00",
    "vertex.mistral-large-2407.output": "6.00",
    "vertex.mistral-nemo.input": "0.15",
    "vertex.mistral-nemo.output": "0.15",
    "vertex.codestral-2405.input": "0.20",
    "vertex.codestral-2405.output": "0.60",
}


def test_every_seed_row_is_in_the_catalogue_with_its_price() -> None:
    entries = catalogue().entries_by_id
    for entry_id, price in SEED_ROWS.items():
        assert entry_id in entries, entry_id
        assert entries[entry_id].price == D(price), entry_id
        assert entries[entry_id].source == "S1"
        assert entries[entry_id].confidence == "confirmed"


def test_prices_in_the_yaml_are_strings_never_floats() -> None:
    raw = yaml.safe_load(CATALOGUE_TEXT)
    for entry in raw["entries"]:
        assert entry["price"] is None or isinstance(entry["price"], str), entry["id"]


def test_every_entry_is_dated_and_sourced() -> None:
    cat = catalogue()
    for entry in cat.data.entries:
        assert isinstance(entry.effective_from, dt.date)
        assert entry.source in cat.sources
        assert entry.confidence in ("confirmed", "secondary", "derived", "assumed")


def test_parity_with_the_compiled_prices_yaml() -> None:
    """Every price of shared/spec/prices.yaml is in the catalogue, unchanged (same id, or split Imagen 3 row)."""
    ours = catalogue().entries_by_id
    for row in shared_prices()["entries"]:
        entry_id = "vertex.imagen-3.generate" if row["id"] == "vertex.imagen-3.generation" else row["id"]
        assert entry_id in ours, entry_id
        expected = None if row["price"] is None else D(row["price"])
        assert ours[entry_id].price == expected, entry_id
        assert ours[entry_id].mode == row["mode"], entry_id
        assert ours[entry_id].unit == row["unit"], entry_id


def test_pre_october_2024_prices_coexist_with_the_new_ones() -> None:
    entries = catalogue().entries_by_id
    old = entries["vertex.gemini-1.5-pro.output.text.le128k.pre-2024-10"]
    new = entries["vertex.gemini-1.5-pro.output.text.le128k"]
    assert (old.price, new.price) == (D("0.00375"), D("0.00125"))
    assert old.effective_until == new.effective_from == dt.date(2024, 10, 7)
    assert entries["vertex.gemini-1.5-pro.input.text.le128k.pre-2024-10"].price == D("0.00125")
    assert entries["vertex.gemini-1.5-pro.input.image.le128k.pre-2024-10"].price == D("0.001315")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gemini-1.5-pro-002", "gemini-1.5-pro"),
        ("publishers/google/models/gemini-1.5-flash-001", "gemini-1.5-flash"),
        ("projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro", "gemini-2.5-pro"),
        ("text-bison@002", "text-bison"),
        ("claude-3-5-haiku@20241022", "claude-3-5-haiku"),
        ("publishers/anthropic/models/claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet-v2"),
        ("llama-3.1-405b-instruct-maas", "llama-3.1-405b"),
        ("mistral-large@2411", "mistral-large-2411"),
        ("jamba-1.5-mini@001", "jamba-1.5-mini"),
        ("imagen-3.0-generate-002", "imagen-3"),
        ("imagegeneration@006", "imagen-2"),
        ("multimodalembedding@001", "multimodalembedding"),
        ("textembedding-gecko@003", "textembedding-gecko"),
    ],
)
def test_model_names_resolve(name: str, expected: str) -> None:
    assert resolve_priced_model(name).id == expected


def test_registry_models_are_registry_ids() -> None:
    for model in catalogue().models.values():
        if model.registry:
            assert resolve(model.id, any_api=True).id == model.id
        elif model.counted_with:  # a preview id or a pricier sibling the registry folds into its counter
            assert resolve(model.counted_with, any_api=True).id == model.counted_with
        else:  # a model counting refuses with its reason (tests/test_registry.py: the one list)
            with pytest.raises(VertexMeterError) as refused:
                resolve(model.id)
            assert refused.value.status == "FAILED_PRECONDITION", model.id


@pytest.mark.parametrize("name", ["text-unicorn", "text-unicorn@001"])
def test_a_registry_alias_naming_another_model_is_priced_as_itself(name: str) -> None:
    # The counting registry folds text-unicorn into text-bison (same tokenizer), but it is a pricier model.
    assert resolve_priced_model(name).id == "text-unicorn"
    assert resolve_priced_model("text-bison@002").id == "text-bison"


# ---- the schema refuses broken data -------------------------------------------------------------
def broken(old: str, new: str) -> str:
    assert old in CATALOGUE_TEXT
    return CATALOGUE_TEXT.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("price: '0.0003125'", "price: 0.0003125", "quoted decimal string"),
        ("price: '0.0003125'", "price: '-1'", "negative"),
        ("price: '0.0003125'", "price: 'cheap'", "decimal number"),
        ("unit: per_1k_characters", "unit: per_character", "unknown unit"),
        ("source: S1", "source: S99", "unknown source"),
        ("\n  confidence: confirmed", "\n  confidence: sure", "unknown confidence"),
        ("tier: <=128000", "tier: '=128000'", "tier must look like"),
        ("  mode: online", "  mode: sometimes", "mode"),
        ("charge: input", "charge: inputs", "unknown charge"),
        ("effective_until: 2024-10-07", "effective_until: 2024-12-01", "twice for the same dates"),
    ],
)
@pytest.mark.slow  # reloads and revalidates the whole catalogue per case
def test_schema_errors(old: str, new: str, message: str) -> None:
    with pytest.raises(CatalogueError) as err:
        load_catalogue_text(broken(old, new))
    assert message in str(err.value)


def test_an_extra_field_is_refused() -> None:
    with pytest.raises(CatalogueError):
        load_catalogue_text(broken("  confidence: confirmed\n", "  confidence: confirmed\n  colour: blue\n"))


def test_the_packaged_catalogue_loads() -> None:
    assert load_catalogue_text(CATALOGUE_TEXT).entries_by_id.keys() == catalogue().entries_by_id.keys()
