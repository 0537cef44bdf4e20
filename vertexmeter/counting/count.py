"""countTokens: the sum of Google's tokenizer over the texts a request holds, plus media and overheads.

The same engine reads a prompt for the bill (generateContent usageMetadata): the prompt's `call`
picks the accounting rules (registry/accounting.yaml), `as_of` the vocabulary in force that day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vertexmeter.counting.accounting import declarations_as_read, overhead_tokens
from vertexmeter.counting.dated import dated_entries, rules_with
from vertexmeter.counting.streamed_calls import StreamedCalls, history_streamed_calls
from vertexmeter.counting.texts import prompt_texts
from vertexmeter.dates import parse_day
from vertexmeter.errors import VertexMeterError
from vertexmeter.media import MediaContext, MediaOptions, count_media_part, is_media_item
from vertexmeter.registry import (
    DatedWeights,
    ModelInfo,
    Redirect,
    accounting_for,
    code_parts_for,
    redirect_for,
    resolve,
    text_parts_joined_for,
    tokenizer_for,
)
from vertexmeter.requests import Prompt, media_field, parse_count_request, parse_message, request_body
from vertexmeter.tokenizing import billable_characters as _billable_characters
from vertexmeter.tokenizing import get_tokenizer
from vertexmeter.vocabulary import MODALITIES, check_api

_clock = time.time


def billable_characters(text: str) -> int:
    """Unicode code points, whitespace (Python's str.isspace: Unicode White_Space) excluded; counted by the
    tokenizing core (in C: one pass, no word list)."""
    return _billable_characters(text)


@dataclass
class MediaUsage:
    """The billable quantities of a prompt's media (what character-era prices are quoted in)."""

    images: int = 0
    video_seconds: Decimal = Decimal(0)
    audio_seconds: Decimal = Decimal(0)
    pdf_pages: int = 0


@dataclass
class CountResult:
    """The typed countTokens answer; `to_rest()` gives the JSON Google sends.

    `request` is the parsed request the counts are of: what later stages (usage, pricing) read about
    the request — its model, API, call, generation config — they read from it, never from the raw body.
    """

    request: Prompt
    total_tokens: int
    billable_characters: int
    text_characters: int
    tokens_by_modality: dict[str, int] = field(default_factory=dict)
    media: MediaUsage = field(default_factory=MediaUsage)
    tokenizer: str = ""  # the vocabulary that counted the text (it depends on the date)
    # The requested name was served by another model that day (models.yaml `redirects`): `model` is that one.
    redirect: Redirect | None = None
    # The accounting.yaml `dated_weights` entries in force on the counted day (weights the service used then).
    dated: tuple[DatedWeights, ...] = ()
    # What calls the history replays as streamed pieces added (accounting.yaml `streamed_call_arguments`), if any.
    streamed_history: StreamedCalls | None = None
    # Media counts another recorded reading may bill otherwise on the counted day (rules.yaml `uncertain_audio`):
    # (low − point, high − point, why) for each.
    media_bounds: tuple[tuple[int, int, str], ...] = ()

    @property
    def model(self) -> ModelInfo:
        return self.request.model

    @property
    def api(self) -> str:
        return self.request.api

    @property
    def call(self) -> str:
        return self.request.call

    @property
    def fits_context_window(self) -> bool:
        return self.total_tokens <= self.model.input_token_limit

    @property
    def rules(self) -> list[dict[str, Any]]:
        """The rules this count applied, with their confidence and evidence ids (docs/counting.md)."""
        from vertexmeter.counting.explain import applied_rules, redirect_rule

        return redirect_rule(self.redirect) + applied_rules(self.request, self.tokenizer, dated=self.dated)

    @property
    def confidence(self) -> str:
        """The registry's confidence in the model's counting facts; `inferred`: no recorded answer backs them."""
        return self.model.confidence

    @property
    def inferred(self) -> bool:
        """True when the count rests on inferred facts (a new family's tokenizer or overheads): an estimate."""
        return self.model.count_is_inferred

    def to_rest(self, explain: bool = False) -> dict[str, Any]:
        """camelCase JSON with zero fields omitted, as proto3 JSON does; `explain` adds the rules applied."""
        out: dict[str, Any] = {}
        if self.total_tokens:
            out["totalTokens"] = self.total_tokens
        if self.api == "vertex" and self.model.billed_by_characters and self.billable_characters:
            out["totalBillableCharacters"] = self.billable_characters
        if not self.model.is_legacy:
            details = modality_details(self.tokens_by_modality)
            if details:
                out["promptTokensDetails"] = details
        if explain:
            out["rules"] = self.rules
        return out


def modality_details(by_modality: dict[str, int]) -> list[dict[str, Any]]:
    """`*TokensDetails` JSON: one ModalityTokenCount per modality with tokens, in Google's order."""
    return [{"modality": m, "tokenCount": by_modality[m]} for m in MODALITIES if by_modality.get(m)]


def model_info(
    model: str | ModelInfo, api: str, api_version: str | None = None, on: dt.date | None = None
) -> ModelInfo:
    """The registry entry of `model`: resolved here once per call (a dated alias by the day `on`), or passed in
    already resolved."""
    check_api(api)
    return model if isinstance(model, ModelInfo) else resolve(model, api=api, api_version=api_version, on=on)


def count(
    model: str | ModelInfo,
    request: Any,
    *,
    api: str = "vertex",
    media_options: MediaOptions | None = None,
    api_version: str | None = None,
    as_of: Any = None,
    config: Any = None,
) -> CountResult:
    """Count `request` for `model` like countTokens: user text, a REST body, Contents / Parts (google-genai
    `types` too) or JSON bytes; `config` is google-genai's CountTokensConfig (docs/inputs.md).

    `as_of` (a date) counts with the vocabulary the service used that day; default: today's service.
    """
    day = parse_day(as_of, "as_of")
    info = model_info(model, api, api_version, day)
    result = count_body(info, request_body(request, info, api, config=config), api, media_options, as_of)
    if isinstance(model, str):
        result.redirect = redirect_for(model, api=api, on=day)
    return result


def count_body(
    info: ModelInfo,
    body: dict[str, Any],
    api: str,
    media_options: MediaOptions | None = None,
    as_of: Any = None,
    *,
    count_billable: bool = True,
) -> CountResult:
    """`count` of a body `request_body` already made (estimate builds it once, to tell :predict bodies);
    `count_billable`: as count_prompt_tokens'."""
    prompt = parse_count_request(info, body, api)
    day = parse_day(as_of, "as_of")
    return count_prompt_tokens(prompt, media_options or MediaOptions(), day, count_billable=count_billable)


def count_tokens(
    model: str | ModelInfo, request: Any, *, api: str = "vertex", as_of: Any = None, config: Any = None
) -> dict[str, Any]:
    """The REST JSON of countTokens for `request` on `model`, in the "vertex" or "gemini" dialect."""
    if config is None and as_of is None:
        answer = _plain_answer(model, api, request)
        if answer is not None:
            return answer
    day = parse_day(as_of, "as_of")
    info = model_info(model, api, None, day)
    body = request_body(request, info, api, config=config)
    if config is None and as_of is None and body is not request:
        # made a body (google-genai types, a list of texts): the full path counts that body, so may the plain one
        answer = _plain_answer(info, api, body)
        if answer is not None:
            return answer
    # the answer shows billable characters only for a model billed by them on Vertex: not counted otherwise
    billable = api == "vertex" and info.billed_by_characters
    return count_body(info, body, api, as_of=day, count_billable=billable).to_rest()


# ---- the plain-text path of count_tokens ---------------------------------------------------------------
# A text, or a body of one user turn of non-empty text parts, with no config and no date: the commonest
# request, whose answer is the texts' tokens plus what the model's rules add to one user turn (the same for
# any such texts: accounting.yaml's overheads read the request's structure, not its words). That overhead
# and the answer's shape are learned per model and API from the full path, on probe requests, and used only
# where the full path's answers to the probes are exactly what the formula gives; anything else, and any
# text the tokenizer refuses (a lone surrogate), takes the full path, which answers or refuses as always.
# Per request the path is a look-up of the model's name (remembered for the rest of the local day, the day
# a dated alias is resolved by), the core's count and the answer's dict: no request object, no resolving.


@dataclass(frozen=True)
class _PlainPlan:
    model: ModelInfo  # the entry the plan was made for: a reloaded registry makes another
    tokenizer: Any
    overhead: int
    billed: bool  # totalBillableCharacters when non-zero
    details: bool  # promptTokensDetails
    text_ok: bool  # a bare text takes this path too (not for a legacy model: its text becomes an instance)


_plain_plans: dict[tuple[int, str], _PlainPlan | None] = {}
_PROBES = ("Hello there", "a\n\tb c 가")
_MAX_PLANS = 1024
# (name, api) -> [first second, end second, entry, plan]: what model_info answers for the name during one
# local day, and the entry's plain plan once asked for
_named: dict[tuple[str, str], list[Any]] = {}
_UNPLANNED: Any = object()
_MAX_NAMED = 4096  # spellings kept (resource names can carry any project): past it, start afresh


def plain_texts(request: Any) -> list[str] | None:
    """The texts of a plain-text request (see above), else None."""
    if type(request) is str:
        return [request] if request else None
    if type(request) is not dict or len(request) != 1:
        return None
    contents = request.get("contents")
    if type(contents) is not list or len(contents) != 1:
        return None
    turn = contents[0]
    if type(turn) is not dict or len(turn) != 2 or turn.get("role") != "user":
        return None
    texts: list[str] = []
    return texts if add_part_texts(turn.get("parts"), texts) else None


def add_part_texts(parts: Any, texts: list[str]) -> bool:
    """Add the texts of `parts` to `texts` when it is a non-empty list of parts that are each one non-empty text."""
    if type(parts) is not list or not parts:
        return False
    for part in parts:
        if type(part) is not dict or len(part) != 1:
            return False
        text = part.get("text")
        if type(text) is not str or not text:
            return False
        texts.append(text)
    return True


def todays_model(model: str | ModelInfo, api: str) -> ModelInfo | None:
    """`model_info(model, api)` for today's service, or None where it refuses (the full path then says why).

    A name's entry is remembered until the local day ends: resolving costs a date and the registry's
    look-ups (about a microsecond), a clock reading does not."""
    if type(model) is str and type(api) is str:
        entry = _named_entry(model, api)
        return None if entry is None else entry[2]
    try:
        return model_info(model, api)
    except VertexMeterError:
        return None


def _named_entry(model: str, api: str) -> list[Any] | None:
    """[first second, end second, entry, plain plan or _UNPLANNED] of a name on `api` today; None if refused."""
    key = (model, api)
    entry = _named.get(key)
    now = _clock()
    if entry is not None and entry[0] <= now < entry[1]:
        return entry
    day = dt.date.fromtimestamp(now)
    try:
        info = model_info(model, api, None, day)
    except VertexMeterError:
        return None
    if len(_named) >= _MAX_NAMED:
        _named.clear()
    entry = _named[key] = [*_local_day(day, now), info, _UNPLANNED]
    return entry


def _plan_today(model: str | ModelInfo, api: str) -> _PlainPlan | None:
    """The plain plan of the model `model` names today on `api` (None: the full path answers)."""
    if type(model) is str and type(api) is str:
        entry = _named.get((model, api))
        if entry is None or not entry[0] <= _clock() < entry[1]:
            entry = _named_entry(model, api)
            if entry is None:
                return None
        plan: _PlainPlan | None = entry[3]
        if plan is _UNPLANNED:
            plan = entry[3] = plan_of(entry[2], api)
        return plan
    info = todays_model(model, api)
    return None if info is None else plan_of(info, api)


def _local_day(day: dt.date, now: float) -> tuple[float, float]:
    """The seconds (time.time()) whose local date is `day`, as [first, end); a minute from `now` where the
    time zone makes midnight hard to place (a DST change at midnight)."""
    after = day + dt.timedelta(days=1)
    first = time.mktime((day.year, day.month, day.day, 0, 0, 0, 0, 0, -1))
    end = time.mktime((after.year, after.month, after.day, 0, 0, 0, 0, 0, -1))
    fits = first <= now < end and dt.date.fromtimestamp(first) == day == dt.date.fromtimestamp(end - 1e-3)
    return (first, end) if fits and dt.date.fromtimestamp(end) == after else (now, now + 60.0)


def plan_of(info: ModelInfo, api: str) -> _PlainPlan | None:
    """The model's plan on `api` (made on first use), or None where plain texts take the full path."""
    key = (id(info), api)
    plan = _plain_plans.get(key)
    if plan is not None and plan.model is info:
        return plan
    if plan is None and key in _plain_plans:
        return None
    if len(_plain_plans) >= _MAX_PLANS:  # registries reloaded many times over: start afresh
        _plain_plans.clear()
    plan = _plain_plans[key] = _plain_plan(info, api)
    return plan


def plain_total(model: str | ModelInfo, api: str, request: Any) -> int | None:
    """countTokens' totalTokens of a plain-text request from the model's plan, or None for the full path."""
    answer = _plain_answer(model, api, request, billable=False)
    return None if answer is None else int(answer["totalTokens"])


def _plain_answer(model: str | ModelInfo, api: str, request: Any, billable: bool = True) -> dict[str, Any] | None:
    """countTokens' JSON for a plain-text request from the model's plan, or None for the full path to answer;
    without `billable`, no totalBillableCharacters (a caller that reads only the tokens)."""
    text: Any = request
    if type(request) is dict:  # one part (the commonest body) without a list of texts
        texts = None
        contents = request.get("contents")
        if len(request) == 1 and type(contents) is list and len(contents) == 1:
            turn = contents[0]
            if type(turn) is dict and len(turn) == 2 and turn.get("role") == "user":
                parts = turn.get("parts")
                if type(parts) is list and len(parts) == 1 and type(parts[0]) is dict and len(parts[0]) == 1:
                    text = parts[0].get("text")
        if type(text) is not str or not text:
            texts = plain_texts(request)
            if texts is None:
                return _conversation_answer(model, api, request, billable)
    elif type(request) is str and request:
        texts = None
    else:
        return None
    plan = _plan_today(model, api)
    if plan is None or (type(request) is str and not plan.text_ok):
        return None
    if texts is not None:
        return _texts_answer(plan, texts, billable)
    try:
        total = plan.tokenizer.count(text) + plan.overhead
        characters = _billable_characters(text) if plan.billed and billable else 0
    except (VertexMeterError, ValueError):  # a lone surrogate: the full path says where
        return None
    return _plain_rest(plan, total, characters)


def _texts_answer(plan: _PlainPlan, texts: list[str], billable: bool) -> dict[str, Any] | None:
    """countTokens' JSON for `texts` by `plan`; None where the tokenizer refuses one (the full path says where)."""
    try:
        total = sum(plan.tokenizer.count_many(texts)) + plan.overhead
        characters = sum(map(_billable_characters, texts)) if plan.billed and billable else 0
    except (VertexMeterError, ValueError):  # a lone surrogate
        return None
    return _plain_rest(plan, total, characters)


def _plain_rest(plan: _PlainPlan, total: int, characters: int) -> dict[str, Any] | None:
    if total <= 0:
        return None
    out: dict[str, Any] = {"totalTokens": total}
    if characters:
        out["totalBillableCharacters"] = characters
    if plan.details:
        out["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": total}]
    return out


