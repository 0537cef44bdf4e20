"""Load models.yaml / accounting.yaml and resolve the many spellings of a model name to one entry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import fnmatch
import re
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from vertexmeter.datafiles import load_yaml
from vertexmeter.errors import VertexMeterError, failed_precondition, invalid_argument, not_found
from vertexmeter.registry.dated import (
    CodeParts,
    DatedRule,
    DatedSections,
    DatedWeights,
    OutputCalls,
    SecondPassBounds,
    ServerToolCall,
    StreamedArguments,
    ThoughtReach,
    ToolRunBounds,
    load_dated_sections,
)
from vertexmeter.vocabulary import APIS, CALLS, EMBED_CONTENT

BILLED_OUTPUTS = ("text", "before_stop")
FUNCTION_PAYLOADS = (
    "texts",
    "json",
    "json_sorted_keys",
    "json_raw_quotes",
    "json_sorted_keys_escaped_quotes",
    "escaped_strings",
)
# accounting.yaml's tables keyed by (api, call, generation); each key covered exactly once by each.
ACCOUNTING_TABLES = (
    "role_overhead",
    "tool_templates",
    "response_schema",
    "function_history",
    "stop_sequences",
    "output_newlines",
)


@dataclass(frozen=True)
class ModelInfo:
    id: str
    generation: str
    tokenizer: str
    input_token_limit: int
    output_token_limit: int
    modalities: tuple[str, ...]
    billed_by: str
    aliases: tuple[str, ...]
    sources: tuple[str, ...]
    confidence: str
    instance_schema: str | None = None
    # The generation whose accounting rules (role overhead, media) the model follows, when not its own.
    accounting_generation: str | None = None
    # Why the facts are only inferred (no recorded answer shows the tokenizer or the overheads).
    confidence_reason: str | None = None
    # The APIs that serve the model (Gemma 3 / 4 31B only on the Gemini API; the Cyber variants only on Vertex).
    apis: tuple[str, ...] = APIS
    # The model whose model-scoped accounting rules this one follows (a model built on another, with limits of its
    # own: models.yaml `rules_as`); None: its own id.
    rules_as: str | None = None
    # The snapshot name this entry was resolved from (models.yaml `snapshots`): the model's own id, limits, price and
    # rules, but for accounting.yaml's model patterns, which see the snapshot's name. None: the model itself.
    snapshot: str | None = None

    @property
    def rules_id(self) -> str:
        """The id accounting.yaml's model patterns (`models:`) are matched against: a snapshot's own name."""
        return self.snapshot or self.rules_as or self.id

    @property
    def count_is_inferred(self) -> bool:
        """True when no recorded answer backs this model's counts: they are a best estimate, not exact."""
        return self.confidence == "inferred"

    @property
    def confidence_note(self) -> str | None:
        """What the CLI says beside an inferred count (Google's JSON shapes stay as they are)."""
        if not self.count_is_inferred:
            return None
        return f"vertexmeter: {self.id}'s counts are inferred, not exact: {self.confidence_reason}."

    @property
    def rules_generation(self) -> str:
        return self.accounting_generation or self.generation

    @property
    def billed_by_characters(self) -> bool:
        return self.billed_by == "characters"

    @property
    def is_legacy(self) -> bool:
        """PaLM / Codey / embedding models, counted from `instances`."""
        return self.instance_schema is not None


@dataclass(frozen=True)
class ToolTemplate:
    """What the service adds for function declarations beyond their texts (accounting.yaml)."""

    per_declaration: int
    per_property: int
    per_typed_node: int
    per_nullable: int
    confidence: str
    evidence: tuple[str, ...]
    per_description: int = 0
    per_object: int = 0
    per_items: int = 0
    per_declaration_with_described_properties: int = 0
    counts_json_schemas: bool = True  # parametersJsonSchema / responseJsonSchema of a declaration read at all
    per_optional_property: int = 0  # a property its object's `required` does not name
    per_optional_described_property: int = 0  # on top of per_optional_property, when it has a description
    per_optional_property_of_described_declaration: int = 0  # on top, in a declaration with a description
    per_response_object: int = 0  # a declaration's response / responseJsonSchema with properties
    per_response_property: int = 0  # each top-level property of such a response schema
    per_response_property_named_as_function: int = 0  # a response schema property named as its function
    per_enum: int = 0  # a schema node with `enum`
    per_enum_value: int = 0  # each of its values
    per_null_union: int = 0  # a JSON Schema `type` list naming "null" (["null", "array"])
    per_boolean_node: int = 0  # a typed OpenAPI node of type BOOLEAN
    per_title: int = 0  # a schema node's non-empty `title`
    per_nested_object: int = 0  # an object with properties below a schema's root
    per_declaration_with_optional_described_properties: int = 0  # a declaration with such a property, once
    per_underscored_name: int = 0  # a declaration whose name begins or ends with "_"
    per_numeric_response_property: int = 0  # a top-level response schema property typed integer or number
    per_declaration_with_described_numbers: int = 0  # OpenAPI `parameters` holding a described INTEGER / NUMBER
    per_any_of_variant: int = 0  # each schema listed in an `anyOf`
    per_any_of_null_variant: int = 0  # on top, when that schema is {"type": "null"}
    per_format: int = 0  # a schema node's non-empty `format` (beside its text), one written for an enum too
    per_response_schema: int = 0  # a declaration's `response` / `responseJsonSchema`, whatever it holds
    per_open_object: int = 0  # a schema node whose `additionalProperties` is true or a schema
    # a declaration whose one optional described property sits beside a required one, once
    per_lone_optional_described_property: int = 0
    # The `format` the service's Schema message gives a JSON Schema node that lists an `enum` ("": none written)
    json_schema_enum_format: str = ""
    schema_strings: tuple[str, ...] = ()  # schema fields counted as text beyond the SDK walk ("title")
    inlines_refs: bool = False  # JSON Schema `$ref`s read as their definitions, `$defs` dropped
    recursion_levels: int = 1  # times such a reading expands a recursive definition along a path
    reads_root_descriptions: bool = True  # the description of a declaration's parameter schema itself
    reads_formats: bool = True  # a schema node's `format` (its text and per_format)
    # Spaces the service writes before each non-blank line after the first of a declaration's own description
    # (0: the description as sent), and whether the newlines it ends with are read.
    description_indent: int = 0
    reads_description_trailing_newlines: bool = True
    # "texts": the SDK accumulator's strings plus the weights; "escaped_strings": each declaration read as Gemma 4's
    # tool-declaration text (counting.texts.escaped_declaration), its escape tokens one each, plus the weights
    written_as: str = "texts"
    fields_left_out: tuple[str, ...] = ()  # schema fields an escaped_strings declaration does not write

    @property
    def rewrites_declarations(self) -> bool:
        """The service reads the declarations otherwise than as sent (counting.accounting.declarations_as_read)."""
        return (
            self.inlines_refs
            or not self.reads_root_descriptions
            or not self.reads_formats
            or self.description_indent > 0
            or not self.reads_description_trailing_newlines
            or bool(self.json_schema_enum_format)
        )


# The tool template's optional weights (accounting.yaml `tool_templates`; 0 where a rule does not name them).
_TOOL_WEIGHTS = (
    "per_optional_property",
    "per_optional_described_property",
    "per_declaration_with_optional_described_properties",
    "per_optional_property_of_described_declaration",
    "per_response_object",
    "per_response_property",
    "per_response_property_named_as_function",
    "per_enum",
    "per_enum_value",
    "per_null_union",
    "per_boolean_node",
    "per_title",
    "per_nested_object",
    "per_underscored_name",
    "per_numeric_response_property",
    "per_declaration_with_described_numbers",
    "per_any_of_variant",
    "per_any_of_null_variant",
    "per_format",
    "per_response_schema",
    "per_open_object",
    "per_lone_optional_described_property",
)


@dataclass(frozen=True)
class FunctionHistory:
    """How replayed functionCall / functionResponse parts count (accounting.yaml `function_history`): their
    payload read as `texts` (keys and string values), as one JSON text (`json`, `json_sorted_keys`, `json_raw_quotes`,
    `json_sorted_keys_escaped_quotes`)
    or as Gemma 4's tool-call text (`escaped_strings`), plus these tokens."""

    per_call: int = 0
    per_response: int = 0
    per_argument: int = 0
    payload: str = "texts"
    per_number: int = 0
    per_nested_object: int = 0  # an object that is the value of a key of the payload (any depth; not list items)
    per_boolean: int = 0  # a top-level true / false value
    per_list: int = 0  # a top-level list value
    per_absent_response: int = 0  # a functionResponse without `response` (json reads it as {})
    per_call_with_several_args: int = 0  # a functionCall whose args hold two or more keys
    per_string_list: int = 0  # a top-level non-empty list of strings only
    per_nested_number: int = 0  # a number below the top level of a payload (in an object or a list)
    per_control_character: int = 0  # a character of a payload's strings that JSON writes as a \u escape
    per_argument_beyond_two: int = 0  # each key of a functionCall's args after the second
    per_nested_object_beside_keys: int = 0  # on top of per_nested_object, for one whose object holds other keys
    per_nested_object_in_list: int = 0  # on top of per_nested_object, for one below a list item
    # (model name patterns, weights that replace the ones above for those models), first match wins
    model_overrides: tuple[tuple[tuple[str, ...], tuple[tuple[str, int], ...]], ...] = ()

    def for_model(self, model_id: str) -> FunctionHistory:
        """The weights for one model: the first `model_overrides` entry whose patterns match its id, else these."""
        for patterns, weights in self.model_overrides:
            if any(fnmatch.fnmatchcase(model_id, pattern) for pattern in patterns):
                changes: dict[str, Any] = dict(weights)
                return dataclasses.replace(self, model_overrides=(), **changes)
        return self


