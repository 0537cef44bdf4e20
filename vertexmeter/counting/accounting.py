"""The accounting interpreters: what the service adds beyond the raw text counts, read from the rules of
registry/accounting.yaml for one (API, call, generation) — role overhead, tool templates, function-call history,
response schemas. `count.count_prompt_tokens` adds what these return to the text's own tokens."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from vertexmeter.counting.texts import (
    ESCAPE,
    escaped_declaration,
    indented_schema,
    inline_tool_refs,
    recursive_definitions,
    with_descriptions_as_written,
    with_json_schema_enum_format,
    without_formats,
    without_root_descriptions,
)
from vertexmeter.errors import VertexMeterError
from vertexmeter.registry import (
    Accounting,
    FunctionHistory,
    ToolTemplate,
    UncertainSeam,
    uncertain_seams_for,
    uncertain_seams_on,
)
from vertexmeter.requests import Prompt, decode_json


def overhead_tokens(prompt: Prompt, rules: Accounting) -> int:
    """What the service adds beyond raw text for this API, call and generation (accounting.yaml):
    one token per role-bearing Content where the rule says so, and the tool-declaration template."""
    roles = rules.per_role_content * prompt.role_contents if prompt.contents else 0
    if rules.per_empty_user_content:  # only 1.x / 2.0 generateContent: skip the walk elsewhere
        empties: int = sum(1 for turn in prompt.contents if _empty_user_content(turn.role or "", turn.parts))
        roles += rules.per_empty_user_content * empties
    return (
        roles
        + tool_template_tokens(prompt.tools, rules.tools)
        + _function_history_tokens(prompt, rules)
        + _response_schema_tokens(prompt, rules)
    )


def _empty_user_content(role: str, parts: list[dict[str, Any]]) -> bool:
    """A user Content (or one without a role) whose parts are all texts, and empty."""
    return role in ("user", "") and bool(parts) and all(set(part) == {"text"} and not part["text"] for part in parts)


def _response_schema_tokens(prompt: Prompt, rules: Accounting) -> int:
    """What a counted responseSchema adds per typed node, per node with a numeric bound and per object closed by
    `additionalProperties: false` (accounting.yaml `response_schema`)."""
    schema = prompt.generation_config.get("responseSchema")
    per_typed, per_bounded = rules.response_schema_per_typed_node, rules.response_schema_per_bounded_node
    per_closed = rules.response_schema_per_closed_object
    if not (schema and rules.counts_response_schema and (per_typed or per_bounded or per_closed)):
        return 0
    found: Counter[str] = Counter()
    _schema_features(schema, found, typed=True)
    return per_typed * found["typed_node"] + per_bounded * found["bounded_node"] + per_closed * found["closed_object"]


def _function_history_tokens(prompt: Prompt, rules: Accounting) -> int:
    history = _history_for(rules.function_history, prompt.model.rules_id)
    # (weight, what it weighs in a payload), only the weights this rule gives
    features = [
        (weight, measure)
        for weight, measure in (
            (history.per_argument, len),
            (history.per_number, top_level_numbers),
            (history.per_nested_number, _nested_numbers),
            (history.per_nested_object, _nested_objects),
            (history.per_boolean, _booleans),
            (history.per_list, _lists),
            (history.per_string_list, _string_lists),
            (history.per_control_character, control_characters),
            (history.per_nested_object_beside_keys, _nested_objects_beside_keys),
            (history.per_nested_object_in_list, nested_objects_in_lists),
        )
        if weight
    ]
    if history.payload == "escaped_strings":
        # the two escape tokens around each string value (texts.escaped_payload): part of the written payload
        features.append((_ESCAPES_PER_STRING, lambda payload: len(_strings_in(payload))))
    several = history.per_call_with_several_args
    later_args = history.per_argument_beyond_two
    if not (
        features or several or later_args or history.per_call or history.per_response or history.per_absent_response
    ):
        return 0
    total = 0
    for turn in prompt.contents:
        for part in turn.parts:
            for kind, key, per_part in (
                ("functionCall", "args", history.per_call),
                ("functionResponse", "response", history.per_response),
            ):
                function = part.get(kind)
                if function is None:
                    continue
                given = function.get(key)
                payload = given or {}
                total += per_part + sum(weight * measure(payload) for weight, measure in features)
                if several and kind == "functionCall" and isinstance(payload, dict) and len(payload) > 1:
                    total += several  # a call of two or more args (accounting.yaml function_history)
                if later_args and kind == "functionCall" and isinstance(payload, dict):
                    total += later_args * max(len(payload) - 2, 0)  # each arg after the second
                if given is None and kind == "functionResponse":
                    total += history.per_absent_response
    return total


_ESCAPES_PER_STRING = 2


@cache  # per request (batch lines too); the answer depends only on the rule and the model id
def _history_for(history: FunctionHistory, model_id: str) -> FunctionHistory:
    return history.for_model(model_id)


def _count_in(value: Any, here: Callable[[dict[str, Any]], int], skip: tuple[str, ...] = ()) -> int:
    """`here` summed over every object of a JSON value, at any depth (inside lists too); the values of the keys in
    `skip` are not walked."""
    # Loops, and scalars (which hold no object) not visited: every replayed payload is walked so, several times.
    if isinstance(value, list):
        total = 0
        for item in value:
            if isinstance(item, dict | list):
                total += _count_in(item, here, skip)
        return total
    if not isinstance(value, dict):
        return 0
    total = here(value)
    for k, v in value.items():
        if isinstance(v, dict | list) and k not in skip:
            total += _count_in(v, here, skip)
    return total


def _nested_objects(payload: Any) -> int:
    """Objects that are the value of a key of the payload, at any depth (objects inside lists are not)."""
    return _objects_as_values(payload, 0)


def _nested_objects_beside_keys(payload: Any) -> int:
    """Objects that are the value of a key of an object holding other keys too, at any depth (not list items)."""
    return _objects_as_values(payload, 1)


def _objects_as_values(value: Any, other_keys: int) -> int:
    """Objects that are the value of a key of an object of more than `other_keys` keys, at any depth (inside lists
    too): one walk of loops, where a counting function per node walked every replayed payload."""
    total = 0
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                total += _objects_as_values(item, other_keys)
    elif isinstance(value, dict):
        counted = len(value) > other_keys
        for item in value.values():
            if isinstance(item, dict):
                total += counted + _objects_as_values(item, other_keys)
            elif isinstance(item, list):
                total += _objects_as_values(item, other_keys)
    return total


def nested_objects_in_lists(payload: Any, in_list: bool = False) -> int:
    """Objects that are the value of a key of an object below a list item, at any depth (ruby_llm's
    `content: [{"inline_data": {…}}]`): the ones `_nested_objects` counts that sit inside a list."""
    if isinstance(payload, list):
        total = 0
        for item in payload:
            if isinstance(item, dict | list):
                total += nested_objects_in_lists(item, True)
        return total
    if not isinstance(payload, dict):
        return 0
    total = 0
    for v in payload.values():
        if isinstance(v, dict):
            total += in_list  # an object that is a key's value, below a list item
            total += nested_objects_in_lists(v, in_list)
        elif isinstance(v, list):
            total += nested_objects_in_lists(v, in_list)
    return total


def top_level_numbers(payload: Any) -> int:
    """Top-level number values of a call's args or a response's response (booleans are not numbers; nested
    values are unobserved, so they are not counted)."""
    if not isinstance(payload, dict):
        return 0
    return sum(isinstance(v, (int, float)) and not isinstance(v, bool) for v in payload.values())


def _nested_numbers(payload: Any) -> int:
    """Number values below the top level of a payload: inside an object that is a key's value, or in a list."""
    if not isinstance(payload, dict):
        return 0
    return sum(_numbers(value) for value in payload.values() if isinstance(value, dict | list))


