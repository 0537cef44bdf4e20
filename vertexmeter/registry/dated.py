"""accounting.yaml's rules that hold for a span of days or for what a response says ran: `dated_weights`,
`thoughts_in_candidates`, `trailing_whitespace_not_billed`, `replayed_thoughts_reach`, `server_tool_calls`,
`code_execution_parts`, `function_call_outputs`, `streamed_call_arguments`, `tool_runs_in_prompt` and
`prompt_second_pass`, parsed and checked
with the rest of the data set (so `vertexmeter data update` refuses a broken one) and read by counting through the
registry."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from dataclasses import dataclass
from typing import Any

from vertexmeter.vocabulary import SERVER_TOOL_PARTS

# The tables whose weights a dated entry may replace, and the Accounting field that holds each ("": the table's
# weights are Accounting's own fields, named in ACCOUNTING_WEIGHTS).
DATED_TABLES = {
    "tool_templates": "tools",
    "function_history": "function_history",
    "role_overhead": "",
    "response_schema": "",
}
# For the tables whose weights are Accounting's own fields: each weight's accounting.yaml name and its field.
ACCOUNTING_WEIGHTS = {
    "role_overhead": {"per_role_content": "per_role_content", "per_empty_user_content": "per_empty_user_content"},
    "response_schema": {
        "counted": "counts_response_schema",
        "json_schema_counted": "counts_response_json_schema",
        "per_typed_node": "response_schema_per_typed_node",
        "per_bounded_node": "response_schema_per_bounded_node",
        "per_closed_object": "response_schema_per_closed_object",
    },
}
# Weights of the other tables whose accounting.yaml name is not their field's.
TABLE_FIELD_NAMES = {"tool_templates": {"json_schemas_counted": "counts_json_schemas"}}
# accounting.yaml sections of DatedRule entries (a span of days, no weights).
DATED_RULE_SECTIONS = ("thoughts_in_candidates", "trailing_whitespace_not_billed")

_EARLIER = ("never", "when_current_replays")
_SIGNATURES = ("per_response", "per_part")
# `may_bill_none` shapes: a streamed response's signature on a model turn of two or more function calls.
_MAY_BILL_NONE = ("streamed_parallel_calls",)
_FALLBACKS = ("user_text_urls",)
_BOUNDS = ("last_user_text_twice", "answer_segments", "invocations_requested")
_READS = ("webSearchQueries", "retrievedUrls", "citations", "grounding_chunks", "tool_calls")
# What a rule whose call's size is not known counts, and how it bounds a response that cannot show it.
_BOUNDED_READS = {
    "citations": "answer_segments",
    "grounding_chunks": "answer_segments",
    "tool_calls": "invocations_requested",
}
# The bounds of a known call's text without a response that may reach further for each line or sentence.
_SEGMENT_BOUNDS = ("last_user_text_twice", "answer_segments")
_ESTIMATE_WHEN = ("always", "first_turn")
_CODE = ("as_written", "edges_stripped", "not_billed")
_CALL_PAYLOADS = ("texts", "json", "escaped_strings")
# Where a streamed call's arguments are read (a response's candidate or a model turn of the request's history) and
# which of its arguments an entry weighs (those streamed as stringValue pieces, or the others: number, bool, null).
_STREAMED_WHERE = ("output", "history")
_STREAMED_VALUES = ("string", "other")
# The built-in tools that run server-side, by their Tool field (the request parser gives the camelCase name).
BUILT_IN_TOOLS = ("codeExecution", "googleSearch", "urlContext", "fileSearch", "googleMaps")


@dataclass(frozen=True, kw_only=True)
class DaySpan:
    """Where and when an accounting.yaml entry holds: its APIs, calls and generations, from `since` to `until`
    (inclusive; an entry that names neither holds on every day)."""

    apis: tuple[str, ...]
    calls: tuple[str, ...]
    generations: tuple[str, ...]
    since: dt.date = dt.date.min
    until: dt.date = dt.date.max
    confidence: str = ""
    evidence: tuple[str, ...] = ()
    # The recorded answers nearest the span that show the rule not holding: the last day before `since` and the
    # first after `until` (None: no such answer). The change lies between each and the span's edge.
    seen_without_before: dt.date | None = None
    seen_without_after: dt.date | None = None

    def applies(self, api: str, call: str, generation: str, day: dt.date) -> bool:
        return (
            self.since <= day <= self.until
            and api in self.apis
            and call in self.calls
            and generation in self.generations
        )


@dataclass(frozen=True, kw_only=True)
class DatedRule(DaySpan):
    """A dated entry (e.g. `thoughts_in_candidates`): in force from `since` (the first day, or always before
    `until` when the entry names none) up to and including `until`."""


@dataclass(frozen=True, kw_only=True)
class DatedWeights(DatedRule):
    """One `dated_weights` entry: `weights` of `table` in force up to and including `until`. `bounded_between`: on
    the days between its span and `seen_without_before` / `seen_without_after` an answer its weights would change
    carries bounds that reach both readings."""

    table: str
    weights: tuple[tuple[str, int], ...]
    bounded_between: bool = False


@dataclass(frozen=True)
class ThoughtReach:
    """`replayed_thoughts_reach`: how far a `replayed_thoughts` rule reaches for one API, call and generation.
    `earlier_turns`: "when_current_replays" bills the earlier turns' signatures too when the current turn replays
    one (else only the scope's). `signatures`: "per_part" bills a signature each time a part carries it (parallel
    calls that repeat their response's signature), "per_response" once per producing response. `not_thoughts`: the
    part fields whose signature carries something else than thoughts (a server-side tool's call or result): no
    thoughts are billed or estimated from it. `may_bill_none`: (shape, model patterns, reason, evidence) where the
    recorded answers of one repository billed none of a signature's thoughts that the rule bills: the low end drops
    them (known or estimated), the point keeps the rule's reading."""

    earlier_turns: str = "never"
    signatures: str = "per_response"
    not_thoughts: tuple[str, ...] = ()
    confidence: str = ""
    evidence: tuple[str, ...] = ()
    may_bill_none: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...]], ...] = ()

    def bills_maybe_none(self, shape: str, model: str) -> str | None:
        """The reason where a signature of this shape, on this serving model (a rules id), may bill none; else None."""
        for own, models, reason, _ in self.may_bill_none:
            if own == shape and any(fnmatch.fnmatchcase(model, pattern) for pattern in models):
                return reason
        return None


