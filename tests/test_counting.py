"""countTokens semantics: goldens, what text counts, legacy instances, billable characters, dialects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vertexmeter
from vertexmeter.counting import billable_characters
from vertexmeter.tokenizing import get_tokenizer


def user(*texts: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": t} for t in texts]}


def raw(family: str, *texts: str) -> int:
    tokenizer = get_tokenizer(family)
    return sum(len(tokenizer.encode(t)) for t in texts)


# ---- goldens from the seed pages and Google's own samples --------------------------------------


def test_seed_text_bison_example() -> None:
    body = {"instances": [{"prompt": "Give me ten interview questions for the role of program manager."}]}
    assert vertexmeter.count_tokens("text-bison", body) == {"totalTokens": 12, "totalBillableCharacters": 54}


def test_gemini_2_5_flash_what_is_your_name() -> None:
    assert vertexmeter.count_tokens("gemini-2.5-flash", {"contents": [user("What is your name?")]}) == {
        "totalTokens": 5,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 5}],
    }


def test_gemini_1_5_flash_vertex_sample() -> None:
    # Vertex SDK sample: count_tokens(["hello world", "what's the weather today"]) -> 8 tokens, 31 characters.
    body = {"contents": [user("hello world", "what's the weather today")]}
    result = vertexmeter.count_tokens("gemini-1.5-flash-002", body)
    assert (result["totalTokens"], result["totalBillableCharacters"]) == (8, 31)


def test_empty_contents_is_an_empty_answer_on_vertex() -> None:
    assert vertexmeter.count_tokens("gemini-2.5-flash", {"contents": []}) == {}
    assert vertexmeter.count_tokens("gemini-2.5-flash", {}) == {}


# ---- what text counts (google-genai's _TextsAccumulator) ----------------------------------------


def test_function_call_counts_name_keys_and_string_values() -> None:
    part = {
        "functionCall": {
            "name": "get_weather",
            "args": {"city": "Paris", "days": 3, "units": ["C", "F"], "opts": {"detail": True, "lang": "fr"}},
        }
    }
    expected = raw("gemma3", "get_weather", "city", "days", "units", "opts", "Paris", "C", "F", "detail", "lang", "fr")
    result = vertexmeter.count("gemini-2.5-flash", {"contents": [{"role": "model", "parts": [part]}]})
    assert result.total_tokens == expected


def test_function_response_counts_name_keys_and_string_values() -> None:
    part = {"functionResponse": {"name": "get_weather", "response": {"temperature": 21, "sky": "clear"}}}
    expected = raw("gemma3", "get_weather", "temperature", "sky", "clear")
    assert vertexmeter.count("gemini-2.5-flash", {"contents": [{"role": "user", "parts": [part]}]}).total_tokens == (
        expected
    )


def test_tools_and_schemas_count_what_the_sdk_counts() -> None:
    declaration = {
        "name": "book_flight",
        "description": "Books a flight.",
        "parameters": {
            "type": "OBJECT",
            "title": "NOT COUNTED",
            "properties": {
                "origin": {"type": "STRING", "description": "IATA code", "format": "iata"},
                "cabin": {"type": "STRING", "enum": ["economy", "business"], "default": "economy"},
                "legs": {"type": "ARRAY", "items": {"type": "OBJECT", "properties": {"date": {"type": "STRING"}}}},
            },
            "required": ["origin"],
            "propertyOrdering": ["origin", "cabin", "legs"],
            "example": {"origin": "ICN"},
        },
    }
    body = {"contents": [user("Book it")], "tools": [{"functionDeclarations": [declaration]}]}
    expected = raw(
        "gemma3",
        "Book it",
        "book_flight",
        "Books a flight.",
        "origin",
        "IATA code",
        "iata",
        "cabin",
        "economy",
        "business",
        "legs",
        "date",
        "origin",
        "origin",
        "ICN",
    )
    # Vertex adds 1 per typed schema node (accounting.yaml); the texts are what the SDK counts.
    from vertexmeter.counting.accounting import tool_template_tokens
    from vertexmeter.registry import accounting_for, resolve

    template = accounting_for(resolve("gemini-2.5-flash"), "vertex", "countTokens").tools
    typed = tool_template_tokens(body["tools"], template)
    assert typed > 0
    assert vertexmeter.count("gemini-2.5-flash", body).total_tokens == expected + typed


def test_response_schema_and_system_instruction_count() -> None:
    body = {
        "contents": [user("List two colours")],
        "systemInstruction": {"parts": [{"text": "Answer in JSON."}, {"text": "Be brief."}]},
        "generationConfig": {
            "responseSchema": {"type": "ARRAY", "items": {"type": "STRING", "description": "a colour"}}
        },
    }
    expected = raw("gemma3", "List two colours", "Answer in JSON.", "Be brief.", "a colour")
    assert vertexmeter.count("gemini-2.5-flash", body).total_tokens == expected


def test_non_function_tools_add_nothing_but_are_accepted() -> None:
    body = {"contents": [user("hi")], "tools": [{"googleSearch": {}}, {"google_search_retrieval": {}}]}
    assert vertexmeter.count("gemini-2.5-flash", body).total_tokens == 1


def test_code_execution_parts_count() -> None:
    parts = [
        {"executableCode": {"language": "PYTHON", "code": "print(1 + 1)"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "2"}},
    ]
    body = {"contents": [{"role": "model", "parts": parts}]}
    assert vertexmeter.count("gemini-2.5-flash", body).total_tokens == raw("gemma3", "print(1 + 1)", "2")


# ---- legacy instances ---------------------------------------------------------------------------


def test_chat_bison_counts_context_examples_and_message_contents_not_authors() -> None:
    instance = {
        "context": "You are a tour guide.",
        "examples": [{"input": {"author": "user", "content": "Hi"}, "output": {"author": "bot", "content": "Hello!"}}],
        "messages": [{"author": "user", "content": "Where is the Louvre?"}],
    }
    result = vertexmeter.count("chat-bison", {"instances": [instance]})
    texts = ("You are a tour guide.", "Hi", "Hello!", "Where is the Louvre?")
    assert result.total_tokens == raw("gemma2", *texts)
    assert result.billable_characters == sum(billable_characters(t) for t in texts)


@pytest.mark.parametrize(
    ("model", "instance", "texts"),
    [
        ("code-bison", {"prefix": "def add(a, b):"}, ["def add(a, b):"]),
        (
            "codechat-bison",
            {"context": "Python only.", "messages": [{"author": "user", "content": "Sort a list"}]},
            ["Python only.", "Sort a list"],
        ),
        ("code-gecko", {"prefix": "for i in range(", "suffix": "):\n    pass"}, ["for i in range(", "):\n    pass"]),
        (
            "textembedding-gecko@003",
            {"content": "An embedding text", "task_type": "RETRIEVAL_DOCUMENT", "title": "Doc"},
            ["An embedding text", "Doc"],
        ),
        ("text-bison@002", {"prompt": "Write a haiku."}, ["Write a haiku."]),
    ],
)
def test_legacy_shapes(model: str, instance: dict[str, Any], texts: list[str]) -> None:
    result = vertexmeter.count_tokens(model, {"instances": [instance]})
    assert result == {
        "totalTokens": raw("gemma2", *texts),
        "totalBillableCharacters": sum(billable_characters(t) for t in texts),
    }


def test_instances_are_summed() -> None:
    one = vertexmeter.count("text-bison", {"instances": [{"prompt": "first prompt"}]})
    two = vertexmeter.count("text-bison", {"instances": [{"prompt": "first prompt"}, {"prompt": "second one"}]})
    assert two.total_tokens == one.total_tokens + raw("gemma2", "second one")
    assert two.billable_characters == one.billable_characters + 9


# ---- billable characters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Why is the sky blue?", 16),
        ("hello world", 10),
        (" a\tb\nc\u00a0d\u3000e ", 5),
        ("日本語 テキスト", 7),
        ("👍🏽", 2),
        ("", 0),
    ],
)
def test_billable_characters(text: str, expected: int) -> None:
    assert billable_characters(text) == expected


@given(st.text(), st.text())
def test_billable_characters_are_additive_and_ignore_whitespace(a: str, b: str) -> None:
    assert billable_characters(a + b) == billable_characters(a) + billable_characters(b)
    assert billable_characters(a + " \n\t" + b) == billable_characters(a + b)
    assert billable_characters(a) <= len(a)
    assert billable_characters(a) == sum(1 for ch in a if not ch.isspace())


@given(st.text(st.characters(max_codepoint=127)))
def test_billable_characters_of_ascii_text_skip_exactly_what_isspace_skips(text: str) -> None:
    # ASCII takes the str.count path; \x1c-\x1f are whitespace to str.isspace() as well
    assert billable_characters(text) == sum(1 for ch in text if not ch.isspace()) == sum(map(len, text.split()))


def test_billable_characters_only_for_character_billed_models_on_vertex() -> None:
    body = {"contents": [user("Why is the sky blue?")]}
    assert vertexmeter.count_tokens("gemini-1.5-flash-001", body) == {
        "totalTokens": 6,
        "totalBillableCharacters": 16,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 6}],
    }
    assert "totalBillableCharacters" not in vertexmeter.count_tokens("gemini-1.5-flash-001", body, api="gemini")
    assert "totalBillableCharacters" not in vertexmeter.count_tokens("gemini-2.5-flash", body)


# ---- API dialects (docs/counting.md) ------------------------------------------------------------

AFRICA = {"contents": [user("What's the highest mountain in Africa?")]}


@pytest.mark.parametrize(
    ("model", "vertex", "gemini"),
    [
        ("gemini-2.5-flash", 9, 10),
        ("gemini-2.0-flash", 9, 10),  # gt-0030's Vertex +1 is a doc artifact (accounting.yaml)
        ("gemini-1.5-flash", 9, 10),  # Gemini API countTokens: raw + 1 per role-bearing Content
        ("gemini-3-flash-preview", 9, 10),
        ("gemini-3.5-flash", 9, 10),
    ],
)
def test_dialects_differ_as_recorded(model: str, vertex: int, gemini: int) -> None:
    assert vertexmeter.count(model, AFRICA).total_tokens == vertex
    assert vertexmeter.count(model, AFRICA, api="gemini").total_tokens == gemini


def test_gemini_api_model_turns_on_1_0() -> None:
    turns = [user("Hi my name is Bob"), {"role": "model", "parts": [{"text": "Hi Bob!"}]}]
    assert vertexmeter.count("gemini-1.0-pro", {"contents": turns}, api="gemini").total_tokens == 10
    assert (
        vertexmeter.count(
            "gemini-1.0-pro", {"contents": [{"parts": user("Hi my name is Bob", "Hi Bob!")["parts"]}]}, api="gemini"
        ).total_tokens
        == 8  # gt-0014: no role, so no overhead
    )


def test_gemini_api_generate_content_request_counts_system_instruction() -> None:
    body = {
        "generateContentRequest": {
            "model": "models/gemini-2.5-flash",
            "contents": [user("The quick brown fox jumps over the lazy dog.")],
            "systemInstruction": {"parts": [{"text": "Talk like a pirate!"}]},
        },
        "contents": [user("ignored when generateContentRequest is set")],
    }
    assert vertexmeter.count("gemini-2.5-flash", body, api="gemini").total_tokens == 10 + 5 + 1


# ---- properties ---------------------------------------------------------------------------------

texts = st.lists(st.text(min_size=1, max_size=200), min_size=1, max_size=5)


@settings(deadline=None, max_examples=60)
@given(texts, texts)
def test_counts_add_up_over_turns(first: list[str], second: list[str]) -> None:
    a = vertexmeter.count("gemini-2.5-pro", {"contents": [user(*first)]}).total_tokens
    b = vertexmeter.count("gemini-2.5-pro", {"contents": [user(*second)]}).total_tokens
    both = vertexmeter.count("gemini-2.5-pro", {"contents": [user(*first), user(*second)]}).total_tokens
    assert both == a + b


def test_fits_context_window() -> None:
    assert vertexmeter.count("code-gecko", {"instances": [{"prefix": "x = 1"}]}).fits_context_window
    big = "word " * 2100
    assert not vertexmeter.count("code-gecko", {"instances": [{"prefix": big}]}).fits_context_window


def test_gemma4_goldens_from_google_genai() -> None:
    # SOURCES.md: google-genai 3.4.0's LocalTokenizer on the gemma4 tokenizer.json gives these.
    assert vertexmeter.count("gemini-3.5-flash", {"contents": [user("What is your name?")]}).total_tokens == 5
    two = {"contents": [user("What is your name?", "Hello world")]}
    assert vertexmeter.count("gemini-3.1-pro-preview", two).total_tokens == 7
    assert vertexmeter.count("gemini-3.1-flash-lite", {"contents": [user("<eos>")]}).total_tokens == 1
    assert get_tokenizer("gemma4").encode("") == []


# ---- tool templates of the Gemini API's generateContent (accounting.yaml `tool_templates`) -------------------
# Each golden is a hand-made declaration shaped like recorded ones; the template it expects is the recorded
# answer's (named) minus its texts.


def _bill(model: str, body: dict[str, Any]) -> int:
    return vertexmeter.usage(model, body, api="gemini").prompt_token_count


def _declaration_body(*declarations: dict[str, Any]) -> dict[str, Any]:
    return {"contents": [user("Go")], "tools": [{"functionDeclarations": list(declarations)}]}


def test_tool_features_count_what_the_weights_multiply() -> None:
    from vertexmeter.counting.accounting import tool_features

    declaration = {
        "name": "plan",
        "description": "Plans.",
        "parametersJsonSchema": {
            "type": "object",
            "properties": {
                "mode": {"type": "string", "enum": ["fast", "slow"], "description": "how"},
                "steps": {
                    "type": ["null", "array"],
                    "items": {"type": "object", "title": "Step", "properties": {"n": {"type": "integer"}}},
                },
                "note": {"type": "string", "format": "date"},
            },
            "required": ["mode"],
            "additionalProperties": False,  # closed: not an open object
        },
        "responseJsonSchema": {
            "type": "object",
            "properties": {"ok": {"type": "boolean"}, "why": {}},
            "additionalProperties": {"type": "string"},
        },
    }
    found = tool_features([{"functionDeclarations": [declaration, {"name": "ping"}]}])
    assert {k: v for k, v in found.items() if v} == {
        "declaration": 2,
        "description": 2,  # the declaration's and mode's
        "object": 3,
        "nested_object": 1,  # Step, in items
        "property": 6,
        "described_property": 1,
        "declaration_with_described_properties": 1,
        "optional_property": 5,  # steps, note, Step's n; the response's ok, why (no `required` names them)
        "optional_property_of_described_declaration": 5,
        "items": 1,
        "enum": 1,
        "enum_value": 2,
        "null_union": 1,
        "title": 1,
        "response_object": 1,
        "response_property": 2,
        "response_schema": 1,  # the response, whatever it holds (ping has none)
        "format": 1,  # note's date
        "open_object": 1,  # the response's additionalProperties schema
        "closed_object": 1,
    }


def test_gemini_2_5_response_json_schema_template() -> None:
    """t3-0413 (9 requests, google/adk-go): 18 + 9 x 2 properties - 1 (described) + 28 + 2 per response
    property = 65 beyond the texts; a string response costs nothing (t3-0451)."""
    declaration = {
        "name": "get_tide",
        "description": "returns the tide in a port",
        "parametersJsonSchema": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"port": {"type": "string", "description": "port name"}},
            "required": ["port"],
        },
        "responseJsonSchema": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"tide_summary": {"type": "string", "description": "tide summary in the port"}},
            "required": ["tide_summary"],
        },
    }
    texts = ("Go", "get_tide", "returns the tide in a port", "port", "port name", "port")
    texts += ("tide_summary", "tide summary in the port", "tide_summary")
    assert _bill("gemini-2.5-flash", _declaration_body(declaration)) == raw("gemma3", *texts) + 1 + 65
    as_string = {**declaration, "responseJsonSchema": {"type": "string"}}
    assert _bill("gemini-2.5-flash", _declaration_body(as_string)) == raw("gemma3", *texts[:6]) + 1 + 26


def test_gemini_2_5_optional_properties() -> None:
    """t3-0449: three described properties, one required: 18 + 27 - 1 + 2 x (4 + 1) + 1 = 55 (the optional described
    properties' 1 once per declaration); one such property beside a required one 2 less (fama-0009 …). pyd-0133: an
    optional property of a declaration without description: + 4."""
    described = {
        "name": "hand_over",
        "description": "Hands the question over.",
        "parameters": {
            "type": "OBJECT",
            "properties": {
                "agent": {"type": "STRING", "description": "the agent"},
                "reason": {"type": "STRING", "description": "why"},
                "skill": {"type": "STRING", "description": "which skill"},
            },
            "required": ["agent"],
        },
    }
    texts = ("Go", "hand_over", "Hands the question over.", "agent", "the agent", "reason", "why")
    texts += ("skill", "which skill", "agent")
    assert _bill("gemini-2.5-flash", _declaration_body(described)) == raw("gemma3", *texts) + 1 + 55
    # one optional described property beside a required one: 2 less (per_lone_optional_described_property)
    one = {**described, "parameters": {**described["parameters"], "required": ["agent", "reason"]}}
    assert _bill("gemini-2.5-flash", _declaration_body(one)) == raw("gemma3", *texts, "reason") + 1 + 48
    bare = {"name": "get_error", "parameters": {"type": "OBJECT", "properties": {"value": {"type": "BOOLEAN"}}}}
    assert _bill("gemini-2.5-flash", _declaration_body(bare)) == raw("gemma3", "Go", "get_error", "value") + 1 + 31


def test_gemini_2_5_resolves_json_schema_references() -> None:
    """mined-0087 bills as pyd-0254 (the same schema inlined): a `$ref` counts as its definition, the `$defs` names
    not at all; a definition reached only through additionalProperties costs nothing (pyd-0272)."""
    leaf = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    inlined = {"type": "object", "properties": {"owner": leaf}, "required": ["owner"]}
    referenced = {
        "$defs": {"PersonRecord": leaf},
        "type": "object",
        "properties": {"owner": {"$ref": "#/$defs/PersonRecord"}},
        "required": ["owner"],
    }
    bills = [
        _bill("gemini-2.5-flash", _declaration_body({"name": "save", "parametersJsonSchema": s}))
        for s in (inlined, referenced)
    ]
    # 18 + 9 x 2 properties + 31 for the nested object
    assert bills[0] == bills[1] == raw("gemma3", "Go", "save", "owner", "name", "name", "owner") + 1 + 67
    unreachable = {
        "$defs": {"PersonRecord": leaf},
        "type": "object",
        "properties": {"owners": {"type": "object", "additionalProperties": {"$ref": "#/$defs/PersonRecord"}}},
        "required": ["owners"],
    }
    bill = _bill("gemini-2.5-flash", _declaration_body({"name": "save", "parametersJsonSchema": unreachable}))
    assert bill == raw("gemma3", "Go", "save", "owners", "owners") + 1 + 27


def test_recursive_references_are_expanded_once() -> None:
    from vertexmeter.counting.texts import inline_tool_refs

    node = {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}
    tools = [
        {
            "functionDeclarations": [
                {"name": "tree", "parametersJsonSchema": {"$defs": {"Node": node}, "$ref": "#/$defs/Node"}}
            ]
        }
    ]
    schema = inline_tool_refs(tools)[0]["functionDeclarations"][0]["parametersJsonSchema"]
    assert schema == {"type": "object", "properties": {"kids": {"type": "array", "items": {}}}}
    assert tools[0]["functionDeclarations"][0]["parametersJsonSchema"]["$defs"] == {"Node": node}  # not mutated


def test_gemini_3_enum_template() -> None:
    """t3-0571 (3.5-flash): 13 + 5 (description) + 4 (object) + 10 (property) + 5 (its description) + 2 + 3 per
    enum value = 45 with two values; t3-0594: 42 with one."""

    def declaration(*values: str) -> dict[str, Any]:
        agent = {"type": "STRING", "description": "the agent", "enum": list(values)}
        schema = {"type": "OBJECT", "properties": {"agent": agent}, "required": ["agent"]}
        return {"name": "hand_over", "description": "Hands over.", "parameters": schema}

    texts = ("Go", "hand_over", "Hands over.", "agent", "the agent", "agent")
    two = _bill("gemini-3.5-flash", _declaration_body(declaration("billing", "support")))
    assert two == raw("gemma4", *texts, "billing", "support") + 1 + 45
    one = _bill("gemini-3.5-flash", _declaration_body(declaration("billing")))
    assert one == raw("gemma4", *texts, "billing") + 1 + 42


def test_gemini_3_boolean_node_costs_one_more() -> None:
    """t3-0581 / -0582 (3.5-flash, finish_task(done: BOOLEAN)): a BOOLEAN-typed node + 1 (BOOLE|AN is two tokens, the
    other type names one: the declaration's written text holds the type in capitals); 13 + 4 (object) + 10 (property)
    = 27 beside it. A JSON Schema "boolean" is written alike (unrecorded); 2.5 adds nothing for it."""

    def declaration(kind: str, key: str = "parameters") -> dict[str, Any]:
        schema = {"type": "OBJECT", "properties": {"done": {"type": kind}}, "required": ["done"]}
        return {"name": "finish_task", key: schema}

    texts = ("Go", "finish_task", "done", "done")
    assert _bill("gemini-3.5-flash", _declaration_body(declaration("STRING"))) == raw("gemma4", *texts) + 1 + 27
    assert _bill("gemini-3.5-flash", _declaration_body(declaration("BOOLEAN"))) == raw("gemma4", *texts) + 1 + 28
    assert _bill("gemini-3-flash-preview", _declaration_body(declaration("boolean"))) == raw("gemma3", *texts) + 1 + 28
    as_json_schema = declaration("boolean", "parametersJsonSchema")
    assert _bill("gemini-3.5-flash", _declaration_body(as_json_schema)) == raw("gemma4", *texts) + 1 + 28
    on_2_5 = [_bill("gemini-2.5-flash", _declaration_body(declaration(kind))) for kind in ("STRING", "BOOLEAN")]
    assert on_2_5[0] == on_2_5[1]


def test_gemini_3_response_schema_null_union_and_titles() -> None:
    """t3-0603: a responseJsonSchema with properties + 8, a type list with "null" + 4; mira-0355: titles count
    their text + 5."""
    summarize = {
        "name": "summarize",
        "parametersJsonSchema": {
            "type": "object",
            "properties": {"items": {"type": ["null", "array"], "items": {"type": "string"}}},
            "required": ["items"],
        },
        "responseJsonSchema": {
            "type": "object",
            "properties": {"summary": {"type": "string"}},
            "required": ["summary"],
        },
    }
    texts = ("Go", "summarize", "items", "items", "summary", "summary")
    # 13 + 2 x (4 + 10) + 8 (items) + 8 (response) + 4 (null union)
    assert _bill("gemini-3.5-flash", _declaration_body(summarize)) == raw("gemma4", *texts) + 1 + 61
    add = {
        "name": "add",
        "description": "Adds.",
        "parameters": {
            "type": "OBJECT",
            "properties": {"a": {"type": "INTEGER", "title": "A"}, "b": {"type": "INTEGER", "title": "B"}},
            "required": ["a", "b"],
        },
    }
    texts = ("Go", "add", "Adds.", "a", "A", "b", "B", "a", "b")
    assert _bill("gemini-3.5-flash", _declaration_body(add)) == raw("gemma4", *texts) + 1 + 13 + 5 + 4 + 20 + 10


def test_gemini_2_5_does_not_bill_the_parameter_schemas_own_description() -> None:
    """mira-0070, -0136, llmg-0024: the description of a declaration's parameter schema itself is not billed on
    2.5 (its properties' are); 3.x bills it (llmg-0055)."""
    schema = {
        "type": "object",
        "description": "A tide report with metadata.",
        "properties": {"port": {"type": "string", "description": "port name"}},
        "required": ["port"],
    }
    declaration = {"name": "report", "description": "Reports.", "parametersJsonSchema": schema}
    texts = ("Go", "report", "Reports.", "port", "port name", "port")
    assert _bill("gemini-2.5-flash", _declaration_body(declaration)) == raw("gemma3", *texts) + 1 + 26
    three = _bill("gemini-3.5-flash", _declaration_body(declaration))
    assert three == raw("gemma4", *texts, "A tide report with metadata.") + 1 + 13 + 3 * 5 + 4 + 10


def test_reference_expansion_is_bounded() -> None:
    """Definitions that each use the next twice would double at every level (2^40 objects here): the expansion
    stops at its budget of 10,000 references, past which a reference reads as an empty schema."""
    from vertexmeter.counting.accounting import tool_features
    from vertexmeter.counting.texts import inline_tool_refs

    defs = {
        f"D{i}": {
            "type": "object",
            "properties": {"a": {"$ref": f"#/$defs/D{i + 1}"}, "b": {"$ref": f"#/$defs/D{i + 1}"}},
        }
        for i in range(40)
    }
    tools = [
        {"functionDeclarations": [{"name": "deep", "parametersJsonSchema": {"$defs": defs, "$ref": "#/$defs/D0"}}]}
    ]
    found = tool_features(inline_tool_refs(tools))
    assert found["object"] == 10_000


def test_gemini_2_5_function_history_nested_payload_object() -> None:
    """t3-0424 (google/adk-go), pyd-0273 (pydantic-ai): a payload object that is a key's value costs 1 more on 2.5
    (name + json.dumps + 10 per pair, accounting.yaml function_history); one inside a list does not."""
    import json

    def turns(response: dict[str, Any]) -> dict[str, Any]:
        return {
            "contents": [
                user("Weather in Oslo?"),
                {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": response}}]},
            ]
        }

    def expected(response: dict[str, Any]) -> int:
        texts = ("Weather in Oslo?", "get_weather", json.dumps({"city": "Oslo"}), "get_weather", json.dumps(response))
        return raw("gemma3", *texts) + 3 + 10

    nested = {"output": {"summary": "Sunny"}}
    assert _bill("gemini-2.5-flash", turns(nested)) == expected(nested) + 1
    listed = {"content": [{"text": "Sunny"}]}
    assert _bill("gemini-2.5-flash", turns(listed)) == expected(listed)


def _escaped(family: str, *texts: str) -> int:
    """A payload written with escape tokens around its strings: the text between them, plus one per escape."""
    from vertexmeter.counting.texts import ESCAPE

    return sum(raw(family, *(s for s in t.split(ESCAPE) if s)) + t.count(ESCAPE) for t in texts)


def test_escaped_payload_is_gemma_4s_tool_call_text() -> None:
    """Keys bare, no spaces, strings between escape tokens with their quotes as is, scalars as JSON."""
    from vertexmeter.counting.texts import ESCAPE, escaped_payload

    e = ESCAPE
    payload = {"q": 'say "hi"', "n": 5, "x": 2.5, "ok": True, "none": None, "items": ["a", 1], "sub": {"k": "v"}}
    expected = f'{{q:{e}say "hi"{e},n:5,x:2.5,ok:true,none:null,items:[{e}a{e},1],sub:{{k:{e}v{e}}}}}'
    assert escaped_payload(payload) == expected
    assert escaped_payload({}) == "{}"
    assert escaped_payload({"empty": [], "s": ""}) == f"{{empty:[],s:{e}{e}}}"


def test_3x_function_history_is_the_escaped_payload() -> None:
    """accounting.yaml function_history (3): name + the payload as Gemma 4's tool-call format writes it + 4 per part,
    on 3 Flash Preview (gemma3) and 3.5 Flash (gemma4) alike: lists, numbers, booleans, nested objects, an absent
    response (t3-0578) and absent args (t3-0650) read as {}, quotes inside strings as is (t3-0589)."""
    import json

    from vertexmeter.counting.texts import escaped_payload

    def turns(args: dict[str, Any] | None, response: dict[str, Any] | None) -> dict[str, Any]:
        call: dict[str, Any] = {"name": "store"} if args is None else {"name": "store", "args": args}
        answer: dict[str, Any] = {"name": "store"} if response is None else {"name": "store", "response": response}
        return {
            "contents": [
                user("Store apples, bread, eggs."),
                {"role": "model", "parts": [{"functionCall": call}]},
                {"role": "user", "parts": [{"functionResponse": answer}]},
            ]
        }

    def expected(family: str, args: dict[str, Any] | None, response: dict[str, Any] | None) -> int:
        payloads = (escaped_payload(args or {}), escaped_payload(response or {}))
        return raw(family, "Store apples, bread, eggs.", "store", "store") + _escaped(family, *payloads) + 3 + 8

    shapes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [
        ({"items": ["apples", "bread,", "eggs"]}, {"stored": True, "count": 3}),
        ({"note": 'said "yes"'}, {"result": {"translation": "ja"}}),
        (None, {"token": "alpha-42"}),
        ({"n": "x"}, None),
    ]
    for model, family in (("gemini-3.5-flash", "gemma4"), ("gemini-3-flash-preview", "gemma3")):
        for args, response in shapes:
            assert _bill(model, turns(args, response)) == expected(family, args, response), (model, args)
    # goldens on 3.5 (gemma4): numbers cost less than their JSON text, a nested object too
    first = shapes[0]
    assert _bill("gemini-3.5-flash", turns(*first)) == 45
    numbers = ({"a": 37, "b": 29}, {"product": 1073})
    as_json = raw("gemma4", "Store apples, bread, eggs.", "store", "store", *map(json.dumps, numbers)) + 3 + 10
    # 7 user + 2 names + 11 ({a:37,b:29}) + 8 ({product:1073}) + 3 roles + 8; as JSON: 45
    assert (_bill("gemini-3.5-flash", turns(*numbers)), as_json) == (39, 45)
    # 2.5 reads an absent response as {} and a list as its JSON, + 1 for a list of strings (per_string_list).
    listed = first[0]
    texts = ("Store apples, bread, eggs.", "store", json.dumps(listed), "store", "{}")
    assert _bill("gemini-2.5-flash", turns(listed, None)) == raw("gemma3", *texts) + 3 + 10 + 1


def test_json_raw_quotes_unescapes_only_quotes() -> None:
    """Escaped backslashes stay pairs, other escapes stay; only \\" becomes a quote."""
    from vertexmeter.counting.texts import part_texts

    part = {"functionResponse": {"name": "f", "response": {"s": 'a\\"b "c"\n\t\u00e9'}}}
    texts = [t for t, _ in part_texts(part, "p", "json_raw_quotes")]
    assert texts == ["f", '{"s": "a\\\\"b "c"\\n\\té"}']


def test_uncertain_seam_shapes_are_counted_where_function_history_weighs_them() -> None:
    """accounting.yaml uncertain_seams on 2.5: top-level numbers (booleans are not numbers, nested ones are not
    counted) and digit-only strings at any depth (lists of strings are a weight, not a seam); the bounds are their
    sum."""
    args = {"a": 1, "b": 2.5, "flag": True, "nested": {"n": 3, "code": "123"}, "tags": ["x", "y"], "mixed": ["x", 1]}
    response = {"id": "42", "ids": ["7", "a7"], "empty": []}
    body = {
        "contents": [
            user("Go"),
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": args}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": response}}]},
        ]
    }
    answer = vertexmeter.usage("gemini-2.5-flash", body, api="gemini")
    assert answer.seams is not None
    found = {seam.shape: n for seam, n in answer.seams.found}
    # numbers a, b (-1 ... 0 each); digit strings "123", "42", "7" (0 ... +1 each)
    assert found == {"number": 2, "digit_string": 3}
    point = answer.prompt_token_count
    assert answer.bounds is not None
    assert answer.bounds["promptTokenCount"] == [point - 2, point + 3]


