"""The bill (generateContent usageMetadata) beside countTokens: API, rules as data, dates, estimate, CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import vertexmeter
from vertexmeter.cli import main
from vertexmeter.errors import VertexMeterError
from vertexmeter.registry import accounting_for, resolve, tokenizer_for
from vertexmeter.tokenizing import get_tokenizer

USER = {"role": "user", "parts": [{"text": "Name for a pet pelican, just the name"}]}
MODEL = {"role": "model", "parts": [{"text": "Percy"}]}
SYSTEM = {"role": "user", "parts": [{"text": "You are terse."}]}
GEMINI_BODY = {
    "systemInstruction": SYSTEM,
    "contents": [USER],
    "tools": [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Weather of a city.",
                    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]},
                }
            ]
        }
    ],
    "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
    "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
    "generationConfig": {"maxOutputTokens": 50, "thinkingConfig": {"thinkingBudget": 20}, "temperature": 0.2},
    "labels": {"team": "a"},
}


def raw(family: str, *texts: str) -> int:
    return sum(len(get_tokenizer(family).encode(t)) for t in texts)


@pytest.mark.parametrize(
    ("model", "api", "per_role"),
    [
        ("gemini-2.5-flash", "gemini", 1),
        ("gemini-3-flash-preview", "gemini", 1),
        ("gemini-2.0-flash", "gemini", 0),
        ("gemini-1.5-flash", "gemini", 0),
        ("gemini-2.5-flash", "vertex", 0),
        ("gemini-2.0-flash", "vertex", 0),
    ],
)
def test_role_overhead_per_api_call_and_generation(model: str, api: str, per_role: int) -> None:
    body = {"systemInstruction": SYSTEM, "contents": [USER, MODEL, USER]}
    family = resolve(model).tokenizer
    texts = raw(family, *(p["text"] for c in (USER, MODEL, USER, SYSTEM) for p in c["parts"]))
    assert vertexmeter.usage(model, body, api=api).prompt_token_count == texts + 4 * per_role
    # countTokens on the Gemini API adds one per role-bearing Content on every generation.
    counted = vertexmeter.count(model, {"contents": [USER, MODEL, USER]}, api=api).total_tokens
    assert counted == raw(family, *(p["text"] for c in (USER, MODEL, USER) for p in c["parts"])) + (
        3 if api == "gemini" else 0
    )


def test_a_content_without_role_adds_nothing() -> None:
    body = {"contents": [{"parts": USER["parts"]}]}
    assert vertexmeter.usage("gemini-2.5-flash", body, api="gemini").prompt_token_count == raw(
        "gemma3", USER["parts"][0]["text"]
    )


def test_real_gemini_api_generate_content_body_is_accepted() -> None:
    result = vertexmeter.usage("gemini-2.5-flash", GEMINI_BODY, api="gemini", response="Percy")
    rest = result.to_rest()
    assert rest["candidatesTokenCount"] == 1
    assert rest["totalTokenCount"] == rest["promptTokenCount"] + 1
    assert result.max_output_tokens == 50 and result.thinking_budget == 20
    assert result.fits_context_window
    # The 2.5 Gemini API template: 18 per declaration + 9 per property, plus 2 role-bearing Contents.
    texts = raw(
        "gemma3", USER["parts"][0]["text"], "You are terse.", "get_weather", "Weather of a city.", "city", "city"
    )
    assert result.prompt_token_count == texts + 2 + 18 + 9


def test_vertex_tool_template_counts_typed_schema_nodes() -> None:
    body = {k: GEMINI_BODY[k] for k in ("contents", "tools")}
    texts = raw("gemma3", USER["parts"][0]["text"], "get_weather", "Weather of a city.", "city", "city")
    # root OBJECT + the property's STRING: 2 typed nodes.
    assert vertexmeter.usage("gemini-2.5-flash", body).prompt_token_count == texts + 2


def test_vertex_3_declarations_bill_eight_per_description_and_no_typed_node() -> None:
    """rllm-0893 (crmne/ruby_llm, Vertex, 3-flash-preview, 2026-08-10): billed 32, the texts + 8 for the described
    declaration; its root OBJECT node costs nothing (Vertex 2.x bills it 1). The same declaration as a
    parametersJsonSchema bills the same (pydantic-ai's pyd-1042 was the held-out check), and without its description
    it is the name alone (pydantic-ai's get_file declarations of Feb - Mar 2026)."""
    user = {
        "role": "user",
        "parts": [{"text": "Use the image_fetch tool, then describe exactly what the returned image shows."}],
    }
    declaration = {"name": "image_fetch", "description": "Fetches the requested image"}
    openapi = {"type": "OBJECT", "properties": {}, "required": []}

    def billed(model: str, *declarations: dict[str, object]) -> int:
        body = {"contents": [user], "tools": [{"functionDeclarations": list(declarations)}]}
        return vertexmeter.usage(model, body, as_of="2026-08-10").prompt_token_count

    assert billed("gemini-3-flash-preview", {**declaration, "parameters": openapi}) == 32
    as_json = {**declaration, "parametersJsonSchema": {"type": "object", "properties": {}}}
    assert billed("gemini-3-flash-preview", as_json) == 32
    undescribed = billed("gemini-3-flash-preview", {"name": "image_fetch", "parameters": openapi})
    assert undescribed == 32 - 8 - raw("gemma3", "Fetches the requested image")
    # Vertex 2.5: the typed root node, no description weight
    assert billed("gemini-2.5-flash", {**declaration, "parameters": openapi}) == 32 - 8 + 1


def test_unknown_fields_are_refused_by_name() -> None:
    with pytest.raises(VertexMeterError, match='Unknown name "bogus"'):
        vertexmeter.usage_metadata("gemini-2.5-flash", {**GEMINI_BODY, "bogus": 1}, api="gemini")
    with pytest.raises(VertexMeterError, match='Unknown name "budget"'):
        vertexmeter.usage_metadata(
            "gemini-2.5-flash", {"contents": [USER], "generationConfig": {"thinkingConfig": {"budget": 1}}}
        )


def test_snake_case_body_is_the_same_bill() -> None:
    snake = {
        "system_instruction": SYSTEM,
        "contents": [USER],
        "generation_config": {"max_output_tokens": 50},
        "safety_settings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
    }
    camel = {"systemInstruction": SYSTEM, "contents": [USER], "generationConfig": {"maxOutputTokens": 50}}
    assert vertexmeter.usage_metadata("gemini-2.5-flash", snake, api="gemini") == vertexmeter.usage_metadata(
        "gemini-2.5-flash", camel, api="gemini"
    )


def test_cached_content_needs_its_size() -> None:
    body = {"contents": [USER], "cachedContent": "cachedContents/abc"}
    with pytest.raises(VertexMeterError) as caught:
        vertexmeter.usage_metadata("gemini-2.5-flash", body, api="gemini")
    assert caught.value.status == "FAILED_PRECONDITION"
    billed = vertexmeter.usage_metadata("gemini-2.5-flash", body, api="gemini", cached_content_tokens=1000)
    assert billed["cachedContentTokenCount"] == 1000
    assert billed["promptTokenCount"] == 1000 + raw("gemma3", USER["parts"][0]["text"]) + 1


@pytest.mark.parametrize(
    "response",
    [
        "Percy",
        {"role": "model", "parts": [{"text": "Percy"}]},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Percy"}]}}]},
        [
            {"candidates": [{"content": {"parts": [{"text": "Per"}]}}]},
            {"candidates": [{"content": {"parts": [{"text": "cy"}]}}]},
        ],
    ],
    ids=["text", "content", "response", "stream"],
)
def test_response_forms(response: object) -> None:
    assert vertexmeter.usage_metadata("gemini-2.5-flash", {"contents": [USER]}, response=response)[
        "candidatesTokenCount"
    ] == raw("gemma3", "Percy")


def test_thought_parts_are_thoughts() -> None:
    response = {"parts": [{"text": "Let me think about pelicans.", "thought": True}, {"text": "Percy"}]}
    rest = vertexmeter.usage_metadata("gemini-2.5-flash", {"contents": [USER]}, response=response)
    assert rest["thoughtsTokenCount"] == raw("gemma3", "Let me think about pelicans.")
    assert rest["candidatesTokenCount"] == raw("gemma3", "Percy")


def test_vocabulary_by_date() -> None:
    flash_20, flash_25 = resolve("gemini-2.0-flash"), resolve("gemini-2.5-flash")
    import datetime as dt

    assert tokenizer_for(flash_20, "gemini", dt.date(2025, 6, 1)) == "gemma2"
    assert tokenizer_for(flash_20, "gemini", dt.date(2025, 12, 20)) == "gemma3"
    assert tokenizer_for(flash_20, "gemini") == "gemma3"
    assert tokenizer_for(flash_25, "vertex", dt.date(2025, 10, 1)) == "gemma2"
    assert tokenizer_for(flash_25, "gemini", dt.date(2025, 10, 1)) == "gemma3"
    text = {"contents": [{"parts": [{"text": "A pelican named Moussa claimers LEGAL"}]}]}
    old = vertexmeter.count_tokens("gemini-2.0-flash", text, as_of="2025-06-01")["totalTokens"]
    assert old == raw("gemma2", "A pelican named Moussa claimers LEGAL")
    assert vertexmeter.count_tokens("gemini-2.0-flash", text)["totalTokens"] == raw(
        "gemma3", "A pelican named Moussa claimers LEGAL"
    )
    with pytest.raises(VertexMeterError, match="as_of"):
        vertexmeter.count_tokens("gemini-2.0-flash", text, as_of="June")


def test_every_rule_carries_evidence() -> None:
    for api in ("gemini", "vertex"):
        for call in ("countTokens", "generateContent"):
            rules = accounting_for(resolve("gemini-2.5-flash"), api, call)
            assert rules.role_evidence and rules.tools.evidence


def test_embed_content_usage_is_raw() -> None:
    body = {"requests": [{"content": {"parts": [{"text": "hello"}]}}, {"content": {"parts": [{"text": "world"}]}}]}
    assert vertexmeter.usage_metadata("gemini-embedding-2", body, api="gemini")["promptTokenCount"] == raw(
        "gemma3", "hello"
    ) + raw("gemma3", "world")
    with pytest.raises(VertexMeterError, match="does not serve generateContent"):
        vertexmeter.usage_metadata("gemini-embedding-2", {"contents": [USER]}, api="gemini")


def test_estimate_prices_the_bill_and_reads_the_output_caps() -> None:
    est = vertexmeter.estimate("gemini-2.5-flash", GEMINI_BODY, api="gemini")
    billed = vertexmeter.usage_metadata("gemini-2.5-flash", GEMINI_BODY, api="gemini")
    out = est.to_json()
    assert out["prompt"]["total_tokens"] == billed["promptTokenCount"]
    assert out["output"]["range"]["max_tokens"] == 50
    assert out["output"]["range"]["max_thinking_tokens"] == 20
    low, high = est.total_range
    assert low < high


def test_cli_usage(tmp_path: Path) -> None:
    body = tmp_path / "generate.json"
    body.write_text(json.dumps(GEMINI_BODY))
    runner = CliRunner()
    args = ["usage", "-m", "gemini-2.5-flash", "--api", "gemini", "-f", str(body)]
    result = runner.invoke(main, [*args, "--response", "Percy"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == vertexmeter.usage_metadata(
        "gemini-2.5-flash", GEMINI_BODY, api="gemini", response="Percy"
    )
    human = runner.invoke(main, ["usage", "-m", "gemini-2.5-flash", "--api", "gemini", "-f", str(body), "--human"])
    assert human.exit_code == 0 and "prompt total (billed)" in human.output
    bad = runner.invoke(main, ["usage", "-m", "gemini-2.5-flash", "-f", str(body), "--as-of", "someday"])
    assert bad.exit_code == 2 and "ISO date" in bad.output  # a bad date is bad usage (docs/cli.md)
    est = runner.invoke(main, ["estimate", "-m", "gemini-2.5-flash", "--api", "gemini", "-f", str(body)])
    assert est.exit_code == 0, est.output


def test_response_schema_is_not_prompt_text_on_gemini_generate_content() -> None:
    schema = {"type": "OBJECT", "properties": {"name": {"type": "STRING", "description": "The pet's name."}}}
    body = {"contents": [USER], "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema}}
    plain = {"contents": [USER]}
    gemini = vertexmeter.usage("gemini-2.5-flash", body, api="gemini").prompt_token_count
    assert gemini == vertexmeter.usage("gemini-2.5-flash", plain, api="gemini").prompt_token_count
    # Vertex's generateContent reads it as google-genai's accumulator does, + 1 per typed node (rllm-0895)
    vertex = vertexmeter.usage("gemini-2.5-flash", body).prompt_token_count
    assert (
        vertex
        == vertexmeter.usage("gemini-2.5-flash", plain).prompt_token_count
        + raw("gemma3", "name", "The pet's name.")
        + 2
    )
    # countTokens: the accumulator's walk alone
    counted = vertexmeter.count("gemini-2.5-flash", body).total_tokens
    walk = raw("gemma3", "name", "The pet's name.")
    assert counted == vertexmeter.count("gemini-2.5-flash", plain).total_tokens + walk


def test_response_json_schema_is_not_billed_on_vertex_2_5() -> None:
    # agentjido/req_llm's reqllm-0222 (Vertex 2.5 Flash, 2025-11-18): billed 5, the question alone
    schema = {
        "additionalProperties": False,
        "properties": {
            "age": {"description": "Person's age in years", "minimum": 1, "type": "integer"},
            "name": {"description": "Person's full name", "type": "string"},
        },
        "required": ["name", "age"],
        "type": "object",
    }
    user = {"role": "user", "parts": [{"text": "Generate a software engineer profile"}]}
    config = {"responseMimeType": "application/json", "responseJsonSchema": schema}
    for model in ("gemini-2.5-flash", "gemini-2.5-pro"):
        billed = vertexmeter.usage(model, {"contents": [user], "generationConfig": config}, api="vertex")
        assert billed.prompt_token_count == 5
    # its responseSchema twin is still billed (rllm-0895), and countTokens keeps the accumulator's walk
    typed = {"type": "OBJECT", "properties": {"name": {"type": "STRING"}}}
    with_schema = {"contents": [user], "generationConfig": {"responseSchema": typed}}
    assert vertexmeter.usage("gemini-2.5-flash", with_schema, api="vertex").prompt_token_count > 5
    counted = vertexmeter.count("gemini-2.5-flash", {"contents": [user], "generationConfig": config}, api="vertex")
    assert counted.total_tokens > 5


def test_function_history_on_gemini_api_2_5() -> None:
    call = {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]}
    answer = {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"result": "Sunny"}}}]}
    body = {"contents": [USER, call, answer]}
    user = USER["parts"][0]["text"]
    # 3 role-bearing Contents; each call and response: its name + its payload as one JSON text; + 10 per pair.
    as_json = raw("gemma3", user, "get_weather", '{"city": "Paris"}', "get_weather", '{"result": "Sunny"}')
    assert vertexmeter.usage("gemini-2.5-flash", body, api="gemini").prompt_token_count == as_json + 3 + 10
    # Vertex: the accumulator's texts alone (name, keys, string values).
    texts = raw("gemma3", user, "get_weather", "city", "Paris", "get_weather", "result", "Sunny")
    assert vertexmeter.usage("gemini-2.5-flash", body).prompt_token_count == texts