def _numbers(value: Any) -> int:
    """Every number at any depth of a JSON value (booleans are not numbers)."""
    if isinstance(value, dict):
        return sum(_numbers(item) for item in value.values())
    if isinstance(value, list):
        return sum(_numbers(item) for item in value)
    return int(isinstance(value, (int, float)) and not isinstance(value, bool))


_CONTROL = re.compile(r"[\x00-\x07\x0b\x0e-\x1f]")  # JSON writes these as u-escapes; b t n f r have short ones


def control_characters(payload: Any) -> int:
    """Characters of a payload's strings (any depth) that JSON writes as a `\\u` escape: control characters other than
    backspace, tab, newline, form feed and carriage return (a terminal's colour codes begin with ESC, U+001B)."""
    # one search over the strings joined by a newline (not a character it finds): a search per string cost more
    return len(_CONTROL.findall("\n".join(_strings_in(payload))))


def _lists(payload: Any) -> int:
    """Top-level list values of a call's args or a response's response."""
    return sum(isinstance(v, list) for v in payload.values()) if isinstance(payload, dict) else 0


def _booleans(payload: Any) -> int:
    """Top-level true / false values of a call's args or a response's response."""
    return sum(isinstance(v, bool) for v in payload.values()) if isinstance(payload, dict) else 0


@dataclass(frozen=True)
class SeamBounds:
    """How far the billed prompt can lie from the point value because of uncertain payload seams
    (accounting.yaml `uncertain_seams`): [point + low, point + high]; `found` pairs each seam with its occurrences."""

    low: int
    high: int
    found: tuple[tuple[UncertainSeam, int], ...]

    @property
    def reason(self) -> str:
        return "; ".join(f"{n} x {seam.reason} (accounting.yaml uncertain_seams)" for seam, n in self.found)


def seam_bounds(
    prompt: Prompt,
    *,
    reads_json_schemas: bool = True,
    tokens: Callable[[str], int] | None = None,
    template: ToolTemplate | None = None,
    day: dt.date | None = None,
) -> SeamBounds | None:
    """The uncertain seams the request's replayed function parts and function declarations hold, or None when they
    hold none (most requests: no function parts or declarations, or no seam rule for the model).
    `reads_json_schemas=False`: the tool template in force does not read a declaration's parametersJsonSchema /
    responseJsonSchema, so no seam of theirs moves the bill. `tokens`: the prompt's tokenizer, for the seams
    measured in tokens of a text (without it they are not measured). `template`: the tool template in force, whose
    reading of references gives the nested objects billed (a recursive definition's expansions each one). `day`: the
    request's day, for the seams of a span of days (None: today)."""
    seams = uncertain_seams_on(prompt.model, prompt.api, prompt.call, day)
    if not seams:
        return None
    payloads = [
        function.get(key) or {}
        for turn in prompt.contents
        for part in turn.parts
        for kind, key in (("functionCall", "args"), ("functionResponse", "response"))
        if isinstance(function := part.get(kind), dict)
    ]
    declarations = [
        declaration if reads_json_schemas else {k: v for k, v in declaration.items() if k not in _JSON_SCHEMA_KEYS}
        for tool in prompt.tools
        for declaration in tool.get("functionDeclarations") or []
        if isinstance(declaration, dict)
    ]
    if (
        not payloads
        and not declarations
        and not any(seam.shape in _REQUEST_SEAMS or seam.shape in _REQUEST_TEXT_SEAMS for seam in seams)
    ):
        return None
    found = []
    # Each declaration's tool_features, walked once for every feature seam (a walk per seam and declaration was a
    # third of a tool request's usage time); keyed by id while `declarations` / `read` keep the dicts alive.
    features: dict[int, Counter[str]] = {}

    def features_of(declaration: dict[str, Any]) -> Counter[str]:
        key = id(declaration)
        if key not in features:
            features[key] = tool_features([{"functionDeclarations": [declaration]}])
        return features[key]

    read: list[dict[str, Any]] | None = None
    for seam in seams:
        if seam.shape in _MEASURED_ON_THE_RESPONSE:
            continue  # measured on the response (output_seam_bounds)
        if seam.shape in _REQUEST_SEAMS:
            n = _REQUEST_SEAMS[seam.shape](prompt)
        elif seam.shape in _REQUEST_TEXT_SEAMS:
            n = sum(tokens(t) for t in _REQUEST_TEXT_SEAMS[seam.shape](prompt)) if tokens is not None else 0
        elif seam.shape in _FEATURE_SEAMS:
            if seam.shape in _READ_DECLARATION_SEAMS:
                read = _as_read(declarations, template) if read is None else read
            measure = _FEATURE_SEAMS[seam.shape]
            shapes = read if seam.shape in _READ_DECLARATION_SEAMS else declarations
            n = sum(measure(d, features_of(d)) for d in shapes or ())
        elif seam.shape in _DECLARATION_SEAMS:
            n = sum(_DECLARATION_SEAMS[seam.shape](declaration) for declaration in declarations)
        elif seam.shape in _DECLARATION_TEXT_SEAMS:
            texts = [t for declaration in declarations for t in _DECLARATION_TEXT_SEAMS[seam.shape](declaration)]
            n = sum(tokens(t) for t in texts) if tokens is not None else 0
        elif seam.shape in _DECLARATION_TOKEN_SEAMS:
            measured = _DECLARATION_TOKEN_SEAMS[seam.shape]
            n = sum(measured(declaration, tokens) for declaration in declarations) if tokens is not None else 0
        else:
            n = sum(_SEAM_MEASURES[seam.shape](payload) for payload in payloads)
        if n:
            found.append((seam, n))
    return _bounds_of(found)