@dataclass(frozen=True)
class ServerToolCall:
    """One `server_tool_calls` entry: the call a model writes to a server-side tool that ran, billed in its output."""

    apis: tuple[str, ...]
    calls: tuple[str, ...]
    generations: tuple[str, ...]
    tool: str  # the Tool field that declares it: googleSearch, urlContext
    template: str  # the call's text; `{list}` is the JSON list of what it ran
    reads: str  # what the response says it ran: webSearchQueries or retrievedUrls
    request_fallback: str | None
    # Without a response that says what ran: the call is not counted, and the output's bounds reach this text
    # ("last_user_text_twice": the call listing the user's last text twice), None: no bounds.
    bound_without_response: str | None
    confidence: str
    evidence: tuple[str, ...]
    # Tokens each call bills beyond its text (a format the template does not spell: one URL seen, so a constant).
    per_call: int = 0
    # A call text that is only near what bills (one repository, no reading that holds exactly): the point value
    # counts the text + `per_call`, the bounds reach from no call to the text + `per_call_high` (`reason` says
    # why). None: the text is what bills.
    per_call_high: int | None = None
    # Model ids (prefixes) the rule is for, where a generation's models differ; empty: every model of it.
    models: tuple[str, ...] = ()
    # Without a response that says what ran, where `bound_without_response` bounds the call: the point value counts
    # the call listing one query of this many tokens (a typical query), inside the bounds; 0: the call is not counted.
    estimate_query_tokens: int = 0
    # Which requests the estimate is for: "first_turn" (contents without a model turn: a first question, where the
    # search ran in every recorded answer), "always".
    estimate_when: str = "always"
    # With "first_turn": a follow-up (a model turn in the contents) whose answer text is at least this many tokens
    # counts the estimate too (a follow-up that searched reports what it found; one that did not restated the
    # conversation in a few tokens); 0: a follow-up's point value counts no call.
    estimate_follow_up_min_tokens: int = 0
    # A call whose text is not known (no template): the point value counts `per_item` tokens for each item `reads`
    # names, inside bounds from none to `per_item_high` each. `citations`: each grounding chunk a whole response's
    # groundingSupports cite (a search that cites none bounded as one); a response given as text or a Content
    # (`bound_without_response: answer_segments`) counts none, inside bounds up to `per_segment_high` for each line or
    # sentence of its answer. `tool_calls`: each toolCall part of the response whose toolType is in `tool_types`; a
    # text (`bound_without_response: invocations_requested`) counts none, inside bounds up to one call when the
    # request's toolConfig asks for the server-side invocations. `grounding_chunks`: each groundingChunk of a
    # whole response's groundingMetadata (what a file search retrieved), bounded as `citations`. `reason` says why.
    # With a template, `per_segment_high` widens the text-only bounds (`last_user_text_twice`, `answer_segments`)
    # by that many tokens for each line or sentence of the answer.
    per_item: int = 0
    per_item_high: int = 0
    per_segment_high: int = 0
    reason: str = ""
    tool_types: tuple[str, ...] = ()
    # The first day the rule holds (None: always).
    since: dt.date | None = None

    def text(self, items: list[str]) -> str:
        return self.template.replace("{list}", json.dumps(items, ensure_ascii=False))