def test_no_payload_seam_on_3x() -> None:
    """The 3.x payload shapes once bounded (a call without args, a list holding "bread,") are exact with the escaped
    payload (t3-0606, -0608, -0650, -0651): no bounds."""
    body = {
        "contents": [
            user("Go"),
            {"role": "model", "parts": [{"functionCall": {"name": "f"}}, {"functionCall": {"name": "g", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"items": ["bread,", "7"]}}}]},
        ]
    }
    for model in ("gemini-3.5-flash", "gemini-3-flash-preview", "gemini-3.1-pro-preview"):
        answer = vertexmeter.usage(model, body, api="gemini")
        assert (answer.seams, answer.bounds) == (None, None), model


def _property_body(prop: dict[str, Any], **declaration: Any) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"x": prop}, "required": ["x"]}
    return _declaration_body({"name": "save", "parameters": schema, **declaration})


def test_an_any_of_costs_two_per_schema_and_one_per_null_schema_on_2_5() -> None:
    """accounting.yaml tool_templates (Gemini API 2.5) per_any_of_variant 2, per_any_of_null_variant -1: mastra's
    resumeData (five schemas, + 10) and crewAI's [string, object, null] (+ 5); a null schema is bounded 1 below."""
    plain = vertexmeter.usage("gemini-2.5-flash", _property_body({"type": "string"}), api="gemini")
    pair = vertexmeter.usage(
        "gemini-2.5-flash", _property_body({"anyOf": [{"type": "string"}, {"type": "number"}]}), api="gemini"
    )
    assert pair.prompt_token_count == plain.prompt_token_count + 4
    assert pair.bounds is None  # no null schema: exact
    five = [{"type": t} for t in ("string", "number", "integer", "boolean", "object")]
    mastra = vertexmeter.usage("gemini-2.5-flash", _property_body({"anyOf": five, "nullable": True}), api="gemini")
    assert mastra.prompt_token_count == plain.prompt_token_count + 10  # nullable costs nothing of its own
    nullable = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    optional = vertexmeter.usage("gemini-2.5-flash", _property_body(nullable), api="gemini")
    assert optional.prompt_token_count == plain.prompt_token_count + 3
    assert optional.bounds is not None
    assert optional.bounds["promptTokenCount"] == [plain.prompt_token_count + 2, plain.prompt_token_count + 3]
    assert "null schema in an anyOf" in optional.bounds["reason"]
    # Vertex 2.5 and the Gemini API's 2.0 read an anyOf's schemas as typed nodes (+ 1 each, the property's own
    # type gone), no bounds
    for model, api in (("gemini-2.5-flash", "vertex"), ("gemini-2.0-flash", "gemini")):
        before = vertexmeter.usage(model, _property_body({"type": "string"}), api=api)
        after = vertexmeter.usage(model, _property_body(nullable), api=api)
        assert after.prompt_token_count == before.prompt_token_count + 1
        assert after.bounds is None