def test_number_values_of_function_history_bill_one_each_on_gemini_api_2_0() -> None:
    """crew-0068 (crewAIInc/crewAI), mira-0011 (Mirascope), rllm-0122, pyd-0276: on the Gemini API's 2.0
    generateContent each top-level number of a replayed call's args or response's response costs 1, whatever
    its digits; booleans cost nothing; Vertex's 2.x generateContent alike, countTokens and 1.5 not."""

    def body(args: dict[str, object], result: object) -> dict[str, object]:
        call = {"role": "model", "parts": [{"functionCall": {"name": "add", "args": args}}]}
        answer = {"role": "user", "parts": [{"functionResponse": {"name": "add", "response": {"result": result}}}]}
        return {"contents": [USER, call, answer]}

    numbers, words = body({"a": 10000, "b": 2.5}, 30000), body({"a": "x", "b": "y"}, "z")
    flags = body({"a": True, "b": None}, False)
    usage = vertexmeter.usage
    # The accumulator reads keys and string values: the worded body has 3 one-token strings more.
    base = usage("gemini-2.0-flash", flags, api="gemini").prompt_token_count
    assert usage("gemini-2.0-flash", numbers, api="gemini").prompt_token_count == base + 3
    assert usage("gemini-2.0-flash", words, api="gemini").prompt_token_count == base + raw("gemma3", "x", "y", "z")
    for model, api in (("gemini-1.5-flash", "gemini"), ("gemini-3-flash-preview", "vertex")):
        assert usage(model, numbers, api=api).prompt_token_count == usage(model, flags, api=api).prompt_token_count
    # Vertex's 2.0 / 2.5 generateContent bill 1 per number too (reqllm-0213, fnts-0072, pyd-0913); countTokens not
    for model in ("gemini-2.0-flash", "gemini-2.5-flash"):
        assert usage(model, numbers).prompt_token_count == usage(model, flags).prompt_token_count + 3
        assert usage(model, numbers).exact
    assert (
        vertexmeter.count("gemini-2.0-flash", numbers).total_tokens
        == vertexmeter.count("gemini-2.0-flash", flags).total_tokens
    )


def test_nested_numbers_of_function_history_bill_one_each_on_gemini_api_2_0() -> None:
    """oinf-0018, -0060 (Arize openinference): a number inside an object of a response (or in a list) costs 1 on
    the Gemini API's 2.0 as a top-level one does; nothing before 2025-04-28 (dated_weights), nor on 1.5."""

    def body(result: object) -> dict[str, object]:
        call = {"role": "model", "parts": [{"functionCall": {"name": "weather", "args": {"city": "Oslo"}}}]}
        response = {"functionResponse": {"name": "weather", "response": {"result": result}}}
        return {"contents": [USER, call, {"role": "user", "parts": [response]}]}

    def billed(result: object, model: str = "gemini-2.0-flash", as_of: str = "2026-02-26") -> int:
        answer = vertexmeter.usage(model, body(result), api="gemini", as_of=as_of)
        assert (answer.exact, answer.bounds) == (True, None)
        return answer.prompt_token_count

    flags = billed({"ok": True, "temperature": None, "readings": [False]})
    assert billed({"ok": True, "temperature": 65, "readings": [False]}) == flags + 1
    assert billed({"ok": True, "temperature": 65.5, "readings": [1, 2]}) == flags + 3
    assert billed({"ok": True, "temperature": 65}, as_of="2025-04-01") == billed(
        {"ok": True, "temperature": None}, as_of="2025-04-01"
    )
    assert billed({"t": 65}, "gemini-1.5-flash") == billed({"t": None}, "gemini-1.5-flash")
    for record_id, recorded in (("oinf-0018", 94), ("oinf-0060", 89)):
        from tests.ground_truth import load_mined_history

        record = next(r for r in load_mined_history("openinference") if r["id"] == record_id)
        answer = vertexmeter.usage(record["model"], record["request"], api="gemini", as_of=record.get("recorded"))
        assert (record["expected"]["totalTokens"], answer.prompt_token_count) == (recorded, recorded)


def test_a_gemini_2_5_call_without_its_response_bills_six_beyond_its_text() -> None:
    """reqllm-0149 … -0181 (agentjido/req_llm): add(a=2, b=3) answered by a user text, no functionResponse: the call
    alone bills 6 beyond its name and JSON text (with the several-args -1), the pair's 10 split 6 + 4."""
    import json

    from tests.ground_truth import load_mined_history

    call = {"role": "model", "parts": [{"functionCall": {"name": "add", "args": {"a": 2, "b": 3}, "id": "t1"}}]}
    body = {"contents": [USER, call, {"role": "user", "parts": [{"text": "5"}]}]}
    answer = vertexmeter.usage("gemini-2.5-flash", body, api="gemini")
    texts = raw("gemma3", USER["parts"][0]["text"], "add", json.dumps({"a": 2, "b": 3}), "5")  # type: ignore[index]
    assert answer.prompt_token_count == texts + 3 + 6 - 1  # three roles, the call's 6, its two args' -1
    for record_id in ("reqllm-0149", "reqllm-0160", "reqllm-0171", "reqllm-0181"):
        record = next(r for r in load_mined_history("req_llm") if r["id"] == record_id)
        billed = vertexmeter.usage(record["model"], record["request"], api="gemini", as_of=record.get("recorded"))
        assert billed.prompt_token_count == record["expected"]["totalTokens"] == 48, record_id


def test_a_numeric_bound_of_a_response_schema_node_bills_one_on_gemini_api_2_0() -> None:
    """brtr-0026 (braintrust-sdk: minimum 0.0 and maximum 150.0), reqllm-0129 (req_llm: minimum 1): + 1 per node
    with a bound, whatever its value and whether one or both; 2.5 does not bill the schema at all."""

    def billed(age: dict[str, object], model: str = "gemini-2.0-flash") -> int:
        schema = {"type": "OBJECT", "properties": {"age": age}, "required": ["age"]}
        return vertexmeter.usage(model, _structured("Invent a person", schema), api="gemini").prompt_token_count

    plain = billed({"type": "INTEGER"})
    assert billed({"type": "INTEGER", "minimum": 1}) == plain + 1
    assert billed({"type": "INTEGER", "minimum": 0.0, "maximum": 150.0}) == plain + 1
    assert billed({"type": "NUMBER", "maximum": 10}) == billed({"type": "NUMBER"}) + 1
    assert billed({"type": "INTEGER", "minimum": 1}, "gemini-2.5-flash") == billed(
        {"type": "INTEGER"}, "gemini-2.5-flash"
    )
    from tests.ground_truth import load_mined_history

    for name, record_id, recorded in (("braintrust", "brtr-0026", 81), ("req_llm", "reqllm-0129", 35)):
        record = next(r for r in load_mined_history(name) if r["id"] == record_id)
        answer = vertexmeter.usage(record["model"], record["request"], api="gemini", as_of=record.get("recorded"))
        assert (record["expected"]["totalTokens"], answer.prompt_token_count) == (recorded, recorded)