def _bounds_of(found: list[tuple[UncertainSeam, int]]) -> SeamBounds | None:
    """The seams found, each with how many times: the sum of their ranges, or None when none was found."""
    if not found:
        return None
    return SeamBounds(
        low=sum(seam.low * n for seam, n in found), high=sum(seam.high * n for seam, n in found), found=tuple(found)
    )


def _strings_in(payload: Any) -> list[str]:
    """Every string value of a payload, at any depth (keys are not values), in order."""
    found: list[str] = []
    _add_strings(payload, found)  # a list filled in one walk: nested generators passed each string up every level
    return found


def _add_strings(payload: Any, found: list[str]) -> None:
    if isinstance(payload, str):
        found.append(payload)
    elif isinstance(payload, dict | list):
        for value in payload.values() if isinstance(payload, dict) else payload:
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, dict | list):
                _add_strings(value, found)


def _string_lists(payload: Any) -> int:
    """Top-level non-empty lists of strings only."""
    if not isinstance(payload, dict):
        return 0
    return sum(isinstance(v, list) and bool(v) and all(isinstance(i, str) for i in v) for v in payload.values())


_SEAM_MEASURES: dict[str, Callable[[Any], int]] = {
    "number": lambda payload: top_level_numbers(payload),
    # str.isdecimal is `\d+` in full (Unicode category Nd, not empty), without the regex engine
    "digit_string": lambda payload: sum(1 for s in _strings_in(payload) if s.isdecimal()),
    "string_list": _string_lists,
    "control_character": control_characters,
    "nested_object_in_list": nested_objects_in_lists,
}


def _numeric_response_properties(declaration: dict[str, Any]) -> int:
    """Top-level properties of a declaration's response schema typed integer or number (either casing)."""
    schema = declaration.get("responseJsonSchema") or declaration.get("response")
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return 0
    return sum(isinstance(p, dict) and str(p.get("type")).lower() in ("integer", "number") for p in properties.values())


def _feature(name: str) -> Callable[[dict[str, Any], Counter[str]], int]:
    """A declaration's count of a TOOL_FEATURES feature, read from its tool_features."""
    return lambda _declaration, features: features[name]


_JSON_SCHEMA_KEYS = ("parametersJsonSchema", "responseJsonSchema")
_SCHEMA_KEYS = ("parameters", "parametersJsonSchema", "response", "responseJsonSchema")


def _response_schemas_of_kind(kind: str) -> Callable[[dict[str, Any]], int]:
    """A declaration's non-empty `response` / `responseJsonSchema` (what per_response_schema weighs) of one kind:
    "null" (its type null alone), "object" (typed object, or untyped with properties or additionalProperties) or
    "scalar" (any other)."""

    def kind_of(schema: dict[str, Any]) -> str:
        types = schema.get("type")
        named = {str(t).lower() for t in (types if isinstance(types, list) else [types]) if t is not None}
        if named == {"null"}:
            return "null"
        if "object" in named or (not named and ("properties" in schema or "additionalProperties" in schema)):
            return "object"
        return "scalar"

    def count(declaration: dict[str, Any]) -> int:
        schemas = [declaration.get(key) for key in ("response", "responseJsonSchema")]
        return sum(isinstance(schema, dict) and bool(schema) and kind_of(schema) == kind for schema in schemas)

    return count


def _titles_in(schema: Any) -> int:
    """The string `title` keywords of a schema, at any depth (a property named title is not one)."""
    if isinstance(schema, list):
        return sum(_titles_in(item) for item in schema)
    if not isinstance(schema, dict):
        return 0
    count = int(isinstance(schema.get("title"), str))
    for key, value in schema.items():
        if key != "properties":
            count += _titles_in(value)
        elif isinstance(value, dict):  # property names are not keywords: a property called "title" is not one
            count += sum(_titles_in(prop) for prop in value.values())
    return count