def test_2_5_declaration_shapes_bounded_by_the_other_reading() -> None:
    """accounting.yaml uncertain_seams (Gemini API 2.5): a nested object 0 … +13 over its + 31, a response property
    named as a parameter -3 … 0, a JSON Schema type list of several types 0 … +2; the point is unchanged."""

    def bounds(declaration: dict[str, Any]) -> tuple[int, list[int] | None]:
        answer = vertexmeter.usage("gemini-2.5-flash", _declaration_body(declaration), api="gemini")
        return answer.prompt_token_count, answer.bounds and answer.bounds["promptTokenCount"]

    flat = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    point, none = bounds({"name": "find", "parameters": flat})
    assert none is None
    nested = {"type": "object", "properties": {"input": flat}, "required": ["input"]}
    point, within = bounds({"name": "find", "parameters": nested})
    assert within == [point, point + 13]
    greeter = {"name": "greet", "parametersJsonSchema": flat, "responseJsonSchema": flat}
    point, within = bounds(greeter)
    assert within == [point - 3, point]
    apart = {"type": "object", "properties": {"report": {"type": "string"}}, "required": ["report"]}
    assert bounds({**greeter, "responseJsonSchema": apart})[1] is None  # named apart: exact
    union = {"type": "object", "properties": {"name": {"type": ["string", "number", "null"]}}}
    point, within = bounds({"name": "greet", "parametersJsonSchema": union})
    assert within == [point, point + 2]
    assert (
        bounds(
            {"name": "greet", "parametersJsonSchema": {**union, "properties": {"name": {"type": ["string", "null"]}}}}
        )[1]
        is None
    )


