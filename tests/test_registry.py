"""The model registry: every model of the spec, aliases and versions, NOT_FOUND with suggestions."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import vertexmeter
from tests.registry_data import shipped_data
from vertexmeter.cli import main
from vertexmeter.errors import VertexMeterError
from vertexmeter.registry import all_models, resolve

SPEC_MODELS = {
    # id: (tokenizer, input limit, output limit, billed by characters)
    "gemini-1.0-pro": ("gemma2", 32760, 8192, True),
    "gemini-1.5-flash": ("gemma2", 1048576, 8192, True),
    "gemini-1.5-pro": ("gemma2", 2097152, 8192, True),
    "gemini-2.0-flash": ("gemma3", 1048576, 8192, False),
    "gemini-2.0-flash-lite": ("gemma3", 1048576, 8192, False),
    "gemini-2.5-pro": ("gemma3", 1048576, 65535, False),
    "gemini-2.5-flash": ("gemma3", 1048576, 65535, False),
    "gemini-2.5-flash-lite": ("gemma3", 1048576, 65535, False),
    "gemini-2.5-flash-image": ("gemma3", 32768, 32768, False),
    "gemini-3-pro-preview": ("gemma3", 1048576, 65536, False),
    "gemini-3-flash-preview": ("gemma3", 1048576, 65536, False),
    "gemini-3-pro-image-preview": ("gemma3", 65536, 32768, False),
    "gemini-3.1-pro-preview": ("gemma4", 1048576, 65536, False),
    "gemini-3.1-flash-lite": ("gemma4", 1048576, 65536, False),
    "gemini-3.5-flash": ("gemma4", 1048576, 65536, False),
    "text-bison": ("gemma2", 8192, 1024, True),
    "text-bison-32k": ("gemma2", 32768, 8192, True),
    "chat-bison": ("gemma2", 8192, 2048, True),
    "chat-bison-32k": ("gemma2", 32768, 8192, True),
    "code-bison": ("gemma2", 6144, 1024, True),
    "codechat-bison": ("gemma2", 6144, 1024, True),
    "code-gecko": ("gemma2", 2048, 64, True),
    "textembedding-gecko": ("gemma2", 3072, 0, True),
    "textembedding-gecko-multilingual": ("gemma2", 3072, 0, True),
    "text-embedding-004": ("gemma2", 2048, 0, True),
    "text-embedding-005": ("gemma2", 2048, 0, True),
    "gemini-embedding-001": ("gemma3", 2048, 0, False),
    "multimodalembedding": ("gemma2", 32, 0, True),
}


@pytest.mark.parametrize("model_id", sorted(SPEC_MODELS))
def test_every_spec_model_is_registered(model_id: str) -> None:
    info = resolve(model_id)
    assert info.id == model_id
    assert (info.tokenizer, info.input_token_limit, info.output_token_limit, info.billed_by_characters) == (
        SPEC_MODELS[model_id]
    )


@pytest.mark.parametrize(
    ("name", "model_id"),
    [
        ("text-bison@002", "text-bison"),
        ("gemini-1.5-pro-002", "gemini-1.5-pro"),
        ("gemini-2.5-flash-preview-05-20", "gemini-2.5-flash"),
        ("gemini-2.5-flash-lite-preview-06-17", "gemini-2.5-flash-lite"),
        ("gemini-1.5-flash-latest", "gemini-1.5-flash"),
        ("gemini-pro", "gemini-1.0-pro"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("publishers/google/models/gemini-3-pro-preview", "gemini-3-pro-preview"),
        ("projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash-001", "gemini-2.0-flash"),
        ("projects/my-proj/locations/global/publishers/google/models/chat-bison@001", "chat-bison"),
        ("textembedding-gecko@003", "textembedding-gecko"),
        ("gemini-2.5-flash-image-preview", "gemini-2.5-flash-image"),
    ],
)
def test_aliases_and_versions_resolve(name: str, model_id: str) -> None:
    assert resolve(name).id == model_id


def test_legacy_models_take_instances() -> None:
    schemas = {m.id: m.instance_schema for m in all_models() if m.is_legacy}
    assert schemas["text-bison"] == "text"
    assert schemas["chat-bison"] == "chat"
    assert schemas["code-bison"] == "code"
    assert schemas["codechat-bison"] == "codechat"
    assert schemas["code-gecko"] == "code_completion"
    assert schemas["textembedding-gecko"] == "embedding"
    assert not resolve("gemini-2.5-pro").is_legacy


def test_unknown_vertex_model_names_the_closest() -> None:
    with pytest.raises(VertexMeterError) as caught:
        resolve("gemini-2.5-flsh")
    error = caught.value
    assert (error.status, error.code) == ("NOT_FOUND", 404)
    assert error.message.startswith("Publisher Model `publishers/google/models/gemini-2.5-flsh` was not found")
    assert "gemini-2.5-flash" in error.message.split("Closest known models:")[1]


def test_unknown_gemini_model_uses_the_gemini_api_wording() -> None:
    with pytest.raises(VertexMeterError) as caught:
        resolve("models/gemini-9-ultra", api="gemini")
    assert caught.value.message.startswith("models/gemini-9-ultra is not found for API version v1beta")


def test_full_resource_name_is_kept_in_the_not_found_message() -> None:
    name = "projects/p/locations/l/publishers/google/models/nothing-here"
    with pytest.raises(VertexMeterError, match=f"Publisher Model `{name}`"):
        resolve(name)


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_model_name_is_invalid(bad: str) -> None:
    with pytest.raises(VertexMeterError) as caught:
        resolve(bad)
    assert caught.value.status == "INVALID_ARGUMENT"


def test_models_command_lists_the_registry() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["models", "--json"])
    assert result.exit_code == 0
    listed = {m["id"]: m for m in json.loads(result.output)}
    assert set(SPEC_MODELS) <= set(listed)
    assert listed["text-bison"]["format"] == "instances"
    table = runner.invoke(main, ["models"])
    assert table.exit_code == 0 and "gemini-3.5-flash" in table.output


def test_gemini_not_found_names_the_api_version_called() -> None:
    with pytest.raises(VertexMeterError, match="not found for API version v1,"):
        resolve("models/gemini-9-ultra", api="gemini", api_version="v1")


def test_vertex_not_found_keeps_the_publisher_given() -> None:
    with pytest.raises(VertexMeterError, match="Publisher Model `publishers/anthropic/models/claude-x`"):
        resolve("publishers/anthropic/models/claude-x")


def test_errors_survive_pickling() -> None:
    import pickle

    with pytest.raises(VertexMeterError) as caught:
        resolve("gemini-2.5-flsh")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.status, copy.message, copy.to_json()) == (
        caught.value.status,
        caught.value.message,
        caught.value.to_json(),
    )


# ---- one list of models: counting and pricing ------------------------------------------------------------------
def test_every_priced_model_is_known_to_counting_or_listed_as_not_countable() -> None:
    from vertexmeter.pricing.catalogue import catalogue
    from vertexmeter.registry import not_countable

    listed = not_countable()
    for model in catalogue().models.values():
        if model.registry:
            assert resolve(model.id, any_api=True).id == model.id, model.id
        elif model.counted_with:  # priced apart, counted as a registry model
            assert resolve(model.counted_with, any_api=True).id == model.counted_with, model.id
        else:
            assert model.id in listed, f"{model.id} is priced but neither counted nor listed in not_countable"
            with pytest.raises(VertexMeterError) as refused:
                resolve(model.id)
            assert refused.value.status == "FAILED_PRECONDITION"
            assert listed[model.id].reason in refused.value.message


def test_every_registry_model_is_priced_or_refused_with_a_reason() -> None:
    from vertexmeter.pricing.catalogue import refusal, resolve_priced_model
    from vertexmeter.vocabulary import APIS

    for info in all_models():
        refused = refusal(info.id)
        if refused is not None and set(refused.apis) == set(APIS):
            assert len(refused.reason) > 10
            with pytest.raises(VertexMeterError, match="has no price for"):
                resolve_priced_model(info.id)
        else:
            assert resolve_priced_model(info.id), info.id


def test_every_not_countable_model_is_priced() -> None:
    from vertexmeter.pricing.catalogue import catalogue
    from vertexmeter.registry import not_countable

    unpriced = sorted(set(not_countable()) - set(catalogue().models))
    assert unpriced == [], f"listed as not countable but not priced: {unpriced}"


# ---- today's models ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model_id", "generation", "tokenizer"),
    [
        ("gemini-4-argon", "4", "gemma4"),
        ("gemini-4-carbon", "4", "gemma4"),
        ("gemini-4-hydrogen", "4", "gemma4"),
        ("gemini-4-neon", "4", "gemma4"),
        ("gemma-3n-e4b-it", "gemma", "gemma3"),
        ("gemma-4-31b-it", "gemma", "gemma4"),
    ],
)
def test_todays_models_are_registered_as_inferred_with_a_reason(model_id: str, generation: str, tokenizer: str) -> None:
    info = resolve(model_id, any_api=True)
    assert (info.id, info.generation, info.tokenizer) == (model_id, generation, tokenizer)
    assert info.count_is_inferred and info.confidence_reason
    assert info.rules_generation == "3"  # Gemini 3's accounting rules, assumed
    assert info.confidence_note and "inferred, not exact" in info.confidence_note


def test_a_recorded_model_is_not_inferred() -> None:
    info = resolve("gemini-2.5-flash")
    assert not info.count_is_inferred and info.confidence_note is None


@pytest.mark.parametrize("model_id", ["gemini-3.6-flash", "gemini-3.7-flash", "gemini-3.8-flash"])
def test_flash_models_with_recorded_generate_content_answers_are_observed(model_id: str) -> None:
    """family-assistant's 3.6 / 3.7 / 3.8 Flash recordings (mined_late_2026b) are exact with 3.5 Flash's rules: the
    entries say `observed`, name those answers among their sources, and their answers carry no inferred note."""
    info = resolve(model_id, api="gemini")
    assert (info.generation, info.tokenizer, info.rules_generation) == ("3", "gemma4", "3")
    assert not info.count_is_inferred and info.confidence_note is None
    assert any(source.startswith("fama2-") for source in info.sources)


@pytest.mark.parametrize("model_id", ["gemma-3-27b-it", "gemma-3-12b-it", "gemma-3-4b-it", "gemma-3-1b-it"])
def test_gemma_3_on_the_gemini_api_is_observed(model_id: str) -> None:
    # crewAI's cassettes (Apr 2025): "What is the capital of France?" billed 8 = gemma3's 7 + 1 role, 9/9 exact.
    import vertexmeter

    info = resolve(model_id, api="gemini")
    assert (info.confidence, info.tokenizer, info.rules_generation) == ("observed", "gemma3", "3")
    body = {"contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}]}
    assert vertexmeter.usage(model_id, body, api="gemini", as_of="2025-04-22").prompt_token_count == 8


@pytest.mark.parametrize(
    ("day", "model_id"),
    [
        ("2026-08-05", "gemini-3.6-flash"),
        ("2026-10-19", "gemini-3.6-flash"),
        ("2026-10-20", "gemini-3.8-flash"),
        ("2026-12-06", "gemini-3.8-flash"),
    ],
)
def test_gemini_flash_latest_is_a_dated_alias(day: str, model_id: str) -> None:
    import datetime as dt

    assert resolve("gemini-flash-latest", on=dt.date.fromisoformat(day)).id == model_id
    assert resolve("models/gemini-flash-latest", api="gemini", on=dt.date.fromisoformat(day)).id == model_id


def test_latest_aliases_today() -> None:
    assert resolve("gemini-flash-latest").id == "gemini-3.8-flash"
    assert resolve("gemini-flash-lite-latest").id == "gemini-3.5-flash-lite"
    assert resolve("gemini-pro-latest").id == "gemini-3.1-pro-preview"


def test_a_dated_alias_before_its_first_period_is_not_found() -> None:
    import datetime as dt

    with pytest.raises(VertexMeterError) as caught:
        resolve("gemini-flash-lite-latest", on=dt.date(2026, 1, 1))
    assert caught.value.status == "NOT_FOUND" and "2026-07-21" in caught.value.message


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("claude-sonnet-5-5", "Anthropic has not published Claude's tokenizer"),
        ("claude-opus-5-5@default", "Anthropic"),
        ("publishers/xai/models/grok-4.7", "xAI"),
        ("zai-org/glm-5-maas", "public (open weights) but vertexmeter does not ship it"),
        ("meta/llama-4-scout-17b-16e-instruct-maas", "open weights"),
        ("deepseek-v4.1-flash-maas", "open weights"),
    ],
)
def test_a_partner_model_says_counting_needs_the_vendors_endpoint(name: str, says: str) -> None:
    with pytest.raises(VertexMeterError) as caught:
        resolve(name)
    error = caught.value
    assert (error.status, error.code) == ("FAILED_PRECONDITION", 400)
    assert says in error.message and "vendor's own endpoint" in error.message
    assert "pricing from reported usage works" in error.message


def test_a_media_generator_says_it_is_priced_per_operation() -> None:
    with pytest.raises(VertexMeterError) as caught:
        resolve("veo-3.1-generate-001")
    assert caught.value.status == "FAILED_PRECONDITION" and "per operation" in caught.value.message


def test_registry_data_errors_are_caught() -> None:
    from vertexmeter.registry.models import _dated_aliases, _not_countable

    known = {"gemini-3.8-flash": resolve("gemini-3.8-flash")}
    with pytest.raises(ValueError, match="overlap"):
        _dated_aliases(
            {
                "x-latest": [
                    {"model": "gemini-3.8-flash", "until": "2026-10-20", "source": "s"},
                    {"model": "gemini-3.8-flash", "from": "2026-10-20", "source": "s"},
                ]
            },
            known,
        )
    with pytest.raises(ValueError, match="unknown model"):
        _dated_aliases({"x-latest": [{"model": "gemini-9", "source": "s"}]}, known)
    with pytest.raises(ValueError, match="also a model name"):
        _dated_aliases({"gemini-3.8-flash": [{"model": "gemini-3.8-flash", "source": "s"}]}, known)
    with pytest.raises(ValueError, match="listed twice"):
        _not_countable([{"kind": "partner", "reason": "r", "models": ["gemini-3.8-flash"]}], known)
    with pytest.raises(ValueError, match="kind partner"):
        _not_countable([{"kind": "other", "reason": "r", "models": ["x"]}], known)


def test_models_all_lists_the_models_priced_but_not_counted() -> None:
    listed = json.loads(CliRunner().invoke(main, ["models", "--all"]).output)
    by_id = {m["id"]: m for m in listed}
    assert by_id["claude-sonnet-5-5"] == {
        "id": "claude-sonnet-5-5",
        "countable": False,
        "kind": "partner",
        "reason": "Anthropic has not published Claude's tokenizer.",
    }
    assert by_id["gemini-4-argon"]["confidence"] == "inferred" and by_id["gemini-4-argon"]["confidenceReason"]
    assert "confidenceReason" not in by_id["gemini-2.5-flash"]
    plain = {m["id"] for m in json.loads(CliRunner().invoke(main, ["models"]).output)}
    assert "claude-sonnet-5-5" not in plain and "gemini-4-argon" in plain
    table = CliRunner().invoke(main, ["models", "--all", "--human"])
    assert table.exit_code == 0 and "not counted" in table.output


@pytest.mark.parametrize(
    ("model_id", "served", "not_served"),
    [
        ("gemma-4-31b-it", "gemini", "vertex"),
        ("gemma-3-1b-it", "gemini", "vertex"),
        ("gemini-3.8-flash-cyber", "vertex", "gemini"),
        ("gemini-4-argon-cyber-permissive", "vertex", "gemini"),
    ],
)
def test_a_model_is_counted_only_on_the_apis_that_serve_it(model_id: str, served: str, not_served: str) -> None:
    assert resolve(model_id, api=served).id == model_id
    with pytest.raises(VertexMeterError) as caught:
        resolve(model_id, api=not_served)
    assert caught.value.status == "NOT_FOUND"
    assert f"{model_id} is served by {'Vertex AI' if served == 'vertex' else 'the Gemini API'}." in caught.value.message
    assert resolve(model_id, api=not_served, any_api=True).id == model_id
    assert resolve("gemini-4-argon", api="vertex").apis == ("vertex", "gemini")


# models.yaml `redirects`: a model name the service answered with another model from a day on.
@pytest.mark.parametrize(
    ("name", "api", "day", "served", "version", "redirected"),
    [
        ("gemini-3-pro-preview", "gemini", "2026-03-16", "gemini-3.1-pro-preview", "gemini-3.1-pro-preview", True),
        (
            "models/gemini-3-pro-preview",
            "gemini",
            "2026-03-01",
            "gemini-3.1-pro-preview",
            "gemini-3.1-pro-preview",
            True,
        ),
        ("gemini-3-pro-preview", "gemini", "2026-02-28", "gemini-3-pro-preview", "gemini-3-pro-preview", False),
        ("gemini-3-pro-preview", "vertex", "2026-03-16", "gemini-3-pro-preview", "gemini-3-pro-preview", False),
        ("gemini-pro", "vertex", "2025-03-21", "gemini-1.0-pro", "gemini-1.0-pro-002", True),
        ("gemini-pro", "vertex", "2025-03-20", "gemini-1.0-pro", "gemini-1.0-pro", False),
        ("gemini-pro", "gemini", "2025-03-21", "gemini-1.0-pro", "gemini-1.0-pro", False),
        (
            "gemini-2.0-flash-thinking-exp-01-21",
            "gemini",
            "2025-11-29",
            "gemini-2.5-flash",
            "gemini-2.5-flash-preview-05-20",
            True,
        ),
        (  # family-assistant's answers as itself up to 2025-11-23 (famac-0055)
            "gemini-2.0-flash-thinking-exp-01-21",
            "gemini",
            "2025-11-23",
            "gemini-2.0-flash-thinking-exp",
            "gemini-2.0-flash-thinking-exp",
            False,
        ),
        (
            "gemini-2.0-flash-thinking-exp-01-21",
            "gemini",
            "2025-04-22",
            "gemini-2.0-flash-thinking-exp",
            "gemini-2.0-flash-thinking-exp",
            False,
        ),
    ],
)
def test_a_redirected_name_is_counted_and_reported_as_the_model_that_served_it(
    name: str, api: str, day: str, served: str, version: str, redirected: bool
) -> None:
    import datetime as dt

    import vertexmeter

    assert resolve(name, api=api, on=dt.date.fromisoformat(day)).id == served
    result = vertexmeter.usage(name, "Hi", api=api, as_of=day)
    assert (result.model.id, result.model_version) == (served, version)
    explained = [r for r in result.rules if r["rule"].startswith("models.yaml redirects")]
    assert bool(explained) == redirected == (result.redirect is not None)
    if explained:
        assert explained[0]["evidence"] and explained[0]["confidence"] == "observed"
    counted = vertexmeter.count(name, "Hi", api=api, as_of=day)
    assert counted.model.id == served and (counted.redirect is not None) == redirected
    assert [r for r in counted.rules if r["rule"].startswith("models.yaml redirects")] == explained


def test_pricing_looks_a_redirected_name_up_as_itself() -> None:
    import datetime as dt

    assert resolve("gemini-3-pro-preview", api="gemini", on=dt.date(2026, 3, 16), any_api=True).id == (
        "gemini-3-pro-preview"
    )


def test_every_recorded_model_version_is_the_model_the_registry_serves() -> None:
    """Over every recorded set: the model a request's name resolves to on its day (redirects applied) is the one its
    answer's modelVersion names, but for answers dated only by an upper bound (a commit) or naming no model."""
    import datetime as dt
    import re

    from tests.ground_truth import api_of, load_2026, load_mined, load_mined_history, load_records

    sets = [load_records(), load_2026(), load_mined()]
    sets += [load_mined_history(n) for n in ("llm_gemini", "ruby_llm", "pydantic_ai_history", "mirascope")]
    sets += [load_mined_history(n) for n in ("ellmer", "chatlas", "crewai")]
    checked, wrong = 0, []
    for record in (r for records in sets for r in records):
        found = re.search(r"modelVersion=([^;]+)", record.get("notes") or "")
        basis = record.get("recorded_basis") or ""
        if not found or not record.get("recorded") or "upper bound" in basis:
            continue
        version = found.group(1).split(". ")[0].strip().removeprefix("models/")
        day = dt.date.fromisoformat(record["recorded"])
        try:
            named = resolve(version, api=api_of(record), on=day, any_api=True).id
            served = resolve(record["model"], api=api_of(record), on=day).id
        except VertexMeterError:
            continue  # a modelVersion of None, or a model the registry refuses (NOT_FOUND / not countable)
        checked += 1
        if named != served:
            wrong.append((record["id"], record["model"], version, served))
    assert checked >= 3477
    assert wrong == []