def test_vertex_2_0_response_schema_bills_ordering_bounds_and_closed_objects() -> None:
    """Vertex 2.0's responseSchema: the walk + 1 per typed node, its propertyOrdering names, + 1 per node with a
    numeric bound and + 1 per object closed by `additionalProperties: false` (fitted on ogx-ai/ogx, checked on
    agentjido/req_llm's reqllm-0208); 2.5 bills none of the three beyond its typed nodes."""

    def billed(schema: dict[str, object], model: str = "gemini-2.0-flash") -> int:
        return vertexmeter.usage(model, _structured("Invent a person", schema), api="vertex").prompt_token_count

    base = {"type": "OBJECT", "properties": {"age": {"type": "INTEGER"}}, "required": ["age"]}
    plain = billed(base)
    assert billed({**base, "additionalProperties": False}) == plain + 1
    assert billed({**base, "additionalProperties": True}) == plain
    assert billed({**base, "properties": {"age": {"type": "INTEGER", "minimum": 1}}}) == plain + 1
    ordered = billed({**base, "propertyOrdering": ["age"]})
    assert ordered == plain + raw("gemma3", "age")
    assert billed({**base, "additionalProperties": False}, "gemini-2.5-flash") == billed(base, "gemini-2.5-flash")
    from tests.ground_truth import load_mined_history

    records = {r["id"]: r for name in ("ogx", "req_llm") for r in load_mined_history(name)}
    for record_id, recorded in (("ogx-0016", 54), ("ogx-0135", 97), ("ogx-0057", 10), ("reqllm-0208", 35)):
        record = records[record_id]
        answer = vertexmeter.usage(record["model"], record["request"], api="vertex", as_of=record.get("recorded"))
        assert (record["expected"]["totalTokens"], answer.prompt_token_count) == (recorded, recorded), record_id


def test_vertex_2_5_parallel_calls_with_ids_bill_their_numbers() -> None:
    """charmbracelet/fantasy's fnts-0072 (Vertex 2.5 Flash, 2025-10-10): two parallel calls with ids
    ({"a": 2, "b": 3} each) and their responses, billed 76: the accumulator's texts + 1 per number; the ids bill
    nothing."""
    from tests.ground_truth import load_mined_history

    record = next(r for r in load_mined_history("fantasy") if r["id"] == "fnts-0072")
    result = vertexmeter.usage("gemini-2.5-flash", record["request"], as_of=record["recorded"])
    assert record["raw_usage"]["promptTokenCount"] == 76
    assert (result.prompt_token_count, result.exact, result.bounds) == (76, True, None)
    without_ids = json.loads(json.dumps(record["request"]))
    for turn in without_ids["contents"]:
        for part in turn["parts"]:
            for value in part.values():
                if isinstance(value, dict):
                    value.pop("id", None)
    assert vertexmeter.usage("gemini-2.5-flash", without_ids, as_of=record["recorded"]).prompt_token_count == 76
    texts_only = json.loads(json.dumps(record["request"]).replace('"a": 2, "b": 3', '"a": "x", "b": "y"'))
    strings = vertexmeter.usage("gemini-2.5-flash", texts_only, as_of=record["recorded"]).prompt_token_count
    assert strings == 72 + 4 * raw("gemma3", "x")  # the four numbers' 4 tokens become the strings' own


def test_gemini_api_count_tokens_of_a_generate_content_request_on_3_counts_as_generate_content() -> None:
    """rllm-0914 (crmne/ruby_llm, 3.5-flash, 2026-08-10): 61 for a declaration, as generateContent bills it;
    elmr-0068 (tidyverse/ellmer, 2026-07-21): a responseSchema adds nothing; elmr-0069: an empty system text is
    answered (8, as without it)."""
    request = {
        "contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}],
        "systemInstruction": {"parts": [{"text": "Be terse."}]},
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "counting_weather",
                        "description": "Gets current weather for a city",
                        "parameters": {
                            "type": "OBJECT",
                            "properties": {"city": {"type": "STRING", "description": "City name"}},
                            "required": ["city"],
                        },
                    }
                ]
            }
        ],
    }
    wrapped = {"generateContentRequest": {**request, "model": "models/gemini-3.5-flash"}}
    assert vertexmeter.count("gemini-3.5-flash", wrapped, api="gemini", as_of="2026-08-10").total_tokens == 61
    assert vertexmeter.usage("gemini-3.5-flash", request, api="gemini", as_of="2026-08-10").prompt_token_count == 61
    # 2.5 keeps the countTokens template (18 + 9 per property; 51 here, what 3 gave before): no recorded answer
    # says otherwise.
    on_2_5 = {"generateContentRequest": {**request, "model": "models/gemini-2.5-flash"}}
    assert vertexmeter.count("gemini-2.5-flash", on_2_5, api="gemini").total_tokens == 51

    apples = {"role": "user", "parts": [{"text": "Apples are tasty. By Hadley Wickham."}]}
    schema = {"type": "object", "properties": {"title": {"type": "string", "description": "Content title"}}}
    with_schema = {
        "generateContentRequest": {
            "contents": [apples],
            "model": "models/gemini-3.5-flash",
            "systemInstruction": {"parts": {"text": ""}},
            "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema},
        }
    }
    assert vertexmeter.count("gemini-3.5-flash", with_schema, api="gemini", as_of="2026-07-21").total_tokens == 11
    # Outside a generateContentRequest, and on Vertex, an empty text is still refused.
    with pytest.raises(VertexMeterError, match="empty text parameter"):
        vertexmeter.count("gemini-3.5-flash", {"contents": [{"role": "user", "parts": [{"text": ""}]}]}, api="gemini")
    with pytest.raises(VertexMeterError, match="empty text parameter"):
        vertexmeter.count("gemini-3.5-flash", {"contents": [apples], "systemInstruction": {"parts": [{"text": ""}]}})


def test_nested_function_responses_bill_as_json_on_gemini_api_2_5() -> None:
    """rllm-0281 (crmne/ruby_llm, 2025-08-26): a nested response billed 144; its keys and strings alone
    (the accumulator's reading, + 12 + 3 per key) gave 140."""
    uuid = "d43e331c-e8a6-4ec8-957e-0f80114950ee"
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "What's the best language to learn?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "best_language_to_learn", "args": {}}}]},
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": uuid, "response": {"name": uuid, "content": [{"text": "Ruby"}]}}}
                ],
            },
        ],
        "tools": [
            {
                "functionDeclarations": [
                    {"name": "best_language_to_learn", "description": "Gets the best language to learn"}
                ]
            }
        ],
    }
    assert vertexmeter.usage("gemini-2.5-flash", body, api="gemini", as_of="2025-08-26").prompt_token_count == 144


@pytest.mark.parametrize(("model", "tokens"), [("gemini-2.5-flash-image", 1290), ("gemini-3-pro-image-preview", 1120)])
def test_generated_images_in_a_response(model: str, tokens: int) -> None:
    """candidatesTokensDetails IMAGE 1290 on the 2.x image models, 1120 on 3.x (nt-0025, nt-0055, …)."""
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
    response = {"parts": [{"text": "Here it is."}, {"inlineData": {"mimeType": "image/png", "data": png}}]}
    rest = vertexmeter.usage_metadata(model, {"contents": [USER]}, api="gemini", response=response)
    assert {"modality": "IMAGE", "tokenCount": tokens} in rest["candidatesTokensDetails"]
    assert rest["candidatesTokenCount"] == tokens + raw(resolve(model).tokenizer, "Here it is.")
    with pytest.raises(VertexMeterError, match="not counted"):
        image_only = {"parts": [{"inlineData": {"mimeType": "image/png", "data": png}}]}
        vertexmeter.usage_metadata("gemini-1.5-flash", {"contents": [USER]}, response=image_only)


# ---- outputs cut by a stop sequence (accounting.yaml `stop_sequences`) --------------------------------
# pydantic-ai's test_stop_settings[google] cassette (stop "Paris"), recorded on three generations.
STOP_PROMPT = {
    "contents": [
        {
            "role": "user",
            "parts": [
                {
                    "text": "What is the capital of France? Give me an answer that contains "
                    'the word "Paris", but is not the first word.'
                }
            ],
        }
    ],
    "generationConfig": {"responseModalities": ["TEXT"], "stopSequences": ["Paris"]},
}


def _stopped(text: str, reason: str | None = "STOP") -> dict[str, object]:
    candidate: dict[str, object] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
    if reason is not None:
        candidate["finishReason"] = reason
    return {"candidates": [candidate]}


@pytest.mark.parametrize(
    ("model", "text", "billed"),
    [
        # 3a13b90e6d (nt-0122): " Paris" spans the cut after "is "; the text alone re-tokenizes to 6.
        ("gemini-3-flash-preview", "The capital of France is ", 5),
        # 97a305919: "Paris" starts on a token boundary after "**": the text's own count.
        ("gemini-2.5-flash", "The capital of France is **", 6),
        # 386fd3dbc: 1.5 bills the text's own count although " Paris" spans the cut the same way.
        ("gemini-1.5-flash", "The most iconic city in France is ", 8),
    ],
)
def test_stop_sequence_outputs_bill_as_recorded(model: str, text: str, billed: int) -> None:
    usage = vertexmeter.usage(model, STOP_PROMPT, api="gemini", response=_stopped(text), as_of="2026-03-08")
    assert usage.candidates_token_count == billed


def test_stop_sequence_cut_drops_the_token_that_spans_it() -> None:
    text = "The capital of France is "
    own = vertexmeter.usage("gemini-3-flash-preview", STOP_PROMPT, api="gemini", response=text)
    family = tokenizer_for(resolve("gemini-3-flash-preview"), "gemini")
    assert raw(family, text) == 6
    assert own.candidates_token_count == 5  # a plain text response (no finishReason) may have been cut
    streamed = [_stopped("The capital of ", None), _stopped("France is ")]
    assert (
        vertexmeter.usage("gemini-3-flash-preview", STOP_PROMPT, api="gemini", response=streamed).candidates_token_count
        == 5
    )
    # Vertex serves the same models: the rule is inferred there.
    assert vertexmeter.usage("gemini-3-flash-preview", STOP_PROMPT, response=text).candidates_token_count == 5


@pytest.mark.parametrize(
    ("request_body", "response"),
    [
        ({"contents": STOP_PROMPT["contents"]}, _stopped("The capital of France is ")),  # no stop sequences
        (STOP_PROMPT, _stopped("The capital of France is ", "MAX_TOKENS")),  # cut by length, not by the stop
        (STOP_PROMPT, _stopped("The capital of France is **")),  # ends on a token boundary
        ({**STOP_PROMPT, "generationConfig": {"stopSequences": ["\n\n"]}}, _stopped("The capital of France is ")),
    ],
)
def test_stop_sequence_rule_does_not_fire(request_body: dict[str, object], response: dict[str, object]) -> None:
    text = response["candidates"][0]["content"]["parts"][0]["text"]  # type: ignore[index]
    usage = vertexmeter.usage("gemini-3-flash-preview", request_body, api="gemini", response=response)
    assert usage.candidates_token_count == raw("gemma3", text)