@dataclass(frozen=True)
class Accounting:
    """The rules of one (API, call, generation): role overhead and tool template, with evidence."""

    api: str
    call: str
    generation: str
    per_role_content: int
    role_evidence: tuple[str, ...]
    tools: ToolTemplate
    # A user Content whose parts are all empty texts bills this many tokens (accounting.yaml `role_overhead`).
    per_empty_user_content: int = 0
    counts_response_schema: bool = True
    counts_response_json_schema: bool = True
    response_schema_strings: tuple[str, ...] = ()  # schema fields counted beyond the SDK walk
    response_schema_per_typed_node: int = 0
    response_schema_per_bounded_node: int = 0  # a node with `minimum` or `maximum`
    response_schema_per_closed_object: int = 0  # a node with `additionalProperties: false`
    # "texts": the SDK walk's strings; "indented_json": the schema's one text (texts.indented_schema)
    response_schema_written_as: str = "texts"
    response_schema_left_out: tuple[str, ...] = ()  # schema fields indented_json does not write
    function_history: FunctionHistory = FunctionHistory()
    # "before_stop": an output cut by a stop sequence bills the tokens generated wholly before the stop;
    # "text": the returned text's own count (accounting.yaml `stop_sequences`).
    billed_output: str = "text"
    # False: a newline at the start or end of a candidate's text is not billed (accounting.yaml `output_newlines`).
    bills_edge_newlines: bool = True
    # False: any whitespace at the end of a candidate's text is not billed (accounting.yaml `output_newlines`).
    bills_trailing_whitespace: bool = True
    # table -> the rule entry's (confidence, evidence ids): what an answer cites when asked which rules made it.
    sources: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


# Payload shapes of replayed function parts, and declaration shapes, whose token seam the service bills differently
# from the rule (accounting.yaml `uncertain_seams`); counting.accounting measures each.
SEAM_SHAPES = (
    "number",
    "replayed_function_response",
    "declaration_without_parameters",
    "digit_string",
    "string_list",
    "numeric_response_property",
    "enum",
    "declaration_with_described_numbers",
    "one_optional_described_property",
    "recursive_reference",
    "declaration_title",
    "json_schema_enum",
    "scalar_response_schema",
    "null_response_schema",
    "object_response_schema",
    "open_object",
    "response_schema_unseen_keyword",
    "response_schema_number_default",
    "output_call_object",
    "output_call_three_strings",
    "output_call_string_ending_in_paren",
    "replayed_call_string_ending_in_paren",
    "text_beside_search",
    "text_beside_url_context",
    "output_edge_whitespace",
    "any_of_null_variant",
    "nested_object",
    "control_character",
    "nested_object_in_list",
    "response_property_named_as_parameter",
    "type_union",
    "format",
    "lone_optional_described_property",
    "string_default",
    "name_after_space",
    "replayed_call_underscored_key",
    "scalar_array",
    "json_schema_property_ordering",
    "optional_properties_none_required",
    "cached_content",
    "user_turn",
    "typed_node",
    "text_ending_full_stop",
    "output_call_undeclared",
    "streamed_json_whitespace",
    "parallel_call_without_args",
    "output_call_json",
    "text_after_open_model_turn",
    "openapi_response_object",
    "declaration",
    "output_call_over_3",
)


@dataclass(frozen=True)
class UncertainSeam:
    """Each occurrence of `shape` moves the billed prompt by `low` … `high` tokens from the point value
    (accounting.yaml `uncertain_seams`): the answer carries bounds, not a guess presented as exact."""

    shape: str
    low: int
    high: int
    models: tuple[str, ...]
    reason: str
    confidence: str
    evidence: tuple[str, ...]
    # The days the seam holds on (both ends included; None: open), for a span of days one repository's answers show.
    since: dt.date | None = None
    until: dt.date | None = None

    def holds_on(self, day: dt.date | None) -> bool:
        """The seam holds on `day` (None: today, after every dated span's start)."""
        if day is None:
            return self.until is None
        return (self.since is None or self.since <= day) and (self.until is None or day <= self.until)


@dataclass(frozen=True)
class StreamedOutputBounds:
    """accounting.yaml `streamed_output_bounds`: a streamed answer's billed text output lies in
    [n + low + floor(n * low_per_1000 / 1000), n + high + ceil(n * high_per_1000 / 1000)] around its text's count n."""

    since: dt.date
    low: int
    low_per_1000: int
    high: int
    high_per_1000: int
    min_chunks: int
    reason: str
    confidence: str
    evidence: tuple[str, ...]

    def around(self, n: int) -> tuple[int, int]:
        """(low, high) for a text counted n tokens."""
        return max(0, n + self.low + (n * self.low_per_1000) // 1000), n + self.high - (-n * self.high_per_1000 // 1000)


@dataclass(frozen=True)
class StreamedChunks:
    """accounting.yaml `streamed_chunks_apart`: a stream given as its chunks bills each chunk's text on its own,
    without the whitespace at the chunk's edges, and `per_thought_part` (<= 0) for each thought summary its chunks
    carry."""

    since: dt.date
    edges: str  # "whitespace_stripped"
    per_thought_part: int
    reason: str
    confidence: str
    evidence: tuple[str, ...]

    def billed(self, text: str) -> str:
        """The part of one chunk's text that is billed."""
        return text.strip(_CHUNK_EDGE_WHITESPACE)


# The whitespace a streamed chunk's edges drop: what the recorded chunks end with (spaces, newlines), and the
# other ASCII whitespace of the same kind.
_CHUNK_EDGE_WHITESPACE = " \t\n\r"
CHUNK_EDGES = ("whitespace_stripped",)


THOUGHT_SCOPES = ("none", "current_turn", "all_turns")
THOUGHT_BILLING = ("always", "when_streamed", "unknown", "unknown_when_streamed")
# The billings that hold for a window of days between two recorded answers (`since` … `until`, both data).
THOUGHT_BILLING_WINDOWS = ("unknown", "unknown_when_streamed")


@dataclass(frozen=True)
class ReplayedThoughts:
    """Which replayed thought signatures bill their thoughts (accounting.yaml `replayed_thoughts`): `scope`
    none | current_turn | all_turns; `billed` always | when_streamed (the producing response was streamed) | unknown
    (the service began billing them between `window`'s two days, the last answer that billed none and the first that
    billed them: either may hold) | unknown_when_streamed (a whole response's not billed; a streamed one's unknown
    within `window`)."""

    scope: str
    billed: str
    confidence: str
    evidence: tuple[str, ...]
    window: tuple[dt.date, dt.date] | None = None


@dataclass(frozen=True)
class TextPartsJoined:
    """accounting.yaml `text_parts_joined`: a Content's consecutive text parts are read as one text."""

    confidence: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class SignatureSize:
    """What a signature's decoded size tells of its thoughts (accounting.yaml `signature_size`): the point value
    (bytes - `overhead_bytes`) / `point`, and `readings`, each (overhead low, overhead high, k low, k high): bytes =
    overhead + k x thoughts with both in range. Every reading holds the recorded signatures, so the thoughts lie in
    all of them: the bounds are their intersection."""

    overhead_bytes: int
    point: float
    readings: tuple[tuple[int, int, float, float], ...]
    evidence: tuple[str, ...]
    # Bytes each top-level segment beyond the first adds (a streamed response's signature has one per stretch of
    # thoughts, each with its own framing): taken off the size before the readings apply.
    per_extra_segment_bytes: int = 0
    # The same for the point value (None: `per_extra_segment_bytes`): the point is a best guess, the readings' weight
    # a fit that must hold the responses, and the two need not be one number.
    point_extra_segment_bytes: int | None = None
    # `several_signatures`: ((n, factor), ...) ascending: the summed range of n or more distinct signatures, narrowed
    # about its point by the factor of the largest n it reaches (their errors partly cancel).
    several: tuple[tuple[int, float], ...] = ()
    # `thoughtless_up_to_bytes`: a signature of at most this many bytes is read as a response's that thought none
    # (its point and lower bound none, its upper bound the readings'); 0: none known.
    thoughtless_up_to_bytes: int = 0
    # `by_generation`: ((apis, generations, readings), ...), readings that hold only one API's generation's signatures,
    # added to `readings` for them (the bounds stay the intersection).
    scoped: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[int, int, float, float], ...]], ...] = ()
    # `by_generation` entries that name `streamed`: ((apis, generations, streamed, in place of the general readings,
    # readings, point or None), ...), read only where the caller says whether the conversation's answers were streamed.
    by_stream: tuple[
        tuple[tuple[str, ...], tuple[str, ...], bool, bool, tuple[tuple[int, int, float, float], ...], float | None],
        ...,
    ] = ()
    # `by_generation` entries that name `framing`: ((apis, generations, framing, readings), ...), added to the readings
    # of signatures so framed (the bounds stay the intersection).
    by_framing: tuple[tuple[tuple[str, ...], tuple[str, ...], str, tuple[tuple[int, int, float, float], ...]], ...] = ()

    def readings_for(
        self, api: str | None, generation: str | None, streamed: bool | None = None, framing: str | None = None
    ) -> tuple[tuple[int, int, float, float], ...]:
        """The readings that hold a signature of this API and generation: every general one and the scoped ones; where
        `streamed` is said, those of streamed or whole responses too (some in place of the general ones); those of its
        `framing` (see `framing_of`)."""
        general = self.readings
        extra: tuple[tuple[int, int, float, float], ...] = tuple(
            reading
            for apis, generations, readings in self.scoped
            if api in apis and generation in generations
            for reading in readings
        )
        extra += tuple(
            reading
            for apis, generations, own, readings in self.by_framing
            if framing == own and api in apis and generation in generations
            for reading in readings
        )
        for apis, generations, of_streams, in_place, readings, _ in self.by_stream:
            if streamed is not None and streamed == of_streams and api in apis and generation in generations:
                general = () if in_place else general
                extra += readings
        return general + extra

    @staticmethod
    def framing_of(signature: bytes) -> str:
        """The signature's framing: bare where its decoded bytes open with the version byte (0x01, no protobuf field
        around it: Vertex's 3.x signatures recorded from 2026-06-17), else field (a field 1 or 2 holding the
        segments)."""
        return "bare" if signature[:1] == b"\x01" else "field"

    def point_for(self, api: str | None, generation: str | None, streamed: bool | None = None) -> float:
        """The point value's bytes per thought token: a streamed or whole entry's own where the caller says which."""
        for apis, generations, of_streams, _, _, point in self.by_stream:
            if point is not None and streamed == of_streams and api in apis and generation in generations:
                return point
        return self.point

    def several_factor(self, signatures: int) -> float:
        """What the summed range of this many distinct signatures is narrowed by (1: not at all)."""
        factor = 1.0
        for n, value in self.several:
            if signatures >= n:
                factor = value
        return factor