def _response_properties_named_as_parameters(declaration: dict[str, Any]) -> int:
    """Top-level properties of a declaration's response schema named as a top-level property of its parameters."""
    names: list[set[str]] = []
    for keys in (("responseJsonSchema", "response"), ("parametersJsonSchema", "parameters")):
        schema: dict[str, Any] = next((declaration[k] for k in keys if isinstance(declaration.get(k), dict)), {})
        properties = schema.get("properties")
        names.append(set(properties) if isinstance(properties, dict) else set())
    return len(names[0] & names[1])


def _openapi_response_objects(declaration: dict[str, Any]) -> int:
    """A declaration's OpenAPI `response` schema with properties (not a responseJsonSchema): 1 or 0."""
    schema = declaration.get("response")
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return int(isinstance(properties, dict) and bool(properties))


def _type_unions(schema: Any) -> int:
    """JSON Schema `type` lists naming two or more types besides "null", at any depth."""

    def union(node: dict[str, Any]) -> int:
        types = node.get("type")
        return int(isinstance(types, list) and sum(t != "null" for t in types) >= 2)

    return _count_in(schema, union)


def _enums_in(schema: Any) -> int:
    """The `enum` keywords of a schema, at any depth."""
    return _count_in(schema, lambda node: int(isinstance(node.get("enum"), list)))


def _replayed_function_responses(prompt: Prompt) -> int:
    """The functionResponse parts of the request's contents: each closes a replayed call and result pair."""
    return sum(isinstance(part.get("functionResponse"), dict) for turn in prompt.contents for part in turn.parts)


# The keywords of the response schemas Vertex 3's indented_json reading was fitted on (accounting.yaml
# response_schema): ruby_llm's person and dotnet-genai's company hold these alone.
_SEEN_RESPONSE_SCHEMA_KEYS = frozenset({"type", "properties", "required", "propertyOrdering", "additionalProperties"})


def _unseen_response_schema_members(prompt: Prompt) -> list[str]:
    """The members of the request's response schema (responseJsonSchema or responseSchema) whose keyword no recorded
    Vertex 3 schema holds (an `additionalProperties` other than false among them), each as indented_schema writes it:
    what the seam response_schema_unseen_keyword weighs per token."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for child in value.values():
                    walk(child)
            elif key not in _SEEN_RESPONSE_SCHEMA_KEYS or (key == "additionalProperties" and value is not False):
                found.append(f"{json.dumps(key)}: {indented_schema(value)}")

    for key in ("responseJsonSchema", "responseSchema"):
        walk(prompt.generation_config.get(key))
    return found


def _response_schema_number_defaults(prompt: Prompt) -> int:
    """The nodes of the request's responseSchema whose `default` is a number (booleans are not)."""

    def number_default(node: dict[str, Any]) -> int:
        default = node.get("default")
        return int(isinstance(default, int | float) and not isinstance(default, bool))

    return _count_in(prompt.generation_config.get("responseSchema"), number_default, ("default", "example", "enum"))


@dataclass(frozen=True)
class ResponseView:
    """What the output seams of a whole response read beside its calls (accounting.yaml `uncertain_seams`): the
    candidates' texts as billed, its functionCall values as written (also where function_call_outputs has no entry),
    whether the answer was streamed, and `call_tokens`, a call's tokens as function_call_outputs bills it (None: not
    measured)."""

    texts: tuple[str, ...] = ()
    calls_written: tuple[dict[str, Any], ...] = ()
    streamed: bool = False
    call_tokens: Callable[[dict[str, Any]], int] | None = None
    # A call's tokens as generation 3's function_call_outputs bills it (None: not measured), and the answer's day (a
    # seam's since / until; None: today).
    call_tokens_3: Callable[[dict[str, Any]], int] | None = None
    day: dt.date | None = None


def output_seam_bounds(
    prompt: Prompt,
    calls: list[dict[str, Any]],
    wrote_text: bool = False,
    trimmed: list[tuple[str, str]] | None = None,
    count: Callable[[str], int] | None = None,
    view: ResponseView | None = None,
) -> SeamBounds | None:
    """The uncertain seams (accounting.yaml `uncertain_seams`, output shapes) of a response's functionCall values, and
    of its text where the request makes one (`wrote_text`: a candidate has text) or where its edges' whitespace was
    left out (`trimmed`: each candidate's text as written and as billed, whose difference in tokens, by `count`, is
    measured only where such a seam applies), and of the response as a whole (`view`), as generateContent bills them
    in candidatesTokenCount; None when they hold none."""
    # The seams of the answer's day where it is known (a seam's since / until), else every one of the model's.
    own = (
        uncertain_seams_for(prompt.model, prompt.api, "generateContent")
        if view is None
        else uncertain_seams_on(prompt.model, prompt.api, "generateContent", view.day)
    )
    seams = [seam for seam in own if seam.shape in _MEASURED_ON_THE_RESPONSE]
    found = []
    for seam in seams:
        if seam.shape in _OUTPUT_EDGE_SEAMS:
            n = sum(max(0, count(w) - (count(t) if t else 0)) for w, t in trimmed or ()) if count is not None else 0
        elif seam.shape in _OUTPUT_TEXT_SEAMS:
            n = _OUTPUT_TEXT_SEAMS[seam.shape](prompt) if wrote_text else 0
        elif seam.shape in _RESPONSE_SEAMS:
            n = _RESPONSE_SEAMS[seam.shape](prompt, calls, view or ResponseView(), count) if count is not None else 0
        else:
            n = sum(_OUTPUT_SEAMS[seam.shape](call.get("args") or {}) for call in calls)
        if n:
            found.append((seam, n))
    return _bounds_of(found)


def _declared_names(prompt: Prompt) -> set[str] | None:
    """The function names the request declares, or None when it declares none."""
    names = {
        d["name"]
        for tool in prompt.tools
        if isinstance(tool, dict)
        for d in tool.get("functionDeclarations") or ()
        if isinstance(d, dict) and isinstance(d.get("name"), str)
    }
    return names or None


