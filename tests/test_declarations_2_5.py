"""accounting.yaml tool_templates and uncertain_seams on the Gemini API's 2.5 declarations: what the service leaves
out of a schema, and the bounds of the readings one repository alone fits."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

import vertexmeter
from tests.ground_truth import load_2026, load_mined_history
from vertexmeter.counting.texts import without_formats

USER = {"role": "user", "parts": [{"text": "Add 2 and 3, then subtract 1."}]}
INT32 = {"type": "integer", "format": "int32"}
# 0xPlaygrounds/rig's add (rig-0016): two int32 integers
ADD = {
    "name": "add",
    "description": "Add x and y together",
    "parameters": {"type": "object", "properties": {"x": INT32, "y": INT32}, "required": ["x", "y"]},
}
_SOURCE = re.compile(r"^(.*?) \(blob ([0-9a-f]+);.*?\), interaction (\d+)$")


def _body(*declarations: dict[str, Any]) -> dict[str, Any]:
    return {"contents": [USER], "tools": [{"functionDeclarations": list(declarations)}]}


def _without_format(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _without_format(v) for k, v in schema.items() if k != "format"}
    return schema


def test_without_formats_drops_every_nodes_format_and_keeps_names() -> None:
    """A node's `format` goes at any depth (properties, items, anyOf, $defs, a response schema); a property or a
    definition named `format`, and `required` / `enum` values, stay."""
    schema = {
        "type": "object",
        "format": "x",
        "properties": {
            "format": {"type": "string", "format": "date-time", "enum": ["format"]},
            "list": {"type": "array", "items": {"type": "number", "format": "double"}},
            "either": {"anyOf": [{"type": "integer", "format": "int64"}, {"type": "null"}]},
        },
        "$defs": {"format": {"type": "string", "format": "email"}},
        "required": ["format"],
    }
    declaration = {"name": "f", "parametersJsonSchema": schema, "response": {"type": "STRING", "format": "enum"}}
    tools = [{"functionDeclarations": [declaration]}]
    kept = copy.deepcopy(tools)
    (read,) = without_formats(tools)[0]["functionDeclarations"]
    assert tools == kept  # the request is never changed
    assert read["parametersJsonSchema"] == {
        "type": "object",
        "properties": {
            "format": {"type": "string", "enum": ["format"]},
            "list": {"type": "array", "items": {"type": "number"}},
            "either": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        },
        "$defs": {"format": {"type": "string"}},
        "required": ["format"],
    }
    assert read["response"] == {"type": "STRING"}
    assert without_formats([{"googleSearch": {}}]) == [{"googleSearch": {}}]


def test_a_2_5_format_is_read_as_nothing_and_bounded_by_its_text() -> None:
    """Gemini API 2.5: a declaration with formats bills what it bills without them, bounded up to + 3 per format;
    without a format nothing is bounded. Vertex 2.5 and the Gemini API's 3.x read the format as before."""
    plain = {**ADD, "parameters": _without_format(ADD["parameters"])}
    with_formats = vertexmeter.usage("gemini-2.5-flash", _body(ADD), api="gemini")
    without = vertexmeter.usage("gemini-2.5-flash", _body(plain), api="gemini")
    point = without.prompt_token_count
    assert (without.exact, without.bounds) == (True, None)
    assert with_formats.prompt_token_count == point
    assert with_formats.bounds is not None and with_formats.bounds["promptTokenCount"] == [point, point + 6]
    assert "2 x a format in a 2.5 function declaration" in with_formats.bounds["reason"]
    for model, api in (("gemini-2.5-flash", "vertex"), ("gemini-3-flash-preview", "gemini")):
        sent = vertexmeter.usage(model, _body(ADD), api=api)
        assert sent.prompt_token_count > vertexmeter.usage(model, _body(plain), api=api).prompt_token_count, model
        assert sent.bounds is None, model


