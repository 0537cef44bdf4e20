"""The prompts that were off with no bounds (2026-12-07): the rules two repositories agree on make them exact, the
shapes one repository shows carry bounds that hold them, and an exact neighbour of each shape carries none
(docs/counting.md open rule 3, "The silent misses")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import vertexmeter
from tests.ground_truth import load_mined_history, replay
from vertexmeter.counting.texts import part_texts
from vertexmeter.registry import UncertainSeam, accounting_for, resolve


def _record(name: str, record_id: str) -> dict[str, Any]:
    return next(r for r in load_mined_history(name) if r["id"] == record_id)


# Rules taken (two repositories each): a ' inside a 2.5 payload's string is written \' (function_history payload
# json_sorted_keys_escaped_quotes); the Gemini API's 1.5 bills + 1 per responseSchema typed node from 2025-04-29.
NOW_EXACT = [
    ("mirascope", "mira-0078"),  # "['Wild Seed by …', …]": 4 under as json.dumps writes it
    ("crewai", "crew-0080"),  # "Search results for '…'": 1 under with two quotes
    ("crewai", "crew-0081"),
    ("crewai", "crew-0082"),
    ("crewai", "crew-0083"),
    ("llm_rb", "llmrb-0006"),  # 1.5 Flash, 2025-04-29: 2 typed nodes
    ("llm_rb", "llmrb-0028"),
    ("llm_rb", "llmrb-0030"),
    ("llm_rb", "llmrb-0032"),
    ("llm_rb", "llmrb-0038"),
    ("llm_rb", "llmrb-0040"),
    ("dspy_rb", "dsrb-0013"),  # 1.5 Pro 002, 2025-09-13: 18 typed nodes
]


@pytest.mark.parametrize(("name", "record_id"), NOW_EXACT)
def test_the_rules_of_two_repositories_make_the_recorded_answers_exact(name: str, record_id: str) -> None:
    result = replay(_record(name, record_id))
    assert result.exact, (result.expected, result.got)
    assert result.bounds is None


# Exact neighbours of the rules and seams: the same shape's other answers, which stay exact and carry no bounds.
EXACT_NEIGHBOURS = [
    ("mirascope", "mira-0417"),  # a 'cake' payload the escape leaves alone in tokens
    ("llm_gemini", "llmg-0005"),  # 1.5 responseSchema of 2025-03-04, before typed nodes were billed
    ("sublayer", "subl-0013"),  # 1.5 responseSchema of 2024-08-26: after the 2024 user-turn seam's span
    ("pydantic_ai_history", "pyd-0033"),  # a 1.5 declaration of 2025-04-16: after the typed-node seam's span
    ("mirascope", "mira-0416"),  # the passphrase schema named test_tool: no space shortens it
    ("req_llm_2026", "reqllm2-0007"),  # propertyOrdering in OpenAPI parameters, not JSON Schema
    ("rig", "rig-0014"),  # rig's submit with all three properties required
    ("chatlas", "chat-0015"),  # chatlas' _person declaration without a replayed call
    ("ruby_llm", "rllm-0916"),  # the same cached handbook on the Gemini API
]


@pytest.mark.parametrize(("name", "record_id"), EXACT_NEIGHBOURS)
def test_an_exact_neighbour_of_each_new_rule_or_seam_carries_no_bounds(name: str, record_id: str) -> None:
    result = replay(_record(name, record_id))
    assert result.exact and result.bounds is None


# Shapes one repository shows: bounded, each answer inside, the reason naming the seam.
BOUNDED = [
    ("mirascope", "mira-0424", "a space before a 2.5 declaration's name"),
    ("mirascope_ts", "mirats-0066", "a space before a 2.5 declaration's name"),
    ("mirascope", "mira-0425", "a space before a 2.5 declaration's name"),  # its ' payload + 1 beside the name's
    ("ellmer", "elmr-0020", "a space before a 2.5 declaration's name"),
    ("ellmer", "elmr-0021", "a space before a 2.5 declaration's name"),
    ("ellmer", "elmr-0022", "a space before a 2.5 declaration's name"),
    ("ruby_llm", "rllm-0491", "an OpenAPI array of scalars"),
    ("crewai", "crew-0097", "a propertyOrdering list"),
    ("rig", "rig-0015", "a third or later property of a 2.5 declaration that requires none"),
    ("chatlas", "chat-0016", "an argument named with a leading underscore"),
    ("ruby_llm", "rllm-0918", "a cachedContent on Vertex 2.5"),
    ("ruby_llm", "rllm-0922", "a cachedContent on Vertex 2.5"),
    ("sublayer", "subl-0001", "a user turn on the Gemini API's 1.0 / 1.5 of May - Aug 2024"),
    ("sublayer", "subl-0003", "a user turn on the Gemini API's 1.0 / 1.5 of May - Aug 2024"),
    ("sublayer", "subl-0005", "a typed node of a 1.0 / 1.5 function declaration"),
    ("sublayer", "subl-0009", "a typed node of a 1.0 / 1.5 function declaration"),
    ("sublayer", "subl-0011", "a typed node of a 1.0 / 1.5 function declaration"),
    ("sublayer", "subl-0012", "a typed node of a 1.0 / 1.5 function declaration"),
]


@pytest.mark.parametrize(("name", "record_id", "reason"), BOUNDED)
def test_one_repositorys_shape_carries_bounds_that_hold_its_answers(name: str, record_id: str, reason: str) -> None:
    result = replay(_record(name, record_id))
    assert not result.exact and result.bounds is not None and result.within_bounds
    assert reason in result.bounds["reason"]


def test_pydantic_ais_exact_names_a_space_would_shorten_are_the_seams_point() -> None:
    """celsius_to_fahrenheit (` celsius` one piece) bills the name alone: exact at the point, inside its bounds."""
    result = replay(_record("pydantic_ai_history", "pyd-0189"))
    assert result.exact and result.bounds is not None
    assert result.bounds["promptTokenCount"] == [result.expected - 1, result.expected]


@pytest.mark.parametrize("record_id", ["pyd-0041", "pyd-0211"])
def test_answers_under_bodies_edited_after_recording_are_not_evidence(record_id: str) -> None:
    """errata.json not_evidence: pyd-0041 and pyd-0211 are pyd-0039's and pyd-0018's answers under edited bodies."""
    assert all(r["id"] != record_id for r in load_mined_history("pydantic_ai_history"))
    for kept in ("pyd-0039", "pyd-0018"):
        assert replay(_record("pydantic_ai_history", kept)).exact


def test_a_payloads_quote_is_written_escaped_on_the_gemini_apis_2_5() -> None:
    """function_history's 2.5 payload on the Gemini API: json.dumps with sorted keys, each ' inside a string written
    with a backslash before it; Vertex's 2.5 keeps its own reading."""
    part = {"functionResponse": {"name": "search", "response": {"output": "results for 'AI'", "a": 1}}}
    texts = [text for text, _ in part_texts(part, "p", "json_sorted_keys_escaped_quotes")]
    escaped = r'{"a": 1, "output": "results for \'AI\'"}'
    assert texts == ["search", escaped]
    as_dumped = [text for text, _ in part_texts(part, "p", "json_sorted_keys")][1]
    assert as_dumped == escaped.replace("\\", "")  # json.dumps leaves the quote alone
    assert accounting_for(resolve("gemini-2.5-flash"), "gemini", "generateContent").function_history.payload == (
        "json_sorted_keys_escaped_quotes"
    )
    assert accounting_for(resolve("gemini-2.5-flash"), "vertex", "generateContent").function_history.payload != (
        "json_sorted_keys_escaped_quotes"
    )


