"""accounting.yaml `uncertain_seams` of Gemini 3.x: declarations written as JSON Schema on 3.5 (newrelic's Google
ADK answers: Vertex per declaration and per title, the Gemini API per enum) and a Vertex 3 response schema (ruby_llm),
each bounded from the point value up, never a silent point value under the bill."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import vertexmeter
from tests.ground_truth import api_of, load_mined_history, replay
from vertexmeter.registry.models import _load_uncertain_seams

RECORDS = {r["id"]: r for name in ("newrelic", "ruby_llm") for r in load_mined_history(name)}


def _usage(record_id: str, body: dict[str, Any] | None = None, model: str | None = None, api: str | None = None) -> Any:
    record = RECORDS[record_id]
    return vertexmeter.usage(
        model or record["model"], body or record["request"], api=api or api_of(record), as_of=record["recorded"]
    )


@pytest.mark.parametrize(
    ("record_id", "point", "bounds"),
    [
        ("nrpy-0026", 56, [56, 72]),  # one declaration, two titles: 4 + 2 x 6; billed 69
        ("nrpy-0031", 96, [96, 100]),  # one declaration, no title: 4; billed 99
        ("nrpy-0036", 273, [273, 289]),  # billed 288
        ("nrpy-0085", 308, [308, 324]),  # billed 323
        ("nrpy-0034", 317, [317, 325]),  # Gemini API: one JSON Schema enum, 8; billed 323
        ("rllm-0897", 16, [16, 88]),  # Vertex 3 response schema: three typed nodes x 24; billed 77
        ("rllm-0901", 9, [9, 81]),  # billed 70
    ],
)
def test_recorded_answers_are_bounded(record_id: str, point: int, bounds: list[int]) -> None:
    result = _usage(record_id)
    assert result.prompt_token_count == point and not result.exact
    assert result.bounds["promptTokenCount"] == bounds
    assert bounds[0] <= RECORDS[record_id]["expected"]["totalTokens"] <= bounds[1]
    assert "accounting.yaml uncertain_seams" in result.bounds["reason"]


def test_the_reasons_name_each_shape() -> None:
    reason = _usage("nrpy-0026").bounds["reason"]
    assert "1 x a Vertex 3.5 declaration written as JSON Schema" in reason
    assert "2 x a title in a Vertex 3.5 declaration" in reason
    assert "1 x an enum in a Gemini API 3.5 declaration" in _usage("nrpy-0034").bounds["reason"]
    assert "3 x a typed node of a Vertex 3 response schema" in _usage("rllm-0897").bounds["reason"]


@pytest.mark.parametrize("record_id", ["nrpy-0070", "nrpy-0072", "nrpy-0017", "rllm-0659"])
def test_the_twins_stay_exact(record_id: str) -> None:
    """The OpenAPI twins of the same declarations (enum and description alike), the Gemini API's JSON Schema
    declarations with titles, and the Gemini API 3 response schema: exact, no bounds."""
    result = replay(RECORDS[record_id])
    assert result.exact and result.bounds is None


def test_vertex_3_flash_preview_json_schema_declarations_stay_exact() -> None:
    """The Vertex seams are for 3.5: 3 Flash Preview's JSON Schema declarations (pydantic-ai, 40 answers) bill as
    counted, so the same body on it carries no declaration bounds."""
    result = _usage("nrpy-0026", model="gemini-3-flash-preview")
    assert result.bounds is None or "declaration" not in result.bounds["reason"]


def test_titles_enums_and_nodes_are_counted_where_they_are() -> None:
    """A property named `title` is not a title keyword; titles and enums count at any depth, in the parameters and
    the response schema; a request without the shapes has no seam bounds."""
    body = copy.deepcopy(RECORDS["nrpy-0026"]["request"])
    declaration = body["tools"][0]["functionDeclarations"][0]
    schema = declaration["parameters_json_schema"]
    schema["properties"]["title"] = {"type": "string"}  # a property, not a keyword: no bound
    schema["properties"]["tags"] = {"type": "array", "items": {"title": "Tag", "type": "string"}}  # one more title
    low, high = _usage("nrpy-0026", body).bounds["promptTokenCount"]
    assert high - low == 4 + 3 * 6
    declaration["response_json_schema"] = {"title": "Answer", "type": "object"}
    low, high = _usage("nrpy-0026", body).bounds["promptTokenCount"]
    assert high - low == 4 + 4 * 6
    plain = {"contents": body["contents"]}
    assert _usage("nrpy-0026", plain).bounds is None
    gemini = copy.deepcopy(RECORDS["nrpy-0034"]["request"])
    items = {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
    gemini["tools"][0]["functionDeclarations"][0]["parameters_json_schema"]["properties"]["more"] = items
    low, high = _usage("nrpy-0034", gemini).bounds["promptTokenCount"]
    assert high - low == 2 * 8


def test_the_new_shapes_load_and_are_checked() -> None:
    entry = {
        "api": "vertex",
        "call": "generateContent",
        "generations": ["3"],
        "low": 0,
        "high": 4,
        "reason": "why",
        "evidence": ["nrpy-0031"],
    }
    for shape in ("json_schema_declaration", "json_schema_title", "json_schema_enum", "response_schema_node"):
        loaded = _load_uncertain_seams([{**entry, "shape": shape}])
        assert [seam.shape for seam in loaded[("vertex", "generateContent", "3")]] == [shape]
    for bad in ({**entry, "shape": "json_schema"}, {**entry, "shape": "json_schema_title", "low": 1}):
        with pytest.raises(ValueError):
            _load_uncertain_seams([bad])