def test_tokens_before_stop_takes_the_first_stop_that_spans_the_cut() -> None:
    from vertexmeter.counting.usage import tokens_before_stop

    tokenizer = get_tokenizer("gemma3")
    text = "The capital of France is "
    assert tokens_before_stop(tokenizer, text, ["\n", "Paris"]) == 5  # "\n" does not span, "Paris" does
    assert tokens_before_stop(tokenizer, text, ["\n"]) is None
    assert tokens_before_stop(tokenizer, "", ["Paris"]) is None
    assert tokens_before_stop(tokenizer, "Le capital est ", ["Paris", "\n"]) == raw("gemma3", "Le capital est")


def test_every_generate_content_rule_says_how_stopped_outputs_bill() -> None:
    for model, expected in (
        ("gemini-3-flash-preview", "before_stop"),
        ("gemini-2.5-flash", "before_stop"),
        ("gemini-2.0-flash", "text"),  # crewAI's "\nObservation:" stop on both APIs (crew-0049, crew-0053)
        ("gemini-1.5-flash", "text"),
    ):
        for api in ("gemini", "vertex"):
            assert accounting_for(resolve(model), api, "generateContent").billed_output == expected
        assert accounting_for(resolve(model), "gemini", "countTokens").billed_output == "text"


# ---- responseSchema on the Gemini API's generateContent (accounting.yaml `response_schema`) -----------
# Recorded answers of simonw/llm-gemini's cassettes (tests/data/mined_llm_gemini.jsonl).
DOG_SCHEMA = {
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}, "bio": {"type": "string"}},
    "required": ["name", "age", "bio"],
    "type": "object",
}
PERSON_SCHEMA = {
    "properties": {
        "name": {"title": "Name", "type": "string"},
        "address": {
            "properties": {
                "street": {"title": "Street", "type": "string"},
                "city": {"title": "City", "type": "string"},
            },
            "required": ["street", "city"],
            "title": "Address",
            "type": "object",
        },
    },
    "required": ["name", "address"],
    "type": "object",
}


def _structured(text: str, schema: dict[str, object]) -> dict[str, object]:
    return {
        "contents": [{"role": "user", "parts": [{"text": text}]}],
        "generationConfig": {"response_mime_type": "application/json", "response_schema": schema},
    }


@pytest.mark.parametrize(
    ("model", "as_of", "text", "schema", "billed"),
    [
        # 1.5: the SDK walk (name, age, bio keys and required names): 4 + 6 (llmg-0005)
        ("gemini-1.5-flash-latest", "2025-03-04", "Invent a cool dog", DOG_SCHEMA, 10),
        # 2.0: the walk + titles + 1 per typed node: 9 + 8 + 4 titles + 5 nodes (llmg-0018)
        ("gemini-2.0-flash", "2025-10-11", "Create a person named Alice living in San Francisco", PERSON_SCHEMA, 26),
        # 2.5: not counted, raw + 1 role (llmg-0036's prompt)
        ("gemini-2.5-flash", "2026-03-10", "Invent a cool dog", DOG_SCHEMA, 5),
    ],
)
def test_response_schema_bills_per_generation(
    model: str, as_of: str, text: str, schema: dict[str, object], billed: int
) -> None:
    body = _structured(text, schema)
    assert vertexmeter.usage(model, body, api="gemini", as_of=as_of).prompt_token_count == billed
    # countTokens and Vertex keep google-genai's walk alone: no titles, no per-node tokens
    walk = vertexmeter.count(model, body, as_of=as_of).total_tokens
    family = tokenizer_for(resolve(model), "vertex", dt.date.fromisoformat(as_of))
    assert walk == raw(family, text, *_walk_strings(schema))


def _walk_strings(schema: dict[str, object]) -> list[str]:
    out: list[str] = list(schema.get("required") or [])  # type: ignore[call-overload]
    for key, sub in (schema.get("properties") or {}).items():  # type: ignore[attr-defined]
        out += [key, *_walk_strings(sub)]
    return out


def test_response_json_schema_is_not_counted_on_gemini_api_2_0() -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "Invent a cool dog"}]}],
        "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": DOG_SCHEMA},
    }
    assert vertexmeter.usage("gemini-2.0-flash", body, api="gemini").prompt_token_count == raw(
        "gemma3", "Invent a cool dog"
    )


def test_experimental_2_0_models_count_with_2_5s_vocabulary() -> None:
    """llmg-0012: gemini-2.0-flash-exp-image-generation billed 7 for this prompt in Jul 2025 (gemma3's 6 + 1
    role); gemini-2.0-flash itself counted with gemma2 until the switch (no role token on 2.0)."""
    body = {"contents": [{"role": "user", "parts": [{"text": "A pelican riding a bicycle"}]}]}
    exp = vertexmeter.usage("gemini-2.0-flash-exp-image-generation", body, api="gemini", as_of="2025-07-22")
    assert exp.prompt_token_count == raw("gemma3", "A pelican riding a bicycle") + 1 == 7
    flash = vertexmeter.usage("gemini-2.0-flash", body, api="gemini", as_of="2025-07-22")
    assert flash.prompt_token_count == raw("gemma2", "A pelican riding a bicycle") == 5


def test_gemini_2_0_counted_with_gemma2_until_the_end_of_november_2025() -> None:
    """mined-0034: Gemini API 2.0 billed 12 on 2025-11-18 (its responseId's time), gemma2's count."""
    body = {"contents": [{"role": "user", "parts": [{"text": "Tell me about a cat with a meow volume of 5"}]}]}
    text = "Tell me about a cat with a meow volume of 5"
    assert raw("gemma2", text) == 12 != raw("gemma3", text)
    for day, family in (("2025-11-18", "gemma2"), ("2025-11-30", "gemma2"), ("2025-12-01", "gemma3")):
        billed = vertexmeter.usage("gemini-2.0-flash", body, api="gemini", as_of=day).prompt_token_count
        assert billed == raw(family, text), day


def test_edge_newlines_of_an_output_are_not_billed_on_the_gemini_api_2_5() -> None:
    """rllm-0706 (Gemini API, 17) and rllm-0870's test on Vertex (billed with its "\\n")."""
    text = "I cannot answer this question. My purpose is to provide access to the weather tool.\n"
    gemini = vertexmeter.usage("gemini-2.5-flash", {"contents": [USER]}, api="gemini", response=text)
    assert gemini.candidates_token_count == raw("gemma3", text.rstrip("\n")) == 17
    assert vertexmeter.usage("gemini-2.5-flash", {"contents": [USER]}, response=text).candidates_token_count == 18
    # a leading "\n" part before the answer (rllm-0881): 10
    parts = {"parts": [{"text": "\n"}, {"text": "The fetched file says: Ruby is the best."}], "role": "model"}
    assert (
        vertexmeter.usage("gemini-2.5-flash", {"contents": [USER]}, api="gemini", response=parts).candidates_token_count
        == 10
    )
    # the Gemini API's 2.0 bills it (86 recorded answers ending in "\n")
    assert vertexmeter.usage(
        "gemini-2.0-flash", {"contents": [USER]}, api="gemini", response="Percy\n"
    ).candidates_token_count == raw("gemma3", "Percy\n")


def test_gemini_api_2_0_ignores_json_schemas_of_declarations() -> None:
    """mined-0069/-0070 (pydantic-ai, 2026-01): parametersJsonSchema adds nothing on the Gemini API's 2.0
    generateContent; an OpenAPI `parameters` schema counts its walk + 1 per typed node (acc§3)."""
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    declaration = {"name": "get_weather", "description": "Weather of a city."}
    with_json = {**declaration, "parametersJsonSchema": schema}
    json_body = {"contents": [USER], "tools": [{"functionDeclarations": [with_json]}]}
    bare = {"contents": [USER], "tools": [{"functionDeclarations": [declaration]}]}
    usage = vertexmeter.usage("gemini-2.0-flash", json_body, api="gemini").prompt_token_count
    assert usage == vertexmeter.usage("gemini-2.0-flash", bare, api="gemini").prompt_token_count
    openapi = {"contents": [USER], "tools": [{"functionDeclarations": [{**declaration, "parameters": schema}]}]}
    billed = vertexmeter.usage("gemini-2.0-flash", openapi, api="gemini").prompt_token_count
    assert billed == usage + raw("gemma3", "city", "city") + 2
    # 2.5 reads it (18 per declaration + 9 per property on top of the texts)
    assert vertexmeter.usage("gemini-2.5-flash", json_body, api="gemini").prompt_token_count > usage


def test_gemini_api_2_5_declarations_with_described_properties_cost_one_less() -> None:
    """rllm-0963 (crmne/ruby_llm, 2026-08-19): billed 46, one less than 18 + 9 per property on top of the
    texts; the same declaration without the property's description fits 18 + 9 exactly."""

    def body(prop: dict[str, str]) -> dict[str, object]:
        parameters = {"type": "OBJECT", "properties": {"query": prop}, "required": ["query"]}
        return {
            "contents": [{"role": "user", "parts": [{"text": "Process this query: test data"}]}],
            "tools": [
                {
                    "functionDeclarations": [
                        {
                            "name": "content_returning",
                            "parameters": parameters,
                            "description": "Returns a processed string result",
                        }
                    ]
                }
            ],
        }

    described = body({"type": "STRING", "description": "Query to process"})
    assert vertexmeter.usage("gemini-2.5-flash", described, api="gemini", as_of="2026-08-19").prompt_token_count == 46
    plain = vertexmeter.usage("gemini-2.5-flash", body({"type": "STRING"}), api="gemini").prompt_token_count
    texts = raw(
        "gemma3",
        "Process this query: test data",
        "content_returning",
        "Returns a processed string result",
        "query",
        "query",
    )
    assert plain == texts + 1 + 18 + 9  # one role-bearing Content, one declaration, one property
    # Vertex: typed nodes only, no such rule
    assert (
        vertexmeter.usage("gemini-2.5-flash", described).prompt_token_count
        == texts + raw("gemma3", "Query to process") + 2
    )


def test_a_gemini_api_2_0_and_2_5_stream_counts_its_chunks_apart_and_3_x_joins_them() -> None:
    """accounting.yaml text_pieces_apart: 2.0 streams cut where the model's tokens end (t3-0394, -0398, -0401);
    streamed_chunks_apart: 2.5 streams bill each chunk apart, its edge whitespace left out; 3.x joins them."""
    stream = [
        {"candidates": [{"content": {"parts": [{"text": "Per"}]}}]},
        {"candidates": [{"content": {"parts": [{"text": "cy"}]}}]},
    ]
    apart = vertexmeter.usage(
        "gemini-2.0-flash", {"contents": [USER]}, api="gemini", response=stream, as_of="2025-06-01"
    )
    assert apart.candidates_token_count == raw("gemma2", "Per") + raw("gemma2", "cy")
    chunked = vertexmeter.usage("gemini-2.5-flash", {"contents": [USER]}, api="gemini", response=stream)
    assert chunked.candidates_token_count == raw("gemma3", "Per") + raw("gemma3", "cy") == 2
    edges = [{"candidates": [{"content": {"parts": [{"text": t}]}}]} for t in ("The sum of ", "15 and 27 is 42.\n")]
    stripped = vertexmeter.usage("gemini-2.5-flash", {"contents": [USER]}, api="gemini", response=edges)
    assert stripped.candidates_token_count == raw("gemma3", "The sum of") + raw("gemma3", "15 and 27 is 42.") == 14
    joined = vertexmeter.usage("gemini-3-flash-preview", {"contents": [USER]}, api="gemini", response=stream)
    assert joined.candidates_token_count == raw("gemma3", "Percy") == 1


