"""Which strings of a prompt are text to count (google-genai's _TextsAccumulator rules, spec §7.2)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from vertexmeter.requests import Prompt, Turn


def prompt_texts(
    prompt: Prompt,
    *,
    response_schema: bool = True,
    response_json_schema: bool = True,
    schema_strings: tuple[str, ...] = (),
    function_payload: str = "texts",
    tool_json_schemas: bool = True,
    tool_schema_strings: tuple[str, ...] = (),
    code_history: bool = True,
    declarations_written_as: str = "texts",
    declaration_fields_left_out: tuple[str, ...] = (),
    joined_text_parts: bool = False,
    response_schema_written_as: str = "texts",
    response_schema_left_out: tuple[str, ...] = (),
) -> Iterator[tuple[str, str]]:
    """(text, field path) for every counted string: contents, tools, response schema, system instruction.

    `response_schema=False` / `response_json_schema=False` leave generationConfig's responseSchema /
    responseJsonSchema out, `schema_strings` counts more of responseSchema's fields, `function_payload` says how
    replayed function calls and responses are read, `tool_json_schemas=False` leaves the raw JSON Schemas of
    function declarations out, `tool_schema_strings` counts more of their schemas' fields ("title": what the
    Gemini API's 3.x reads; accounting.yaml says where). `code_history=False` leaves the contents' executableCode
    and codeExecutionResult parts out (accounting.yaml `code_execution_parts`). `declarations_written_as`
    "escaped_strings": each function declaration is read as `escaped_declaration`'s text (its schema fields in
    `declaration_fields_left_out` not written), cut at its escape tokens, which the caller counts.
    `joined_text_parts`: a Content's consecutive text parts are one text (accounting.yaml `text_parts_joined`).
    `response_schema_written_as` "indented_json": a counted response schema is read as `indented_schema`'s one
    text (its fields in `response_schema_left_out` not written) instead of the SDK walk's strings.
    """
    for turn in prompt.contents:
        yield from turn_texts(turn, function_payload, code=code_history, joined=joined_text_parts)
    for i, tool in enumerate(prompt.tools):
        for k, declaration in enumerate(tool.get("functionDeclarations") or []):
            if declarations_written_as == "escaped_strings":
                path = f"tools[{i}].function_declarations[{k}]"
                for segment in escaped_declaration(declaration, declaration_fields_left_out).split(ESCAPE):
                    if segment:
                        yield segment, path
                continue
            yield from _declaration_texts(
                declaration,
                f"tools[{i}].function_declarations[{k}]",
                json_schemas=tool_json_schemas,
                extra=tool_schema_strings,
            )
    schema = prompt.generation_config.get("responseSchema")
    json_schema = prompt.generation_config.get("responseJsonSchema")
    if response_schema_written_as == "indented_json":
        for given, counted, path in (
            (schema, response_schema, "generation_config.response_schema"),
            (json_schema, response_json_schema, "generation_config.response_json_schema"),
        ):
            if isinstance(given, dict) and counted:
                yield indented_schema(given, response_schema_left_out), path
    else:
        if schema and response_schema:
            yield from schema_texts(schema, "generation_config.response_schema", schema_strings)
        if json_schema is not None and response_json_schema:
            yield from json_schema_texts(json_schema, "generation_config.response_json_schema")
    if prompt.system_instruction:
        yield from turn_texts(prompt.system_instruction, joined=joined_text_parts)
    for instance in prompt.instances or []:
        yield from instance.texts


def turn_texts(
    turn: Turn, function_payload: str = "texts", *, code: bool = True, joined: bool = False
) -> Iterator[tuple[str, str]]:
    """The strings of a Content's parts; `joined`: a run of consecutive plain text parts as one text, at its first
    part's path."""
    run: list[str] = []
    start = ""
    for j, part in enumerate(turn.parts):
        path = f"{turn.path}.parts[{j}]"
        if joined and _plain_text(part):
            start = start if run else f"{path}.text"
            run.append(part["text"])
            continue
        if run:
            yield "".join(run), start
            run = []
        yield from part_texts(part, path, function_payload, code=code)
    if run:
        yield "".join(run), start


def _plain_text(part: dict[str, Any]) -> bool:
    """A part that is only a text (no thought, no media, no signature to read apart)."""
    return isinstance(part.get("text"), str) and not part.get("thought") and set(part) <= {"text", "thoughtSignature"}