def test_redirect_data_errors_are_caught() -> None:
    from vertexmeter.registry.models import _redirects

    known = {name: resolve(name) for name in ("gemini-3-pro-preview", "gemini-3.1-pro-preview")}
    good = {"served_by": "gemini-3.1-pro-preview", "from": "2026-03-01", "evidence": ["t3-0540"], "source": "s"}
    assert (
        _redirects({"gemini-3-pro-preview": [good]}, known)["gemini-3-pro-preview"][0].model == "gemini-3.1-pro-preview"
    )
    with pytest.raises(ValueError, match="no model name"):
        _redirects({"gemini-9": [good]}, known)
    with pytest.raises(ValueError, match="unknown model"):
        _redirects({"gemini-3-pro-preview": [{**good, "served_by": "gemini-9"}]}, known)
    with pytest.raises(ValueError, match="evidence"):
        _redirects({"gemini-3-pro-preview": [{**good, "evidence": []}]}, known)
    with pytest.raises(ValueError, match="same day"):
        _redirects({"gemini-3-pro-preview": [good, good]}, known)


def test_resolve_remembers_answers_per_day_and_never_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    """resolve() keeps its answers by (name, api, day): a dated alias still moves with the day asked, a
    refusal is raised again each time, and a remembered answer skips the look-up."""
    import datetime as dt

    from vertexmeter.registry import models

    looked_up: list[str] = []
    real = models.bare_model_name

    def counting(name: str) -> str:
        looked_up.append(name)
        return real(name)

    monkeypatch.setattr(models, "bare_model_name", counting)
    models._registry().resolved.clear()  # noqa: SLF001 - a fresh memo for this test
    early, late = dt.date(2025, 10, 1), dt.date(2026, 11, 1)
    assert resolve("gemini-flash-latest", api="gemini", on=early).id == "gemini-2.5-flash"
    assert resolve("gemini-flash-latest", api="gemini", on=late).id == "gemini-3.8-flash"
    assert resolve("gemini-flash-latest", api="gemini", on=early).id == "gemini-2.5-flash"
    assert looked_up == ["gemini-flash-latest"] * 2  # the third answer was remembered
    assert resolve("models/gemini-2.5-flash", api="vertex").id == resolve("gemini-2.5-flash", api="vertex").id
    for _ in range(2):
        with pytest.raises(VertexMeterError):
            resolve("no-such-model", api="vertex")
    assert looked_up.count("no-such-model") == 2