def test_control_characters_in_a_2_5_payload_cost_one_less_than_their_json_escape() -> None:
    """accounting.yaml function_history (Gemini API 2.5) per_control_character -1, bounded +1 (js-genai's terminal
    colour codes); Vertex 2.5 reads the payload's texts, no weight."""
    from vertexmeter.counting.accounting import control_characters

    assert control_characters({"a": "\x1b[34mx\x1b[0m", "b": ["\x00", "\n\t\r\x08\x0c"], "c": {"d": "\x0b"}}) == 4
    assert control_characters({"a": 1, "b": None, "\x1b": "x"}) == 0  # keys and non-strings are not read

    def pair(text: str) -> dict[str, Any]:
        return {
            "contents": [
                user("Go"),
                {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"a": "x"}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"t": text}}}]},
            ]
        }

    def json_text(text: str) -> int:
        return raw("gemma3", json.dumps({"t": text}))

    colour, plain = "\x1b[34mhello\x1b[0m", "[34mhello[0m"
    coloured = vertexmeter.usage("gemini-2.5-flash", pair(colour), api="gemini")
    uncoloured = vertexmeter.usage("gemini-2.5-flash", pair(plain), api="gemini")
    assert uncoloured.bounds is None
    difference = json_text(colour) - json_text(plain)
    assert coloured.prompt_token_count == uncoloured.prompt_token_count + difference - 2
    assert coloured.bounds is not None
    assert coloured.bounds["promptTokenCount"] == [coloured.prompt_token_count, coloured.prompt_token_count + 2]
    vertex = vertexmeter.usage("gemini-2.5-flash", pair(colour), api="vertex")
    assert vertex.bounds is None