def _rig_conversation() -> list[dict[str, Any]]:
    """rig's manual_multi_turn_streaming_loop recording of 2026-05-13 (rig-0016 … -0020), in order."""
    records = [r for r in load_mined_history("rig") if r["kind"] == "input"]
    first = next(r for r in records if r["id"] == "rig-0016")
    match = _SOURCE.match(first["source"])
    assert match is not None
    same = [r for r in records if (m := _SOURCE.match(r["source"])) and m.group(1, 2) == match.group(1, 2)]
    return sorted(same, key=lambda r: int(_SOURCE.match(r["source"]).group(3)))  # type: ignore[union-attr]


@pytest.mark.parametrize("turn", range(5))
def test_rig_int32_formats_exact_given_the_earlier_responses(turn: int) -> None:
    """rig-0016 (no history) and rig-0017 … -0020 (each earlier response's thoughts given, its model turn as the
    response that carried the signature): exact at the point, each 24 over were the eight formats' texts read."""
    conversation = _rig_conversation()
    assert [r["id"] for r in conversation] == ["rig-0016", "rig-0017", "rig-0018", "rig-0019", "rig-0020"]
    record = conversation[turn]
    turns = [c for c in record["request"]["contents"] if c.get("role") == "model"]
    earlier = conversation[:turn]
    assert len(turns) == len(earlier)
    pairs = zip(turns, earlier, strict=True)
    history = [{"candidates": [{"content": t}], "usageMetadata": e["raw_usage"]} for t, e in pairs]
    answer = vertexmeter.usage(
        record["model"], record["request"], api="gemini", as_of=record["recorded"], history=history or None
    )
    assert answer.prompt_token_count == record["expected"]["totalTokens"]
    assert answer.bounds is not None and "format" in answer.bounds["reason"]
    low, high = answer.bounds["promptTokenCount"]
    # + 3 per format; the payloads' numbers in the history bring their own seam's low end
    assert low <= answer.prompt_token_count and high == answer.prompt_token_count + 24


# ---- a recursive JSON Schema definition (accounting.yaml tool_templates recursion_levels) ----------------------
NODE = {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}


def _nested(levels: int) -> dict[str, Any]:
    """Node expanded `levels` times, its next reference an empty schema."""
    schema: dict[str, Any] = {}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"kids": {"type": "array", "items": schema}}}
    return schema


@pytest.mark.parametrize("levels", [1, 2, 5])
def test_a_recursive_definition_is_expanded_levels_times(levels: int) -> None:
    from vertexmeter.counting.texts import inline_tool_refs

    declaration = {"name": "tree", "parametersJsonSchema": {"$defs": {"Node": NODE}, "$ref": "#/$defs/Node"}}
    tools = [{"functionDeclarations": [declaration]}]
    (read,) = inline_tool_refs(tools, levels)[0]["functionDeclarations"]
    assert read["parametersJsonSchema"] == _nested(levels)
    # mutual recursion: each definition counts its own expansions along the path
    pair = {"A": {"properties": {"b": {"$ref": "#/$defs/B"}}}, "B": {"properties": {"a": {"$ref": "#/$defs/A"}}}}
    tools = [{"functionDeclarations": [{"name": "ab", "parametersJsonSchema": {"$defs": pair, "$ref": "#/$defs/A"}}]}]
    (read,) = inline_tool_refs(tools, levels)[0]["functionDeclarations"]
    depth, node = 0, read["parametersJsonSchema"]
    while node:
        node = node["properties"].get("b") or node["properties"].get("a")
        depth += 1
    assert depth == 2 * levels


