"""Answers say which rules made them, on request only (`explain`), citing evidence that exists."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

import vertexmeter
from tests.ground_truth import load_2026, load_mined, load_mined_history, load_records, mined_history_names
from vertexmeter.cli import main
from vertexmeter.errors import VertexMeterError
from vertexmeter.server.adapters import usage_from_body

AGENT_TURN = {
    "contents": [
        {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "weather", "args": {"city": "Paris"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "weather", "response": {"sky": "clear"}}}]},
    ],
    "tools": [{"functionDeclarations": [{"name": "weather", "description": "Weather of a city."}]}],
    "generationConfig": {"responseJsonSchema": {"type": "string"}},
}
RECORD_ID = re.compile(r"^[a-z0-9]+-\d{4}$")


def test_rules_are_added_only_on_request() -> None:
    assert "rules" not in vertexmeter.usage_metadata("gemini-2.5-flash", AGENT_TURN, api="gemini")
    rules = vertexmeter.usage_metadata("gemini-2.5-flash", AGENT_TURN, api="gemini", explain=True)["rules"]
    names = [r["rule"] for r in rules]
    assert names[:4] == [
        "accounting.yaml role_overhead",
        "accounting.yaml tool_templates",
        "accounting.yaml function_history",
        "accounting.yaml response_schema",
    ]
    assert names[4].startswith("vocabulary gemma")
    assert all(r["confidence"] for r in rules)


def test_a_plain_prompt_cites_only_what_it_used() -> None:
    rules = vertexmeter.count("gemini-2.0-flash", "hi", api="vertex", as_of="2025-06-01").to_rest(explain=True)["rules"]
    assert [r["rule"] for r in rules] == [
        "accounting.yaml role_overhead",
        "vocabulary gemma2 (accounting.yaml tokenizer_history)",
    ]


def test_every_cited_record_id_exists() -> None:
    known = {
        r["id"]
        for records in (
            load_records(),
            load_2026(),
            load_mined(),
            *(load_mined_history(n) for n in mined_history_names()),
        )
        for r in records
    }
    cases = [
        ("gemini-2.5-flash", "gemini", AGENT_TURN),
        ("gemini-3.5-flash", "gemini", AGENT_TURN),
        ("gemini-2.0-flash", "gemini", AGENT_TURN),
        ("gemini-2.5-flash", "vertex", AGENT_TURN),
    ]
    cited = {
        evidence
        for model, api, body in cases
        for rule in vertexmeter.usage_metadata(model, body, api=api, response="ok", explain=True)["rules"]
        for evidence in rule["evidence"]
        if RECORD_ID.match(evidence)
    }
    assert cited and cited - known == set()


def test_replayed_thought_rule_is_cited() -> None:
    body = json.loads(json.dumps(AGENT_TURN))
    body["contents"][1]["parts"][0]["thoughtSignature"] = "skip_thought_signature_validator"
    rules = vertexmeter.usage_metadata("gemini-3.5-flash", body, api="gemini", explain=True)["rules"]
    assert any(r["rule"].startswith("accounting.yaml replayed_thoughts (all_turns") for r in rules)


def test_raw_prompt_rule_is_cited_where_the_field_is_reported() -> None:
    cited = vertexmeter.usage_metadata("gemini-3.5-flash", AGENT_TURN, api="gemini", as_of="2026-08-01", explain=True)
    assert "rawPromptTokenCount" in cited
    assert any(r["rule"] == "accounting.yaml raw_prompt_tokens" for r in cited["rules"])
    before = vertexmeter.usage_metadata("gemini-3.5-flash", AGENT_TURN, api="gemini", as_of="2026-07-01", explain=True)
    assert not any(r["rule"] == "accounting.yaml raw_prompt_tokens" for r in before["rules"])


def test_server_option_and_its_type() -> None:
    answer = usage_from_body("gemini-2.5-flash", {**AGENT_TURN, "usageOptions": {"explain": True}}, api="gemini")
    assert answer.explain
    assert answer.to_json()["usageMetadata"]["rules"]
    with pytest.raises(VertexMeterError, match="true or false"):
        usage_from_body("gemini-2.5-flash", {**AGENT_TURN, "usageOptions": {"explain": "yes"}}, api="gemini")


@pytest.mark.parametrize("command", ["count", "usage"])
def test_cli_explain(command: str) -> None:
    result = CliRunner().invoke(main, [command, "-m", "gemini-2.5-flash", "--explain", "hi"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rules"][0]["rule"] == "accounting.yaml role_overhead"
    assert "rules" not in json.loads(CliRunner().invoke(main, [command, "-m", "gemini-2.5-flash", "hi"]).output)
    human = CliRunner().invoke(main, [command, "-m", "gemini-2.5-flash", "--explain", "--human", "hi"])
    assert "rule: accounting.yaml role_overhead" in human.output