def test_2_0_response_schema_typed_nodes_unbilled_until_2025_04_28() -> None:
    """accounting.yaml dated_weights: the Gemini API's 2.0 billed no typed node of a responseSchema up to 2025-04-28
    (weave-0006, 2025-02-05: five nodes), as it billed none in declarations; from 2025-05-29 one each."""
    schema = {
        "type": "OBJECT",
        "properties": {"a": {"type": "STRING"}, "b": {"type": "ARRAY", "items": {"type": "STRING"}}},
    }
    body = {
        "contents": [user("Go")],
        "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema},
    }

    def billed(day: str) -> int:
        return vertexmeter.usage("gemini-2.0-flash", body, api="gemini", as_of=day).prompt_token_count

    assert billed("2025-06-01") == billed("2025-02-05") + 4
    assert billed("2025-04-28") == billed("2025-02-05")
    # between the last day seen without them and the first seen with them: today's point, bounded by both readings
    between = vertexmeter.usage("gemini-2.0-flash", body, api="gemini", as_of="2025-05-10")
    assert between.prompt_token_count == billed("2025-06-01")
    assert between.bounds is not None
    assert between.bounds["promptTokenCount"] == [billed("2025-02-05"), billed("2025-06-01")]
    assert vertexmeter.usage("gemini-2.0-flash", body, api="gemini", as_of="2025-06-01").bounds is None