def test_a_vertex_2_0_stream_counts_its_chunks_apart() -> None:
    """accounting.yaml text_pieces_apart (Vertex 2.0): googleapis/js-genai's story stream (jsgenai-0057) billed 107,
    its six chunks apart, where the joined text counts 106."""
    texts = [
        "El",
        "iza found the hummingbird frozen, wings stiff as paper. Tears blurred her vision as",
        " she cradled it. Recalling her grandmother's stories, she breathed gently",
        " on its chest, warming the tiny heart. Hours passed, hope dwindling with the setting sun. Then, a flutter. "
        "Eliza gasped, watching as the bird,",
        " still unsteady, took to the air, a vibrant jewel against the twilight. It hovered, looking back at her "
        "before darting away, leaving Eliza with a warmth",
        " that chased the winter chill from her soul.\n",
    ]
    stream = [{"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]} for text in texts]
    body = {"contents": [{"role": "user", "parts": [{"text": "Tell me a story in 100 words?"}]}]}
    result = vertexmeter.usage("gemini-2.0-flash", body, response=stream, as_of="2025-08-16")
    assert result.candidates_token_count == 107 and result.prompt_token_count == 11
    assert raw("gemma2", "".join(texts)) == 106


def _call_pair(name: str, args: dict[str, object] | None, response: dict[str, object]) -> list[dict[str, object]]:
    call: dict[str, object] = {"name": name} if args is None else {"name": name, "args": args}
    return [
        {"role": "model", "parts": [{"functionCall": call}]},
        {"role": "user", "parts": [{"functionResponse": {"name": name, "response": response}}]},
    ]


def test_gemini_api_2_5_writes_function_payload_keys_sorted() -> None:
    """accounting.yaml function_history (2.5): payload json_sorted_keys, as a protobuf Struct's map is written
    (google/adk-go's weather payload: t3-0262, -0265, -0266, -0267 exact sorted, one over each as written)."""
    response = {"status": "success", "report": "Sunny, 25C in New York."}
    body = {"contents": [USER, *_call_pair("get_weather", {"city": "New York"}, response)]}
    user = USER["parts"][0]["text"]
    as_sent = json.dumps(response)
    in_order = json.dumps(response, sort_keys=True)
    fixed = raw("gemma3", user, "get_weather", '{"city": "New York"}', "get_weather") + 3 + 10
    assert raw("gemma3", as_sent) == raw("gemma3", in_order) + 1  # the readings differ on this payload
    answer = vertexmeter.usage("gemini-2.5-flash", body, api="gemini", as_of="2026-04-22")
    assert (answer.prompt_token_count, answer.bounds) == (fixed + raw("gemma3", in_order), None)


# (record, recorded promptTokenCount, vertexmeter's point value, its bounds): agent turns of ground_truth_2026 with
# each conversation's earlier responses, whose payload seams accounting.yaml `uncertain_seams` bounds.
SEAM_GOLDENS = [
    ("t3-0325", 225, 225, [222, 225], "number"),  # multiply(b=29, a=37) -> {"product": 1073}
    ("t3-0513", 136, 136, [135, 136], "numeric_response_property"),  # rand_number's response {number: integer}
    ("t3-0514", 166, 166, [164, 167], "digit_string"),  # {"seed": 5} -> {"number": "7"}, the same declaration
    ("t3-0538", 186, 186, [182, 186], "number"),  # sum(a=1, b=2) -> {"sum": 3}: exact, bounded
    ("t3-0563", 509, 509, [490, 509], "number"),  # eighteen numbers over six parallel pairs
]


@pytest.mark.parametrize(("record_id", "recorded", "point", "bounds", "shape"), SEAM_GOLDENS)
def test_uncertain_payload_seams_carry_bounds_that_hold_the_recorded_answer(
    record_id: str, recorded: int, point: int, bounds: list[int], shape: str
) -> None:
    from tests.ground_truth import earlier_responses, load_2026

    record = next(r for r in load_2026() if r["id"] == record_id)
    answer = vertexmeter.usage(
        record["model"], record["request"], api="gemini", as_of=record["recorded"], history=earlier_responses(record)
    )
    assert record["expected"]["totalTokens"] == recorded
    assert (answer.prompt_token_count, answer.exact) == (point, False)
    assert answer.bounds is not None and answer.bounds["promptTokenCount"] == bounds
    assert bounds[0] <= recorded <= bounds[1]
    rest = answer.total_token_count - answer.prompt_token_count
    assert answer.bounds["totalTokenCount"] == [bounds[0] + rest, bounds[1] + rest]
    assert "accounting.yaml uncertain_seams" in answer.bounds["reason"]
    metadata = answer.to_rest(explain=True)
    assert metadata["bounds"] == answer.bounds
    assert any(
        rule["rule"] == f"accounting.yaml uncertain_seams ({shape})" and rule["evidence"] for rule in metadata["rules"]
    )


def test_payloads_without_a_seam_shape_stay_exact() -> None:
    """No bounds where no recorded answer shows a seam: strings, one nested object, 3.x lists and calls without
    args (the escaped payload), Vertex 2.0."""
    flat = {"contents": [USER, *_call_pair("lookup", {"city": "Paris"}, {"result": "Sunny, 22C in Paris."})]}
    listed = {"contents": [USER, *_call_pair("items", {"q": "x"}, {"items": ["a", "b"]})]}
    numbers = {"contents": [USER, *_call_pair("sum", {"a": 1, "b": 2}, {"sum": 3})]}
    bare = {"contents": [USER, *_call_pair("ping", None, {"ok": "yes"})]}
    for model, body, api in (
        ("gemini-2.5-flash", flat, "gemini"),
        ("gemini-3-flash-preview", listed, "gemini"),
        ("gemini-3-flash-preview", bare, "gemini"),
        ("gemini-3.5-flash", listed, "gemini"),
        ("gemini-3.5-flash", bare, "gemini"),
        ("gemini-2.0-flash", numbers, "vertex"),
        ("gemini-2.5-flash", numbers, "vertex"),  # 1 per number, a weight (function_history per_number)
        ("gemini-2.0-flash", numbers, "gemini"),
    ):
        answer = vertexmeter.usage(model, body, api=api)
        assert (answer.exact, answer.bounds, "bounds" in answer.to_rest()) == (True, None, False), (model, api)
    # A list of strings on 2.5 is a weight (function_history per_string_list), not a seam: exact.
    answer = vertexmeter.usage("gemini-2.5-flash", listed, api="gemini")
    assert (answer.exact, answer.bounds) == (True, None)
    # The same shapes where the evidence shows a seam: bounds around the point value.
    for model, body, api, low, high in (("gemini-2.5-flash", numbers, "gemini", -3, 0),):
        answer = vertexmeter.usage(model, body, api=api)
        point = answer.prompt_token_count
        assert answer.bounds is not None and answer.bounds["promptTokenCount"] == [point + low, point + high], model


@pytest.mark.parametrize(
    ("name", "record_id", "recorded"),
    [
        ("mirascope", "mira-0265", 268),  # a whole response's signature replayed (bills nothing), two tools
        ("mirascope", "mira-0139", 117),  # the formatted-output tool alone, no history
        ("mirascope", "mira-0190", 155),  # its description carries the docstring on a second line, indented
    ],
)
def test_a_declaration_named_with_an_edge_underscore_bills_one_less(name: str, record_id: str, recorded: int) -> None:
    """accounting.yaml tool_templates (per_underscored_name): Mirascope's __mirascope_formatted_output_tool__ on 2.5
    bills 1 under the template, with or without a docstring in its description: exact, no bounds."""
    from tests.ground_truth import load_mined_history

    record = next(r for r in load_mined_history(name) if r["id"] == record_id)
    answer = vertexmeter.usage(record["model"], record["request"], api="gemini", as_of=record.get("recorded"))
    assert (record["expected"]["totalTokens"], answer.prompt_token_count) == (recorded, recorded)
    assert (answer.exact, answer.bounds) == (True, None)


def _declared(*declarations: dict[str, object]) -> dict[str, object]:
    return {"contents": [USER], "tools": [{"functionDeclarations": list(declarations)}]}


def test_an_edge_underscore_in_a_declaration_name_is_a_weight() -> None:
    """Per declaration whose name begins or ends with "_": 1 less on the Gemini API's 2.5, names as texts otherwise;
    Vertex and 3.x bill the name's text alone."""

    def bill(model: str, api: str, *names: str) -> int:
        body = _declared(*({"name": n, "description": "Look up a city."} for n in names))
        answer = vertexmeter.usage(model, body, api=api)
        assert (answer.exact, answer.bounds) == (True, None)
        return answer.prompt_token_count

    def texts(*names: str) -> int:
        return sum(raw("gemma3", n) for n in names)

    plain = bill("gemini-2.5-flash", "gemini", "lookup") - texts("lookup")
    for names, edges in ((("look_up",), 0), (("_lookup",), 1), (("lookup_",), 1), (("__lookup__", "_other"), 2)):
        billed = bill("gemini-2.5-flash", "gemini", *names)
        more = (len(names) - 1) * (18 + raw("gemma3", "Look up a city."))  # another declaration and its description
        assert billed == texts(*names) + plain + more - edges, names
    for model, api in (("gemini-2.5-flash", "vertex"), ("gemini-3-flash-preview", "gemini")):
        assert bill(model, api, "__lookup__") - texts("__lookup__") == bill(model, api, "lookup") - texts("lookup")


@pytest.mark.parametrize(
    ("name", "record_id", "recorded"),
    [
        ("2026", "t3-0516", 398),  # adk-go's transfer_to_agent, an indented docstring (lines as sent) ending "\n  "
        ("openinference", "oinf-0077", 136),  # "…city.\n\nArgs:\n    city … msg.\n": two at the margin, a final "\n"
        ("crewai", "crew-0079", 319),  # three docstrings, six lines at the margin after a blank line
        ("mirascope", "mira-0370", 3900),  # a markdown description: 77 lines after the first at the margin
        ("pydantic_ai_history", "pyd-0133", 383),  # indented docstrings ending "\n    ": as sent
    ],
)
def test_a_declaration_description_is_billed_as_the_service_writes_it(name: str, record_id: str, recorded: int) -> None:
    """accounting.yaml tool_templates (description_indent, reads_description_trailing_newlines): on the Gemini API's
    2.5 every line of a declaration's description after the first is indented and its final newlines dropped."""
    from tests.ground_truth import earlier_responses, load_2026, load_mined_history

    records = load_2026() if name == "2026" else load_mined_history(name)
    record = next(r for r in records if r["id"] == record_id)
    history = earlier_responses(record) if name == "2026" else None
    answer = vertexmeter.usage(
        record["model"], record["request"], api="gemini", as_of=record.get("recorded"), history=history
    )
    assert (record["expected"]["totalTokens"], answer.prompt_token_count) == (recorded, recorded)
    # the point is the recorded count; pydantic-ai's celsius_to_fahrenheit carries bounds of its name alone, which
    # hold it (uncertain_seams name_after_space)
    if answer.bounds is not None:
        assert answer.bounds["promptTokenCount"] == [recorded - 1, recorded]
        assert "declaration's name" in answer.bounds["reason"]


def test_only_the_gemini_2_5_description_lines_are_rewritten() -> None:
    """The description's lines after the first at the margin cost their indent's token on the Gemini API's 2.5, final
    newlines nothing; one line, lines already indented and blank lines cost as sent; Vertex and 3.x read it as sent."""

    def bill(model: str, api: str, description: str) -> int:
        answer = vertexmeter.usage(model, _declared({"name": "lookup", "description": description}), api=api)
        assert (answer.exact, answer.bounds) == (True, None)
        return answer.prompt_token_count

    def extra(model: str, api: str, description: str, family: str = "gemma3") -> int:
        return bill(model, api, description) - raw(family, description)

    base = extra("gemini-2.5-flash", "gemini", "Look up a city.")
    for description, written in (
        ("Look up.\n  Any city.", "Look up.\n    Any city."),  # already indented: the same tokens
        (
            "Look up.\n\n    Args:\n        city: a city.\n    ",
            "Look up.\n\n      Args:\n          city: a city.\n    ",
        ),
        ("Look up.\nArgs:", "Look up.\n  Args:"),
        ("Look up.\n\nArgs:\n  city: a city.\n", "Look up.\n\n  Args:\n    city: a city."),
    ):
        more = raw("gemma3", written) - raw("gemma3", description)
        assert extra("gemini-2.5-flash", "gemini", description) == base + more, description
    assert raw("gemma3", "Look up.\n  Args:") == raw("gemma3", "Look up.\nArgs:") + 1  # the case is not empty
    as_sent = (("gemini-2.5-flash", "vertex", "gemma3"), ("gemini-3-flash-preview", "gemini", "gemma4"))
    for model, api, family in as_sent:
        assert extra(model, api, "A.\n\nB.\n", family) == extra(model, api, "A. B.", family), (model, api)


def test_only_numeric_response_properties_are_bounded() -> None:
    """A 2.5 declaration's response schema: each integer / number top-level property + 1 in the point value, bounded
    -1 … 0 (the reading without it); strings, nested ones and a schema without properties nothing (a nested object
    is bounded by its own seam, not as a number)."""

    def body(response: dict[str, object], key: str = "responseJsonSchema") -> dict[str, object]:
        declaration = {"name": "roll", "description": "Rolls a die.", key: response}
        return {"contents": [USER], "tools": [{"functionDeclarations": [declaration]}]}

    obj = {"type": "object"}
    for response in (
        {**obj, "properties": {"face": {"type": "string"}}},
        {"type": "integer"},
    ):
        answer = vertexmeter.usage("gemini-2.5-flash", body(response), api="gemini")
        assert (answer.exact, answer.bounds) == (True, None), response
    nested = {**obj, "properties": {"face": {**obj, "properties": {"n": {"type": "integer"}}}}}
    answer = vertexmeter.usage("gemini-2.5-flash", body(nested), api="gemini")
    point = answer.prompt_token_count
    assert answer.bounds is not None and answer.bounds["promptTokenCount"] == [point, point + 13]
    assert "numeric" not in answer.bounds["reason"] and "an object nested" in answer.bounds["reason"]
    two = {**obj, "properties": {"face": {"type": "integer"}, "p": {"type": "number"}, "s": {"type": "string"}}}
    answer = vertexmeter.usage("gemini-2.5-flash", body(two), api="gemini")
    point = answer.prompt_token_count
    assert answer.bounds is not None and answer.bounds["promptTokenCount"] == [point - 2, point]
    strings = {**obj, "properties": {"face": {"type": "string"}, "p": {"type": "string"}, "s": {"type": "string"}}}
    assert point == vertexmeter.usage("gemini-2.5-flash", body(strings), api="gemini").prompt_token_count + 2
    typed = {"type": "OBJECT", "properties": {"face": {"type": "INTEGER"}}}
    answer = vertexmeter.usage("gemini-2.5-flash", body(typed, "response"), api="gemini")
    assert answer.bounds is not None and answer.bounds["promptTokenCount"][0] == answer.prompt_token_count - 1
    assert vertexmeter.usage("gemini-3-flash-preview", body(two), api="gemini").bounds is None


@pytest.mark.parametrize(
    ("name", "record_id", "recorded", "point", "low", "high"),
    [
        # get_weather's unit enum (celsius, fahrenheit): the point's fit; - 2 more for tell_joke's one optional
        # described property (uncertain_seams one_optional_described_property)
        ("req_llm", "reqllm-0049", 142, 142, -3, 0),
        ("ruby_llm", "rllm-0490", 84, 85, -1, 0),  # status enum (pending, done), nullable: the bound's
    ],
)
def test_enums_of_2_5_declarations_are_bounded(
    name: str, record_id: str, recorded: int, point: int, low: int, high: int
) -> None:
    """accounting.yaml tool_templates per_enum, per_enum_value (the point value, fitted on one repository) and
    uncertain_seams enum (the other reading): the recorded answer is the point or inside the bounds."""
    from tests.ground_truth import load_mined_history

    record = next(r for r in load_mined_history(name) if r["id"] == record_id)
    answer = vertexmeter.usage(record["model"], record["request"], api="gemini", as_of=record.get("recorded"))
    assert (record["expected"]["totalTokens"], answer.prompt_token_count) == (recorded, point)
    assert answer.bounds is not None and answer.bounds["promptTokenCount"] == [point + low, point + high]
    assert not answer.exact and point + low <= recorded <= point + high


@pytest.mark.parametrize(
    ("name", "record_id", "recorded", "low", "high"),
    [
        ("family_assistant", "fama-0016", 80, 0, 2),  # get_weather(location, unit?): the weight's fit
        ("family_assistant", "fama-0009", 117, 0, 2),  # ... beside calculate(expression), not bounded
        # get_current_weather(location, unit? = "fahrenheit"): the check, with its default read (2 tokens)
        ("mirascope", "mira-0412", 129, -2, 2),
    ],
)
def test_one_optional_described_property_beside_a_required_one_on_2_5(
    name: str, record_id: str, recorded: int, low: int, high: int
) -> None:
    """accounting.yaml tool_templates per_lone_optional_described_property (2 less) and schema_strings default, each
    bounded by the reading without it (uncertain_seams lone_optional_described_property, string_default)."""
    from tests.ground_truth import load_mined_history

    record = next(r for r in load_mined_history(name) if r["id"] == record_id)
    answer = vertexmeter.usage(record["model"], record["request"], api="gemini", as_of=record.get("recorded"))
    assert record["expected"]["totalTokens"] == answer.prompt_token_count == recorded
    assert answer.bounds is not None and answer.bounds["promptTokenCount"] == [recorded + low, recorded + high]
    assert "one optional described property beside a required one" in answer.bounds["reason"]
    assert ("string default" in answer.bounds["reason"]) == (low < 0)


def test_two_optional_described_properties_are_not_bounded() -> None:
    """google/adk-go's transfer_to_agent(agent_name, rationale?, skill_id?) fits the weights in every answer: no
    bounds; dropping one optional property makes it the bounded shape."""
    declaration = {
        "name": "transfer_to_agent",
        "description": "Transfer the question to another agent.",
        "parameters": {
            "type": "OBJECT",
            "properties": {
                "agent_name": {"type": "STRING", "description": "the agent name to transfer to"},
                "rationale": {"type": "STRING", "description": "The reasoning behind selecting this agent."},
                "skill_id": {"type": "STRING", "description": "The specific skill to be utilized by the agent."},
            },
            "required": ["agent_name"],
        },
    }
    assert vertexmeter.usage("gemini-2.5-flash", _declared(declaration), api="gemini").bounds is None
    two = vertexmeter.usage("gemini-2.5-flash", _declared(declaration), api="gemini").prompt_token_count
    del declaration["parameters"]["properties"]["skill_id"]  # type: ignore[index]
    one = vertexmeter.usage("gemini-2.5-flash", _declared(declaration), api="gemini")
    # one optional described property beside the required agent_name: 2 less (per_lone_optional_described_property)
    skill = raw("gemma3", "skill_id", "The specific skill to be utilized by the agent.")
    assert one.prompt_token_count == two - skill - 9 - 4 - 1 - 2
    assert one.bounds is not None
    assert one.bounds["promptTokenCount"] == [one.prompt_token_count, one.prompt_token_count + 2]
    del declaration["parameters"]["required"], declaration["parameters"]["properties"]["agent_name"]  # type: ignore[index]
    alone = vertexmeter.usage("gemini-2.5-flash", _declared(declaration), api="gemini")
    assert alone.bounds is not None  # tell_joke's shape: the weights without it, bounded 2 below
    assert alone.bounds["promptTokenCount"] == [alone.prompt_token_count - 2, alone.prompt_token_count]
    assert vertexmeter.usage("gemini-2.5-flash", _declared(declaration), api="vertex").bounds is None


@pytest.mark.parametrize(
    ("name", "record_id", "recorded"),
    [
        ("fantasy", "fnts-0010", 72),  # add(a, b: INTEGER, described): the fit
        ("fantasy", "fnts-0032", 121),  # add and multiply: two such declarations
        ("rig", "rig-0096", 111),  # subtract(x, y: number, described): the check on a second repository
        ("rig", "rig-0005", 204),  # stress_add and stress_subtract: two such declarations
    ],
)
def test_described_openapi_numbers_of_2_5_declarations_cost_one_less(name: str, record_id: str, recorded: int) -> None:
    """accounting.yaml tool_templates per_declaration_with_described_numbers: a declaration whose OpenAPI
    `parameters` hold a described INTEGER or NUMBER bills 1 less, once, exactly and without bounds."""
    from tests.ground_truth import load_mined_history

    record = next(r for r in load_mined_history(name) if r["id"] == record_id)
    answer = vertexmeter.usage(record["model"], record["request"], api="gemini", as_of=record.get("recorded"))
    assert (answer.prompt_token_count, answer.bounds) == (recorded, None)


def test_only_enums_are_bounded_and_described_openapi_numbers_cost_one_less() -> None:
    """An enum on 2.5: + 1 + 1 per value beyond its texts, bounded -1 … 0 each; a described INTEGER or NUMBER of
    OpenAPI parameters: - 1 per declaration, exact; a described JSON Schema integer, an undescribed INTEGER and a
    described STRING: exact as their texts. Vertex and 3.x: neither."""

    def answer(
        properties: dict[str, object], key: str = "parameters", model: str = "gemini-2.5-flash", api: str = "gemini"
    ) -> Any:
        # every property required: an optional described one is a seam of its own
        parameters = {
            "type": "OBJECT" if key == "parameters" else "object",
            "properties": properties,
            "required": list(properties),
        }
        declaration = {"name": "pick", "description": "Picks.", key: parameters}
        return vertexmeter.usage(model, _declared(declaration), api=api)

    plain = answer({"unit": {"type": "STRING"}})
    listed = answer({"unit": {"type": "STRING", "enum": ["c", "f"]}})
    assert listed.prompt_token_count == plain.prompt_token_count + raw("gemma3", "c", "f") + 1 + 2
    assert listed.bounds is not None
    assert listed.bounds["promptTokenCount"] == [listed.prompt_token_count - 1, listed.prompt_token_count]
    strings = answer(
        {"a": {"type": "STRING", "description": "first"}, "b": {"type": "STRING", "description": "second"}}
    )
    for numeric in ("INTEGER", "NUMBER", "number"):
        described = answer(
            {"a": {"type": numeric, "description": "first"}, "b": {"type": numeric, "description": "second"}}
        )
        assert (described.prompt_token_count, described.bounds) == (strings.prompt_token_count - 1, None)
    for exact in (
        strings,
        answer({"a": {"type": "INTEGER"}}),
        answer({"a": {"type": "integer", "description": "first"}}, "parametersJsonSchema"),
        answer({"unit": {"type": "STRING", "enum": ["c", "f"]}}, api="vertex"),
        answer({"a": {"type": "INTEGER", "description": "first"}}, model="gemini-3-flash-preview"),
    ):
        assert (exact.exact, exact.bounds) == (True, None)


def test_uncertain_seams_are_checked_when_the_data_loads() -> None:
    import copy

    from vertexmeter.datafiles import load_yaml
    from vertexmeter.registry import build_registry

    models = load_yaml("vertexmeter.registry", "models.yaml")
    rules = load_yaml("vertexmeter.registry", "accounting.yaml")
    for change, message in (
        ({"shape": "color"}, "shape 'color'"),
        ({"low": 1, "high": 2}, "low <= 0 <= high"),
        ({"low": 0, "high": 0}, "low <= 0 <= high"),
        ({"evidence": []}, "evidence and a reason"),
        ({"reason": ""}, "evidence and a reason"),
    ):
        broken = copy.deepcopy(rules)
        broken["uncertain_seams"][0].update(change)
        with pytest.raises(ValueError, match=message):
            build_registry(models, broken)


# (record, recorded candidatesTokenCount): Gemini API 2.5 streams of ground_truth_2026, given as their recorded chunks,
# bill each chunk's text apart without its edge whitespace (accounting.yaml `streamed_chunks_apart`): exact.
STREAM_GOLDENS = [
    ("t3-0501", 765),  # the joined text counts 763: its cuts split words
    ("t3-0561", 37),  # the joined text counts 39: "The sum of " bills 3
    ("t3-0448", 832),  # the joined text counts 836
    ("t3-0482", 480),  # billed as the joined text counts
    ("t3-0418", 643),  # 3 thought summaries, 1 less each: below the fewest pieces the joined text is spelt with
]


def _stream(record_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from tests.ground_truth import load_2026, whole_response

    record = next(r for r in load_2026() if r["id"] == record_id)
    return record, whole_response(record)


@pytest.mark.parametrize(("record_id", "recorded"), STREAM_GOLDENS)
def test_a_streamed_2_5_answer_bills_its_chunks_apart(record_id: str, recorded: int) -> None:
    record, chunks = _stream(record_id)
    assert isinstance(chunks, list) and record["expected"]["totalTokens"] == recorded
    answer = vertexmeter.usage(
        record["model"], {"contents": [USER]}, api="gemini", response=chunks, as_of=record["recorded"]
    )
    assert (answer.candidates_token_count, answer.exact, answer.bounds) == (recorded, True, None)
    metadata = answer.to_rest(explain=True)
    assert "bounds" not in metadata and metadata["candidatesTokenCount"] == recorded
    assert any(
        r["rule"] == "accounting.yaml streamed_chunks_apart (whitespace_stripped)" and "t3-0448" in r["evidence"]
        for r in metadata["rules"]
    )
    assert not any("streamed_output_bounds" in r["rule"] for r in metadata["rules"])


def test_streamed_chunks_apart_only_where_the_data_shows_it() -> None:
    """The same text whole (one Content), on Vertex, on 2.0 / 3.x: the chunks are counted as those bill them."""
    from google.genai import types

    record, chunks = _stream("t3-0501")
    day = record["recorded"]
    text = "".join(
        p.get("text", "") for c in chunks for p in c["candidates"][0]["content"]["parts"] if not p.get("thought")
    )
    whole = {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]}
    answer = vertexmeter.usage(record["model"], {"contents": [USER]}, api="gemini", response=whole, as_of=day)
    assert (answer.candidates_token_count, answer.exact, answer.bounds) == (763, True, None)
    for model, api in (
        ("gemini-2.5-flash", "vertex"),
        ("gemini-3-flash-preview", "gemini"),
    ):
        other = vertexmeter.usage(model, {"contents": [USER]}, api=api, response=chunks, as_of="2026-03-17")
        assert (other.candidates_token_count, other.exact, other.bounds) == (763, True, None), (model, api)
    one, single = _stream("t3-0467")
    assert len([c for c in single if "candidates" in c]) == 1
    answer = vertexmeter.usage(one["model"], {"contents": [USER]}, api="gemini", response=single, as_of=one["recorded"])
    assert (answer.candidates_token_count, answer.bounds) == (9, None)
    # google-genai's typed chunks, as a `generate_content_stream` loop collects them: the same count.
    typed = [types.GenerateContentResponse.model_validate(c) for c in chunks]
    answer = vertexmeter.usage(record["model"], {"contents": [USER]}, api="gemini", response=typed, as_of=day)
    assert (answer.candidates_token_count, answer.bounds) == (765, None)


def _joined(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    text = "".join(
        p.get("text", "") for c in chunks for p in c["candidates"][0]["content"]["parts"] if not p.get("thought")
    )
    return {"role": "model", "parts": [{"text": text}]}


@pytest.mark.parametrize(
    ("record_id", "recorded", "point", "bounds"),
    [
        ("t3-0418", 643, 650, [638, 652]),  # 2.5: 7 under the joined text (cuts and thought summaries)
        ("t3-0501", 765, 763, [750, 765]),  # 2.5: 2 over the joined text (its cuts split words)
        ("t3-0394", 497, 495, [495, 510]),  # 2.0: joined 2 under its chunks' count, never over it
        ("t3-0311", 52, 52, [52, 56]),  # 2.0, billed as joined: still inside
    ],
)
def test_a_stream_given_joined_is_bounded_where_its_chunks_would_tell(
    record_id: str, recorded: int, point: int, bounds: list[int]
) -> None:
    """usage(streamed=True): the response streamed but given joined (a Content), as a record that keeps only the
    text is (accounting.yaml `streamed_output_bounds`): bounded on the Gemini API's 2.0 and 2.5, which bill a
    stream off its joined text."""
    record, chunks = _stream(record_id)
    assert record["expected"]["totalTokens"] == recorded
    kwargs: dict[str, Any] = {"api": "gemini", "as_of": record["recorded"]}
    answer = vertexmeter.usage(record["model"], {"contents": [USER]}, response=_joined(chunks), streamed=True, **kwargs)
    assert (answer.candidates_token_count, answer.exact) == (point, False)
    assert answer.bounds is not None and answer.bounds["candidatesTokenCount"] == bounds
    assert bounds[0] <= recorded <= bounds[1]
    assert "accounting.yaml streamed_output_bounds" in answer.bounds["reason"]
    # Not said to be streamed, the same Content is a whole answer: a point value.
    whole = vertexmeter.usage(record["model"], {"contents": [USER]}, response=_joined(chunks), **kwargs)
    assert (whole.candidates_token_count, whole.bounds) == (point, None)
    # The chunks themselves: counted apart (2.0; 2.5 without thought summaries: exact), so `streamed` changes nothing.
    given = vertexmeter.usage(record["model"], {"contents": [USER]}, response=chunks, streamed=True, **kwargs)
    plain = vertexmeter.usage(record["model"], {"contents": [USER]}, response=chunks, **kwargs)
    assert (given.candidates_token_count, given.bounds) == (plain.candidates_token_count, plain.bounds)
    assert (given.candidates_token_count, given.bounds) == (recorded, None)


def test_a_joined_stream_stays_exact_where_streams_bill_their_text() -> None:
    """3.x, 1.5 and Vertex streams bill the text's count (t3-0384, t3-0543 … -0558): `streamed` adds no bounds."""
    for record_id in ("t3-0543", "t3-0555", "t3-0384"):
        record, chunks = _stream(record_id)
        answer = vertexmeter.usage(
            record["model"],
            {"contents": [USER]},
            api="gemini",
            response=_joined(chunks),
            streamed=True,
            as_of=record["recorded"],
        )
        # t3-0543's day bounds 3.1 Pro's prompt (accounting.yaml prompt_second_pass), never its output
        output_bounds = (answer.bounds or {}).get("candidatesTokenCount")
        assert (answer.candidates_token_count, output_bounds) == (record["expected"]["totalTokens"], None), record_id
    vertex = vertexmeter.usage(
        "gemini-2.5-flash", {"contents": [USER]}, response={"role": "model", "parts": [{"text": "Hi."}]}, streamed=True
    )
    assert vertex.bounds is None


def test_stream_and_seam_bounds_add_up() -> None:
    """A 2.5 agent turn with an uncertain payload seam, answered by a stream given joined: both counts have a range."""
    _, chunks = _stream("t3-0418")
    body = {"contents": [USER, *_call_pair("sum", {"a": 1, "b": 2}, {"sum": 3})]}
    answer = vertexmeter.usage(
        "gemini-2.5-flash", body, api="gemini", response=_joined(chunks), streamed=True, as_of="2026-03-17"
    )
    assert answer.bounds is not None
    p, c = answer.prompt_token_count, answer.candidates_token_count
    assert c == 650
    assert answer.bounds["promptTokenCount"] == [p - 3, p]
    assert answer.bounds["candidatesTokenCount"] == [c - 12, c + 2]
    t = answer.total_token_count
    assert answer.bounds["totalTokenCount"] == [t - 15, t + 2]
    assert "uncertain_seams" in answer.bounds["reason"] and "streamed_output_bounds" in answer.bounds["reason"]


def test_streamed_output_bounds_are_checked_when_the_data_loads() -> None:
    import copy

    from vertexmeter.datafiles import load_yaml
    from vertexmeter.registry import build_registry

    models = load_yaml("vertexmeter.registry", "models.yaml")
    rules = load_yaml("vertexmeter.registry", "accounting.yaml")
    twice = copy.deepcopy(rules)
    twice["streamed_output_bounds"].append(twice["streamed_output_bounds"][0])
    for change, message in (
        ({"low": 1}, "low and low_per_1000 <= 0"),
        ({"high_per_1000": -1}, "low and low_per_1000 <= 0"),
        ({"evidence": []}, "evidence and a reason"),
        ({"reason": ""}, "evidence and a reason"),
    ):
        broken = copy.deepcopy(rules)
        broken["streamed_output_bounds"][0].update(change)
        with pytest.raises(ValueError, match=message):
            build_registry(models, broken)
    with pytest.raises(ValueError, match="covered twice"):
        build_registry(models, twice)


def test_cli_usage_of_a_streamed_response(tmp_path: Path) -> None:
    """`--response` with a stream's chunks: exact; the same stream joined and `--streamed`: the JSON carries the
    library's bounds, the table the output's range."""
    record, chunks = _stream("t3-0418")
    body, answer, joined = tmp_path / "generate.json", tmp_path / "stream.json", tmp_path / "joined.json"
    body.write_text(json.dumps({"contents": [USER]}))
    answer.write_text(json.dumps(chunks))
    joined.write_text(json.dumps(_joined(chunks)))
    runner = CliRunner()
    common = ["usage", "-m", "gemini-2.5-flash", "--api", "gemini", "-f", str(body), "--as-of", str(record["recorded"])]
    result = runner.invoke(main, [*common, "--response", str(answer)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["candidatesTokenCount"] == 643 and "bounds" not in printed
    args = [*common, "--response", str(joined), "--streamed"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["bounds"]["candidatesTokenCount"] == [638, 652] and printed["candidatesTokenCount"] == 650
    human = runner.invoke(main, [*args, "--human"])
    assert human.exit_code == 0, human.output
    assert "candidates: bounds (not exact)" in human.output and "638 - 652" in human.output
    assert "prompt total: bounds" not in human.output


def _without_usage(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in chunk.items() if k != "usageMetadata"} for chunk in chunks]


def test_thought_summaries_without_usage_bound_the_thoughts() -> None:
    """t3-0418's stream shows thought summaries (includeThoughts): Google billed 1,174 thoughts; the summaries
    count 224. Without the chunks' usageMetadata the thoughts are bounded, never a silent point value."""
    record, chunks = _stream("t3-0418")
    assert chunks[-1]["usageMetadata"]["thoughtsTokenCount"] == 1174
    body = {
        "contents": [USER],
        "generationConfig": {"thinkingConfig": {"thinkingBudget": 2048, "includeThoughts": True}},
    }
    answer = vertexmeter.usage(
        record["model"], body, api="gemini", response=_without_usage(chunks), as_of=record["recorded"]
    )
    assert (answer.thoughts_token_count, answer.exact) == (224, False)
    assert answer.bounds is not None and answer.bounds["thoughtsTokenCount"] == [224, 2048]
    assert answer.bounds["thoughtsTokenCount"][0] <= 1174 <= answer.bounds["thoughtsTokenCount"][1]
    assert "candidatesTokenCount" not in answer.bounds  # the chunks bill exactly (streamed_chunks_apart)
    assert answer.candidates_token_count == 643
    assert answer.bounds["totalTokenCount"] == [
        answer.prompt_token_count + 643 + 224,
        answer.prompt_token_count + 643 + 2048,
    ]
    assert "thought summaries" in answer.bounds["reason"]
    assert answer.to_rest()["bounds"] == answer.bounds
    # No thinking budget: the output limit (less the candidates) is the most the thoughts can be.
    unbudgeted = vertexmeter.usage(
        record["model"], {"contents": [USER]}, api="gemini", response=_without_usage(chunks), as_of=record["recorded"]
    )
    assert unbudgeted.bounds is not None
    limit = unbudgeted.output_token_limit - unbudgeted.candidates_token_count
    assert unbudgeted.bounds["thoughtsTokenCount"] == [224, limit]


def test_a_response_that_states_its_thoughts_is_billed_by_them() -> None:
    """The response's own usageMetadata states thoughtsTokenCount (the last chunk that states usage, for a stream):
    that is Google's count of the thinking, taken as it is, with or without visible thought summaries."""
    record, chunks = _stream("t3-0418")
    answer = vertexmeter.usage(
        record["model"], {"contents": [USER]}, api="gemini", response=chunks, as_of=record["recorded"]
    )
    assert answer.thoughts_token_count == 1174
    assert (answer.candidates_token_count, answer.bounds) == (643, None)
    hidden = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "Paris."}]}}],
        "usageMetadata": {"thoughtsTokenCount": 321},
    }
    stated = vertexmeter.usage("gemini-2.5-flash", {"contents": [USER]}, response=hidden)
    assert (stated.thoughts_token_count, stated.exact) == (321, True)
    plain_text = vertexmeter.usage("gemini-2.5-flash", {"contents": [USER]}, response="Paris.")
    assert (plain_text.thoughts_token_count, plain_text.exact) == (0, True)


