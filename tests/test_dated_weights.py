"""accounting.yaml `dated_weights`: weights of the tool template and the function history that were different before
a day. The Gemini API's 2.0 generateContent billed no typed OpenAPI node and no payload number until late April
2025 (the recorded answers below, replayed at their recorded day and at a later one)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

import vertexmeter
from tests.ground_truth import load_mined_history, origin_request
from tests.registry_data import shipped_data
from vertexmeter.counting.dated import rules_on
from vertexmeter.registry import accounting_for, dated_weights, resolve

RECORDS = {r["id"]: r for name in ("ruby_llm", "pydantic_ai_history") for r in load_mined_history(name)}


@pytest.mark.parametrize(
    ("record_id", "extra"),
    [
        ("rllm-0052", 6),  # 2.0, 6 typed nodes (a nested items object), 2025-04-14: 76
        ("rllm-0071", 7),  # 2.0, 7 typed nodes, 2025-04-19: 51
        ("pyd-0014", 2),  # 2.0, 2 typed nodes, no history
        ("pyd-0015", 3),  # 2.0, 2 typed nodes and {"age": …} replayed: + 1 number after the switch
        ("pyd-0033", 3),  # 1.5 Flash, 3 typed nodes
    ],
)
def test_before_the_switch_no_typed_node_nor_number(record_id: str, extra: int) -> None:
    record = RECORDS[record_id]
    body, model = record["request"], record["model"]
    recorded = vertexmeter.usage(model, body, api="gemini", as_of=record["recorded"]).prompt_token_count
    assert recorded == record["expected"]["totalTokens"]
    later = vertexmeter.usage(model, body, api="gemini", as_of="2025-06-01").prompt_token_count
    assert later == recorded + extra


@pytest.mark.parametrize("record_id", ["otel-0007", "otel-0008"])
def test_vertex_1_5_billed_no_typed_node_before_the_switch_either(record_id: str) -> None:
    """open-telemetry's Vertex 1.5 Flash 002 declarations of 2025-02-06 (an OBJECT and a STRING node, sent as proto
    enum numbers): exact without typed nodes, the Gemini API's switch checked on the other API; 2 more after it."""
    record = next(r for r in load_mined_history("otel_contrib") if r["id"] == record_id)
    body, model = record["request"], record["model"]
    recorded = vertexmeter.usage(model, body, api="vertex", as_of=record["recorded"]).prompt_token_count
    assert recorded == record["expected"]["totalTokens"]
    assert vertexmeter.usage(model, body, api="vertex", as_of="2025-04-29").prompt_token_count == recorded + 2
    assert vertexmeter.usage("gemini-2.0-flash", body, api="vertex", as_of=record["recorded"]).prompt_token_count == (
        recorded + 2
    )


def test_the_switch_day_and_scope() -> None:
    """The last day of the old weights is 2025-04-28; Vertex 2.0, countTokens and 2.5 keep today's weights."""
    body = RECORDS["rllm-0052"]["request"]
    old = vertexmeter.usage("gemini-2.0-flash", body, api="gemini", as_of="2025-04-28").prompt_token_count
    new = vertexmeter.usage("gemini-2.0-flash", body, api="gemini", as_of="2025-04-29").prompt_token_count
    assert new - old == 6
    for api in ("vertex", "gemini"):
        for call in ("countTokens", "generateContent"):
            for model in ("gemini-2.0-flash", "gemini-2.5-flash"):
                if (api, call, model) == ("gemini", "generateContent", "gemini-2.0-flash"):
                    continue
                rules = accounting_for(resolve(model), api, call)
                assert rules_on(rules, dt.date(2025, 4, 1)) == rules


def test_today_and_every_entry_has_evidence() -> None:
    rules = accounting_for(resolve("gemini-2.0-flash"), "gemini", "generateContent")
    assert rules_on(rules, None) == rules
    before = rules_on(rules, dt.date(2025, 4, 1))
    assert before.tools.per_typed_node == 0 and before.function_history.per_number == 0
    assert before.function_history.per_nested_number == 0 and rules.function_history.per_nested_number == 1
    assert rules.tools.per_typed_node == 1 and rules.function_history.per_number == 1
    for entry in dated_weights():
        assert entry.evidence and entry.weights
        assert all(eid in RECORDS for eid in entry.evidence if eid.startswith(("pyd-", "rllm-")))