@dataclass(frozen=True, kw_only=True)
class CodeParts(DaySpan):
    """One `code_execution_parts` entry: how code execution's parts bill, from `since` to `until` (inclusive).
    `code`: a response's executableCode text "as_written", with its edge whitespace left out ("edges_stripped",
    and the text parts around it then end there, each run of them billed as a candidate text of its own), or
    "not_billed"; `per_code_part`: tokens each executableCode part bills beyond its text; `result_billed`: a
    response's codeExecutionResult output is in candidatesTokenCount; `history_billed`: the request's own
    executableCode / codeExecutionResult parts (a replayed turn) are in promptTokenCount."""

    code: str
    per_code_part: int
    result_billed: bool
    history_billed: bool


@dataclass(frozen=True, kw_only=True)
class OutputCalls(DaySpan):
    """One `function_call_outputs` entry: what a functionCall part of a response bills in candidatesTokenCount — its
    name, its args written as `payload` ("texts": their keys and strings, each apart, as a request's are read;
    "json": Python's json.dumps, non-ASCII kept; "escaped_strings": Gemma 4's tool-call text, one token per escape),
    and `per_call` tokens — from `since` to `until` (inclusive). `written_as` (json only): one text the name and args
    are put in (`{name}`, `{args}`) and counted as one string, where the model's tokens span their edges; empty:
    the name and the args each apart. `inside_text`: the calls are part of the candidate's written text, so a text
    part's edge that meets a call is not the candidate's edge (accounting.yaml `output_newlines` leaves out only the
    candidate's). `per_number`: tokens per top-level number value of the args, as function_history's weight of a
    request's. `args_brace_apart` (written_as only): the args' opening brace is a token of its own, apart from the
    text before it and the first key after it. `per_string_ending_in_paren` (<= 0): tokens per top-level string value
    of the args that ends with `)` (a line of code: `print(15)`). `per_string_ending_before_key` (<= 0): tokens per
    top-level string value of the args that ends with one of `string_endings` (a sentence's end: `.`, `!`) and has
    another key after it. `per_lone_string_object_before_key` (<= 0): tokens per top-level object value of the args
    that holds one key, whose value is a string, and has another key after it. `models`: model patterns (fnmatch,
    against a model's rules id: a snapshot's own name, models.yaml `snapshots`) the entry is for, ahead of the entry of
    its generation without them; empty: every model of its generations."""

    payload: str
    per_call: int
    written_as: str = ""
    inside_text: bool = False
    per_number: int = 0
    args_brace_apart: bool = False
    per_string_ending_in_paren: int = 0
    per_string_ending_before_key: int = 0
    string_endings: tuple[str, ...] = ()
    per_lone_string_object_before_key: int = 0
    models: tuple[str, ...] = ()

    def for_model(self, rules_id: str) -> bool:
        return not self.models or any(fnmatch.fnmatchcase(rules_id, pattern) for pattern in self.models)


@dataclass(frozen=True, kw_only=True)
class StreamedArguments(DaySpan):
    """One `streamed_call_arguments` entry: a functionCall whose arguments came as `partialArgs` pieces
    (streamFunctionCallArguments) bills, beside the joined call its table reads (function_call_outputs in an output,
    function_history in the history), `per_argument` tokens per argument streamed (a distinct jsonPath) whose value
    is of `values` ("string": streamed as stringValue pieces; "other": number, bool or null), `where` it is read.
    `low` < `per_argument`: the recorded answers bill between `low` and `per_argument` per argument, which the call
    does not tell; the answer then carries bounds and `reason`."""

    where: str
    values: str
    per_argument: int
    low: int
    reason: str = ""

    @property
    def exact(self) -> bool:
        return self.low == self.per_argument