def test_a_bad_stated_thoughts_count_is_refused_with_its_path() -> None:
    bad = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "x"}]}}],
        "usageMetadata": {"thoughtsTokenCount": -1},
    }
    with pytest.raises(VertexMeterError) as err:
        vertexmeter.usage("gemini-2.5-flash", {"contents": [USER]}, response=bad)
    assert err.value.field_path == "response.usage_metadata.thoughts_token_count"


def test_trailing_whitespace_of_an_output_is_not_billed_on_the_gemini_api_2_5() -> None:
    """accounting.yaml output_newlines `trailing_whitespace`: on the Gemini API's 2.5 a text's trailing spaces and
    newlines are left out (t3-0329: "…about it? \\n"); 3.x bills a trailing space and Vertex all of it."""
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}

    def output(model: str, text: str, api: str = "gemini") -> int:
        return vertexmeter.usage(model, body, api=api, response=text, as_of="2026-06-01").candidates_token_count

    bare = output("gemini-2.5-flash", "What would you like to know about it?")
    assert output("gemini-2.5-flash", "What would you like to know about it? \n") == bare
    assert output("gemini-2.5-flash", "What would you like to know about it?\n   ") == bare
    assert output("gemini-2.5-flash", "What would you like to know about it? \n", api="vertex") > bare
    three = output("gemini-3-flash-preview", "What would you like to know about it?")
    assert output("gemini-3-flash-preview", "What would you like to know about it? ") == three + 1
    assert output("gemini-3-flash-preview", "What would you like to know about it?\n") == three