@dataclass(frozen=True)
class Redirect:
    """Requests naming `name` on `apis` are answered by `served_by` (the answer's modelVersion; a registry model or
    one of its aliases) from `start` (inclusive): counted with that model's vocabulary and rules. Unlike a dated
    alias, `name` is a model of its own before `start` and on the other APIs."""

    name: str
    served_by: str
    apis: tuple[str, ...]
    start: dt.date
    evidence: tuple[str, ...]
    source: str
    model: str = ""  # the registry id `served_by` is a spelling of


@dataclass(frozen=True)
class _ThoughtRule:
    keys: frozenset[tuple[str, str, str]]
    models: tuple[str, ...]
    since: dt.date | None
    rule: ReplayedThoughts
    until: dt.date | None = None  # last day the entry applies (None: to today)


@dataclass(frozen=True)
class TokenizerEra:
    """`family` counted the generations' models on `apis` up to and including `until`."""

    generations: tuple[str, ...]
    apis: tuple[str, ...]
    family: str
    until: dt.date
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class DatedAlias:
    """`name` meant `model` from `start` (inclusive) to `until` (inclusive; None = still)."""

    name: str
    model: str
    start: dt.date | None
    until: dt.date | None
    source: str


@dataclass(frozen=True)
class NotCountable:
    """Models a user can call on Vertex AI or the Gemini API that vertexmeter cannot count offline, and why."""

    models: tuple[str, ...]
    kind: str  # partner | generation
    reason: str


@dataclass(frozen=True)
class RawPromptRule:
    """accounting.yaml `raw_prompt_tokens`: rawPromptTokenCount = promptTokenCount + base + with_system_or_tools (when
    the request has a system instruction or tools) + these weights per Content of the request."""

    api: str
    models: tuple[str, ...]
    since: dt.date
    base: int
    with_system_or_tools: int
    per_user_text_content: int
    per_model_text_content: int
    per_call_content: int
    per_response_content: int
    confidence: str
    evidence: tuple[str, ...]


_MAX_RESOLVED = 4096  # names kept with their model (a flood of new ones starts afresh)


@dataclass(frozen=True)
class _Registry:
    by_name: dict[str, ModelInfo]
    models: tuple[ModelInfo, ...]
    accounting: dict[tuple[str, str, str], Accounting]
    tokenizer_history: tuple[TokenizerEra, ...]
    replayed_thoughts: tuple[_ThoughtRule, ...]
    signature_size: SignatureSize
    usage_fields: tuple[tuple[str, str, str, dt.date], ...]  # (api, field, value, since)
    text_pieces_apart: frozenset[tuple[str, str, str]]
    dated_aliases: dict[str, tuple[DatedAlias, ...]]
    not_countable: dict[str, NotCountable]
    version: str
    raw_prompt: tuple[RawPromptRule, ...] = ()
    uncertain_seams: dict[tuple[str, str, str], tuple[UncertainSeam, ...]] = field(default_factory=dict)
    streamed_output: dict[tuple[str, str, str], StreamedOutputBounds] = field(default_factory=dict)
    redirects: dict[str, tuple[Redirect, ...]] = field(default_factory=dict)
    dated: DatedSections = field(default_factory=DatedSections)
    # accounting.yaml `text_parts_joined`: ((api, call, generation) keys, model name patterns, the rule) per entry
    text_parts_joined: tuple[tuple[frozenset[tuple[str, str, str]], tuple[str, ...], TextPartsJoined], ...] = ()
    streamed_chunks: dict[tuple[str, str, str], StreamedChunks] = field(default_factory=dict)
    # resolve()'s answers by (name, api, day, any_api): a third of counting a 2 KB text is the look-up (aliases,
    # versions, redirects), and callers repeat a few names. Refusals are not kept.
    resolved: dict[tuple[str, str, dt.date, bool], ModelInfo] = field(default_factory=dict)


@cache
def _registry() -> _Registry:
    return build_registry(
        load_yaml("vertexmeter.registry", "models.yaml"), load_yaml("vertexmeter.registry", "accounting.yaml")
    )


def build_registry(raw: dict[str, Any], rules: dict[str, Any]) -> _Registry:
    """The registry from parsed models.yaml and accounting.yaml; ValueError (or KeyError) names what is wrong.
    `vertexmeter data update` runs it on a new data set before installing it."""
    models: list[ModelInfo] = []
    by_name: dict[str, ModelInfo] = {}
    for entry in raw["models"]:
        info = ModelInfo(
            id=entry["id"],
            generation=str(entry["generation"]),
            tokenizer=entry["tokenizer"],
            input_token_limit=int(entry["input_token_limit"]),
            output_token_limit=int(entry["output_token_limit"]),
            modalities=tuple(entry["modalities"]),
            billed_by=entry["billed_by"],
            aliases=tuple(entry.get("aliases") or ()),
            sources=tuple(str(s) for s in entry.get("sources") or ()),
            confidence=entry["confidence"],
            instance_schema=entry.get("instance_schema"),
            apis=_served_on(entry),
            accounting_generation=str(entry["accounting_generation"]) if entry.get("accounting_generation") else None,
            confidence_reason=entry.get("confidence_reason"),
            rules_as=entry.get("rules_as"),
        )
        if info.confidence == "inferred" and not info.confidence_reason:
            raise ValueError(f"models.yaml: {info.id} is inferred: it needs a confidence_reason")
        models.append(info)
        for name in (info.id, *info.aliases):
            if name in by_name:
                raise ValueError(f"models.yaml: {name!r} is listed twice")
            by_name[name] = info
        # A snapshot resolves to the model, with its name kept for the rules that single it out.
        for name in _strings(entry.get("snapshots") or []):
            if name in by_name:
                raise ValueError(f"models.yaml: {name!r} is listed twice")
            by_name[name] = dataclasses.replace(info, snapshot=name)
    for info in models:
        if info.rules_as is not None and (info.rules_as not in by_name or by_name[info.rules_as].id != info.rules_as):
            raise ValueError(f"models.yaml: {info.id}'s rules_as {info.rules_as!r} is not a model id")
    dated = _dated_aliases(raw.get("dated_aliases") or {}, by_name)
    redirects = _redirects(raw.get("redirects") or {}, by_name)
    not_countable = _not_countable(raw.get("not_countable") or [], by_name)
    accounting = _load_accounting(rules, {info.rules_generation for info in models})
    history = tuple(
        TokenizerEra(
            generations=_strings(era["generations"]),
            apis=_strings(era["apis"]),
            family=str(era["family"]),
            until=dt.date.fromisoformat(str(era["until"])),
            evidence=_strings(era.get("evidence") or []),
        )
        for era in rules["tokenizer_history"]
    )
    thoughts = _load_replayed_thoughts(rules["replayed_thoughts"], {info.rules_generation for info in models})
    signature = _signature_size(rules["signature_size"])
    fields = tuple(
        (str(f["api"]), str(f["field"]), str(f["value"]), dt.date.fromisoformat(str(f["since"])))
        for f in rules["usage_fields"]
    )
    apart = frozenset(key for rule in rules["text_pieces_apart"] for key in _rule_keys(rule))
    raw_prompt = tuple(
        RawPromptRule(
            api=str(rule["api"]),
            models=_strings(rule["models"]),
            since=dt.date.fromisoformat(str(rule["since"])),
            **{name: int(str(rule.get(name, 0))) for name in _RAW_PROMPT_WEIGHTS},
            confidence=str(rule.get("confidence", "")),
            evidence=_strings(rule.get("evidence") or []),
        )
        for rule in rules.get("raw_prompt_tokens") or []  # optional: a data set from before the table has none
    )
    return _Registry(
        by_name,
        tuple(models),
        accounting,
        history,
        thoughts,
        signature,
        fields,
        apart,
        dated,
        not_countable,
        str(raw["version"]),
        raw_prompt,
        _load_uncertain_seams(rules.get("uncertain_seams") or []),  # optional, as raw_prompt_tokens
        _load_streamed_output(rules.get("streamed_output_bounds") or []),  # optional, likewise
        redirects,
        load_dated_sections(rules),
        streamed_chunks=_load_streamed_chunks(rules.get("streamed_chunks_apart") or []),  # optional, likewise
        text_parts_joined=tuple(
            (
                frozenset(_rule_keys(rule)),
                _strings(rule["models"]) if rule.get("models") else (),
                TextPartsJoined(str(rule["confidence"]), _strings(rule.get("evidence") or [])),
            )
            for rule in rules.get("text_parts_joined") or []
        ),
    )