def _undeclared_call_tokens(
    prompt: Prompt, calls: list[dict[str, Any]], view: ResponseView, count: Callable[[str], int]
) -> int:
    """The tokens beyond its name of each call to a function the request does not declare (where it declares some):
    Vertex 3 billed such a call's name alone (pydantic-ai's list_files)."""
    declared = _declared_names(prompt)
    if declared is None or view.call_tokens is None:
        return 0
    total = 0
    for call in calls:
        name = call.get("name")
        name = name if isinstance(name, str) else ""
        if name not in declared:
            total += max(0, view.call_tokens(call) - count(name))
    return total


def _compact_json_whitespace(
    prompt: Prompt, calls: list[dict[str, Any]], view: ResponseView, count: Callable[[str], int]
) -> int:
    """A streamed JSON answer's tokens beyond the same JSON written without whitespace (each text that parses)."""
    config = prompt.generation_config
    if not view.streamed or config.get("responseMimeType") != "application/json":
        return 0
    total = 0
    for text in view.texts:
        try:
            value = decode_json(text)  # the one decoder of outside JSON (requests/decode.py)
        except VertexMeterError:
            continue
        total += max(0, count(text) - count(json.dumps(value, ensure_ascii=False, separators=(",", ":"))))
    return total


def _call_json_tokens(
    prompt: Prompt, calls: list[dict[str, Any]], view: ResponseView, count: Callable[[str], int]
) -> int:
    """Each call's tokens written as the JSON of its name and args."""
    return sum(
        count(json.dumps({"name": c.get("name"), "args": c.get("args") or {}}, ensure_ascii=False))
        for c in view.calls_written
    )


def _text_after_open_model_turn(
    prompt: Prompt, calls: list[dict[str, Any]], view: ResponseView, count: Callable[[str], int]
) -> int:
    """1 where the response's text continues a request whose last Content is a model turn left mid-sentence (its text
    ends with a letter or a digit: a prefill the model goes on with, "The answer is")."""
    if not view.texts or not prompt.contents or prompt.contents[-1].role != "model":
        return 0
    prefill = "".join(p["text"] for p in prompt.contents[-1].parts if isinstance(p.get("text"), str)).rstrip()
    return int(prefill[-1:].isalnum())


def _call_tokens_over_3(
    prompt: Prompt, calls: list[dict[str, Any]], view: ResponseView, count: Callable[[str], int]
) -> int:
    """The tokens each call bills beyond what generation 3's function_call_outputs reading of it bills."""
    if view.call_tokens is None or view.call_tokens_3 is None:
        return 0
    return sum(max(0, view.call_tokens(call) - view.call_tokens_3(call)) for call in calls)


# Shapes of a response as a whole (its texts, calls and how it came), counted by `output_seam_bounds`.
_RESPONSE_SEAMS: dict[str, Callable[[Prompt, list[dict[str, Any]], ResponseView, Callable[[str], int]], int]] = {
    # Each candidate text that ends with a full stop (past its edge whitespace).
    "text_ending_full_stop": lambda prompt, calls, view, count: sum(t.rstrip().endswith(".") for t in view.texts),
    "output_call_undeclared": _undeclared_call_tokens,
    "streamed_json_whitespace": _compact_json_whitespace,
    # Each call without args among two or more calls of one response.
    "parallel_call_without_args": lambda prompt, calls, view, count: (
        sum(not c.get("args") for c in calls) if len(calls) > 1 else 0
    ),
    "output_call_json": _call_json_tokens,
    "text_after_open_model_turn": _text_after_open_model_turn,
    "output_call_over_3": _call_tokens_over_3,
}


def strings_ending_in_paren(args: Any) -> int:
    """Top-level string values of a call's args that end with `)` (a line of code, `print(15)`)."""
    return sum(isinstance(v, str) and v.endswith(")") for v in args.values()) if isinstance(args, dict) else 0


def strings_ending_before_key(args: Any, endings: tuple[str, ...]) -> int:
    """Top-level string values of a call's args that end with one of `endings` (a sentence's `.` or `!`) and have
    another key after them (accounting.yaml function_call_outputs `per_string_ending_before_key`)."""
    if not isinstance(args, dict) or not endings:
        return 0
    values = list(args.values())[:-1]  # the last value is followed by the args' closing brace, not a key
    return sum(isinstance(v, str) and v.endswith(endings) for v in values)


def lone_string_objects_before_key(args: Any) -> int:
    """Top-level object values of a call's args that hold one key, whose value is a string, and have another key after
    them (accounting.yaml function_call_outputs `per_lone_string_object_before_key`)."""
    if not isinstance(args, dict):
        return 0
    return sum(
        isinstance(v, dict) and len(v) == 1 and isinstance(next(iter(v.values())), str)
        for v in list(args.values())[:-1]  # the last value is followed by the args' closing brace, not a key
    )


# Shapes of a response's call args (candidatesTokenCount).
_OUTPUT_SEAMS: dict[str, Callable[[Any], int]] = {
    "output_call_object": lambda args: sum(isinstance(v, dict) for v in args.values()) if isinstance(args, dict) else 0,
    # A call whose args are three strings, nothing else (the call, once).
    "output_call_three_strings": lambda args: int(
        isinstance(args, dict) and len(args) == 3 and all(isinstance(v, str) for v in args.values())
    ),
    "output_call_string_ending_in_paren": strings_ending_in_paren,
}


def _replayed_call_strings_ending_in_paren(prompt: Prompt) -> int:
    """Top-level string args ending with `)` of the request's replayed functionCall parts."""
    return sum(
        strings_ending_in_paren(function.get("args") or {})
        for turn in prompt.contents
        for part in turn.parts
        if isinstance(function := part.get("functionCall"), dict)
    )