def test_a_recursive_schema_reads_five_levels_on_2_5_and_is_bounded_a_level_either_way() -> None:
    """pyd-1046 (pydantic-ai's TreeNode beside a four-deep chain, 776 billed): 736 at the point, each further level
    79; bounded -80 … +80 for the recursive definition on top of its nested objects' 0 … +13 each, counted as read."""
    from tests.ground_truth import replay

    record = next(r for r in load_mined_history("pydantic_ai_history") if r["id"] == "pyd-1046")
    result = replay(record)
    assert (result.expected, result.got) == (776, 736)
    # nine nested objects as read: TreeNode five times, DeepA … DeepD once each
    assert result.bounds is not None and result.bounds["promptTokenCount"] == [736 - 80, 736 + 80 + 9 * 13]
    assert "expanded 5 times" in result.bounds["reason"]

    def bill(levels: int, model: str = "gemini-2.5-flash", api: str = "gemini") -> int:
        declaration = {"name": "tree", "parametersJsonSchema": {"$ref": "#/$defs/Node", "$defs": {"Node": NODE}}}
        if levels:
            declaration = {"name": "tree", "parametersJsonSchema": _nested(levels)}
        return vertexmeter.usage(model, _body(declaration), api=api).prompt_token_count

    assert bill(0) == bill(5) != bill(4)
    # the Gemini API's 3.x writes the reference as sent, not expanded
    assert bill(0, "gemini-3-flash-preview") < bill(5, "gemini-3-flash-preview")


def test_recursion_levels_is_a_whole_number_of_at_least_one() -> None:
    from vertexmeter.registry.models import _recursion_levels

    assert (_recursion_levels(5), _recursion_levels("1")) == (5, 1)
    for bad in (0, -2, "x"):
        with pytest.raises(ValueError):
            _recursion_levels(bad)


def test_a_2_5_json_schema_enum_is_bounded_up_to_4_more() -> None:
    """mirats-0065 (Mirascope's TypeScript unit enum in parametersJsonSchema, 93 billed): 89 at the point, bounded
    by the enum's -1 and the JSON Schema enum's + 4; the same enum in OpenAPI `parameters` keeps the enum's bounds."""
    record = next(r for r in load_mined_history("mirascope_ts") if r["id"] == "mirats-0065")
    answer = vertexmeter.usage(record["model"], record["request"], api="gemini", as_of=record["recorded"])
    assert (record["expected"]["totalTokens"], answer.prompt_token_count) == (93, 89)
    assert answer.bounds is not None and answer.bounds["promptTokenCount"] == [88, 93]
    assert "an enum in a 2.5 declaration's JSON Schema" in answer.bounds["reason"]
    (declaration,) = record["request"]["tools"][0]["functionDeclarations"]
    openapi = {k: v for k, v in declaration.items() if k != "parametersJsonSchema"}
    openapi["parameters"] = copy.deepcopy(declaration["parametersJsonSchema"])
    del openapi["parameters"]["properties"]["unit"]["default"]  # an OpenAPI string default has a seam of its own
    as_openapi = vertexmeter.usage(record["model"], _body(openapi), api="gemini")
    assert as_openapi.bounds is not None
    low, high = as_openapi.bounds["promptTokenCount"]
    assert (low, high) == (as_openapi.prompt_token_count - 1, as_openapi.prompt_token_count)


def test_nested_objects_are_bounded_as_the_template_reads_them() -> None:
    """uncertain_seams nested_object counts the objects the 2.5 template bills: a definition reached only through
    additionalProperties (not read) bounds nothing (pyd-0272: exact, no bounds), one referenced twice twice."""
    record = next(r for r in load_mined_history("pydantic_ai_history") if r["id"] == "pyd-0272")
    answer = vertexmeter.usage(record["model"], record["request"], api="gemini", as_of=record["recorded"])
    assert (answer.prompt_token_count, answer.bounds) == (record["expected"]["totalTokens"], None)
    leaf = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    schema = {
        "$defs": {"Person": leaf},
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/Person"}, "b": {"$ref": "#/$defs/Person"}},
        "required": ["a", "b"],
    }
    twice = vertexmeter.usage("gemini-2.5-flash", _body({"name": "pair", "parametersJsonSchema": schema}), api="gemini")
    point = twice.prompt_token_count
    assert twice.bounds is not None and twice.bounds["promptTokenCount"] == [point, point + 2 * 13]