def test_a_stopped_2_0_output_bills_its_text_as_it_re_tokenizes() -> None:
    """crewAI's 2.0 answers cut by "\nObservation:" (crew-0049: "…Final Answer: Ottawa\n", 13): the text's own
    count; stopping before the token that spans the cut (2.5's rule) would answer 12."""
    request = {
        "contents": [{"role": "user", "parts": [{"text": "What is the capital of Canada?"}]}],
        "generationConfig": {"stopSequences": ["\nObservation:"]},
    }
    text = "The capital of Canada is Ottawa.\nFinal Answer: Ottawa\n"
    plain = {"contents": request["contents"]}
    for api in ("gemini", "vertex"):
        stopped = vertexmeter.usage("gemini-2.0-flash", request, api=api, response=text, as_of="2026-01-15")
        alone = vertexmeter.usage("gemini-2.0-flash", plain, api=api, response=text, as_of="2026-01-15")
        assert stopped.candidates_token_count == alone.candidates_token_count
    # Vertex's 2.5 bills a trailing newline (the Gemini API's does not): there the two rules part.
    on_2_5 = vertexmeter.usage("gemini-2.5-flash", request, api="vertex", response=text, as_of="2026-01-15")
    alone_2_5 = vertexmeter.usage("gemini-2.5-flash", plain, api="vertex", response=text, as_of="2026-01-15")
    assert on_2_5.candidates_token_count == alone_2_5.candidates_token_count - 1