def _load_streamed_output(raw: list[dict[str, Any]]) -> dict[tuple[str, str, str], StreamedOutputBounds]:
    """accounting.yaml `streamed_output_bounds`, by (api, call, generation): at most one rule per key."""
    out: dict[tuple[str, str, str], StreamedOutputBounds] = {}
    for entry in raw:
        rule = StreamedOutputBounds(
            since=dt.date.fromisoformat(str(entry["since"])),
            low=int(entry["low"]),
            low_per_1000=int(entry.get("low_per_1000", 0)),
            high=int(entry["high"]),
            high_per_1000=int(entry.get("high_per_1000", 0)),
            min_chunks=int(entry.get("min_chunks", 2)),
            reason=str(entry.get("reason") or ""),
            confidence=str(entry.get("confidence", "")),
            evidence=_strings(entry.get("evidence") or []),
        )
        if rule.low > 0 or rule.low_per_1000 > 0 or rule.high < 0 or rule.high_per_1000 < 0:
            raise ValueError("accounting.yaml streamed_output_bounds: low and low_per_1000 <= 0 <= high, high_per_1000")
        _index_once("streamed_output_bounds", entry, rule, out)
    return out


def _index_once(section: str, entry: dict[str, Any], rule: Any, out: dict[tuple[str, str, str], Any]) -> None:
    """Put `rule` (with its `evidence` and `reason`) under each (api, call, generation) of `entry`, once."""
    if not rule.evidence or not rule.reason:
        raise ValueError(f"accounting.yaml {section}: each rule needs evidence and a reason")
    for key in _rule_keys(entry):
        if key in out:
            raise ValueError(f"accounting.yaml {section}: {key} is covered twice")
        out[key] = rule


def _load_streamed_chunks(raw: list[dict[str, Any]]) -> dict[tuple[str, str, str], StreamedChunks]:
    """accounting.yaml `streamed_chunks_apart`, by (api, call, generation): at most one rule per key."""
    out: dict[tuple[str, str, str], StreamedChunks] = {}
    for entry in raw:
        rule = StreamedChunks(
            since=dt.date.fromisoformat(str(entry["since"])),
            edges=str(entry.get("edges", "")),
            per_thought_part=int(entry.get("per_thought_part", 0)),
            reason=str(entry.get("reason") or ""),
            confidence=str(entry.get("confidence", "")),
            evidence=_strings(entry.get("evidence") or []),
        )
        if rule.edges not in CHUNK_EDGES:
            raise ValueError(f"accounting.yaml streamed_chunks_apart: edges {rule.edges!r} is not one of {CHUNK_EDGES}")
        if rule.per_thought_part > 0:
            raise ValueError("accounting.yaml streamed_chunks_apart: per_thought_part <= 0")
        _index_once("streamed_chunks_apart", entry, rule, out)
    return out


def streamed_chunks_for(model: ModelInfo, api: str, call: str, day: dt.date | None) -> StreamedChunks | None:
    """How a stream given as its chunks bills its text on `day` (today when None), or None where its chunks' text is
    counted as the other responses' (accounting.yaml `streamed_chunks_apart`)."""
    rule = _registry().streamed_chunks.get((api, call, model.rules_generation))
    if rule is None or (day or dt.date.today()) < rule.since:
        return None
    return rule


def streamed_output_bounds_for(
    model: ModelInfo, api: str, call: str, day: dt.date | None
) -> StreamedOutputBounds | None:
    """How far a streamed answer's billed text output can lie from its text's count on `day` (today when None),
    or None where the streamed text bills as counted (accounting.yaml `streamed_output_bounds`)."""
    rule = _registry().streamed_output.get((api, call, model.rules_generation))
    if rule is None or (day or dt.date.today()) < rule.since:
        return None
    return rule


def _recursion_levels(raw: object) -> int:
    """accounting.yaml tool_templates `recursion_levels`: a whole number of expansions, at least 1."""
    levels = int(str(raw))
    if levels < 1:
        raise ValueError(f"accounting.yaml tool_templates: recursion_levels {raw!r} is below 1")
    return levels


def _declarations_written_as(tool: dict[str, Any]) -> str:
    """accounting.yaml tool_templates `written_as`: how the declarations' text is read."""
    written_as = str(tool.get("written_as", "texts"))
    if written_as not in ("texts", "escaped_strings"):
        raise ValueError(f"accounting.yaml tool_templates: written_as {written_as!r} is not texts or escaped_strings")
    return written_as


def _response_schema_written_as(schema: dict[str, Any]) -> str:
    """accounting.yaml response_schema `written_as`: how a counted response schema's text is read."""
    written_as = str(schema.get("written_as", "texts"))
    if written_as not in ("texts", "indented_json"):
        raise ValueError(f"accounting.yaml response_schema: written_as {written_as!r} is not texts or indented_json")
    return written_as


def _load_uncertain_seams(raw: list[dict[str, Any]]) -> dict[tuple[str, str, str], tuple[UncertainSeam, ...]]:
    """accounting.yaml `uncertain_seams`, by (api, call, generation), in the file's order."""
    out: dict[tuple[str, str, str], list[UncertainSeam]] = {}
    for entry in raw:
        shape = str(entry["shape"])
        if shape not in SEAM_SHAPES:
            raise ValueError(f"accounting.yaml uncertain_seams: shape {shape!r} is not one of {SEAM_SHAPES}")
        low, high = int(entry["low"]), int(entry["high"])
        if not low <= 0 <= high or low == high:
            raise ValueError(f"accounting.yaml uncertain_seams: {shape} needs low <= 0 <= high, not both 0")
        if not entry.get("evidence") or not entry.get("reason"):
            raise ValueError(f"accounting.yaml uncertain_seams: {shape} needs evidence and a reason")
        seam = UncertainSeam(
            shape=shape,
            low=low,
            high=high,
            models=_strings(entry["models"]) if entry.get("models") else (),
            reason=str(entry["reason"]),
            confidence=str(entry.get("confidence", "")),
            evidence=_strings(entry["evidence"]),
            since=_seam_day(entry, "since"),
            until=_seam_day(entry, "until"),
        )
        if seam.since is not None and seam.until is not None and seam.until < seam.since:
            raise ValueError(f"accounting.yaml uncertain_seams: {shape} ends before it begins")
        for key in _rule_keys(entry):
            out.setdefault(key, []).append(seam)
    return {key: tuple(seams) for key, seams in out.items()}


def _seam_day(entry: dict[str, Any], key: str) -> dt.date | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"accounting.yaml uncertain_seams: {key} {value!r} is not a day") from None


@cache  # read per request (batch lines too): the answer depends only on these arguments
def uncertain_seams_for(model: ModelInfo, api: str, call: str) -> tuple[UncertainSeam, ...]:
    """The payload seams whose billed tokens `model` on `api` / `call` leaves uncertain (accounting.yaml)."""
    return _uncertain_seams_of(api, call, model.rules_generation, model.rules_id)


def uncertain_seams_on(model: ModelInfo, api: str, call: str, day: dt.date | None) -> tuple[UncertainSeam, ...]:
    """uncertain_seams_for's seams that hold on `day` (None: today), in their accounting.yaml order."""
    return _uncertain_seams_on(api, call, model.rules_generation, model.rules_id, day)


# Read twice per request (prompt and output seams), ~27 shapes a generation matched against the model by pattern.
@lru_cache(maxsize=256)
def _uncertain_seams_of(api: str, call: str, generation: str, rules_id: str) -> tuple[UncertainSeam, ...]:
    seams = _registry().uncertain_seams.get((api, call, generation), ())
    return tuple(
        s for s in seams if not s.models or any(fnmatch.fnmatchcase(rules_id, pattern) for pattern in s.models)
    )


@lru_cache(maxsize=4096)  # a day each, as the dated look-ups' _DAYS_KEPT
def _uncertain_seams_on(
    api: str, call: str, generation: str, rules_id: str, day: dt.date | None
) -> tuple[UncertainSeam, ...]:
    return tuple(seam for seam in _uncertain_seams_of(api, call, generation, rules_id) if seam.holds_on(day))