@pytest.mark.parametrize(("record_id", "name"), [("pyd-0040", "pydantic_ai_history"), ("crew-0010", "crewai")])
def test_april_2025_previews_count_thoughts_in_candidates(record_id: str, name: str) -> None:
    """accounting.yaml thoughts_in_candidates: gemini-2.5-flash-preview-04-17 reported candidatesTokenCount = the text
    + thoughtsTokenCount, and a total that counts them once (pydantic-ai and crewAI, April 2025)."""
    record = next(r for r in load_mined_history(name) if r["id"] == record_id)
    raw = record["raw_usage"]
    response = {
        "candidates": [{"content": record["request"]["contents"][0], "finishReason": "STOP"}],
        "usageMetadata": {"thoughtsTokenCount": raw["thoughtsTokenCount"]},
    }
    body = origin_request(record) or {"contents": [{"role": "user", "parts": [{"text": "."}]}]}
    result = vertexmeter.usage(record["model"], body, api="gemini", response=response, as_of=record["recorded"])
    rest = result.to_rest(explain=True)
    assert rest["candidatesTokenCount"] == raw["candidatesTokenCount"] == record["expected"]["totalTokens"]
    assert rest["thoughtsTokenCount"] == raw["thoughtsTokenCount"]
    assert rest["totalTokenCount"] == rest["promptTokenCount"] + rest["candidatesTokenCount"]
    assert rest["candidatesTokensDetails"] == [{"modality": "TEXT", "tokenCount": rest["candidatesTokenCount"]}]
    assert any(r["rule"] == "accounting.yaml thoughts_in_candidates" for r in rest["rules"])
    # From 2025-04-29 the thoughts are apart; the total is the same.
    later = vertexmeter.usage(record["model"], body, api="gemini", response=response, as_of="2025-04-29")
    assert later.candidates_token_count == raw["candidatesTokenCount"] - raw["thoughtsTokenCount"]
    assert later.total_token_count == result.total_token_count
    # Vertex is not concerned.
    vertex = vertexmeter.usage(record["model"], body, api="vertex", response=response, as_of=record["recorded"])
    assert vertex.thoughts_in_candidates is None
    assert vertex.total_token_count == (
        vertex.prompt_token_count + vertex.candidates_token_count + vertex.thoughts_token_count
    )


def test_thoughts_in_candidates_without_stated_usage_bound_the_candidates() -> None:
    """Thought summaries without usage on such a day: the unknown thoughts widen candidatesTokenCount, not a third
    count, and the total counts them once."""
    response = {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": "Plan the answer.", "thought": True}, {"text": "Four."}]}}
        ]
    }
    body = {
        "contents": [{"role": "user", "parts": [{"text": "2 + 2?"}]}],
        "generationConfig": {"thinkingConfig": {"thinkingBudget": 100, "includeThoughts": True}},
    }
    day = "2025-04-22"
    result = vertexmeter.usage("gemini-2.5-flash-preview-04-17", body, api="gemini", response=response, as_of=day)
    text = result.candidates_token_count - result.thoughts_token_count
    assert result.bounds is not None
    assert result.bounds["candidatesTokenCount"] == [text + result.thoughts_token_count, text + 100]
    assert result.bounds["totalTokenCount"] == [result.total_token_count, result.prompt_token_count + text + 100]
    assert result.bounds["thoughtsTokenCount"] == [result.thoughts_token_count, 100]