@dataclass(frozen=True, kw_only=True)
class ToolRunBounds(DaySpan):
    """One `tool_runs_in_prompt` entry: a built-in tool of `tools` that the service runs for the answer bills the
    run (what it fetched, searched or computed) inside promptTokenCount, an amount the request does not hold. The
    prompt is then bounded [point, point + per_run x (1 + replayed runs)]: the tool may not run (low), and each run
    (the answer's own, and each earlier run the request replays: a model turn holding executableCode or toolCall
    parts) may add up to `per_run`. `reason` says so in the answer's bounds."""

    tools: tuple[str, ...]
    per_run: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class SecondPassBounds(DaySpan):
    """One `prompt_second_pass` entry: on these days the models matching `models` (fnmatch patterns of the serving
    model's id) sometimes billed the prompt again, or most of it, for a pass of the service the request does not
    show (the same body billed once on other days). The prompt is then bounded [point, point + point x
    high_per_1000 / 1000]; `reason` says so in the answer's bounds. `first_turn_only`: only a request without a model
    turn (a conversation's first), where every recorded pass was."""

    models: tuple[str, ...]
    high_per_1000: int
    reason: str
    first_turn_only: bool = False

    def high(self, prompt_tokens: int) -> int:
        return -(-prompt_tokens * self.high_per_1000 // 1000)  # rounded up: the bounds hold the whole pass


@dataclass(frozen=True)
class DatedSections:
    """The nine sections, parsed."""

    weights: tuple[DatedWeights, ...] = ()
    rules: dict[str, tuple[DatedRule, ...]] | None = None
    reach: dict[tuple[str, str, str], ThoughtReach] | None = None
    server_tools: tuple[ServerToolCall, ...] = ()
    code_parts: tuple[CodeParts, ...] = ()
    output_calls: tuple[OutputCalls, ...] = ()
    streamed_arguments: tuple[StreamedArguments, ...] = ()
    tool_runs: tuple[ToolRunBounds, ...] = ()
    second_pass: tuple[SecondPassBounds, ...] = ()


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _since(entry: dict[str, Any]) -> dt.date:
    since = _day(entry["since"]) if entry.get("since") else dt.date.min
    if since > _day(entry["until"]):
        raise ValueError(f"accounting.yaml: {entry!r} ends before it starts")
    return since


def _bounded_between(entry: dict[str, Any]) -> bool:
    value = entry.get("bounded_between", False)
    if not isinstance(value, bool) or (
        value and not (entry.get("seen_without_before") or entry.get("seen_without_after"))
    ):
        raise ValueError(
            f"accounting.yaml dated_weights: bounded_between is true or false, beside a seen_without day: {entry!r}"
        )
    return value


def _edges(entry: dict[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    """`seen_without_before` / `seen_without_after`, checked to lie outside the entry's days."""
    before = _day(entry["seen_without_before"]) if entry.get("seen_without_before") else None
    after = _day(entry["seen_without_after"]) if entry.get("seen_without_after") else None
    if (before is not None and before >= _since(entry)) or (after is not None and after <= _day(entry["until"])):
        raise ValueError(f"accounting.yaml: {entry!r} has an answer without the rule inside its days")
    return before, after


def _open_days(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry's confidence, evidence and days; a day not given leaves its end open."""
    return {
        "confidence": str(entry.get("confidence", "")),
        "evidence": _strings(entry.get("evidence") or []),
        "since": _day(entry["since"]) if entry.get("since") else dt.date.min,
        "until": _day(entry["until"]) if entry.get("until") else dt.date.max,
    }


def _whole(value: Any) -> int:
    """A whole number from the data, or -1 (refused by its entry's check) for anything else, booleans included."""
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _scope(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "apis": _strings(entry["api"]),
        "calls": _strings(entry["call"]),
        "generations": _strings(entry["generations"]),
    }


def _weights(raw: list[dict[str, Any]]) -> tuple[DatedWeights, ...]:
    out = []
    for entry in raw:
        table = str(entry["table"])
        if table not in DATED_TABLES:
            raise ValueError(f"accounting.yaml dated_weights: unknown table {table!r}")
        weights = tuple((str(k), int(v)) for k, v in (entry.get("weights") or {}).items())
        if not weights or not entry.get("evidence"):
            raise ValueError("accounting.yaml dated_weights: each entry needs weights and evidence")
        own = ACCOUNTING_WEIGHTS.get(table)
        if own is not None and not {name for name, _ in weights} <= set(own):
            raise ValueError(f"accounting.yaml dated_weights: {table} weights are {sorted(own)}")
        out.append(
            DatedWeights(
                **_scope(entry),
                until=_day(entry["until"]),
                since=_since(entry),
                seen_without_before=_edges(entry)[0],
                seen_without_after=_edges(entry)[1],
                table=table,
                weights=weights,
                bounded_between=_bounded_between(entry),
                confidence=str(entry.get("confidence", "")),
                evidence=_strings(entry["evidence"]),
            )
        )
    return tuple(out)


def _rules(section: str, raw: list[dict[str, Any]]) -> tuple[DatedRule, ...]:
    out = []
    for entry in raw:
        if not entry.get("evidence"):
            raise ValueError(f"accounting.yaml {section}: each entry needs evidence")
        out.append(
            DatedRule(
                **_scope(entry),
                until=_day(entry["until"]),
                since=_since(entry),
                seen_without_before=_edges(entry)[0],
                seen_without_after=_edges(entry)[1],
                confidence=str(entry.get("confidence", "")),
                evidence=_strings(entry["evidence"]),
            )
        )
    return tuple(out)


def _reach(raw: list[dict[str, Any]]) -> dict[tuple[str, str, str], ThoughtReach]:
    out: dict[tuple[str, str, str], ThoughtReach] = {}
    for entry in raw:
        reach = ThoughtReach(
            earlier_turns=str(entry.get("earlier_turns", "never")),
            signatures=str(entry.get("signatures", "per_response")),
            not_thoughts=_strings(entry.get("not_thoughts") or []),
            confidence=str(entry.get("confidence", "")),
            evidence=_strings(entry.get("evidence") or []),
            may_bill_none=tuple(_may_bill_none(item) for item in entry.get("may_bill_none") or []),
        )
        if (
            reach.earlier_turns not in _EARLIER
            or reach.signatures not in _SIGNATURES
            or not set(reach.not_thoughts) <= set(SERVER_TOOL_PARTS)
            or not reach.evidence
        ):
            raise ValueError(f"accounting.yaml replayed_thoughts_reach: {entry!r} (values, evidence)")
        scope = _scope(entry)
        for api in scope["apis"]:
            for call in scope["calls"]:
                for generation in scope["generations"]:
                    if (api, call, generation) in out:
                        raise ValueError(f"accounting.yaml replayed_thoughts_reach: {api, call, generation} twice")
                    out[(api, call, generation)] = reach
    return out


def _may_bill_none(item: Any) -> tuple[str, tuple[str, ...], str, tuple[str, ...]]:
    if not isinstance(item, dict) or item.get("shape") not in _MAY_BILL_NONE:
        raise ValueError(f"accounting.yaml replayed_thoughts_reach may_bill_none: {item!r} (shape {_MAY_BILL_NONE})")
    models, reason, evidence = _strings(item.get("models") or []), str(item.get("reason") or ""), item.get("evidence")
    if not models or not reason.strip() or not evidence:
        raise ValueError(f"accounting.yaml replayed_thoughts_reach may_bill_none: {item!r} (models, reason, evidence)")
    return str(item["shape"]), models, reason.strip(), _strings(evidence)


def _server_tools(raw: list[dict[str, Any]]) -> tuple[ServerToolCall, ...]:
    out = []
    for entry in raw:
        rule = ServerToolCall(
            **_scope(entry),
            tool=str(entry["tool"]),
            template=str(entry["template"]),
            reads=str(entry["reads"]),
            request_fallback=str(entry["request_fallback"]) if entry.get("request_fallback") else None,
            bound_without_response=(
                str(entry["bound_without_response"]) if entry.get("bound_without_response") else None
            ),
            confidence=str(entry.get("confidence", "")),
            evidence=_strings(entry.get("evidence") or []),
            per_call=int(entry.get("per_call", 0)),
            per_call_high=_whole(entry["per_call_high"]) if "per_call_high" in entry else None,
            models=_strings(entry["models"]) if entry.get("models") else (),
            estimate_query_tokens=int(entry.get("estimate_query_tokens", 0)),
            estimate_when=str(entry.get("estimate_when", "always")),
            estimate_follow_up_min_tokens=_whole(entry.get("estimate_follow_up_min_tokens", 0)),
            per_item=_whole(entry.get("per_item", 0)),
            per_item_high=_whole(entry.get("per_item_high", 0)),
            per_segment_high=_whole(entry.get("per_segment_high", 0)),
            reason=str(entry.get("reason", "")),
            tool_types=_strings(entry["tool_types"]) if entry.get("tool_types") else (),
            since=_day(entry["since"]) if entry.get("since") else None,
        )
        if rule.request_fallback is not None and rule.request_fallback not in _FALLBACKS:
            raise ValueError(f"accounting.yaml server_tool_calls: unknown request_fallback {rule.request_fallback!r}")
        if rule.bound_without_response is not None and rule.bound_without_response not in _BOUNDS:
            raise ValueError(f"accounting.yaml server_tool_calls: unknown bound {rule.bound_without_response!r}")
        bounded = rule.reads in _BOUNDED_READS
        if min(rule.per_item, rule.per_item_high, rule.per_segment_high) < 0:
            raise ValueError(f"accounting.yaml server_tool_calls: {rule.tool}'s item weights are whole numbers")
        if rule.reads not in _READS or not rule.evidence or ("{list}" not in rule.template) != bounded:
            raise ValueError(
                f"accounting.yaml server_tool_calls: {rule.tool} needs reads, evidence and a {{list}} template "
                "(none where it reads citations or tool_calls)"
            )
        if bounded and not (
            rule.per_item <= rule.per_item_high
            and rule.per_item_high
            and rule.reason
            and rule.bound_without_response == _BOUNDED_READS[rule.reads]
            and bool(rule.per_segment_high) == (rule.bound_without_response == "answer_segments")
            and bool(rule.tool_types) == (rule.reads == "tool_calls")
            and rule.per_call_high is None
        ):
            raise ValueError(
                f"accounting.yaml server_tool_calls: {rule.tool} reads {rule.reads}: per_item up to a per_item_high, "
                "a reason, the bound_without_response of its reading, per_segment_high for citations and grounding "
                "chunks, tool_types for tool_calls, no per_call_high"
            )
        if not bounded and (rule.per_item or rule.per_item_high or rule.tool_types):
            raise ValueError(f"accounting.yaml server_tool_calls: {rule.tool}'s call text is known: no item bounds")
        if not bounded and rule.per_segment_high and rule.bound_without_response not in _SEGMENT_BOUNDS:
            raise ValueError(
                f"accounting.yaml server_tool_calls: {rule.tool}'s per_segment_high needs a bound_without_response "
                f"of {_SEGMENT_BOUNDS}"
            )
        if not bounded and rule.bound_without_response == "answer_segments" and not rule.per_segment_high:
            raise ValueError(f"accounting.yaml server_tool_calls: {rule.tool}'s answer_segments needs per_segment_high")
        # A reason is for bounds the rule always gives: a call text that is itself bounded, or answer segments.
        uncertain = rule.per_call_high is not None or rule.bound_without_response == "answer_segments"
        if not bounded and bool(rule.reason) != uncertain:
            raise ValueError(
                f"accounting.yaml server_tool_calls: {rule.tool} gives a reason exactly when its call text is bounded "
                "(per_call_high) or its text-only bounds are answer_segments"
            )
        if rule.per_call_high is not None and rule.per_call_high < rule.per_call:
            raise ValueError(f"accounting.yaml server_tool_calls: {rule.tool}'s per_call_high is below its per_call")
        if rule.estimate_when not in _ESTIMATE_WHEN:
            raise ValueError(f"accounting.yaml server_tool_calls: unknown estimate_when {rule.estimate_when!r}")
        if rule.estimate_query_tokens < 0 or (rule.estimate_query_tokens and rule.bound_without_response is None):
            raise ValueError(
                f"accounting.yaml server_tool_calls: {rule.tool}'s estimate_query_tokens needs a bound_without_response"
            )
        follow_up = rule.estimate_follow_up_min_tokens
        if follow_up < 0 or (follow_up and (rule.estimate_when != "first_turn" or not rule.estimate_query_tokens)):
            raise ValueError(
                f"accounting.yaml server_tool_calls: {rule.tool}'s estimate_follow_up_min_tokens is a whole number, "
                "with estimate_when: first_turn and an estimate_query_tokens"
            )
        out.append(rule)
    return tuple(out)


def _flag(entry: dict[str, Any], key: str) -> bool:
    value = entry.get(key)
    if not isinstance(value, bool):
        raise ValueError(f"accounting.yaml code_execution_parts: {key} is true or false, not {value!r}")
    return value


def _code_parts(raw: list[dict[str, Any]]) -> tuple[CodeParts, ...]:
    out: list[CodeParts] = []
    for entry in raw:
        rule = CodeParts(
            **_scope(entry),
            code=str(entry.get("code")),
            per_code_part=int(entry.get("per_code_part", 0)),
            result_billed=_flag(entry, "result_billed"),
            history_billed=_flag(entry, "history_billed"),
            **_open_days(entry),
        )
        if rule.code not in _CODE or rule.per_code_part < 0 or not rule.evidence or rule.since > rule.until:
            raise ValueError(f"accounting.yaml code_execution_parts: {entry!r} (code, per_code_part, days, evidence)")
        if any(_overlap(rule, other) for other in out):
            raise ValueError(f"accounting.yaml code_execution_parts: {entry!r} overlaps another entry's days")
        out.append(rule)
    return tuple(out)


def _output_calls(raw: list[dict[str, Any]]) -> tuple[OutputCalls, ...]:
    out: list[OutputCalls] = []
    for entry in raw:
        rule = OutputCalls(
            **_scope(entry),
            payload=str(entry.get("payload")),
            per_call=int(entry.get("per_call", 0)),
            **_open_days(entry),
            written_as=str(entry.get("written_as") or ""),
            inside_text=bool(entry.get("inside_text", False)),
            per_number=int(entry.get("per_number", 0)),
            args_brace_apart=bool(entry.get("args_brace_apart", False)),
            per_string_ending_in_paren=int(entry.get("per_string_ending_in_paren", 0)),
            per_string_ending_before_key=int(entry.get("per_string_ending_before_key", 0)),
            string_endings=_strings(entry.get("string_endings") or []),
            per_lone_string_object_before_key=int(entry.get("per_lone_string_object_before_key", 0)),
            models=_strings(entry.get("models") or []),
        )
        if (
            rule.payload not in _CALL_PAYLOADS
            or rule.per_string_ending_in_paren > 0
            or rule.per_string_ending_before_key > 0
            or rule.per_lone_string_object_before_key > 0
            or bool(rule.per_string_ending_before_key) != bool(rule.string_endings)
            or not all(rule.string_endings)
            or min(rule.per_call, rule.per_number) < 0
            or not rule.evidence
            or rule.since > rule.until
        ):
            raise ValueError(f"accounting.yaml function_call_outputs: {entry!r} (payload, per_call, days, evidence)")
        if rule.written_as and (
            rule.payload != "json" or any(rule.written_as.count(field) != 1 for field in ("{name}", "{args}"))
        ):
            raise ValueError(
                f"accounting.yaml function_call_outputs: {entry!r} (written_as: json, {{name}} and {{args}} once)"
            )
        if rule.args_brace_apart and not rule.written_as:
            raise ValueError(f"accounting.yaml function_call_outputs: {entry!r} (args_brace_apart: with written_as)")
        if any(_overlap(rule, other) and rule.models == other.models for other in out):
            raise ValueError(f"accounting.yaml function_call_outputs: {entry!r} overlaps another entry's days")
        out.append(rule)
    return tuple(out)


def _streamed_arguments(raw: list[dict[str, Any]]) -> tuple[StreamedArguments, ...]:
    out: list[StreamedArguments] = []
    for entry in raw:
        per_argument = _whole(entry.get("per_argument"))
        rule = StreamedArguments(
            **_scope(entry),
            where=str(entry.get("where")),
            values=str(entry.get("values")),
            per_argument=per_argument,
            low=_whole(entry.get("low", per_argument)),
            reason=str(entry.get("reason") or "").strip(),
            **_open_days(entry),
        )
        if (
            rule.where not in _STREAMED_WHERE
            or rule.values not in _STREAMED_VALUES
            or rule.per_argument < 0
            or not 0 <= rule.low <= rule.per_argument
            or (not rule.exact and not rule.reason)
            or not rule.evidence
            or rule.since > rule.until
        ):
            raise ValueError(
                f"accounting.yaml streamed_call_arguments: {entry!r} (where of {list(_STREAMED_WHERE)}, values of "
                f"{list(_STREAMED_VALUES)}, whole per_argument >= low >= 0, a reason when low < per_argument, "
                "evidence, days)"
            )
        if any((rule.where, rule.values) == (other.where, other.values) and _overlap(rule, other) for other in out):
            raise ValueError(
                f"accounting.yaml streamed_call_arguments: {entry!r} overlaps another entry of its where and values"
            )
        out.append(rule)
    return tuple(out)


def _tool_runs(raw: list[dict[str, Any]]) -> tuple[ToolRunBounds, ...]:
    out: list[ToolRunBounds] = []
    for entry in raw:
        rule = ToolRunBounds(
            **_scope(entry),
            tools=_strings(entry.get("tools") or []),
            per_run=_whole(entry.get("per_run")),
            reason=str(entry.get("reason") or "").strip(),
            **_open_days(entry),
        )
        if (
            not rule.tools
            or not set(rule.tools) <= set(BUILT_IN_TOOLS)
            or rule.per_run <= 0
            or not rule.reason
            or not rule.evidence
            or rule.since > rule.until
        ):
            raise ValueError(
                f"accounting.yaml tool_runs_in_prompt: {entry!r} (tools of {list(BUILT_IN_TOOLS)}, a whole per_run "
                "above 0, reason, evidence, days)"
            )
        if any(set(rule.tools) & set(other.tools) and _overlap(rule, other) for other in out):
            raise ValueError(f"accounting.yaml tool_runs_in_prompt: {entry!r} overlaps another entry of its tools")
        out.append(rule)
    return tuple(out)


def _second_pass(raw: list[dict[str, Any]]) -> tuple[SecondPassBounds, ...]:
    out: list[SecondPassBounds] = []
    for entry in raw:
        rule = SecondPassBounds(
            **_scope(entry),
            models=_strings(entry.get("models") or []),
            high_per_1000=_whole(entry.get("high_per_1000")),
            reason=str(entry.get("reason") or "").strip(),
            **_open_days(entry),
            first_turn_only=entry.get("first_turn_only", False) is True,
        )
        if (
            entry.get("first_turn_only", False) not in (True, False)
            or not rule.models
            or rule.high_per_1000 <= 0
            or not rule.reason
            or not rule.evidence
            or rule.since > rule.until
        ):
            raise ValueError(
                f"accounting.yaml prompt_second_pass: {entry!r} (models, a whole high_per_1000 above 0, reason, "
                "evidence, days)"
            )
        if any(set(rule.models) & set(other.models) and _overlap(rule, other) for other in out):
            raise ValueError(f"accounting.yaml prompt_second_pass: {entry!r} overlaps another entry of its models")
        out.append(rule)
    return tuple(out)


def _overlap(one: DaySpan, other: DaySpan) -> bool:
    """Two entries of one section that would both apply on a day (same API, call and generation)."""
    shared = (
        set(one.apis) & set(other.apis)
        and set(one.calls) & set(other.calls)
        and set(one.generations) & set(other.generations)
    )
    return bool(shared) and one.since <= other.until and other.since <= one.until


def load_dated_sections(rules: dict[str, Any]) -> DatedSections:
    """The nine sections of a parsed accounting.yaml (each optional: a data set from before them has none)."""
    return DatedSections(
        weights=_weights(rules.get("dated_weights") or []),
        rules={section: _rules(section, rules.get(section) or []) for section in DATED_RULE_SECTIONS},
        reach=_reach(rules.get("replayed_thoughts_reach") or []),
        server_tools=_server_tools(rules.get("server_tool_calls") or []),
        code_parts=_code_parts(rules.get("code_execution_parts") or []),
        output_calls=_output_calls(rules.get("function_call_outputs") or []),
        streamed_arguments=_streamed_arguments(rules.get("streamed_call_arguments") or []),
        tool_runs=_tool_runs(rules.get("tool_runs_in_prompt") or []),
        second_pass=_second_pass(rules.get("prompt_second_pass") or []),
    )