_RAW_PROMPT_WEIGHTS = (
    "base",
    "with_system_or_tools",
    "per_user_text_content",
    "per_model_text_content",
    "per_call_content",
    "per_response_content",
)


def _signature_size(raw: dict[str, Any]) -> SignatureSize:
    """accounting.yaml `signature_size`: `readings` (a list of {overhead_bytes: {low, high}, bytes_per_thought_token:
    {low, high}}); a data set from before them has one reading at a fixed overhead (`overhead_bytes`,
    `bytes_per_thought_token` low / high) and an optional second one (`also`)."""
    overhead, per_token = int(raw["overhead_bytes"]), raw["bytes_per_thought_token"]
    items = raw.get("readings")
    if items is None:
        items = [{"overhead_bytes": {"low": overhead, "high": overhead}, "bytes_per_thought_token": per_token}]
        items += [raw["also"]] if raw.get("also") is not None else []
    scoped = []
    by_stream = []
    by_framing = []
    for entry in raw.get("by_generation") or []:
        if not isinstance(entry, dict) or not entry.get("api") or not entry.get("generations"):
            raise ValueError("accounting.yaml signature_size.by_generation: an entry names its api and generations")
        where = f"by_generation {entry['api']} {entry['generations']}"
        apis, generations = _strings(entry["api"]), _strings(entry["generations"])
        readings = _readings(entry.get("readings"), where)
        streamed, in_place = entry.get("streamed"), entry.get("in_place_of_general", False)
        if not isinstance(in_place, bool) or (in_place and streamed is None):
            raise ValueError(f"accounting.yaml signature_size.{where}: in_place_of_general is a bool, beside streamed")
        point = (entry.get("bytes_per_thought_token") or {}).get("point")
        if point is not None and (streamed is None or not isinstance(point, int | float) or point <= 0):
            raise ValueError(f"accounting.yaml signature_size.{where}: its own point is a number > 0, with streamed")
        framing = entry.get("framing")
        if framing is not None and (framing not in ("bare", "field") or streamed is not None or point is not None):
            raise ValueError(f"accounting.yaml signature_size.{where}: framing is bare or field, without streamed")
        if framing is not None:
            by_framing.append((apis, generations, str(framing), readings))
        elif streamed is None:
            scoped.append((apis, generations, readings))
        elif isinstance(streamed, bool):
            by_stream.append((apis, generations, streamed, in_place, readings, None if point is None else float(point)))
        else:
            raise ValueError(f"accounting.yaml signature_size.{where}: streamed is true or false")
    bounds_weight, point_weight = _segment_weights(raw.get("per_extra_segment_bytes", 0))
    return SignatureSize(
        overhead_bytes=overhead,
        point=float(per_token["point"]),
        readings=_readings(items, "readings"),
        evidence=_strings(raw.get("evidence") or []),
        per_extra_segment_bytes=bounds_weight,
        point_extra_segment_bytes=point_weight,
        scoped=tuple(scoped),
        by_framing=tuple(by_framing),
        by_stream=tuple(by_stream),
        several=_several(raw.get("several_signatures") or []),
        thoughtless_up_to_bytes=_whole_number(raw.get("thoughtless_up_to_bytes", 0), "thoughtless_up_to_bytes"),
    )


