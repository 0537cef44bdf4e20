"""The tables of docs/counting.md that restate registry/accounting.yaml, generated from it.

    python tools/accounting_tables.py            # print every table
    python tools/accounting_tables.py --write    # rewrite the generated blocks of docs/counting.md

Each block sits between `<!-- BEGIN generated: tools/accounting_tables.py NAME -->` and its END marker;
tests/test_docs_generated.py fails when a block is not what this prints.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "counting.md"
RULES = ROOT / "vertexmeter" / "registry" / "accounting.yaml"
GENERATIONS = ("1.0", "1.5", "2.0", "2.5", "3", "embedding", "legacy")
SHOWN_GENERATION = {"3": "3.x"}
API_NAMES = {"gemini": "Gemini API", "vertex": "Vertex"}
CALL_ORDER = ("countTokens", "generateContent", "embedContent")
# What each tool-template weight counts (accounting.yaml's comment above `tool_templates` says how they add up).
TOOL_FEATURES = {
    "per_declaration": "declaration",
    "per_description": "non-empty description (the declaration's, every schema node's)",
    "per_object": "schema node with properties",
    "per_property": "property (nested too)",
    "per_items": "array `items`",
    "per_typed_node": "typed OpenAPI node (`type`; JSON Schema nodes add none)",
    "per_nullable": "`nullable: true`",
    "per_declaration_with_described_properties": "declaration with a described property",
    "per_optional_property": "optional property (not in its object's `required`)",
    "per_optional_property_of_described_declaration": "… more in a declaration with a description",
    "per_optional_described_property": "… more when the property has a description",
    "per_declaration_with_optional_described_properties": "declaration with an optional described property",
    "per_response_object": "`response` / `responseJsonSchema` with properties",
    "per_response_property": "… each of its top-level properties, beyond the property weight",
    "per_numeric_response_property": "… a top-level property typed integer or number",
    "per_response_property_named_as_function": "… a top-level property named as its function",
    "per_nested_object": "object with properties below a schema's root (nested, `items`, a resolved `$ref`)",
    "per_enum": "enum",
    "per_enum_value": "enum value",
    "per_null_union": 'JSON Schema `type` list with "null"',
    "per_boolean_node": "typed OpenAPI node of type `BOOLEAN`",
    "per_title": "`title` (beside its text)",
    "per_underscored_name": "declaration named with an edge underscore (`_x`, `x_`)",
    "per_declaration_with_described_numbers": "declaration whose OpenAPI `parameters` hold a described INTEGER, NUMBER",
    "per_any_of_variant": "schema listed in an `anyOf`",
    "per_any_of_null_variant": '… more when it is `{"type": "null"}`',
    "per_format": "`format` (beside its text; one written for a JSON Schema enum too)",
    "per_response_schema": "`response` / `responseJsonSchema`, whatever it holds",
    "per_open_object": "object whose `additionalProperties` is true or a schema",
    "per_lone_optional_described_property": "declaration with one optional described property beside a required one",
}
TOOL_SWITCHES = {
    "inlines_refs": ("`$ref` read as its definition", {True: "yes"}),
    "recursion_levels": ("times a recursive definition is expanded along a path", None),
    "reads_root_descriptions": ("the parameter schema's root description counts", {False: "no"}),
    "reads_formats": ("a schema node's `format` counts", {False: "no"}),
    "description_indent": ("spaces before each line after the first of a declaration's description", None),
    "reads_description_trailing_newlines": ("a declaration description's final newlines count", {False: "no"}),
    "json_schemas_counted": ("`parametersJsonSchema` read", {False: "no"}),
    "schema_strings": ("schema strings counted beside the SDK's", None),
    "written_as": ("declarations read as", {"escaped_strings": "Gemma 4's declaration text"}),
    "fields_left_out": ("schema fields that text leaves out", None),
    "json_schema_enum_format": ("`format` a JSON Schema enum is given", None),
}


def rules() -> dict[str, Any]:
    """The packaged accounting.yaml (not an installed newer data set: the docs describe the package)."""
    return yaml.safe_load(RULES.read_text("utf-8"))


def _list(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _generation(name: str) -> str:
    return SHOWN_GENERATION.get(name, name)


def _evidence(entries: list[dict[str, Any]]) -> str:
    confidence = list(dict.fromkeys(str(e["confidence"]) for e in entries))
    ids = list(dict.fromkeys(str(i) for e in entries for i in e.get("evidence") or ()))
    return "; ".join([", ".join(confidence), ", ".join(ids)] if ids else [", ".join(confidence)])


def _entry_label(entry: dict[str, Any]) -> str:
    apis = " and ".join(API_NAMES[a] for a in _list(entry["api"]))
    calls = ", ".join(_list(entry["call"]))
    generations = ", ".join(_generation(g) for g in _list(entry["generations"]))
    return f"{apis} {calls}: {generations}"


def grid(table: str, cell: Callable[[dict[str, Any]], str]) -> str:
    """One row per API and call (rows that read the same merged), one column per generation."""
    cells: dict[tuple[str, str], dict[str, tuple[str, dict[str, Any]]]] = {}
    for entry in rules()[table]:
        for api in _list(entry["api"]):
            for call in _list(entry["call"]):
                for generation in _list(entry["generations"]):
                    cells.setdefault((api, call), {})[generation] = (cell(entry), entry)
    rows: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for api in API_NAMES:
        for call in CALL_ORDER:
            if (api, call) in cells:
                values = tuple(cells[api, call].get(g, ("—", {}))[0] for g in GENERATIONS)
                rows.setdefault(values, []).append((api, call))
    lines = [
        "| API, call | " + " | ".join(_generation(g) for g in GENERATIONS) + " | confidence; evidence |",
        "|---|" + "---|" * len(GENERATIONS) + "---|",
    ]
    for values, keys in rows.items():
        by_api: dict[str, list[str]] = {}
        for api, call in keys:
            by_api.setdefault(api, []).append(call)
        label = "; ".join(f"{API_NAMES[api]} {', '.join(calls)}" for api, calls in by_api.items())
        entries = list({id(e): e for key in keys for _, e in cells[key].values() if e}.values())
        lines.append(f"| {label} | " + " | ".join(values) + f" | {_evidence(entries)} |")
    return "\n".join(lines)


def role_overhead() -> str:
    return grid("role_overhead", _role_cell)


def _role_cell(entry: dict[str, Any]) -> str:
    tokens = entry["per_role_content"]
    return "raw" if not tokens else "raw + R" if tokens == 1 else f"raw + {tokens}R"


def tool_templates() -> str:
    entries = rules()["tool_templates"]
    known = {*TOOL_FEATURES, *TOOL_SWITCHES, "api", "call", "generations", "confidence", "evidence"}
    unknown = sorted({key for e in entries for key in e} - known)
    if unknown:
        raise SystemExit(f"tool_templates keys this table does not describe yet: {unknown}")
    lines = ["| | " + " | ".join(_entry_label(e) for e in entries) + " |", "|---|" + "---|" * len(entries)]
    for key, what in TOOL_FEATURES.items():
        if any(key in e for e in entries):
            lines.append(f"| {what} | " + " | ".join(str(e.get(key, 0)) for e in entries) + " |")
    for key, (what, shown) in TOOL_SWITCHES.items():
        if any(key in e for e in entries):
            values = [
                ", ".join(_list(e[key])) if shown is None and key in e else (shown or {}).get(e.get(key), "")
                for e in entries
            ]
            lines.append(f"| {what} | " + " | ".join(values) + " |")
    lines.append("| confidence; evidence | " + " | ".join(_evidence([e]) for e in entries) + " |")
    return "\n".join(lines)


def tokenizer_history() -> str:
    lines = ["| generations | APIs | vocabulary | until (last day) | confidence; evidence |", "|---|---|---|---|---|"]
    for e in rules()["tokenizer_history"]:
        generations = ", ".join(_generation(g) for g in _list(e["generations"]))
        apis = ", ".join(API_NAMES[a] for a in _list(e["apis"]))
        lines.append(f"| {generations} | {apis} | `{e['family']}` | {e['until']} | {_evidence([e])} |")
    return "\n".join(lines)


TABLES: dict[str, Callable[[], str]] = {
    "role_overhead": role_overhead,
    "tool_templates": tool_templates,
    "tokenizer_history": tokenizer_history,
}


def markers(name: str) -> tuple[str, str]:
    return (
        f"<!-- BEGIN generated: tools/accounting_tables.py {name} -->",
        f"<!-- END generated: tools/accounting_tables.py {name} -->",
    )


def block(name: str) -> str:
    begin, end = markers(name)
    return f"{begin}\n{TABLES[name]()}\n{end}"


def current_block(text: str, name: str) -> str:
    begin, end = markers(name)
    start, stop = text.index(begin), text.index(end) + len(end)
    return text[start:stop]


def main() -> None:
    if "--write" in sys.argv:
        text = DOC.read_text("utf-8")
        for name in TABLES:
            text = text.replace(current_block(text, name), block(name))
        DOC.write_text(text, "utf-8")
    else:
        for name, make in TABLES.items():
            print(f"{name}:\n{make()}\n")


if __name__ == "__main__":
    main()