# Shapes of the request that move a response's text (candidatesTokenCount): once per response with text.
_OUTPUT_TEXT_SEAMS: dict[str, Callable[[Prompt], int]] = {
    "text_beside_search": lambda prompt: int(any(isinstance(t, dict) and "googleSearch" in t for t in prompt.tools)),
    "text_beside_url_context": lambda prompt: int(any(isinstance(t, dict) and "urlContext" in t for t in prompt.tools)),
}

# Shapes of a response's text edges: the whitespace output_newlines leaves out, per token of it.
_OUTPUT_EDGE_SEAMS = frozenset({"output_edge_whitespace"})

# Every shape output_seam_bounds measures on a response (seam_bounds, on the request, passes them by).
_MEASURED_ON_THE_RESPONSE = frozenset(
    _OUTPUT_SEAMS.keys() | _OUTPUT_TEXT_SEAMS.keys() | _OUTPUT_EDGE_SEAMS | _RESPONSE_SEAMS.keys()
)


def _replayed_calls_with_underscored_keys(prompt: Prompt) -> int:
    """The request's replayed functionCall parts whose args hold a top-level key that begins with `_`."""
    return sum(
        isinstance(args := function.get("args"), dict) and any(str(key).startswith("_") for key in args)
        for turn in prompt.contents
        for part in turn.parts
        if isinstance(function := part.get("functionCall"), dict)
    )


def _scalar_arrays(schema: Any) -> int:
    """ARRAY nodes of an OpenAPI schema whose `items` is a scalar (string, number, integer, boolean), at any depth."""
    if not isinstance(schema, dict):
        return 0
    items = schema.get("items")
    count = int(
        str(schema.get("type", "")).upper() == "ARRAY"
        and isinstance(items, dict)
        and str(items.get("type", "")).upper() in ("STRING", "NUMBER", "INTEGER", "BOOLEAN")
    )
    children = list(schema["properties"].values()) if isinstance(schema.get("properties"), dict) else []
    children += [items] if isinstance(items, dict) else []
    children += [c for c in schema.get("anyOf") or [] if isinstance(c, dict)]
    return count + sum(_scalar_arrays(child) for child in children)


def _property_orderings(schema: Any) -> int:
    """The non-empty `propertyOrdering` lists of a schema, at any depth."""
    return _count_in(
        schema,
        lambda node: int(isinstance(node.get("propertyOrdering"), list) and bool(node["propertyOrdering"])),
        skip=("propertyOrdering",),
    )


def _optional_properties_past_two(declaration: dict[str, Any]) -> int:
    """Of a declaration whose parameter schema requires none of its properties, the properties after the second."""
    schema = declaration.get("parameters") or declaration.get("parametersJsonSchema")
    if not isinstance(schema, dict) or _requires(declaration) or not isinstance(schema.get("properties"), dict):
        return 0
    return max(len(schema["properties"]) - 2, 0)


# Shapes of the request as a whole.
_REQUEST_SEAMS: dict[str, Callable[[Prompt], int]] = {
    "cached_content": lambda prompt: int(bool(prompt.cached_content)),
    "user_turn": lambda prompt: sum(turn.role == "user" for turn in prompt.contents),
    "replayed_call_underscored_key": _replayed_calls_with_underscored_keys,
    "replayed_call_string_ending_in_paren": _replayed_call_strings_ending_in_paren,
    "replayed_function_response": _replayed_function_responses,
    "response_schema_number_default": _response_schema_number_defaults,
}

# Shapes of the request as a whole measured in tokens of a text.
_REQUEST_TEXT_SEAMS: dict[str, Callable[[Prompt], list[str]]] = {
    "response_schema_unseen_keyword": _unseen_response_schema_members,
}


# Shapes of a function declaration.
_DECLARATION_SEAMS: dict[str, Callable[[dict[str, Any]], int]] = {
    "declaration_without_parameters": lambda declaration: int(
        not any(isinstance(declaration.get(key), dict) for key in ("parameters", "parametersJsonSchema"))
    ),
    "declaration_title": lambda declaration: sum(_titles_in(declaration.get(key)) for key in _SCHEMA_KEYS),
    "json_schema_enum": lambda declaration: sum(_enums_in(declaration.get(key)) for key in _JSON_SCHEMA_KEYS),
    "scalar_response_schema": _response_schemas_of_kind("scalar"),
    "null_response_schema": _response_schemas_of_kind("null"),
    "object_response_schema": _response_schemas_of_kind("object"),
    "numeric_response_property": _numeric_response_properties,
    "recursive_reference": recursive_definitions,
    "response_property_named_as_parameter": lambda declaration: _response_properties_named_as_parameters(declaration),
    "type_union": lambda declaration: sum(
        _type_unions(declaration.get(key)) for key in ("parametersJsonSchema", "responseJsonSchema")
    ),
    "scalar_array": lambda declaration: _scalar_arrays(declaration.get("parameters")),
    "json_schema_property_ordering": lambda declaration: _property_orderings(declaration.get("parametersJsonSchema")),
    "optional_properties_none_required": _optional_properties_past_two,
    "openapi_response_object": _openapi_response_objects,
    # Every declaration: for a model whose reading of declarations is known only from one repository's answers.
    "declaration": lambda _declaration: 1,
}

# Shapes of a function declaration that tool_features counts (each declaration walked once: `seam_bounds`).
_FEATURE_SEAMS: dict[str, Callable[[dict[str, Any], Counter[str]], int]] = {
    "typed_node": _feature("typed_node"),
    # Schema nodes whose `additionalProperties` is true or a schema: what per_open_object weighs.
    "open_object": _feature("open_object"),
    "enum": _feature("enum"),
    "format": _feature("format"),
    "one_optional_described_property": lambda declaration, features: int(
        features["optional_described_property"] == 1 and not _requires(declaration)
    ),
    "lone_optional_described_property": _feature("lone_optional_described_property"),
    "declaration_with_described_numbers": _feature("declaration_with_described_numbers"),
    "any_of_null_variant": _feature("any_of_null_variant"),
    "nested_object": _feature("nested_object"),
}