def _plain_plan(info: ModelInfo, api: str) -> _PlainPlan | None:
    """The model's plan, checked against the full path's answers to the probes; None when they disagree."""
    try:
        tokenizer = get_tokenizer(tokenizer_for(info, api))
        first = count(info, {"contents": [{"role": "user", "parts": [{"text": _PROBES[0]}]}]}, api=api)
        overhead = first.total_tokens - tokenizer.count(_PROBES[0])
        plan = _PlainPlan(
            info,
            tokenizer,
            overhead,
            billed=api == "vertex" and info.billed_by_characters,
            details=not info.is_legacy,
            text_ok=not info.is_legacy,
        )
        for body, texts in (
            (None, [_PROBES[0]]),
            ({"contents": [{"role": "user", "parts": [{"text": t} for t in _PROBES]}]}, list(_PROBES)),
            (_PROBES[1], [_PROBES[1]]),
        ):
            if type(body) is str and not plan.text_ok:
                continue
            expected = (first if body is None else count(info, body, api=api)).to_rest()
            total = sum(tokenizer.count_many(texts)) + overhead
            characters = sum(map(billable_characters, texts)) if plan.billed else 0
            if _plain_rest(plan, total, characters) != expected:
                return None
        return plan
    except VertexMeterError:
        return None