# Function parts: (part field, proto name, payload field) — the name, then the payload's keys and strings.
_FUNCTION_PARTS = (("functionCall", "function_call", "args"), ("functionResponse", "function_response", "response"))
# An escape in JSON text: a backslash and the character after it (an escaped backslash is consumed as a pair).
_ESCAPE = re.compile(r"\\(.)")

# Code parts are text the model reads; google-genai's local tokenizer skips them, the service does not.
_CODE_PARTS = (
    ("executableCode", "executable_code", "code"),
    ("codeExecutionResult", "code_execution_result", "output"),
)


def part_texts(
    part: dict[str, Any], path: str, function_payload: str = "texts", *, code: bool = True
) -> Iterator[tuple[str, str]]:
    """The strings of one Part. A function call's or response's payload is read as google-genai's accumulator
    does (`texts`: keys and string values, each its own string) or as one JSON text (`json`: the payload
    serialized as Python's json.dumps does, non-ASCII kept, an absent payload as {}; `json_sorted_keys`: the same
    with every object's keys in sorted order, as a protobuf Struct's map is written; `json_raw_quotes`: json with
    the quotes inside strings not escaped; `json_sorted_keys_escaped_quotes`: json_sorted_keys with each ' inside a
    string written \\' (as C escaping writes it); `escaped_strings`: `escaped_payload`'s text, cut at its escape tokens,
    which the caller counts: one token each, two per string). `code=False`: code execution parts count nothing."""
    if "text" in part:
        yield part["text"], f"{path}.text"
    for field, proto, payload in _FUNCTION_PARTS:
        call = part.get(field)
        if call is not None:
            if call.get("name"):
                yield call["name"], f"{path}.{proto}.name"
            if function_payload == "escaped_strings":
                for segment in escaped_payload(call.get(payload) or {}).split(ESCAPE):
                    if segment:
                        yield segment, f"{path}.{proto}.{payload}"
            elif function_payload in _JSON_PAYLOADS:
                sort_keys = function_payload != "json" and function_payload != "json_raw_quotes"
                text = json.dumps(call.get(payload) or {}, ensure_ascii=False, sort_keys=sort_keys)
                if function_payload == "json_raw_quotes" and '\\"' in text:
                    text = _ESCAPE.sub(lambda m: '"' if m[1] == '"' else m[0], text)
                elif function_payload == "json_sorted_keys_escaped_quotes" and "'" in text:
                    text = text.replace("'", "\\'")  # a string's ' written \' as C escaping writes it
                yield text, f"{path}.{proto}.{payload}"
            elif call.get(payload):
                yield from value_texts(call[payload], f"{path}.{proto}.{payload}")
    for field, proto, payload in _CODE_PARTS if code else ():
        value = part.get(field)
        if value is not None and value.get(payload):
            yield value[payload], f"{path}.{proto}.{payload}"


# The payloads read as one JSON text (part_texts).
_JSON_PAYLOADS = frozenset({"json", "json_sorted_keys", "json_raw_quotes", "json_sorted_keys_escaped_quotes"})


# Stands for the escape token around a string in `escaped_payload`: a special token of its own (Gemma 4's `<|"|>`),
# so the text is tokenized apart on each side of it.
ESCAPE = "\x00"


def escaped_payload(value: Any) -> str:
    """A payload as Gemma 4's tool-call format writes it: keys bare, `key:value` pairs joined by `,` without
    spaces, strings between escape tokens (ESCAPE; a quote inside is written as is), numbers, booleans and null
    as JSON writes them, lists in brackets."""
    if isinstance(value, str):
        return ESCAPE + value + ESCAPE
    if isinstance(value, dict):
        return "{" + ",".join(f"{key}:{escaped_payload(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(escaped_payload(item) for item in value) + "]"
    return json.dumps(value)