def test_a_call_s_later_arguments_and_objects_beside_other_keys_on_2_5() -> None:
    """accounting.yaml function_history (Gemini API 2.5): a call's third and later arguments - 1 each, and an object
    that is a key's value costs its + 1 only as its object's one key (beside other keys nothing): js-genai's and
    mastra's calls, llm-gemini's add_person."""

    def pair(args: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
        return {
            "contents": [
                user("Go"),
                {"role": "model", "parts": [{"functionCall": {"name": "f", "args": args}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": response}}]},
            ]
        }

    def billed(body: dict[str, Any], api: str = "gemini") -> int:
        return vertexmeter.usage("gemini-2.5-flash", body, api=api).prompt_token_count

    def text(value: Any) -> int:
        return raw("gemma3", json.dumps(value, sort_keys=True))

    flat = {"r": "z"}
    two, three, five = {"a": "x", "b": "y"}, {"a": "x", "b": "y", "c": "w"}, {k: "x" for k in "abcde"}
    assert billed(pair(three, flat)) - billed(pair(two, flat)) == text(three) - text(two) - 1
    assert billed(pair(five, flat)) - billed(pair(two, flat)) == text(five) - text(two) - 3
    # an object as its object's one key: + 1; beside another key: its text alone
    sole, beside = {"o": {"k": "v"}}, {"o": {"k": "v"}, "n": "m"}
    assert billed(pair(two, sole)) - billed(pair(two, flat)) == text(sole) - text(flat) + 1
    assert billed(pair(two, beside)) - billed(pair(two, flat)) == text(beside) - text(flat)
    nested = {"o": {"p": {"k": "v"}, "q": "w"}}  # the outer object alone (+ 1), the inner beside "q" (nothing)
    assert billed(pair(two, nested)) - billed(pair(two, flat)) == text(nested) - text(flat) + 1
    # Vertex 2.5 reads the payload's texts: a third argument costs its key and value
    assert billed(pair(three, flat), "vertex") - billed(pair(two, flat), "vertex") == 2


def test_an_object_below_a_list_item_of_a_2_5_payload_costs_nothing_more() -> None:
    """accounting.yaml function_history (Gemini API 2.5) per_nested_object_in_list -1 (taking per_nested_object's +1
    back), bounded +1 (uncertain_seams nested_object_in_list): crmne/ruby_llm's Content-returning tools."""
    from vertexmeter.counting.accounting import nested_objects_in_lists

    image = {"inline_data": {"mime_type": "image/png", "data": "iVBORw0KGgo/wD+"}}
    assert nested_objects_in_lists({"content": [{"text": "x"}, image]}) == 1
    assert nested_objects_in_lists({"content": [image, image], "meta": {"a": {"b": 1}}}) == 2  # not outside lists
    assert nested_objects_in_lists([[{"a": {"b": {"c": 1}}}]]) == 2  # at any depth below a list
    assert nested_objects_in_lists({"a": {"b": 1}, "c": [1, "x", {"d": 2}]}) == 0

    def pair(response: dict[str, Any]) -> dict[str, Any]:
        return {
            "contents": [
                user("Go"),
                {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"q": "x"}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": response}}]},
            ]
        }

    def json_text(response: dict[str, Any]) -> int:
        return raw("gemma3", json.dumps(response, sort_keys=True))

    listed = {"name": "f", "content": [{"text": "Processed"}, image]}
    flat = {"name": "f", "content": [{"text": "Processed"}]}
    with_image = vertexmeter.usage("gemini-2.5-flash", pair(listed), api="gemini")
    without = vertexmeter.usage("gemini-2.5-flash", pair(flat), api="gemini")
    assert without.bounds is None
    # the JSON text's difference only: the inline_data object is not billed the +1 of a key's object value
    assert with_image.prompt_token_count == without.prompt_token_count + json_text(listed) - json_text(flat)
    assert with_image.bounds is not None
    point = with_image.prompt_token_count
    assert with_image.bounds["promptTokenCount"] == [point, point + 1]
    assert with_image.bounds["reason"].startswith("1 x an object below a list item of a 2.5 function payload")
    # Vertex 2.5 reads the payload's texts: no weight, no seam
    assert vertexmeter.usage("gemini-2.5-flash", pair(listed), api="vertex").bounds is None