# Shapes of a function declaration measured as the tool template reads it: references resolved, each expansion of a
# recursive definition its own nested objects.
_READ_DECLARATION_SEAMS = frozenset({"nested_object"})


def _as_read(declarations: list[dict[str, Any]], template: ToolTemplate | None) -> list[dict[str, Any]]:
    if template is None or not template.inlines_refs:
        return declarations
    (tool,) = inline_tool_refs([{"functionDeclarations": declarations}], template.recursion_levels)
    read: list[dict[str, Any]] = tool["functionDeclarations"]
    return read


# Shapes of a function declaration measured in tokens of its texts (each token one occurrence).
_DECLARATION_TEXT_SEAMS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "string_default": lambda declaration: [
        text for key in ("parameters", "response") for text in _string_defaults(declaration.get(key))
    ],
}


# Shapes of a function declaration measured with the prompt's tokenizer (each token one occurrence).
_DECLARATION_TOKEN_SEAMS: dict[str, Callable[[dict[str, Any], Callable[[str], int]], int]] = {
    # The tokens a space before the declaration's name would save (`passphrase` is two pieces, ` passphrase` one).
    "name_after_space": lambda declaration, tokens: (
        max(tokens(name) - tokens(" " + name), 0) if isinstance(name := declaration.get("name"), str) and name else 0
    ),
}


def _string_defaults(schema: Any) -> list[str]:
    """The string `default`s of an OpenAPI schema, at any depth (what `schema_strings: [default]` reads)."""
    if not isinstance(schema, dict):
        return []
    found = [schema["default"]] if isinstance(schema.get("default"), str) and schema["default"] else []
    children = list((schema.get("properties") or {}).values()) if isinstance(schema.get("properties"), dict) else []
    children += [schema["items"]] if isinstance(schema.get("items"), dict) else []
    children += [c for c in schema.get("anyOf") or [] if isinstance(c, dict)]
    return found + [text for child in children for text in _string_defaults(child)]


def declarations_as_read(tools: list[dict[str, Any]], template: ToolTemplate) -> list[dict[str, Any]]:
    """The function declarations as the service reads them under `template`: references resolved, JSON Schema enums
    given their format, the parameter schema's own description dropped, formats dropped, the declaration's description
    written with its lines indented and without its trailing newlines, where accounting.yaml says so."""
    if template.inlines_refs:
        tools = inline_tool_refs(tools, template.recursion_levels)
    if template.json_schema_enum_format:
        tools = with_json_schema_enum_format(tools, template.json_schema_enum_format)
    if not template.reads_root_descriptions:
        tools = without_root_descriptions(tools)
    if not template.reads_formats:
        tools = without_formats(tools)
    if template.description_indent or not template.reads_description_trailing_newlines:
        tools = with_descriptions_as_written(
            tools, template.description_indent, trailing_newlines=template.reads_description_trailing_newlines
        )
    return tools


def tool_template_tokens(tools: list[dict[str, Any]], template: ToolTemplate) -> int:
    """The template's weights times what the declarations hold (accounting.yaml `tool_templates`)."""
    if not tools:
        return 0  # most requests: no declarations, nothing to weigh
    found = tool_features(tools, counts_json_schemas=template.counts_json_schemas)
    weighed: int = sum(weight * found[name] for name, weight in _weights_of(template))
    if template.written_as == "escaped_strings":
        # the escape tokens around each string of the written declarations (texts.escaped_declaration), one each
        weighed += sum(
            escaped_declaration(declaration, template.fields_left_out).count(ESCAPE)
            for tool in tools
            for declaration in tool.get("functionDeclarations") or []
        )
    return weighed


_WEIGHTS_KEPT = 256
# Each template's non-zero (feature, per_<feature>) weights by the template's id, the template kept beside them (so its
# id stays its own): read once per template, where thirty look-ups by name were made per tool request.
_template_weights: dict[int, tuple[ToolTemplate, tuple[tuple[str, int], ...]]] = {}


def _weights_of(template: ToolTemplate) -> tuple[tuple[str, int], ...]:
    known = _template_weights.get(id(template))
    if known is not None and known[0] is template:
        return known[1]
    weights = tuple((name, weight) for name in TOOL_FEATURES if (weight := getattr(template, f"per_{name}")))
    if len(_template_weights) >= _WEIGHTS_KEPT:
        _template_weights.clear()  # templates made for dated weights come and go
    _template_weights[id(template)] = (template, weights)
    return weights


# What a tool template weighs, each named as its weight (`per_<feature>` of accounting.yaml `tool_templates`).
TOOL_FEATURES = (
    "declaration",
    "declaration_with_described_properties",
    "description",
    "object",
    "property",
    "items",
    "typed_node",
    "nullable",
    "optional_property",
    "optional_described_property",
    "optional_property_of_described_declaration",
    "response_object",
    "response_property",
    "response_property_named_as_function",
    "enum",
    "enum_value",
    "null_union",
    "boolean_node",
    "title",
    "nested_object",
    "declaration_with_optional_described_properties",
    "underscored_name",
    "numeric_response_property",
    "declaration_with_described_numbers",
    "any_of_variant",
    "any_of_null_variant",
    "format",
    "response_schema",
    "open_object",
    "lone_optional_described_property",
)