def _whole_number(raw: object, name: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise ValueError(f"accounting.yaml signature_size.{name}: {raw!r} is not a whole number >= 0")
    return raw


def _several(raw: object) -> tuple[tuple[int, float], ...]:
    """`several_signatures`: a list of {signatures: n >= 2, factor: 0 < f <= 1}, n ascending, f not rising."""
    where = "accounting.yaml signature_size.several_signatures"
    if not isinstance(raw, list):
        raise ValueError(f"{where} is a list of {{signatures, factor}}")
    out: list[tuple[int, float]] = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"signatures", "factor"}:
            raise ValueError(f"{where}: {item!r} is not {{signatures, factor}}")
        n, factor = item["signatures"], item["factor"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 2 or not isinstance(factor, int | float):
            raise ValueError(f"{where}: {item!r}: signatures is a whole number >= 2, factor a number")
        if not 0 < factor <= 1 or (out and (n <= out[-1][0] or factor > out[-1][1])):
            raise ValueError(f"{where}: {item!r}: factors in (0, 1], signatures rising, factors not")
        out.append((n, float(factor)))
    return tuple(out)


def _segment_weights(raw: object) -> tuple[int, int | None]:
    """`per_extra_segment_bytes`: one whole number for the readings and the point value, or {bounds, point}."""
    values = raw if isinstance(raw, dict) else {"bounds": raw}
    if set(values) - {"bounds", "point"} or "bounds" not in values:
        raise ValueError("accounting.yaml signature_size.per_extra_segment_bytes is a whole number or {bounds, point}")
    bounds = _whole_number(values["bounds"], "per_extra_segment_bytes")
    point = _whole_number(values.get("point", bounds), "per_extra_segment_bytes")
    return bounds, (point if isinstance(raw, dict) else None)


def _readings(items: object, where: str) -> tuple[tuple[int, int, float, float], ...]:
    """A list of {overhead_bytes: {low, high}, bytes_per_thought_token: {low, high}}, each two ordered ranges."""
    if not isinstance(items, list) or not items:
        raise ValueError(f"accounting.yaml signature_size.{where} is a non-empty list of readings")
    readings = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError(f"accounting.yaml signature_size.{where}: a reading is a mapping")
        low_bytes, high_bytes = int(item["overhead_bytes"]["low"]), int(item["overhead_bytes"]["high"])
        low_k, high_k = float(item["bytes_per_thought_token"]["low"]), float(item["bytes_per_thought_token"]["high"])
        if not (0 <= low_bytes <= high_bytes and 0 < low_k <= high_k):
            raise ValueError(f"accounting.yaml signature_size.{where}: reading {item} is not two ordered ranges")
        readings.append((low_bytes, high_bytes, low_k, high_k))
    return tuple(readings)


def _load_replayed_thoughts(raw: list[dict[str, object]], generations: set[str]) -> tuple[_ThoughtRule, ...]:
    """The entries in order; every (api, call, generation) in use needs one without `models` / `since`."""
    rules: list[_ThoughtRule] = []
    for entry in raw:
        scope, billed = str(entry["scope"]), str(entry["billed"])
        if scope not in THOUGHT_SCOPES or billed not in THOUGHT_BILLING:
            raise ValueError(f"accounting.yaml replayed_thoughts: scope {scope!r} / billed {billed!r} unknown")
        since = dt.date.fromisoformat(str(entry["since"])) if entry.get("since") else None
        until = dt.date.fromisoformat(str(entry["until"])) if entry.get("until") else None
        # An unknown billing is a window between two recorded answers: both its ends are data.
        window = billed in THOUGHT_BILLING_WINDOWS
        if window != (since is not None and until is not None) or (since and until and since > until):
            raise ValueError(f"accounting.yaml replayed_thoughts: billed {billed!r} with since {since} / until {until}")
        rules.append(
            _ThoughtRule(
                keys=frozenset(_rule_keys(entry)),
                models=_strings(entry["models"]) if entry.get("models") else (),
                since=since,
                until=until,
                rule=ReplayedThoughts(
                    scope,
                    billed,
                    str(entry["confidence"]),
                    _strings(entry.get("evidence") or []),
                    window=(since, until) if since and until and window else None,
                ),
            )
        )
    for api in APIS:
        for call in CALLS:
            for gen in generations:
                if not any((api, call, gen) in r.keys and not r.models and not r.since and not r.until for r in rules):
                    raise ValueError(f"accounting.yaml replayed_thoughts: no general rule for {(api, call, gen)}")
    return tuple(rules)


def _dated_aliases(
    raw: dict[str, list[dict[str, object]]], by_name: dict[str, ModelInfo]
) -> dict[str, tuple[DatedAlias, ...]]:
    """An alias whose target changed over time (`gemini-flash-latest`): its periods, checked not to overlap."""
    out: dict[str, tuple[DatedAlias, ...]] = {}
    for name, periods in raw.items():
        if name in by_name:
            raise ValueError(f"models.yaml: dated alias {name!r} is also a model name or alias")
        items = []
        for period in periods:
            start, until = period.get("from"), period.get("until")
            items.append(
                DatedAlias(
                    name=name,
                    model=str(period["model"]),
                    start=dt.date.fromisoformat(str(start)) if start else None,
                    until=dt.date.fromisoformat(str(until)) if until else None,
                    source=str(period["source"]),
                )
            )
        items.sort(key=lambda a: a.start or dt.date.min)
        for a, b in zip(items, items[1:], strict=False):
            if a.until is None or b.start is None or a.until >= b.start:
                raise ValueError(f"models.yaml: dated alias {name!r}: periods overlap")
        for item in items:
            if item.model not in by_name:
                raise ValueError(f"models.yaml: dated alias {name!r} points at unknown model {item.model!r}")
        out[name] = tuple(items)
    return out


def _redirects(
    raw: dict[str, list[dict[str, object]]], by_name: dict[str, ModelInfo]
) -> dict[str, tuple[Redirect, ...]]:
    """models.yaml `redirects`: per requested name, its redirects by API and first day (checked: both names known, no
    two on one API from the same day, evidence given)."""
    out: dict[str, tuple[Redirect, ...]] = {}
    for name, periods in raw.items():
        if name not in by_name:
            raise ValueError(f"models.yaml: redirect of {name!r}, which is no model name or alias")
        items = []
        for period in periods:
            served_by = str(period["served_by"])
            spelling = match_version(served_by, by_name)
            if spelling is None:
                raise ValueError(f"models.yaml: redirect of {name!r} to unknown model {served_by!r}")
            item = Redirect(
                name=name,
                served_by=served_by,
                apis=_strings(period.get("apis") or list(APIS)),
                start=dt.date.fromisoformat(str(period["from"])),
                evidence=_strings(period.get("evidence") or []),
                source=str(period["source"]).strip(),
                model=by_name[spelling].id,
            )
            if set(item.apis) - set(APIS) or not item.evidence:
                raise ValueError(f"models.yaml: redirect of {name!r}: apis must be among {APIS}, evidence given")
            items.append(item)
        starts = [(api, item.start) for item in items for api in item.apis]
        if len(starts) != len(set(starts)):
            raise ValueError(f"models.yaml: redirect of {name!r}: two redirects on one API from the same day")
        out[name] = tuple(sorted(items, key=lambda r: r.start))
    return out


def _not_countable(raw: list[dict[str, object]], by_name: dict[str, ModelInfo]) -> dict[str, NotCountable]:
    out: dict[str, NotCountable] = {}
    for group in raw:
        kind, reason = str(group["kind"]), str(group["reason"]).strip()
        if kind not in ("partner", "generation") or not reason:
            raise ValueError(f"models.yaml not_countable: a group needs kind partner|generation and a reason: {group}")
        item = NotCountable(_strings(group["models"]), kind, reason)
        for name in item.models:
            if name in by_name or name in out:
                raise ValueError(f"models.yaml not_countable: {name!r} is listed twice")
            out[name] = item
    return out


def _strings(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(str(item) for item in items)


# the fields counting.schema_texts can add
SCHEMA_STRINGS = frozenset(("title", "propertyOrdering", "default", "number_default"))


def _schema_strings(value: object, where: str) -> tuple[str, ...]:
    names = _strings(value or [])
    unknown = sorted(set(names) - SCHEMA_STRINGS)
    if unknown:
        raise ValueError(f"accounting.yaml {where}: unknown schema_strings {unknown} (known: {sorted(SCHEMA_STRINGS)})")
    return names


_HISTORY_WEIGHTS = (
    "per_call",
    "per_response",
    "per_argument",
    "per_number",
    "per_nested_object",
    "per_boolean",
    "per_list",
    "per_absent_response",
    "per_call_with_several_args",
    "per_string_list",
    "per_nested_number",
    "per_control_character",
    "per_argument_beyond_two",
    "per_nested_object_beside_keys",
    "per_nested_object_in_list",
)


def _history_overrides(history: dict[str, object]) -> tuple[tuple[tuple[str, ...], tuple[tuple[str, int], ...]], ...]:
    """function_history `model_overrides`: [{models: [patterns], <weight>: n, evidence: [...]}, ...]."""
    out = []
    entries = history.get("model_overrides") or []
    if not isinstance(entries, list):
        raise ValueError("accounting.yaml function_history: model_overrides is a list")
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("models"):
            raise ValueError(f"accounting.yaml function_history: a model override needs models: {entry}")
        unknown = set(entry) - {"models", "evidence", "confidence", *_HISTORY_WEIGHTS}
        if unknown:
            raise ValueError(f"accounting.yaml function_history: unknown override keys {sorted(unknown)}")
        weights = tuple((name, int(str(entry[name]))) for name in _HISTORY_WEIGHTS if name in entry)
        out.append((_strings(entry["models"]), weights))
    return tuple(out)


def _rule_keys(rule: dict[str, object]) -> list[tuple[str, str, str]]:
    return [
        (api, call, gen)
        for api in _strings(rule["api"])
        for call in _strings(rule["call"])
        for gen in _strings(rule["generations"])
    ]


def _load_accounting(
    raw: dict[str, list[dict[str, object]]], generations: set[str]
) -> dict[tuple[str, str, str], Accounting]:
    """Both tables keyed by (api, call, generation); each key covered exactly once, every generation in use covered."""
    tables: dict[str, dict[tuple[str, str, str], dict[str, object]]] = {}
    for table in ACCOUNTING_TABLES:
        keyed: dict[tuple[str, str, str], dict[str, object]] = {}
        for rule in raw[table]:
            for key in _rule_keys(rule):
                if key in keyed:
                    raise ValueError(f"accounting.yaml {table}: {key} is covered twice")
                keyed[key] = rule
        tables[table] = keyed
    out: dict[tuple[str, str, str], Accounting] = {}
    for api in APIS:
        for call in CALLS:
            for gen in sorted(generations):
                key = (api, call, gen)
                role, tool = tables["role_overhead"].get(key), tables["tool_templates"].get(key)
                schema = tables["response_schema"].get(key)
                history = tables["function_history"].get(key)
                stops = tables["stop_sequences"].get(key)
                newlines = tables["output_newlines"].get(key)
                if tool is None and call == EMBED_CONTENT:  # embedContent takes no tools
                    tool = {"per_declaration": 0, "per_property": 0, "per_typed_node": 0, "per_nullable": 0}
                    tool["confidence"] = "confirmed"
                if (
                    role is None
                    or tool is None
                    or schema is None
                    or history is None
                    or stops is None
                    or newlines is None
                ):
                    raise ValueError(f"accounting.yaml: no rule for {key}")
                out[key] = Accounting(
                    api=api,
                    call=call,
                    generation=gen,
                    per_role_content=int(str(role["per_role_content"])),
                    role_evidence=_strings(role.get("evidence") or []),
                    per_empty_user_content=int(str(role.get("per_empty_user_content", 0))),
                    tools=ToolTemplate(
                        per_declaration=int(str(tool["per_declaration"])),
                        per_property=int(str(tool["per_property"])),
                        per_typed_node=int(str(tool["per_typed_node"])),
                        per_nullable=int(str(tool["per_nullable"])),
                        per_description=int(str(tool.get("per_description", 0))),
                        per_object=int(str(tool.get("per_object", 0))),
                        per_items=int(str(tool.get("per_items", 0))),
                        per_declaration_with_described_properties=int(
                            str(tool.get("per_declaration_with_described_properties", 0))
                        ),
                        counts_json_schemas=bool(tool.get("json_schemas_counted", True)),
                        schema_strings=_schema_strings(tool.get("schema_strings"), "tool_templates"),
                        inlines_refs=bool(tool.get("inlines_refs", False)),
                        recursion_levels=_recursion_levels(tool.get("recursion_levels", 1)),
                        reads_root_descriptions=bool(tool.get("reads_root_descriptions", True)),
                        reads_formats=bool(tool.get("reads_formats", True)),
                        description_indent=int(str(tool.get("description_indent", 0))),
                        reads_description_trailing_newlines=bool(tool.get("reads_description_trailing_newlines", True)),
                        written_as=_declarations_written_as(tool),
                        fields_left_out=_strings(tool.get("fields_left_out") or []),
                        json_schema_enum_format=str(tool.get("json_schema_enum_format") or ""),
                        **{name: int(str(tool.get(name, 0))) for name in _TOOL_WEIGHTS},
                        confidence=str(tool["confidence"]),
                        evidence=_strings(tool.get("evidence") or []),
                    ),
                    counts_response_schema=bool(schema["counted"]),
                    counts_response_json_schema=bool(schema["json_schema_counted"]),
                    response_schema_strings=_schema_strings(schema.get("schema_strings"), "response_schema"),
                    response_schema_per_typed_node=int(str(schema.get("per_typed_node", 0))),
                    response_schema_per_bounded_node=int(str(schema.get("per_bounded_node", 0))),
                    response_schema_per_closed_object=int(str(schema.get("per_closed_object", 0))),
                    response_schema_written_as=_response_schema_written_as(schema),
                    response_schema_left_out=_strings(schema.get("fields_left_out") or []),
                    function_history=FunctionHistory(
                        int(str(history["per_call"])),
                        int(str(history["per_response"])),
                        int(str(history["per_argument"])),
                        _payload(history),
                        int(str(history.get("per_number", 0))),
                        int(str(history.get("per_nested_object", 0))),
                        int(str(history.get("per_boolean", 0))),
                        int(str(history.get("per_list", 0))),
                        int(str(history.get("per_absent_response", 0))),
                        model_overrides=_history_overrides(history),
                        per_call_with_several_args=int(str(history.get("per_call_with_several_args", 0))),
                        per_string_list=int(str(history.get("per_string_list", 0))),
                        per_nested_number=int(str(history.get("per_nested_number", 0))),
                        per_control_character=int(str(history.get("per_control_character", 0))),
                        per_argument_beyond_two=int(str(history.get("per_argument_beyond_two", 0))),
                        per_nested_object_beside_keys=int(str(history.get("per_nested_object_beside_keys", 0))),
                        per_nested_object_in_list=int(str(history.get("per_nested_object_in_list", 0))),
                    ),
                    billed_output=_billed_output(stops),
                    bills_edge_newlines=_edge_newlines(newlines),
                    bills_trailing_whitespace=_edge_newlines(newlines, "trailing_whitespace", "billed"),
                    sources={
                        name: (str(rule.get("confidence", "")), _strings(rule.get("evidence") or []))
                        for name, rule in (
                            ("role_overhead", role),
                            ("tool_templates", tool),
                            ("response_schema", schema),
                            ("function_history", history),
                            ("stop_sequences", stops),
                            ("output_newlines", newlines),
                        )
                    },
                )
    return out


def _payload(rule: dict[str, object]) -> str:
    value = str(rule.get("payload", "texts"))
    if value not in FUNCTION_PAYLOADS:
        raise ValueError(f"accounting.yaml function_history: payload {value!r} is not one of {FUNCTION_PAYLOADS}")
    return value


def _edge_newlines(rule: dict[str, object], key: str = "edge_newlines", default: str | None = None) -> bool:
    value = str(rule[key] if default is None else rule.get(key, default))
    if value not in ("billed", "not_billed"):
        raise ValueError(f"accounting.yaml output_newlines: {key} {value!r} is not billed or not_billed")
    return value == "billed"


def _billed_output(rule: dict[str, object]) -> str:
    value = str(rule["billed_output"])
    if value not in BILLED_OUTPUTS:
        raise ValueError(f"accounting.yaml stop_sequences: billed_output {value!r} is not one of {BILLED_OUTPUTS}")
    return value


@cache  # read per request (batch lines too): the answer depends only on these arguments
def replayed_thoughts_for(model: ModelInfo, api: str, call: str, as_of: dt.date | None = None) -> ReplayedThoughts:
    """Which replayed signatures bill their thoughts for `model` on `api` / `call` on `as_of` (today when None)."""
    key = (api, call, model.rules_generation)
    for entry in _registry().replayed_thoughts:
        if key not in entry.keys:
            continue
        if entry.models and not any(fnmatch.fnmatchcase(model.rules_id, pattern) for pattern in entry.models):
            continue
        if entry.since and as_of is not None and as_of < entry.since:
            continue
        if entry.until and (as_of is None or as_of > entry.until):
            continue
        return entry.rule
    raise AssertionError(f"no replayed_thoughts rule for {key}")  # the loader checked every key


@cache  # read per request: the answer depends only on these arguments
def text_parts_joined_for(model: ModelInfo, api: str, call: str) -> TextPartsJoined | None:
    """The rule where a Content's consecutive text parts are read as one text (accounting.yaml `text_parts_joined`),
    else None."""
    key = (api, call, model.rules_generation)
    for keys, models, rule in _registry().text_parts_joined:
        if key in keys and (not models or any(fnmatch.fnmatchcase(model.rules_id, pattern) for pattern in models)):
            return rule
    return None


def counts_text_pieces_apart(model: ModelInfo, api: str, call: str) -> bool:
    """True where a response's text parts are counted each on its own (accounting.yaml `text_pieces_apart`)."""
    return (api, call, model.rules_generation) in _registry().text_pieces_apart


@cache  # read per request (batch lines too): the answer depends only on these arguments
def raw_prompt_rule_for(model: ModelInfo, api: str, as_of: dt.date | None = None) -> RawPromptRule | None:
    """The rule of rawPromptTokenCount for `model` on `api` on `as_of` (today when None), or None where answers do
    not report it (accounting.yaml `raw_prompt_tokens`)."""
    for rule in _registry().raw_prompt:
        if rule.api != api or not any(fnmatch.fnmatchcase(model.rules_id, pattern) for pattern in rule.models):
            continue
        if as_of is None or as_of >= rule.since:
            return rule
    return None


def usage_fields_for(api: str, as_of: dt.date | None = None) -> dict[str, str]:
    """usageMetadata's non-count fields on `api` on `as_of` (today when None): accounting.yaml `usage_fields`."""
    return {
        name: value
        for field_api, name, value, since in _registry().usage_fields
        if field_api == api and (as_of is None or as_of >= since)
    }


def signature_size() -> SignatureSize:
    return _registry().signature_size


def dated_weights() -> tuple[DatedWeights, ...]:
    """accounting.yaml `dated_weights`: weights of a table that were different up to a day."""
    return _registry().dated.weights


def dated_weights_on(api: str, call: str, generation: str, day: dt.date | None) -> list[DatedWeights]:
    """The `dated_weights` entries in force for this API, call and generation on `day` (None: today, which none is)."""
    return list(_dated_weights_on(api, call, generation, day))


# The dated look-ups below are read several times per request (batch lines too) and depend only on their arguments
# (a day each: a bounded memo, as a long-running server meets a new day now and then).
_DAYS_KEPT = 4096


@lru_cache(maxsize=_DAYS_KEPT)
def _dated_weights_on(api: str, call: str, generation: str, day: dt.date | None) -> tuple[DatedWeights, ...]:
    if day is None:
        return ()
    return tuple(entry for entry in _registry().dated.weights if entry.applies(api, call, generation, day))


def dated_weights_unsure_on(api: str, call: str, generation: str, day: dt.date | None) -> list[DatedWeights]:
    """The `dated_weights` entries (`bounded_between`) for this API, call and generation whose change no recorded
    answer dates on `day`: the day lies between the entry's span and the nearest answer seen without it
    (`seen_without_before` / `seen_without_after`), so the entry's weights may hold or not."""
    return list(_dated_weights_unsure_on(api, call, generation, day))


@lru_cache(maxsize=_DAYS_KEPT)
def _dated_weights_unsure_on(api: str, call: str, generation: str, day: dt.date | None) -> tuple[DatedWeights, ...]:
    if day is None:
        return ()
    return tuple(
        entry
        for entry in _registry().dated.weights
        if entry.bounded_between
        and api in entry.apis
        and call in entry.calls
        and generation in entry.generations
        and (
            (entry.seen_without_after is not None and entry.until < day < entry.seen_without_after)
            or (entry.seen_without_before is not None and entry.seen_without_before < day < entry.since)
        )
    )


@lru_cache(maxsize=_DAYS_KEPT)
def dated_rule_on(section: str, api: str, call: str, generation: str, day: dt.date | None) -> DatedRule | None:
    """The entry of accounting.yaml `section` (e.g. `thoughts_in_candidates`) in force on `day` (None: today)."""
    if day is None:
        return None
    entries = (_registry().dated.rules or {})[section]  # KeyError: a section the registry does not read
    return next((rule for rule in entries if rule.applies(api, call, generation, day)), None)


def thought_reach_for(api: str, call: str, generation: str) -> ThoughtReach | None:
    """accounting.yaml `replayed_thoughts_reach` for this API, call and generation; None where the scope alone says."""
    return (_registry().dated.reach or {}).get((api, call, generation))


def server_tool_call_rules() -> tuple[ServerToolCall, ...]:
    """accounting.yaml `server_tool_calls`."""
    return _registry().dated.server_tools


@lru_cache(maxsize=_DAYS_KEPT)
def output_calls_for(api: str, call: str, generation: str, day: dt.date | None, model: str = "") -> OutputCalls | None:
    """The accounting.yaml `function_call_outputs` entry in force on `day` (None: today's service), or None. `model`
    (a rules id): an entry whose `models` name it comes before its generation's entry without `models`."""
    on = day if day is not None else dt.date.max
    rules = [rule for rule in _registry().dated.output_calls if rule.applies(api, call, generation, on)]
    own = [rule for rule in rules if rule.models and model and rule.for_model(model)]
    return next(iter(own or [rule for rule in rules if not rule.models]), None)


@lru_cache(maxsize=_DAYS_KEPT)
def streamed_arguments_for(
    api: str, call: str, generation: str, day: dt.date | None, where: str
) -> tuple[StreamedArguments, ...]:
    """The accounting.yaml `streamed_call_arguments` entries in force on `day` (None: today's service) for calls read
    `where` ("output" or "history")."""
    on = day if day is not None else dt.date.max
    return tuple(
        rule
        for rule in _registry().dated.streamed_arguments
        if rule.where == where and rule.applies(api, call, generation, on)
    )


@lru_cache(maxsize=_DAYS_KEPT)
def tool_run_bounds_for(api: str, call: str, generation: str, day: dt.date | None) -> tuple[ToolRunBounds, ...]:
    """The accounting.yaml `tool_runs_in_prompt` entries in force on `day` (None: today's service)."""
    on = day if day is not None else dt.date.max
    return tuple(rule for rule in _registry().dated.tool_runs if rule.applies(api, call, generation, on))


def second_pass_bounds_for(model: ModelInfo, api: str, call: str, day: dt.date | None) -> SecondPassBounds | None:
    """The accounting.yaml `prompt_second_pass` entry for the serving `model` on `day` (None: today's service)."""
    on = day if day is not None else dt.date.max
    for rule in _registry().dated.second_pass:
        if rule.applies(api, call, model.rules_generation, on) and any(
            fnmatch.fnmatchcase(model.rules_id, pattern) for pattern in rule.models
        ):
            return rule
    return None


@lru_cache(maxsize=_DAYS_KEPT)
def code_parts_for(api: str, call: str, generation: str, day: dt.date | None) -> CodeParts | None:
    """The accounting.yaml `code_execution_parts` entry in force on `day` (None: today's service), or None."""
    on = day if day is not None else dt.date.max
    return next((rule for rule in _registry().dated.code_parts if rule.applies(api, call, generation, on)), None)


def all_models() -> tuple[ModelInfo, ...]:
    return _registry().models


def registry_version() -> str:
    """models.yaml's `version`: the date of the model list."""
    return _registry().version


def dated_aliases() -> dict[str, tuple[DatedAlias, ...]]:
    return _registry().dated_aliases


def redirect_for(name: str, *, api: str, on: dt.date | None = None) -> Redirect | None:
    """The redirect that serves a request naming `name` on `api` on `on` (today when None), if any: the latest
    one started by then. A version spelling (`models/…`, `-001`) finds the name it is a spelling of."""
    if not _registry().redirects or not isinstance(name, str):
        return None
    return _redirect_on(name, api, on or dt.date.today())


@lru_cache(maxsize=_DAYS_KEPT)  # read per request; callers repeat a few names (and the day asked, not None: today's)
def _redirect_on(name: str, api: str, day: dt.date) -> Redirect | None:
    table = _registry().redirects
    found = match_version(bare_model_name(name.strip()), _registry().by_name)
    if found is None:
        return None
    names = (found, _registry().by_name[found].id)
    started = [r for key in dict.fromkeys(names) for r in table.get(key, ()) if api in r.apis and r.start <= day]
    return max(started, key=lambda r: r.start) if started else None


def not_countable() -> dict[str, NotCountable]:
    """Model ids a user can call that are not counted offline, each with why."""
    return _registry().not_countable


def accounting_for(model: ModelInfo, api: str, call: str) -> Accounting:
    """The accounting rules of `model`'s generation on `api` for `call` (countTokens / generateContent)."""
    return _registry().accounting[(api, call, model.rules_generation)]


def tokenizer_for(model: ModelInfo, api: str, as_of: dt.date | None = None) -> str:
    """The vocabulary `model` counted with on `api` on `as_of` (today's service when None). The history is
    read by the model's accounting generation (the experimental 2.0 models count like 2.5)."""
    if as_of is None:
        return model.tokenizer
    return _tokenizer_on(model.rules_generation, model.tokenizer, api, as_of)


@lru_cache(maxsize=_DAYS_KEPT)  # read twice per request: keyed by what it reads of the model (cheaper to hash)
def _tokenizer_on(generation: str, tokenizer: str, api: str, as_of: dt.date) -> str:
    for era in sorted(_registry().tokenizer_history, key=lambda e: e.until):
        if generation in era.generations and api in era.apis and as_of <= era.until:
            return era.family
    return tokenizer


def tokenizer_history() -> tuple[TokenizerEra, ...]:
    return _registry().tokenizer_history


# Resource-name prefixes the REST surface and the SDKs put in front of a model id.
_PREFIXES = (
    re.compile(r"^projects/[^/]+/locations/[^/]+/publishers/[^/]+/models/"),
    re.compile(r"^publishers/[^/]+/models/"),
    re.compile(r"^models/"),
)
# Version suffixes that name a snapshot of a model the registry lists once.
VERSION_SUFFIXES = (
    re.compile(r"@\d+$"),
    re.compile(r"-\d{3}$"),
    re.compile(r"-latest$"),
    re.compile(r"-preview-\d{2}-\d{2,4}$"),
    re.compile(r"-exp-\d{4}$"),
)


def bare_model_name(name: str) -> str:
    """`projects/p/locations/l/publishers/google/models/x@001` -> `x@001`."""
    for prefix in _PREFIXES:
        name = prefix.sub("", name, count=1)
    return name


def match_version(
    bare: str, known: Container[str], suffixes: Sequence[re.Pattern[str]] = VERSION_SUFFIXES
) -> str | None:
    """`bare`, or `bare` with version suffixes stripped one at a time: the first spelling in `known`."""
    candidate = bare
    while candidate not in known:
        for suffix in suffixes:
            shorter = suffix.sub("", candidate)
            if shorter != candidate:
                candidate = shorter
                break
        else:
            return None
    return candidate


def resolve(
    name: str,
    *,
    api: str = "vertex",
    api_version: str | None = None,
    on: dt.date | None = None,
    any_api: bool = False,
) -> ModelInfo:
    """The registry entry for any accepted spelling of a model name; NOT_FOUND names the closest ones.

    A dated alias (`gemini-flash-latest`) resolves to the model it meant on `on` (default: today), a redirected
    name (models.yaml `redirects`) to the model that served it on `api` that day (pricing's `any_api` look-up keeps
    the name's own model). A model `api`
    does not serve (models.yaml `apis`) is NOT_FOUND there, as the service answers, unless `any_api` (pricing
    looks a name up for either API). A model the service serves but vertexmeter cannot count (a partner model, an
    image or video generator) is FAILED_PRECONDITION, with why. `api_version` (v1, v1beta, …) only shapes the
    Gemini API's NOT_FOUND message, as the service does.
    """
    if api not in APIS:
        raise invalid_argument(f"Unknown API dialect {api!r}; expected one of: {', '.join(APIS)}.")
    if not isinstance(name, str) or not name.strip():
        raise invalid_argument("A model name is required.", "model")
    registry = _registry()
    day = on or dt.date.today()
    key = (name, api, day, any_api)
    known = registry.resolved.get(key)
    if known is not None:
        return known
    bare = bare_model_name(name.strip())
    dated = registry.dated_aliases.get(bare)
    if dated is not None:
        info = registry.by_name[_dated_target(dated, day)]
    else:
        found = match_version(bare, registry.by_name)
        if found is None:
            refused = _not_countable_entry(bare)
            if refused is not None:
                raise _cannot_count(bare, *refused)
            raise _unknown_model(name.strip(), bare, api, api_version or "v1beta")
        info = registry.by_name[found]
        redirect = None if any_api else redirect_for(found, api=api, on=day)
        if redirect is not None:
            info = registry.by_name[redirect.model]
    if not any_api and api not in info.apis:
        served = " and ".join("Vertex AI" if a == "vertex" else "the Gemini API" for a in info.apis)
        raise _unknown_model(name.strip(), bare, api, api_version or "v1beta", f" {info.id} is served by {served}.")
    if len(registry.resolved) >= _MAX_RESOLVED:
        registry.resolved.clear()
    registry.resolved[key] = info
    return info


def _served_on(entry: dict[str, Any]) -> tuple[str, ...]:
    apis = tuple(str(a) for a in entry.get("apis") or APIS)
    unknown = sorted(set(apis) - set(APIS))
    if unknown or not apis:
        raise ValueError(f"models.yaml: {entry.get('id')}: apis {unknown or apis} is not a subset of {APIS}")
    return apis


def _dated_target(periods: tuple[DatedAlias, ...], on: dt.date) -> str:
    for period in periods:
        if (period.start is None or period.start <= on) and (period.until is None or on <= period.until):
            return period.model
    first = periods[0]
    raise not_found(
        f"models/{first.name} named no model on {on.isoformat()}: the registry knows it from "
        f"{(first.start or dt.date.min).isoformat()}."
    )


# Partner ids: `@version` tags and a publisher folder (`meta/llama-…`, `xai/grok-…`) name the same model.
_PARTNER_SUFFIXES = (re.compile(r"@[\w.-]+$"),)


def _not_countable_entry(bare: str) -> tuple[str, NotCountable] | None:
    table = _registry().not_countable
    for candidate in (bare, bare.rsplit("/", 1)[-1]):
        found = match_version(candidate, table, _PARTNER_SUFFIXES)
        if found is not None:
            return found, table[found]
    return None


def _cannot_count(bare: str, model: str, entry: NotCountable) -> VertexMeterError:
    if entry.kind == "partner":
        return failed_precondition(
            f"{bare} is served on Vertex AI, but vertexmeter cannot count its tokens offline: {entry.reason} "
            "Counting needs the vendor's own endpoint (its count-tokens call or the usage a response reports); "
            f"pricing from reported usage works: `vertexmeter price -m {model}`, `vertexmeter bill`."
        )
    return failed_precondition(
        f"{bare} is served by Google, but vertexmeter has no token count for it: {entry.reason} "
        f"Pricing works per operation: `vertexmeter price -m {model}`."
    )


def _unknown_model(full: str, bare: str, api: str, api_version: str, served: str = "") -> VertexMeterError:
    known = sorted(registry_name for registry_name in _registry().by_name)
    # A name from another vendor (gpt-4o) is like none closely; the loosest match still points somewhere.
    close = difflib.get_close_matches(bare, known, n=3, cutoff=0.5) or difflib.get_close_matches(
        bare, known, n=3, cutoff=0.3
    )
    hint = served or (f" Closest known models: {', '.join(close)}." if close else "")
    hint += " Run `vertexmeter models` for the full list."
    if api == "gemini":
        return not_found(
            f"models/{bare} is not found for API version {api_version}, or is not supported for countTokens. "
            f"Call ListModels to see the list of available models and their supported methods.{hint}"
        )
    resource = full if full.startswith(("projects/", "publishers/")) else f"publishers/google/models/{bare}"
    return not_found(
        f"Publisher Model `{resource}` was not found or your project does not have access to it. "
        "Please ensure you are using a valid model version. For more information, see: "
        f"https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions.{hint}"
    )