def test_resolve_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from vertexmeter.registry import models

    memo = models._registry().resolved  # noqa: SLF001
    memo.clear()
    monkeypatch.setattr(models, "_MAX_RESOLVED", 3)
    for version in ("001", "002", "latest", "001"):
        resolve(f"gemini-1.5-flash-{version}", api="vertex", on=None)
        assert len(memo) <= 3


# ---- a model that follows another's model-scoped rules (models.yaml `rules_as`) ------------------------------
def test_robotics_er_2_counts_as_the_model_it_is_built_on_with_limits_of_its_own() -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "Where is the red block?"}]},
            {"role": "model", "parts": [{"text": "On the left."}]},
            {"role": "user", "parts": [{"text": "And the blue one?"}]},
        ]
    }
    er2 = vertexmeter.usage_metadata("gemini-robotics-er-2-preview", body, api="gemini", as_of="2026-11-25")
    flash = vertexmeter.usage_metadata("gemini-3.5-flash", body, api="gemini", as_of="2026-11-25")
    assert er2["promptTokenCount"] == flash["promptTokenCount"]
    assert er2["rawPromptTokenCount"] == flash["rawPromptTokenCount"]  # a rule scoped to gemini-3.5-* models
    info = resolve("gemini-robotics-er-2-preview")
    assert (info.rules_id, info.input_token_limit) == ("gemini-3.5-flash", 131072)
    assert info.count_is_inferred