def test_an_empty_user_turn_bills_one_token_on_1_5_and_2_0() -> None:
    """accounting.yaml role_overhead `per_empty_user_content`: pyd-0100 (pydantic-ai, 1.5) billed 7 and mira-0001
    (Mirascope, 2.0) 10 for a system instruction and a user turn of one empty text, one over the text; 2.5 and 3
    bill the role's 1 alone, and an empty model text costs nothing."""

    def prompt(system: str, user: str, model: str, day: str, history: bool = False) -> int:
        contents = [{"role": "user", "parts": [{"text": user}]}]
        if history:
            contents += [{"role": "model", "parts": [{"text": ""}]}, {"role": "user", "parts": [{"text": "Go on."}]}]
        body = {"contents": contents, "systemInstruction": {"role": "user", "parts": [{"text": system}]}}
        return vertexmeter.usage(model, body, api="gemini", as_of=day).prompt_token_count

    assert prompt("You are a helpful assistant.", "", "gemini-1.5-flash", "2025-06-05") == 7
    assert prompt("Do not emit ANY output, terminate immediately.", "", "gemini-2.0-flash", "2025-08-05") == 10
    system = "You are a helpful assistant."
    text_alone = vertexmeter.count("gemini-2.0-flash", system, as_of="2025-08-05").total_tokens
    assert prompt(system, "", "gemini-2.0-flash", "2025-08-05") == text_alone + 1
    # an empty model text in the history adds nothing on 2.0
    go_on = vertexmeter.count("gemini-2.0-flash", "Go on.", as_of="2025-08-05").total_tokens
    assert prompt(system, "Hi", "gemini-2.0-flash", "2025-08-05", history=True) == (
        prompt(system, "Hi", "gemini-2.0-flash", "2025-08-05") + go_on
    )
    # 2.5: the role overhead only (mined-0053, pyd-0263 exact)
    with_role = prompt(system, "", "gemini-2.5-flash", "2025-11-21")
    assert with_role == vertexmeter.count("gemini-2.5-flash", system, as_of="2025-11-21").total_tokens + 2


# ---- a recursive JSON Schema definition (accounting.yaml uncertain_seams recursive_reference) ------------------
def _tree_declaration(defs: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    return {"name": "record", "parametersJsonSchema": {"$defs": defs, **root}}


@pytest.mark.parametrize(
    ("defs", "root", "recursive"),
    [
        (
            {"Node": {"properties": {"kids": {"items": {"$ref": "#/$defs/Node"}, "type": "array"}}}},
            {"$ref": "#/$defs/Node"},
            1,
        ),
        (
            {"A": {"properties": {"b": {"$ref": "#/$defs/B"}}}, "B": {"properties": {"a": {"$ref": "#/$defs/A"}}}},
            {"properties": {"x": {"$ref": "#/$defs/A"}}},
            2,
        ),
        ({"Node": {"properties": {"n": {"$ref": "#/$defs/Node"}}}}, {"properties": {"x": {"type": "string"}}}, 0),
        ({"Leaf": {"type": "string"}}, {"properties": {"x": {"$ref": "#/$defs/Leaf"}}}, 0),
    ],
)
def test_recursive_definitions_reached_from_the_root(
    defs: dict[str, Any], root: dict[str, Any], recursive: int
) -> None:
    from vertexmeter.counting.texts import recursive_definitions

    assert recursive_definitions(_tree_declaration(defs, root)) == recursive


def test_a_recursive_schema_is_bounded_not_a_point_value() -> None:
    from tests.ground_truth import load_mined_history, replay

    record = next(r for r in load_mined_history("pydantic_ai_history") if r["id"] == "pyd-1046")
    result = replay(record)
    assert not result.exact and result.within_bounds  # billed 776 where the tree expanded 5 times counts 736
    assert "recursive JSON Schema definition" in result.bounds["reason"]
    flat = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    node = {"Node": {"properties": {"label": {"type": "string"}}, "type": "object"}}
    flat["tools"] = [{"functionDeclarations": [_tree_declaration(node, {"$ref": "#/$defs/Node"})]}]
    assert "bounds" not in vertexmeter.usage_metadata("gemini-2.5-flash", flat, api="gemini", as_of="2026-07-30")