def escaped_declaration(declaration: dict[str, Any], left_out: tuple[str, ...] = ()) -> str:
    """A function declaration as Gemma 4's tool-declaration format writes it, without the two special tokens around
    it: `declaration:name{description:…,parameters:{…},response:{…}}`, each object's fields in alphabetical order as
    `key:value` joined by `,` (property names as given), strings between escape tokens (ESCAPE), types in capitals,
    a JSON Schema type list naming "null" as `nullable:true` and its other type, and what a protobuf message leaves
    out: empty strings, empty lists and maps, false, null. `left_out`: schema fields not written at all."""
    fields: dict[str, Any] = {"description": declaration.get("description")}
    for key, name in (
        ("parameters", "parameters"),
        ("parametersJsonSchema", "parameters"),
        ("response", "response"),
        ("responseJsonSchema", "response"),
    ):
        schema = declaration.get(key)
        if isinstance(schema, dict) and fields.get(name) is None:
            fields[name] = _declared_schema(schema, left_out)
    return f"declaration:{declaration.get('name') or ''}{_escaped_fields(fields)}"


def _declared_schema(schema: dict[str, Any], left_out: tuple[str, ...]) -> dict[str, Any]:
    """One schema node as the service's Schema message holds it (see escaped_declaration)."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in left_out:
            continue
        if key == "type":
            types = value if isinstance(value, list) else [value]
            named = [t for t in types if isinstance(t, str) and t.lower() != "null"]
            if len(named) < len(types):
                out["nullable"] = True
            value = [t.upper() for t in named] if len(named) != 1 else named[0].upper()
        elif key == "properties" and isinstance(value, dict):
            value = {name: _declared_schema(p, left_out) if isinstance(p, dict) else p for name, p in value.items()}
        elif key == "items" and isinstance(value, dict):
            value = _declared_schema(value, left_out)
        elif key in ("anyOf", "oneOf", "allOf") and isinstance(value, list):
            value = [_declared_schema(s, left_out) if isinstance(s, dict) else s for s in value]
        out[key] = value
    return out


def _escaped_fields(fields: dict[str, Any], *, is_map: bool = False) -> str:
    """A message's written fields in alphabetical order, or a map's entries (`properties`) in their own order."""
    if is_map:
        written = [f"{key}:{_escaped_value(value)}" for key, value in fields.items()]
    else:
        written = [
            f"{key}:{_escaped_value(fields[key], is_map=key == 'properties')}"
            for key in sorted(fields)
            if _written(fields[key])
        ]
    return "{" + ",".join(written) + "}"


def _written(value: Any) -> bool:
    """What a protobuf message writes: not an empty string, list or map, not false, not null."""
    return value is not None and value is not False and value != "" and value != [] and value != {}


def _escaped_value(value: Any, *, is_map: bool = False) -> str:
    if isinstance(value, str):
        return ESCAPE + value + ESCAPE
    if isinstance(value, dict):
        return _escaped_fields(value, is_map=is_map)
    if isinstance(value, list):
        return "[" + ",".join(_escaped_value(item) for item in value) + "]"
    return json.dumps(value)


_INDENT = "  "  # any width reads alike: a run of spaces is one token


def indented_schema(schema: Any, left_out: tuple[str, ...] = (), depth: int = 0) -> str:
    """A response schema as Vertex 3 bills it (accounting.yaml `response_schema` written_as indented_json): JSON
    with each object member on a line of its own, indented by depth, `"key": value`; an array of scalars on one
    line (`["a", "b"]`), any other array an element a line; keys and strings as written (types in the case sent,
    characters unescaped); the members in `left_out` and what a protobuf message leaves out (false, null, empty
    strings, lists and maps) not written."""
    pad = _INDENT * depth
    if isinstance(schema, dict):
        members = [(key, value) for key, value in schema.items() if key not in left_out and _written(value)]
        if not members:
            return "{}"
        lines = [
            f"{pad}{_INDENT}{json.dumps(key, ensure_ascii=False)}: {indented_schema(value, left_out, depth + 1)}"
            for key, value in members
        ]
        return "{\n" + ",\n".join(lines) + f"\n{pad}}}"
    if isinstance(schema, list):
        if all(not isinstance(item, dict | list) for item in schema):
            return "[" + ", ".join(json.dumps(item, ensure_ascii=False) for item in schema) + "]"
        lines = [f"{pad}{_INDENT}{indented_schema(item, left_out, depth + 1)}" for item in schema]
        return "[\n" + ",\n".join(lines) + f"\n{pad}]"
    return json.dumps(schema, ensure_ascii=False)


def value_texts(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Keys and string leaves of a JSON value; numbers, booleans and null add nothing."""
    if isinstance(value, str):
        yield value, path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key, f"{path}.{key}"
            yield from value_texts(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from value_texts(item, f"{path}[{i}]")


def _declaration_texts(
    declaration: dict[str, Any], path: str, *, json_schemas: bool = True, extra: tuple[str, ...] = ()
) -> Iterator[tuple[str, str]]:
    if declaration.get("name"):
        yield declaration["name"], f"{path}.name"
    if declaration.get("description"):
        yield declaration["description"], f"{path}.description"
    if declaration.get("parameters"):
        yield from schema_texts(declaration["parameters"], f"{path}.parameters", extra)
    if declaration.get("parametersJsonSchema") is not None and json_schemas:
        yield from json_schema_texts(declaration["parametersJsonSchema"], f"{path}.parameters_json_schema", extra)
    if declaration.get("response"):
        yield from schema_texts(declaration["response"], f"{path}.response", extra)
    if declaration.get("responseJsonSchema") is not None and json_schemas:
        yield from json_schema_texts(declaration["responseJsonSchema"], f"{path}.response_json_schema", extra)


def schema_texts(schema: dict[str, Any], path: str, extra: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """format, description, enum values, required names, property names (recursing), items, example.

    Not counted, as in google-genai: type, title, default, propertyOrdering — unless named in `extra`
    ("title", "propertyOrdering", "default", "number_default": what 2.0's generateContent counts of a responseSchema;
    "default" of a tool declaration's; a string default as itself, a number default as its JSON text).
    Beyond google-genai, anyOf and defs are walked too (the service reads them; the SDK's walk predates them).
    """
    if "title" in extra and isinstance(schema.get("title"), str) and schema["title"]:
        yield schema["title"], f"{path}.title"
    if "propertyOrdering" in extra:
        for i, value in enumerate(schema.get("propertyOrdering") or []):
            yield value, f"{path}.property_ordering[{i}]"
    if default := _default_text(schema.get("default"), extra):
        yield default, f"{path}.default"
    if schema.get("format"):
        yield schema["format"], f"{path}.format"
    if schema.get("description"):
        yield schema["description"], f"{path}.description"
    for i, value in enumerate(schema.get("enum") or []):
        yield value, f"{path}.enum[{i}]"
    for i, value in enumerate(schema.get("required") or []):
        yield value, f"{path}.required[{i}]"
    if schema.get("items"):
        yield from schema_texts(schema["items"], f"{path}.items", extra)
    for key, sub in (schema.get("properties") or {}).items():
        yield key, f"{path}.properties.{key}"
        yield from schema_texts(sub, f"{path}.properties.{key}", extra)
    if schema.get("example"):
        yield from value_texts(schema["example"], f"{path}.example")
    for i, sub in enumerate(schema.get("anyOf") or []):
        yield from schema_texts(sub, f"{path}.any_of[{i}]", extra)
    for key, sub in (schema.get("defs") or {}).items():
        yield key, f"{path}.defs.{key}"
        yield from schema_texts(sub, f"{path}.defs.{key}", extra)


def _default_text(value: Any, extra: tuple[str, ...]) -> str:
    """A schema's `default` as read where `extra` counts it: "default", a string as itself; "number_default", a
    number as its JSON text (booleans, null, objects and lists: unrecorded, nothing)."""
    if "default" in extra and isinstance(value, str):
        return value
    if "number_default" in extra and isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    return ""


def json_schema_texts(schema: Any, path: str, extra: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """The same walk over a raw JSON Schema (parametersJsonSchema / responseJsonSchema); `extra` as in
    schema_texts ("title" only)."""
    if not isinstance(schema, dict):
        return
    if "title" in extra and isinstance(schema.get("title"), str) and schema["title"]:
        yield schema["title"], f"{path}.title"
    for key in ("format", "description"):
        if isinstance(schema.get(key), str) and schema[key]:
            yield schema[key], f"{path}.{key}"
    for key in ("enum", "required"):
        for i, value in enumerate(schema.get(key) or []):
            if isinstance(value, str):
                yield value, f"{path}.{key}[{i}]"
    if isinstance(schema.get("items"), dict):
        yield from json_schema_texts(schema["items"], f"{path}.items", extra)
    for container in ("properties", "$defs", "definitions"):
        for key, sub in (schema.get(container) or {}).items():
            yield key, f"{path}.{container}.{key}"
            yield from json_schema_texts(sub, f"{path}.{container}.{key}", extra)
    for combinator in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(combinator) or []):
            yield from json_schema_texts(sub, f"{path}.{combinator}[{i}]", extra)
    if schema.get("examples") or schema.get("example"):
        yield from value_texts(schema.get("examples") or schema.get("example"), f"{path}.example")


_JSON_SCHEMA_KEYS = ("parametersJsonSchema", "responseJsonSchema")
_DEFINITIONS = ("$defs", "definitions")


def _each_declaration(tools: list[dict[str, Any]], read: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """The tools with `read` applied to a copy of each function declaration (the request is never changed)."""
    out = []
    for tool in tools:
        declarations = tool.get("functionDeclarations")
        if not declarations:
            out.append(tool)
            continue
        copies = [dict(declaration) for declaration in declarations]
        for declaration in copies:
            read(declaration)
        out.append({**tool, "functionDeclarations": copies})
    return out


def inline_tool_refs(tools: list[dict[str, Any]], levels: int = 1) -> list[dict[str, Any]]:
    """The tools with every declaration's JSON Schemas read as the service reads them where it resolves
    references (accounting.yaml `inlines_refs`): each local `$ref` (`#/$defs/X`, `#/definitions/X`) replaced by
    its definition, the definitions themselves dropped (a definition no reference reaches costs nothing). A
    recursive definition is expanded `levels` times along each path (accounting.yaml `recursion_levels`): a
    reference met inside that many expansions of its own definition is left as an empty schema."""

    def inline(declaration: dict[str, Any]) -> None:
        for key in _JSON_SCHEMA_KEYS:
            schema = declaration.get(key)
            if isinstance(schema, dict):
                defs = {
                    name: sub
                    for c in _DEFINITIONS
                    if isinstance(schema.get(c), dict)
                    for name, sub in schema[c].items()
                }
                declaration[key] = _inline(schema, defs, (), [_MAX_EXPANSIONS], levels)

    return _each_declaration(tools, inline)


def recursive_definitions(declaration: dict[str, Any]) -> int:
    """How many definitions of a declaration's JSON Schemas (`$defs`, `definitions`) reference themselves, directly or
    through others, and are reached from the schema's root: the schemas whose reading `inline_tool_refs` cuts."""
    found = 0
    for key in _JSON_SCHEMA_KEYS:
        schema = declaration.get(key)
        if not isinstance(schema, dict):
            continue
        defs = {name: sub for c in _DEFINITIONS if isinstance(schema.get(c), dict) for name, sub in schema[c].items()}
        if not defs:  # most schemas: nothing to recurse through, and walking them for `$ref`s was most of the cost
            continue
        edges = {name: _refs(sub) & defs.keys() for name, sub in defs.items()}
        reached = _reach(_refs({k: v for k, v in schema.items() if k not in _DEFINITIONS}) & defs.keys(), edges)
        found += sum(name in _reach(edges[name], edges) for name in reached)
    return found


def _refs(schema: Any) -> set[str]:
    """The definition names a schema's local `$ref`s point to, at any depth."""
    if isinstance(schema, list):
        return set().union(*(_refs(item) for item in schema)) if schema else set()
    if not isinstance(schema, dict):
        return set()
    ref = schema.get("$ref")
    own = {ref.split("/", 2)[2]} if isinstance(ref, str) and ref.startswith(("#/$defs/", "#/definitions/")) else set()
    return own.union(*(_refs(value) for key, value in schema.items() if key != "$ref"))


def _reach(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    """Every name reached from `start` along `edges` (`start` included)."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(edges.get(name, ()))
    return seen


# References expanded per schema at most: a definition used twice by a definition used twice … doubles at each
# level, and a request must not make the count explode; past the budget a reference reads as an empty schema.
_MAX_EXPANSIONS = 10_000


def _inline(schema: Any, defs: dict[str, Any], expanding: tuple[str, ...], budget: list[int], levels: int) -> Any:
    if isinstance(schema, list):
        return [_inline(item, defs, expanding, budget, levels) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(("#/$defs/", "#/definitions/")):
        name = ref.split("/", 2)[2]
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        if expanding.count(name) >= levels or name not in defs or budget[0] <= 0:
            return _inline(siblings, defs, expanding, budget, levels)
        budget[0] -= 1
        expanded = _inline(defs[name], defs, (*expanding, name), budget, levels)
        return {**expanded, **_inline(siblings, defs, expanding, budget, levels)}
    return {k: _inline(v, defs, expanding, budget, levels) for k, v in schema.items() if k not in _DEFINITIONS}


def without_root_descriptions(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tools with the `description` of each declaration's parameter schema (its root node) left out, as the
    service reads them where it ignores it (accounting.yaml `reads_root_descriptions: false`)."""

    def drop(declaration: dict[str, Any]) -> None:
        for key in ("parameters", "parametersJsonSchema"):
            schema = declaration.get(key)
            if isinstance(schema, dict) and "description" in schema:
                declaration[key] = {k: v for k, v in schema.items() if k != "description"}

    return _each_declaration(tools, drop)


def without_formats(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tools with every schema node's `format` left out (OpenAPI and JSON Schema alike), as the service reads
    them where it writes no format (accounting.yaml `reads_formats: false`). A property named `format` stays: only
    a node's own key is dropped, never a name in `properties` or `$defs`."""

    def write(declaration: dict[str, Any]) -> None:
        for key in _SCHEMA_FIELDS:
            if isinstance(declaration.get(key), dict):
                declaration[key] = _rewrite_schema(
                    declaration[key], lambda _node, out: {k: v for k, v in out.items() if k != "format"}
                )

    return _each_declaration(tools, write)


def _rewrite_schema(node: Any, rewrite: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]) -> Any:
    """Every schema node below and at `node`, children first, as `rewrite(node, its rewritten copy)` gives it; values
    (`enum`, `default`, `required` …) and the names a `properties` / `$defs` map holds are kept as they are."""
    if isinstance(node, list):
        return [_rewrite_schema(item, rewrite) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_VALUES:
            out[key] = value
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _rewrite_schema(sub, rewrite) for name, sub in value.items()}
        else:
            out[key] = _rewrite_schema(value, rewrite)
    return rewrite(node, out)


# A declaration's schemas, and the keys of a schema whose value maps names to schemas.
_SCHEMA_FIELDS = ("parameters", "response", "parametersJsonSchema", "responseJsonSchema")
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "defs", "patternProperties")
# Keys of a schema node whose value is a value or a list of names, not a schema.
_SCHEMA_VALUES = ("enum", "const", "default", "example", "examples", "required", "propertyOrdering")


def with_json_schema_enum_format(tools: list[dict[str, Any]], written: str) -> list[dict[str, Any]]:
    """The tools with every node of a declaration's JSON Schemas that lists an `enum` and names no `format` given
    `format: written`, as the service's Schema message marks an enum (`{type: STRING, format: enum, enum: […]}`)
    where it converts a JSON Schema (accounting.yaml `json_schema_enum_format`). OpenAPI `parameters` / `response`
    are read as sent."""

    def mark(node: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
        if isinstance(node.get("enum"), list) and node["enum"] and not node.get("format"):
            return {**out, "format": written}
        return out

    def write(declaration: dict[str, Any]) -> None:
        for key in _JSON_SCHEMA_KEYS:
            if isinstance(declaration.get(key), dict):
                declaration[key] = _rewrite_schema(declaration[key], mark)

    return _each_declaration(tools, write)


def with_descriptions_as_written(
    tools: list[dict[str, Any]], indent: int, *, trailing_newlines: bool = True
) -> list[dict[str, Any]]:
    """The tools with each declaration's own description as the service writes it where accounting.yaml says so
    (`description_indent`, `reads_description_trailing_newlines`): every line after the first that holds more than
    whitespace indented by `indent` spaces (blank lines, and lines of whitespace only, as sent), then, with
    `trailing_newlines=False`, the newlines it ends with left out."""
    pad = " " * indent

    def write(declaration: dict[str, Any]) -> None:
        description = declaration.get("description")
        if not isinstance(description, str) or "\n" not in description:
            return
        first, *rest = description.split("\n")
        text = "\n".join([first, *(pad + line if line.strip() else line for line in rest)])
        declaration["description"] = text if trailing_newlines else text.rstrip("\n")

    return _each_declaration(tools, write)