@pytest.mark.parametrize(
    ("day", "bounded"), [("2024-05-02", False), ("2024-05-03", True), ("2024-08-15", True), ("2024-08-16", False)]
)
def test_a_seam_of_a_span_of_days_bounds_only_its_days(day: str, bounded: bool) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "Hello there"}]}]}
    result = vertexmeter.usage("gemini-1.0-pro", body, api="gemini", as_of=day)
    assert (result.bounds is not None) == bounded
    if bounded:
        assert result.bounds is not None
        assert result.bounds["promptTokenCount"] == [result.prompt_token_count, result.prompt_token_count + 1]


def test_a_dated_seam_holds_on_its_days_and_never_today() -> None:
    seam = UncertainSeam(
        shape="user_turn",
        low=0,
        high=1,
        models=(),
        reason="r",
        confidence="observed",
        evidence=("subl-0001",),
        since=dt.date(2024, 5, 3),
        until=dt.date(2024, 8, 15),
    )
    assert seam.holds_on(dt.date(2024, 5, 3)) and seam.holds_on(dt.date(2024, 8, 15))
    assert not seam.holds_on(dt.date(2024, 5, 2)) and not seam.holds_on(dt.date(2024, 8, 16))
    assert not seam.holds_on(None)
    open_seam = UncertainSeam("number", -1, 0, (), "r", "observed", ("crew-0098",))
    assert open_seam.holds_on(None) and open_seam.holds_on(dt.date(2020, 1, 1))


def test_a_name_a_space_would_shorten_is_bounded_one_token_down() -> None:
    def result(name: str) -> Any:
        declaration = {"name": name, "description": "A tool.", "parameters": {"type": "OBJECT", "properties": {}}}
        tools = [{"functionDeclarations": [declaration]}]
        body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}], "tools": tools}
        return vertexmeter.usage("gemini-2.5-flash", body, api="gemini", as_of="2026-01-23")

    shortened = result("passphrase_test_tool")  # `passphrase` two pieces, ` passphrase` one
    assert shortened.bounds is not None
    assert shortened.bounds["promptTokenCount"] == [shortened.prompt_token_count - 1, shortened.prompt_token_count]
    assert result("test_tool").bounds is None