# ---- conversations: user and model turns of text parts, at most a system instruction of text parts ------
# The same formula (the texts' tokens plus a constant) per shape: the turns' roles and text parts, and the system
# instruction's. The constant is learned from the full path's answer to one probe of the shape and used only where
# its answer to a second probe, of other texts, is what the formula gives; a shape the full path refuses (the
# Gemini API's countTokens takes no systemInstruction) or answers otherwise has no plan and takes the full path.

_CONVERSATION_FIELDS = frozenset(("contents", "systemInstruction"))
_MAX_SHAPE_TURNS = 128  # longer conversations take the full path: their shapes stay small keys of a bounded memo
# (id(entry), api, shape) -> (entry, plan or None)
_shape_plans: dict[tuple[int, str, Any], tuple[ModelInfo, _PlainPlan | None]] = {}
_SHAPE_PROBES = (
    ("Hello there", " a\n\tb c 가 ", "Zwölf Boxkämpfer"),
    ("x", "The quick brown fox jumps over the lazy dog.\n\n", "😀 — 日本語のテキスト  ", "  "),
)


def conversation_texts(request: dict[str, Any]) -> tuple[list[str], Any] | None:
    """(texts, shape) of a body of up to 128 user and model turns of text parts with at most a system instruction
    of text parts and nothing else; else None. The shape: ((role, text parts) per turn, the system instruction's
    parts)."""
    if not request.keys() <= _CONVERSATION_FIELDS:
        return None
    found = text_turns(request)
    if found is None or len(found[1]) > _MAX_SHAPE_TURNS:
        return None
    texts, turns, system = found
    return texts, (turns, system)