@pytest.mark.parametrize(("record_id", "name"), [("pyd-0040", "pydantic_ai_history"), ("crew-0010", "crewai")])
def test_an_april_2025_answer_given_as_text_bounds_its_hidden_thoughts(record_id: str, name: str) -> None:
    """The same answers given as their text only: the thinking the service counted inside candidatesTokenCount is
    not in it, so the count is bounded (up to the thinking budget: pyd-0040's 1024; else the output limit) and the
    bounds hold the recorded value, where the point value alone is the text's (794 and 79 short)."""
    record = next(r for r in load_mined_history(name) if r["id"] == record_id)
    body = origin_request(record) or {"contents": [{"role": "user", "parts": [{"text": "."}]}]}
    text = record["request"]["contents"][0]
    result = vertexmeter.usage(record["model"], body, api="gemini", response=text, as_of=record["recorded"])
    expected = record["expected"]["totalTokens"]
    assert result.bounds is not None and "no thoughts" in result.bounds["reason"]
    low, high = result.bounds["candidatesTokenCount"]
    assert low == result.candidates_token_count < expected <= high
    assert result.bounds["thoughtsTokenCount"][0] == 0
    if record_id == "pyd-0040":
        assert high == low + 1024
    # Thinking off (budget 0), or a day after the rule: no hidden thoughts in the count, no bounds.
    off = {**body, "generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}}
    assert vertexmeter.usage(record["model"], off, api="gemini", response=text, as_of=record["recorded"]).exact
    assert vertexmeter.usage(record["model"], body, api="gemini", response=text, as_of="2025-04-29").exact
    # A 2.0 model counted by 2.5's rules (an image-generation preview) does not think: exact that day too.
    image = "gemini-2.0-flash-exp-image-generation"
    assert vertexmeter.usage(image, body, api="gemini", response=text, as_of=record["recorded"]).exact


def test_explain_names_the_dated_weights() -> None:
    body = RECORDS["rllm-0052"]["request"]
    then = vertexmeter.usage("gemini-2.0-flash", body, api="gemini", as_of="2025-04-14").to_rest(explain=True)
    rules = [r["rule"] for r in then["rules"]]
    assert "accounting.yaml dated_weights (tool_templates until 2025-04-28: per_typed_node 0)" in rules
    wrapped = {"generateContentRequest": {"model": "models/gemini-2.0-flash", **body}}
    counted = vertexmeter.count("gemini-2.0-flash", wrapped, api="gemini", as_of="2025-04-14")
    assert all("dated_weights" not in r["rule"] for r in counted.rules)  # countTokens keeps today's template
    later = vertexmeter.usage("gemini-2.0-flash", body, api="gemini", as_of="2025-06-01").to_rest(explain=True)
    assert all("dated_weights" not in r["rule"] for r in later["rules"])


@pytest.mark.parametrize(
    ("section", "change", "message"),
    [
        ("dated_weights", {"table": "roles"}, "unknown table 'roles'"),
        ("dated_weights", {"weights": {}}, "needs weights and evidence"),
        ("dated_weights", {"evidence": []}, "needs weights and evidence"),
        ("dated_weights", {"table": "role_overhead"}, "role_overhead weights are"),
        ("dated_weights", {"since": "2030-01-01"}, "ends before it starts"),
        ("dated_weights", {"bounded_between": True}, "bounded_between is true or false"),  # no seen_without day
        ("dated_weights", {"bounded_between": "yes", "seen_without_after": "2026-01-01"}, "bounded_between is"),
        ("thoughts_in_candidates", {"evidence": []}, "needs evidence"),
        ("trailing_whitespace_not_billed", {"evidence": []}, "needs evidence"),
        ("trailing_whitespace_not_billed", {"since": "2024-12-01"}, "ends before it starts"),
        ("replayed_thoughts_reach", {"signatures": "per_turn"}, "values, evidence"),
        ("replayed_thoughts_reach", {"earlier_turns": "always"}, "values, evidence"),
        ("server_tool_calls", {"template": "print()"}, "and a {list} template"),
        ("server_tool_calls", {"reads": "groundingChunks"}, "and a {list} template"),
        ("server_tool_calls", {"request_fallback": "guess"}, "unknown request_fallback 'guess'"),
        ("server_tool_calls", {"bound_without_response": "wide"}, "unknown bound 'wide'"),
    ],
)
def test_a_broken_dated_section_is_refused_when_the_data_loads(section: str, change: dict, message: str) -> None:
    # The registry checks these sections with the rest of the data set, so `vertexmeter data update` refuses a
    # data set whose dated rules would fail only at the first count that reaches them.

    from vertexmeter.registry import build_registry

    models, broken = shipped_data()
    broken[section][0].update(change)
    with pytest.raises(ValueError, match=re.escape(message)):
        build_registry(models, broken)


def test_a_reach_given_twice_for_one_scope_is_refused() -> None:
    import copy

    from vertexmeter.registry import build_registry

    models, twice = shipped_data()
    twice["replayed_thoughts_reach"].append(copy.deepcopy(twice["replayed_thoughts_reach"][0]))
    with pytest.raises(ValueError, match="twice"):
        build_registry(models, twice)


def test_a_data_set_from_before_the_dated_sections_loads_without_them() -> None:
    from vertexmeter.datafiles import load_yaml
    from vertexmeter.registry import build_registry

    rules = dict(load_yaml("vertexmeter.registry", "accounting.yaml"))
    for section in (
        "dated_weights",
        "thoughts_in_candidates",
        "trailing_whitespace_not_billed",
        "replayed_thoughts_reach",
        "server_tool_calls",
    ):
        rules.pop(section)
    registry = build_registry(load_yaml("vertexmeter.registry", "models.yaml"), rules)
    assert registry.dated.weights == () and registry.dated.server_tools == ()
    assert registry.dated.reach == {}
    assert registry.dated.rules == {"thoughts_in_candidates": (), "trailing_whitespace_not_billed": ()}


def test_the_gemini_apis_1_x_billed_a_user_turn_from_august_to_december_2024() -> None:
    # golang/oscar's 1.0 Pro prompt (oscr-0001: 8 on 2024-10-22); the same request bills its text alone before the
    # span and after it (nt-0177, 2024-08-16; gt-0088, 2025-02-17); countTokens and Vertex are not dated. The span
    # is the recorded one: sublayer's 1.5 of 2024-08-26 (subl-0013) to oscar's oscr-0007 of 2024-12-02.
    body = {"contents": [{"role": "user", "parts": [{"text": "What is the Go programming language?"}]}]}

    def prompt(day: str, model: str = "gemini-1.0-pro", api: str = "gemini") -> int:
        return int(vertexmeter.usage(model, body, api=api, as_of=day).prompt_token_count)

    text = vertexmeter.count_tokens("gemini-1.0-pro", "What is the Go programming language?")["totalTokens"]
    days = ("2024-08-16", "2024-08-25", "2024-08-26", "2024-12-02", "2024-12-03", "2025-02-17")
    assert [prompt(d) for d in days] == [text, text, 8, 8, text, text] == [7, 7, 8, 8, 7, 7]
    assert prompt("2024-11-18", "gemini-1.5-flash-002") == text + 1
    assert prompt("2024-11-18", "gemini-1.0-pro", "vertex") == text
    assert (
        vertexmeter.count("gemini-1.0-pro", body, api="gemini", as_of="2024-11-18").total_tokens == text + 1
    )  # countTokens: its role, always
    rules = vertexmeter.usage("gemini-1.0-pro", body, api="gemini", as_of="2024-11-01").to_rest(explain=True)["rules"]
    wanted = "accounting.yaml dated_weights (role_overhead from 2024-08-26 until 2024-12-02: per_role_content 1)"
    assert wanted in [r["rule"] for r in rules]


# sublayer's 1.5 Flash prompt with a responseSchema (subl-0013: 14 on 2024-08-26 = the text's 13 + the user turn's 1)
SCHEMA_BODY = {
    "contents": [{"role": "user", "parts": [{"text": "What is the meaning of life, the universe, and everything?"}]}],
    "generationConfig": {
        "responseMimeType": "application/json",
        "responseSchema": {
            "type": "OBJECT",
            "properties": {"the_answer": {"type": "string", "description": "The answer to the given question"}},
            "required": ["the_answer"],
        },
    },
}


def test_the_gemini_apis_1_5_billed_no_response_schema_from_august_to_december_2024() -> None:
    def prompt(day: str, model: str = "gemini-1.5-flash", api: str = "gemini", body: Any = SCHEMA_BODY) -> int:
        return int(vertexmeter.usage(model, body, api=api, as_of=day).prompt_token_count)

    plain = {"contents": SCHEMA_BODY["contents"]}
    text = vertexmeter.count_tokens("gemini-1.5-flash", SCHEMA_BODY["contents"][0]["parts"][0]["text"])["totalTokens"]
    assert (text, prompt("2024-08-26")) == (13, 14)  # subl-0013 as recorded
    # In the span the schema adds nothing (the user turn's 1 is the role window's); after it the walk is billed
    # (llmg-0005, 2025-03-04), and the last day before it has no schema answer, so the rule does not reach it.
    walk = prompt("2025-03-04") - prompt("2025-03-04", body=plain)
    assert walk > 0
    assert [prompt(d) - prompt(d, body=plain) for d in ("2024-08-25", "2024-08-26", "2024-12-02", "2024-12-03")] == [
        walk,
        0,
        0,
        walk,
    ]
    # 1.5 only, the Gemini API's generateContent only.
    assert prompt("2024-09-01", api="vertex") - prompt("2024-09-01", api="vertex", body=plain) == walk

    def counted(body: Any) -> int:
        wrapped = {"generateContentRequest": {"model": "models/gemini-1.5-flash", **body}}
        return vertexmeter.count("gemini-1.5-flash", wrapped, api="gemini", as_of="2024-09-01").total_tokens

    assert counted(SCHEMA_BODY) == counted(plain) + walk  # countTokens is not dated
    rules = vertexmeter.usage("gemini-1.5-flash", SCHEMA_BODY, api="gemini", as_of="2024-09-01").to_rest(explain=True)
    wanted = "accounting.yaml dated_weights (response_schema from 2024-08-26 until 2024-12-02: counted 0)"
    assert wanted in [r["rule"] for r in rules["rules"]]


@pytest.mark.parametrize(
    ("edge", "value"),
    [
        ("seen_without_before", "2024-08-26"),
        ("seen_without_before", "2024-09-01"),
        ("seen_without_after", "2024-12-02"),
    ],
)
def test_an_answer_without_the_rule_inside_its_days_is_refused(edge: str, value: str) -> None:
    from vertexmeter.datafiles import load_yaml
    from vertexmeter.registry import build_registry

    rules = dict(load_yaml("vertexmeter.registry", "accounting.yaml"))
    entries = [dict(e) for e in rules["dated_weights"]]
    index = next(i for i, e in enumerate(entries) if e["table"] == "response_schema")
    entries[index][edge] = value
    rules["dated_weights"] = entries
    with pytest.raises(ValueError, match="without the rule inside its days"):
        build_registry(load_yaml("vertexmeter.registry", "models.yaml"), rules)


def test_the_dated_edges_are_read() -> None:
    from vertexmeter.registry import dated_weights

    schema = next(e for e in dated_weights() if e.table == "response_schema" and "1.5" in e.generations)
    assert (schema.seen_without_before, schema.since, schema.until, schema.seen_without_after) == (
        None,
        dt.date(2024, 8, 26),
        dt.date(2024, 12, 2),
        dt.date(2025, 3, 4),
    )
    # 1.5's typed nodes, unbilled up to the declarations' switch (llmg-0005), billed from 2025-04-29 (llmrb-0006)
    schemas = [e for e in dated_weights() if e.table == "response_schema" and "1.5" in e.generations]
    assert [(e.until, e.seen_without_after) for e in schemas] == [
        (dt.date(2024, 12, 2), dt.date(2025, 3, 4)),
        (dt.date(2025, 4, 28), dt.date(2025, 4, 29)),
    ]
    role = next(e for e in dated_weights() if e.table == "role_overhead")
    assert (role.seen_without_before, role.seen_without_after) == (dt.date(2024, 8, 16), dt.date(2025, 2, 17))


def test_a_response_schema_entry_names_only_its_weights() -> None:
    from vertexmeter.datafiles import load_yaml
    from vertexmeter.registry import build_registry

    rules = dict(load_yaml("vertexmeter.registry", "accounting.yaml"))
    entries = [dict(e) for e in rules["dated_weights"]]
    index = next(i for i, e in enumerate(entries) if e["table"] == "response_schema")
    entries[index]["weights"] = {"per_role_content": 1}
    rules["dated_weights"] = entries
    with pytest.raises(ValueError, match="response_schema weights are"):
        build_registry(load_yaml("vertexmeter.registry", "models.yaml"), rules)