def tool_features(tools: list[dict[str, Any]], *, counts_json_schemas: bool = True) -> Counter[str]:
    """How many of each TOOL_FEATURES the function declarations hold: declarations, non-empty descriptions (the
    declaration's and every schema node's), schema nodes with properties ("objects"), properties (nested too),
    array `items`, typed OpenAPI nodes, nullable flags, properties that are not required (and of those, the
    described ones, and those of a declaration with a description), response schemas with properties and their
    top-level properties, enums and their values, JSON Schema type lists with "null", typed BOOLEAN nodes,
    non-empty titles, objects with properties below a schema's root (nested, in `items` or `$defs`), declarations
    with an optional described property, declarations named with an edge underscore (`_x`, `x_`), top-level
    response schema properties typed integer or number, declarations whose OpenAPI `parameters` hold a described
    INTEGER or NUMBER property, schemas listed in an `anyOf` and of those the {"type": "null"} ones, non-empty
    formats, response schemas whatever they hold, nodes open to additionalProperties (true or a schema).
    `counts_json_schemas=False`: parametersJsonSchema / responseJsonSchema are not read."""
    found: Counter[str] = Counter()
    for tool in tools:
        for declaration in tool.get("functionDeclarations") or []:
            found["declaration"] += 1
            found["description"] += 1 if declaration.get("description") else 0
            name = str(declaration.get("name") or "")
            found["underscored_name"] += name.startswith("_") or name.endswith("_")
            described_before, optional_before = found["described_property"], found["optional_property"]
            optional_described_before = found["optional_described_property"]
            numbers_before = found["described_number"]
            for key, typed, response in (
                ("parameters", True, False),
                ("response", True, True),
                ("parametersJsonSchema", False, False),
                ("responseJsonSchema", False, True),
            ):
                schema = declaration.get(key)
                if not isinstance(schema, dict) or not schema or (not typed and not counts_json_schemas):
                    continue
                objects_before = found["object"]
                _schema_features(schema, found, typed=typed)
                found["nested_object"] += max(found["object"] - objects_before - 1, 0)
                if response:
                    found["response_schema"] += 1
                    properties = schema.get("properties")
                    found["response_object"] += bool(properties)
                    found["response_property"] += len(properties) if isinstance(properties, dict) else 0
                    found["response_property_named_as_function"] += (
                        isinstance(properties, dict) and declaration.get("name") in properties
                    )
            found["declaration_with_described_properties"] += found["described_property"] > described_before
            found["declaration_with_optional_described_properties"] += (
                found["optional_described_property"] > optional_described_before
            )
            found["lone_optional_described_property"] += found[
                "optional_described_property"
            ] - optional_described_before == 1 and _requires(declaration)
            found["declaration_with_described_numbers"] += found["described_number"] > numbers_before
            found["numeric_response_property"] += _numeric_response_properties(declaration)
            if declaration.get("description"):
                found["optional_property_of_described_declaration"] += found["optional_property"] - optional_before
    return found


def _requires(declaration: dict[str, Any]) -> bool:
    """The declaration's parameter schema requires a property (a non-empty root `required`)."""
    schema = declaration.get("parameters") or declaration.get("parametersJsonSchema")
    return isinstance(schema, dict) and isinstance(schema.get("required"), list) and bool(schema["required"])


def _described(schema: Any) -> bool:
    return isinstance(schema, dict) and isinstance(schema.get("description"), str) and bool(schema["description"])


def _schema_features(schema: Any, found: Counter[str], *, typed: bool) -> None:
    """Count one schema node and its children. `typed`: an OpenAPI Schema (its `type` nodes count);
    a raw JSON Schema's types do not (accounting.yaml)."""
    # One loop over the properties and plain local counts (no generator, no call per property), a feature added to
    # `found` only where present: this walk is most of a tool request's template and seam time.
    if not isinstance(schema, dict):
        return
    get = schema.get
    listed = get("properties")
    properties: dict[str, Any] = listed if isinstance(listed, dict) else {}
    listed_required = get("required")
    required: list[Any] = listed_required if isinstance(listed_required, list) else []
    described = optional = optional_described = described_numbers = 0
    for key, p in properties.items():
        is_described = isinstance(p, dict) and isinstance(p.get("description"), str) and bool(p["description"])
        if key not in required:
            optional += 1
            optional_described += is_described
        if is_described:
            described += 1
            if typed and str(p.get("type")).upper() in ("INTEGER", "NUMBER"):
                described_numbers += 1
    if properties:
        found["property"] += len(properties)
        found["object"] += 1
    if _described(schema):
        found["description"] += 1
    kind = get("type")
    if typed:
        if kind and kind != "TYPE_UNSPECIFIED":
            found["typed_node"] += 1
        if get("nullable"):
            found["nullable"] += 1
        if str(kind).upper() == "BOOLEAN":
            found["boolean_node"] += 1
        if described_numbers:
            found["described_number"] += described_numbers
    elif isinstance(kind, list) and "null" in kind:
        found["null_union"] += 1
    title = get("title")
    if isinstance(title, str) and title:
        found["title"] += 1
    if "minimum" in schema or "maximum" in schema:
        found["bounded_node"] += 1
    additional = get("additionalProperties")
    if additional is False:
        found["closed_object"] += 1
    elif additional is True or isinstance(additional, dict):
        found["open_object"] += 1
    written = get("format")
    if isinstance(written, str) and written:
        found["format"] += 1
    enum = get("enum")
    if isinstance(enum, list) and enum:
        found["enum"] += 1
        found["enum_value"] += len(enum)
    if described:
        found["described_property"] += described
    if optional:
        found["optional_property"] += optional
    if optional_described:
        found["optional_described_property"] += optional_described
    children = list(properties.values())
    items = get("items")
    if isinstance(items, dict):
        found["items"] += 1
        children.append(items)
    variants = [c for c in get("anyOf") or [] if isinstance(c, dict)]
    if variants:
        found["any_of_variant"] += len(variants)
        found["any_of_null_variant"] += sum(str(c.get("type")).lower() == "null" for c in variants)
    for combinator in ("anyOf", "oneOf", "allOf"):
        listed_children = get(combinator)
        if listed_children:
            children += [c for c in listed_children if isinstance(c, dict)]
    for container in ("defs", "$defs", "definitions"):
        defs = get(container)
        if isinstance(defs, dict):
            children += defs.values()
    for child in children:
        if isinstance(child, dict):
            _schema_features(child, found, typed=typed)