# ---- a snapshot: a dated name of a model, counted and priced as it, matched by its own name (models.yaml `snapshots`)
def test_a_snapshot_is_its_model_but_for_the_rules_that_name_it() -> None:
    from vertexmeter.pricing.catalogue import resolve_priced_model

    preview = resolve("models/gemini-2.5-flash-preview-09-2025", api="gemini")
    flash = resolve("gemini-2.5-flash", api="gemini")
    assert (preview.id, preview.input_token_limit, preview.tokenizer) == (flash.id, flash.input_token_limit, "gemma3")
    assert (preview.rules_id, flash.rules_id) == ("gemini-2.5-flash-preview-09-2025", "gemini-2.5-flash")
    assert resolve_priced_model("gemini-2.5-flash-preview-09-2025").id == "gemini-2.5-flash"
    # gemini-flash-latest named the preview until 3 Flash Preview
    import datetime as dt

    assert resolve("gemini-flash-latest", api="gemini", on=dt.date(2025, 10, 7)).rules_id == preview.rules_id


def test_a_snapshot_name_is_listed_once() -> None:
    from vertexmeter.registry import build_registry

    raw, rules = shipped_data()
    models = [dict(m) for m in raw["models"]]
    entry = next(m for m in models if m["id"] == "gemini-2.5-pro")
    entry["snapshots"] = ["gemini-2.5-pro-exp-03-25"]  # already an alias
    with pytest.raises(ValueError, match="listed twice"):
        build_registry({**raw, "models": models}, rules)


def test_rules_as_must_name_a_model_id() -> None:
    from vertexmeter.registry import build_registry

    raw, rules = shipped_data()
    models = [dict(m) for m in raw["models"]]
    entry = next(m for m in models if m["id"] == "gemini-robotics-er-2-preview")
    entry["rules_as"] = "gemini-9-flash"
    with pytest.raises(ValueError, match="rules_as 'gemini-9-flash' is not a model id"):
        build_registry({**raw, "models": models}, rules)