def _mined(name: str, record_id: str) -> dict[str, Any]:
    return next(r for r in load_mined_history(name) if r["id"] == record_id)


def _usage(record: dict[str, Any], request: dict[str, Any] | None = None, model: str | None = None) -> Any:
    body = record["request"] if request is None else request
    return vertexmeter.usage(model or record["model"], body, api="gemini", as_of=record["recorded"])


def test_an_openapi_response_object_on_2_5_is_bounded_one_up() -> None:
    """maruel/genai's square_root with an OpenAPI `response` {response: STRING} (mrgn-0060, 2.5 Flash-Lite, 117
    billed): 116 at the point, bounded [116, 117] (uncertain_seams openapi_response_object); best_country beside an
    enum (mrgn-0061, 115 billed) [113, 115] with the enum's - 1. google/adk-go's responseJsonSchema objects (t3-0413)
    stay exact without bounds, and maruel's declaration sent as a responseJsonSchema gains none."""
    record = _mined("maruel_genai", "mrgn-0060")
    answer = _usage(record)
    assert (record["expected"]["totalTokens"], answer.prompt_token_count) == (117, 116)
    assert answer.bounds is not None and answer.bounds["promptTokenCount"] == [116, 117]
    assert "an OpenAPI response schema with properties in a 2.5 function declaration" in answer.bounds["reason"]
    with_enum = _usage(_mined("maruel_genai", "mrgn-0061"))
    assert with_enum.bounds is not None and with_enum.bounds["promptTokenCount"] == [113, 115]
    (declaration,) = record["request"]["tools"][0]["functionDeclarations"]
    as_json = {k: v for k, v in declaration.items() if k != "response"}
    as_json["responseJsonSchema"] = declaration["response"]
    body = {**record["request"], "tools": [{"functionDeclarations": [as_json]}]}
    assert _usage(record, body).bounds is None
    adk = next(r for r in load_2026() if r["id"] == "t3-0413")
    exact = _usage(adk)
    assert (exact.prompt_token_count, exact.bounds) == (adk["expected"]["totalTokens"], None)


def test_the_openapi_response_seam_holds_maruels_2_5_signature_turns() -> None:
    """mrgn-0123 (2.5 Flash, a signed call and its result replayed, 307 billed) was 1 over its number seam's upper
    edge: the response object's + 1 holds it."""
    record = _mined("maruel_genai", "mrgn-0123")
    answer = _usage(record)
    assert answer.bounds is not None
    low, high = answer.bounds["promptTokenCount"]
    assert answer.prompt_token_count == 306 and low <= record["expected"]["totalTokens"] == high == 307


def test_flash_lite_preview_09_2025_declarations_are_bounded_down_to_the_3x_reading() -> None:
    """2.5 Flash-Lite's 09-2025 preview read maruel/genai's square_root as 3.x does on 2025-12-15 (mrgn-0244: 104
    billed, 116 at the 2.5 point): bounded [102, 117] (uncertain_seams declaration, - 14, beside the response
    object's + 1). On 2025-10-03 it read agentjido/req_llm's get_weather as 2.5 (reqllm-0073: exact, no declaration
    seam), and 2.5 Flash-Lite itself gains no such bounds on the same request."""
    record = _mined("maruel_genai", "mrgn-0244")
    answer = _usage(record)
    assert (record["expected"]["totalTokens"], answer.prompt_token_count) == (104, 116)
    assert answer.bounds is not None and answer.bounds["promptTokenCount"] == [102, 117]
    assert "2.5 Flash-Lite's 09-2025 preview" in answer.bounds["reason"]
    released = _usage(record, model="gemini-2.5-flash-lite")
    assert released.bounds is not None and released.bounds["promptTokenCount"] == [116, 117]
    october = _mined("req_llm", "reqllm-0073")
    before = _usage(october)
    assert before.prompt_token_count == october["expected"]["totalTokens"] == 142
    assert before.bounds is not None and before.bounds["promptTokenCount"] == [139, 142]