def text_turns(request: dict[str, Any]) -> tuple[list[str], tuple[tuple[str, int], ...], int] | None:
    """(texts, (role, text parts) per turn, the system instruction's text parts) of a body whose `contents` are user
    and model turns of text parts only and whose `systemInstruction`, if any, holds text parts only; else None. The
    body's other fields are the caller's to check."""
    contents = request.get("contents")
    if type(contents) is not list or not contents:
        return None
    texts: list[str] = []
    turns = []
    for turn in contents:
        if type(turn) is not dict or len(turn) != 2:
            return None
        role = turn.get("role")
        if role != "user" and role != "model":
            return None
        before = len(texts)
        if not add_part_texts(turn.get("parts"), texts):
            return None
        turns.append((role, len(texts) - before))
    system = 0
    if "systemInstruction" in request:
        instruction = request["systemInstruction"]
        if type(instruction) is not dict or len(instruction) != 1:
            return None
        before = len(texts)
        if not add_part_texts(instruction.get("parts"), texts):
            return None
        system = len(texts) - before
    return texts, tuple(turns), system


def _conversation_answer(model: str | ModelInfo, api: str, request: Any, billable: bool) -> dict[str, Any] | None:
    found = conversation_texts(request)
    if found is None:
        return None
    info = todays_model(model, api)
    if info is None:
        return None
    texts, shape = found
    key = (id(info), api, shape)
    known = _shape_plans.get(key)
    if known is None or known[0] is not info:
        if len(_shape_plans) >= _MAX_PLANS:  # many shapes (conversations of every length): start afresh
            _shape_plans.clear()
        known = _shape_plans[key] = (info, _shape_plan(info, api, shape))
    plan = known[1]
    return None if plan is None else _texts_answer(plan, texts, billable)


