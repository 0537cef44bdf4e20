"""accounting.yaml `uncertain_seams` of Gemini 3.x declarations written as JSON Schema (newrelic's Google ADK answers
on 3.5 Flash: Vertex titles, enums, response schemas and open objects; the Gemini API's enum, written with
`format: enum`): a point value at the one repository's fit, and bounds that hold the other readings of the same
answers. And a Vertex 3 response schema, read as indented JSON (ruby_llm's and dotnet-genai's, exact), its keywords
no recorded schema holds bounded."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import vertexmeter
from tests.ground_truth import api_of, load_mined_history, replay
from vertexmeter.counting.texts import ESCAPE, escaped_declaration, indented_schema, with_json_schema_enum_format
from vertexmeter.registry.models import _load_uncertain_seams

RECORDS = {
    r["id"]: r
    for name in ("newrelic", "ruby_llm", "pydantic_ai_history", "js_genai", "late_2026e")
    for r in load_mined_history(name)
}


def _usage(record_id: str, body: dict[str, Any] | None = None, model: str | None = None, api: str | None = None) -> Any:
    record = RECORDS[record_id]
    return vertexmeter.usage(
        model or record["model"], body or record["request"], api=api or api_of(record), as_of=record["recorded"]
    )


@pytest.mark.parametrize(
    ("record_id", "bounds"),
    [
        ("nrpy-0026", [66, 74]),  # two titles (0 … +1 each), an object response (0 … +3), an open object (-3 … 0)
        ("nrpy-0031", [99, 100]),  # a string response (0 … +1)
        ("nrpy-0036", [285, 291]),  # two titles, an enum (0 … +1), a null response (-3 … 0)
        ("nrpy-0085", [320, 326]),
        ("nrpy-0034", [317, 323]),  # Gemini API: one JSON Schema enum, - 6 … 0 (its format's text)
    ],
)
def test_recorded_json_schema_declarations_are_exact_inside_their_bounds(record_id: str, bounds: list[int]) -> None:
    result = _usage(record_id)
    billed = RECORDS[record_id]["expected"]["totalTokens"]
    assert result.prompt_token_count == billed
    assert result.bounds["promptTokenCount"] == bounds
    assert bounds[0] <= billed <= bounds[1]
    assert "accounting.yaml uncertain_seams" in result.bounds["reason"]


@pytest.mark.parametrize(
    ("record_id", "billed"),
    [
        ("rllm-0897", 77),  # ruby_llm's person on 3 Flash Preview: 12 for the question + 65 for the schema's text
        ("rllm-0899", 77),  # the same with age a number
        ("rllm-0901", 70),
        ("dotnetgenai2-0001", 181),  # dotnet-genai's company on 3.5 Flash (responseJsonSchema): 47 + 134
        ("dotnetgenai2-0005", 181),  # the same as an OpenAPI responseSchema, types in capitals
    ],
)
def test_the_vertex_3_response_schema_is_read_as_indented_json(record_id: str, billed: int) -> None:
    """Two repositories, two models, one reading (accounting.yaml response_schema written_as indented_json): exact,
    no bounds (their schemas hold only the keywords the reading was fitted on)."""
    result = _usage(record_id)
    assert RECORDS[record_id]["expected"]["totalTokens"] == billed
    assert result.prompt_token_count == billed
    assert result.bounds is None


def test_the_gemini_api_3_still_bills_no_response_schema() -> None:
    """dotnet-genai's company on the Gemini API's 3.5 Flash (dotnetgenai2-0003): 48, the texts and the role alone."""
    assert replay(RECORDS["dotnetgenai2-0003"]).exact
    assert replay(RECORDS["rllm-0659"]).exact


def test_indented_schema_writes_what_the_answers_bill() -> None:
    schema = RECORDS["rllm-0897"]["request"]["generationConfig"]["responseJsonSchema"]
    text = indented_schema(schema, ("propertyOrdering",))
    assert '"required": ["name", "age"]' in text  # a scalar array on one line
    assert "additionalProperties" not in text  # false is not written
    assert text.startswith('{\n  "type": "object",\n  "properties": {\n    "name": {\n      "type": "string"\n')
    company = RECORDS["dotnetgenai2-0001"]["request"]["generationConfig"]["responseJsonSchema"]
    assert "propertyOrdering" not in indented_schema(company, ("propertyOrdering",))
    assert (
        indented_schema({"anyOf": [{"type": "string"}]})
        == '{\n  "anyOf": [\n    {\n      "type": "string"\n    }\n  ]\n}'
    )


def test_an_unseen_response_schema_keyword_is_bounded_by_its_tokens() -> None:
    """A description the recorded schemas do not hold: billed as written at the point, down to none of it."""
    body = copy.deepcopy(RECORDS["rllm-0897"]["request"])
    body["generationConfig"]["responseJsonSchema"]["properties"]["name"]["description"] = "The person's full name"
    result = _usage("rllm-0897", body)
    # 77 + 13 for the member and its line; the member's 11 tokens ('"description": "The person\'s full name"') may
    # be unbilled, its line's break and indent stay
    assert (result.prompt_token_count, result.bounds["promptTokenCount"]) == (90, [79, 90])
    assert "11 x a token of a Vertex 3 response schema keyword no recorded schema holds" in result.bounds["reason"]


def test_the_reasons_name_each_shape() -> None:
    reason = _usage("nrpy-0026").bounds["reason"]
    assert "2 x a title in a Vertex 3 declaration" in reason
    assert "1 x an object response schema of a Vertex 3 declaration" in reason
    assert "1 x an object open to additional properties in a Vertex 3 declaration" in reason
    transfer = _usage("nrpy-0036").bounds["reason"]
    assert "1 x an enum in a Vertex 3 declaration written as JSON Schema" in transfer
    assert "1 x a null response schema of a Vertex 3 declaration" in transfer
    assert "1 x a scalar response schema of a Vertex 3 declaration" in _usage("nrpy-0031").bounds["reason"]
    assert "1 x an enum in a Gemini API 3.x declaration written as JSON Schema" in _usage("nrpy-0034").bounds["reason"]


@pytest.mark.parametrize("record_id", ["nrpy-0070", "nrpy-0072", "nrpy-0066", "nrpy-0017", "rllm-0659", "pyd-0670"])
def test_the_twins_stay_exact_without_bounds(record_id: str) -> None:
    """The OpenAPI twins of the same declarations (enum and description alike: no format written), the Gemini API's
    JSON Schema declarations with titles, the Gemini API 3 response schema and Vertex 3 Flash Preview's closed
    property-less JSON Schemas (pydantic-ai): exact, no bounds."""
    result = replay(RECORDS[record_id])
    assert result.exact and result.bounds is None


def test_the_vertex_weights_are_the_generations() -> None:
    """The weights fitted on 3.5 Flash are Vertex 3's (no 3 preview answer holds a title, a JSON Schema enum, a
    response schema or an open object): the same body on 3 Flash Preview has the same point and bounds."""
    preview = _usage("nrpy-0026", model="gemini-3-flash-preview")
    assert (preview.prompt_token_count, preview.bounds["promptTokenCount"]) == (69, [66, 74])


@pytest.mark.parametrize("record_id", ["jsgenai-0194", "jsgenai-0195"])
def test_json_schema_seams_are_silent_where_the_template_reads_no_json_schema(record_id: str) -> None:
    """Vertex 3 Pro preview of 2025-12-01 read no parametersJsonSchema / responseJsonSchema (dated_weights): an enum
    and a response schema there move nothing, so the exact answer carries no bounds."""
    result = _usage(record_id)
    assert (result.prompt_token_count, result.bounds) == (RECORDS[record_id]["expected"]["totalTokens"], None)


def test_titles_enums_and_responses_are_counted_where_they_are() -> None:
    """A property named `title` is not a title keyword; a title at any depth is its text + 1 and 1 more at the high
    end; a request without the shapes has no seam bounds."""
    body = copy.deepcopy(RECORDS["nrpy-0026"]["request"])
    before = _usage("nrpy-0026", body)
    schema = body["tools"][0]["functionDeclarations"][0]["parameters_json_schema"]
    schema["properties"]["title"] = {"type": "string"}  # a property, not a keyword: no bound
    named = _usage("nrpy-0026", body)
    assert named.prompt_token_count - before.prompt_token_count == 1 + 4  # its name, per_property
    assert named.bounds["promptTokenCount"] == [b + 5 for b in before.bounds["promptTokenCount"]]
    schema["properties"]["tags"] = {"type": "array", "items": {"title": "Tag", "type": "string"}}
    tagged = _usage("nrpy-0026", body)
    assert tagged.prompt_token_count - named.prompt_token_count == 1 + 4 + 1 + 1  # tags, property, Tag, title
    low, high = tagged.bounds["promptTokenCount"]
    # below: the open object's 3; above: three titles' 1 and the object response's 3
    assert (tagged.prompt_token_count - low, high - tagged.prompt_token_count) == (3, 3 + 3)
    assert _usage("nrpy-0026", {"contents": body["contents"]}).bounds is None


@pytest.mark.parametrize(
    ("response", "shape", "low", "high"),
    [
        ({"type": "boolean"}, "a scalar response schema", 0, 1),
        ({"type": "array", "items": {"type": "string"}}, "a scalar response schema", 0, 1),
        ({"type": ["null"]}, "a null response schema", -3, 0),
        ({"properties": {"ok": {"type": "string"}}}, "an object response schema", 0, 3),
        ({"type": ["object", "null"], "additionalProperties": {"type": "string"}}, "an object response schema", -3, 3),
    ],
)
def test_a_vertex_response_schema_is_bounded_by_its_kind(
    response: dict[str, Any], shape: str, low: int, high: int
) -> None:
    """Each kind of response schema weighs + 3 (an open object + 3 more) and is bounded by the readings of its kind."""
    body = copy.deepcopy(RECORDS["nrpy-0031"]["request"])
    body["tools"][0]["functionDeclarations"][0]["response_json_schema"] = response
    result = _usage("nrpy-0031", body)
    assert f"1 x {shape} of a Vertex 3 declaration" in result.bounds["reason"]
    point = result.prompt_token_count
    assert result.bounds["promptTokenCount"] == [point + low, point + high]


def test_a_gemini_api_json_schema_enum_is_written_with_its_format() -> None:
    """Each JSON Schema enum, at any depth, gains `format: enum` in the written declaration (6 tokens) and - 6 at the
    low end; one that names its own format keeps it and gains none."""
    body = copy.deepcopy(RECORDS["nrpy-0034"]["request"])
    base = _usage("nrpy-0034", body)
    schema = body["tools"][0]["functionDeclarations"][0]["parameters_json_schema"]
    schema["properties"]["more"] = {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
    more = _usage("nrpy-0034", body)
    low, high = more.bounds["promptTokenCount"]
    assert (more.prompt_token_count - low, high) == (12, more.prompt_token_count)
    schema["properties"]["more"]["items"]["format"] = "enum"
    assert _usage("nrpy-0034", body).prompt_token_count == more.prompt_token_count
    assert base.prompt_token_count == RECORDS["nrpy-0034"]["expected"]["totalTokens"]


def test_the_enum_format_is_written_into_json_schemas_only() -> None:
    """with_json_schema_enum_format: JSON Schema nodes with a non-empty enum and no format get the format; OpenAPI
    schemas, enum values, a property named `enum` and the request itself are left as they are."""
    declaration = {
        "name": "f",
        "parameters": {"type": "OBJECT", "properties": {"u": {"type": "STRING", "enum": ["c"]}}},
        "parametersJsonSchema": {
            "type": "object",
            "properties": {
                "u": {"type": "string", "enum": ["c", "f"]},
                "enum": {"type": "string"},
                "n": {"type": "integer", "enum": []},
                "d": {"type": "string", "enum": ["x"], "format": "date"},
            },
        },
        "responseJsonSchema": {"anyOf": [{"enum": ["ok"]}, {"type": "null"}]},
    }
    sent = copy.deepcopy(declaration)
    (tool,) = with_json_schema_enum_format([{"functionDeclarations": [declaration]}], "enum")
    (read,) = tool["functionDeclarations"]
    assert declaration == sent
    assert read["parameters"] == sent["parameters"]
    properties = read["parametersJsonSchema"]["properties"]
    assert properties["u"] == {"type": "string", "enum": ["c", "f"], "format": "enum"}
    assert properties["enum"] == {"type": "string"}
    assert properties["n"] == {"type": "integer", "enum": []}
    assert properties["d"]["format"] == "date"
    assert read["responseJsonSchema"]["anyOf"][0] == {"enum": ["ok"], "format": "enum"}
    text = escaped_declaration({"name": "f", "parametersJsonSchema": read["parametersJsonSchema"]}).replace(ESCAPE, '"')
    assert 'u:{enum:["c","f"],format:"enum",type:"STRING"}' in text


def test_the_shapes_load_and_are_checked() -> None:
    entry = {
        "api": "vertex",
        "call": "generateContent",
        "generations": ["3"],
        "low": 0,
        "high": 4,
        "reason": "why",
        "evidence": ["nrpy-0031"],
    }
    shapes = ("declaration_title", "json_schema_enum", "scalar_response_schema", "null_response_schema")
    shapes = (*shapes, "object_response_schema", "open_object")
    for shape in (*shapes, "response_schema_unseen_keyword"):
        loaded = _load_uncertain_seams([{**entry, "shape": shape}])
        assert [seam.shape for seam in loaded[("vertex", "generateContent", "3")]] == [shape]
    for bad in (
        {**entry, "shape": "json_schema_declaration"},
        {**entry, "shape": "declaration_title", "low": 1},
        {**entry, "shape": "open_object", "evidence": []},
    ):
        with pytest.raises(ValueError):
            _load_uncertain_seams([bad])