def _shape_plan(info: ModelInfo, api: str, shape: Any) -> _PlainPlan | None:
    """The plan of conversations of this shape, checked against the full path's answers to two probes."""
    turns, system = shape
    plan = None
    try:
        tokenizer = get_tokenizer(tokenizer_for(info, api))
        for pool in _SHAPE_PROBES:
            texts = [pool[i % len(pool)] for i in range(sum(n for _, n in turns) + system)]
            parts = iter([{"text": t} for t in texts])
            body: dict[str, Any] = {
                "contents": [{"role": role, "parts": [next(parts) for _ in range(n)]} for role, n in turns]
            }
            if system:
                body["systemInstruction"] = {"parts": list(parts)}
            expected = count(info, body, api=api).to_rest()
            total = sum(tokenizer.count_many(texts))
            if plan is None:
                overhead = int(expected.get("totalTokens", 0)) - total
                billed = api == "vertex" and info.billed_by_characters
                plan = _PlainPlan(info, tokenizer, overhead, billed, details=not info.is_legacy, text_ok=False)
            characters = sum(map(billable_characters, texts)) if plan.billed else 0
            if _plain_rest(plan, total + plan.overhead, characters) != expected:
                return None
        return plan
    except VertexMeterError:
        return None


def count_prompt_tokens(
    prompt: Prompt,
    media_options: MediaOptions,
    as_of: dt.date | None = None,
    *,
    count_billable: bool = True,
    also: tuple[DatedWeights, ...] = (),
) -> CountResult:
    """count_billable=False: the texts' billable characters are left at 0, for a caller that bills by tokens and
    never reads them (a batch line of a token-billed model); the character-billed price lists need them. `also`:
    dated_weights entries applied besides those in force on `as_of` (the other reading of an undated change)."""
    family = tokenizer_for(prompt.model, prompt.api, as_of)
    tokenizer = get_tokenizer(family)
    dated = dated_entries(accounting_for(prompt.model, prompt.api, prompt.call), as_of) + list(also)
    rules = rules_with(accounting_for(prompt.model, prompt.api, prompt.call), dated)
    # The declarations as the service reads them (the result keeps the request as parsed).
    counted = prompt
    if prompt.tools and rules.tools.rewrites_declarations:
        counted = dataclasses.replace(prompt, tools=declarations_as_read(prompt.tools, rules.tools))
    code_rule = code_parts_for(prompt.api, prompt.call, prompt.model.rules_generation, as_of)
    texts = [
        text
        for text, _ in prompt_texts(
            counted,
            response_schema=rules.counts_response_schema,
            response_json_schema=rules.counts_response_json_schema,
            schema_strings=rules.response_schema_strings,
            function_payload=rules.function_history.payload,
            tool_json_schemas=rules.tools.counts_json_schemas,
            tool_schema_strings=rules.tools.schema_strings,
            code_history=code_rule is None or code_rule.history_billed,
            declarations_written_as=rules.tools.written_as,
            declaration_fields_left_out=rules.tools.fields_left_out,
            joined_text_parts=text_parts_joined_for(prompt.model, prompt.api, prompt.call) is not None,
            response_schema_written_as=rules.response_schema_written_as,
            response_schema_left_out=rules.response_schema_left_out,
        )
    ]
    by_modality: dict[str, int] = {}
    text_tokens = sum(tokenizer.count_many(texts)) if texts else 0
    billable = sum(map(billable_characters, texts)) if count_billable else 0
    characters = sum(map(len, texts))
    media = MediaUsage()
    media_parts = list(_media_parts(prompt))
    context = MediaContext(
        model=prompt.model,
        generation_config=prompt.generation_config,
        count_text=tokenizer.count,
        billable_characters=billable_characters,
        options=media_options,
        api=prompt.api,
        call=prompt.call,
        # A text document beside an image is read as text: the image is still the prompt's only media item
        media_parts=sum(1 for part, _ in media_parts if is_media_item(part)),
        day=as_of,
    )
    media_bounds = []
    for part, path in media_parts:
        for item in count_media_part(part, path, context):
            by_modality[item.modality] = by_modality.get(item.modality, 0) + item.tokens
            if item.bounds is not None:
                media_bounds.append((item.bounds[0] - item.tokens, item.bounds[1] - item.tokens, item.bounds_reason))
            billable += item.text_characters
            media.images += item.images
            media.video_seconds += item.video_seconds
            media.audio_seconds += item.audio_seconds
            media.pdf_pages += item.pdf_pages
    text_tokens += overhead_tokens(counted, rules)
    streamed = history_streamed_calls(prompt, as_of)  # calls replayed as the pieces they were streamed in
    if streamed is not None:
        text_tokens += streamed.tokens
    if text_tokens:
        by_modality["TEXT"] = by_modality.get("TEXT", 0) + text_tokens
    return CountResult(
        request=prompt,
        total_tokens=sum(by_modality.values()),
        billable_characters=billable,
        text_characters=characters,
        tokens_by_modality=by_modality,
        media=media,
        tokenizer=family,
        dated=tuple(dated),
        streamed_history=streamed,
        media_bounds=tuple(media_bounds),
    )


def _media_parts(prompt: Prompt) -> Iterator[tuple[dict[str, Any], str]]:
    turns = [*prompt.contents, *([prompt.system_instruction] if prompt.system_instruction else [])]
    for turn in turns:
        for j, part in enumerate(turn.parts):
            if media_field(part):
                yield part, f"{turn.path}.parts[{j}]"
            response = part.get("functionResponse")
            # A multimodal function response (Gemini 3): its parts' media are billed as the prompt's own (IMAGE
            # 1089 for a 1x1 and a 128x128 PNG on 3 Flash: rigm-0001, rllmm-0161; docs/media.md).
            inner = response.get("parts") if isinstance(response, dict) else None
            for k, item in enumerate(inner if isinstance(inner, list) else []):
                where = f"{turn.path}.parts[{j}].function_response.parts[{k}]"
                parsed = parse_message("Part", item, where)  # either casing, base64 decoded, as a Part is
                if media_field(parsed):
                    yield parsed, where
    for instance in prompt.instances or []:
        for value, path in instance.media:
            yield {"legacyMedia": value}, path
