"""The per-line function every engine runs: one raw line -> one result JSON object (counts, cost or error).

`line_counts` is the single seam where a line's billed counts come from; everything else (formats,
pricing, tallies, engines) is independent of how the counting is done.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vertexmeter.batch.inputs import FileSpan, OversizeLine, span_lines
from vertexmeter.batch.lines import UNDECODED, BatchLine, LineError, PlainLine, parse_line, read_line
from vertexmeter.batch.tally import LineCost, Tally, to_json_line
from vertexmeter.counting import MediaUsage, count_body, interactions_history, modality_details, usage_of_body
from vertexmeter.dates import day_or_today, parse_day
from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.media import MediaOptions
from vertexmeter.pricing import PriceList, PromptCounts, money, price_list_for, quote
from vertexmeter.registry import ModelInfo, resolve, text_parts_joined_for, tokenizer_for
from vertexmeter.requests import decoded_body, interactions_request, request_body
from vertexmeter.tokenizing import get_tokenizer
from vertexmeter.vocabulary import GEMINI, GENERATE_CONTENT

DEFAULT_MAX_LINE_BYTES = 32 * 1024 * 1024
ERROR_DOMAIN = "vertexmeter.batch"
COST_MEMO_SIZE = 16_384
PLAN_MEMO_SIZE = 1_024  # plain-line plans per worker: (model, turns, system parts, generationConfig)
_MEDIA_PATH = re.compile(r"inline_?data|file_?data|legacymedia|\.image|\.video", re.IGNORECASE)


@dataclass(frozen=True)
class BatchSettings:
    """What every worker needs to count and price a line (picklable: sent once per worker / task)."""

    model: str | None = None
    api: str = "vertex"
    mode: str = "batch"
    output_tokens: int | None = None
    as_of: str | None = None  # ISO date of the prices (and counting rules) applied; None: today
    media_options: MediaOptions = field(default_factory=MediaOptions)
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    fail_fast: bool = False

    @property
    def price_date(self) -> str:
        return day_or_today(self.as_of, "as_of").isoformat()


@dataclass(slots=True)  # not frozen: one per line, and a frozen dataclass's __init__ costs ~1 us more
class LineCounts:
    model: ModelInfo
    prompt_tokens: int
    by_modality: dict[str, int]
    billable_characters: int  # counted only for a model billed by characters (0 otherwise: nothing reads it)
    media: MediaUsage
    max_output_tokens: int | None = None  # the request's generationConfig.maxOutputTokens
    thinking_budget: int | None = None  # generationConfig.thinkingConfig.thinkingBudget
    bounds: dict[str, Any] | None = None  # usageMetadata's bounds: a count that cannot be exact offline


# (model name, api) -> its registry entry: each name a job uses is resolved once per process
_models: dict[tuple[str, str], ModelInfo] = {}


def line_counts(
    model: str, request: dict[str, Any], settings: BatchSettings, history: Any = None, config: Any = None
) -> LineCounts:
    """THE seam: the billed counts of one line's request (`request`: straight from `decode_json`).

    Gemini models: what generateContent's usageMetadata reports (`vertexmeter.usage`, the bill).
    PaLM / Codey / embedding models serve no generateContent; their bill is countTokens' billable characters.
    Billable characters are counted only for a model billed by them (the registry's `billed_by`, which every
    price list agrees with): a token-billed line would spend ~5 % of its time on a figure nothing reads.
    """
    info = _models.get((model, settings.api))
    if info is None:
        info = _models[(model, settings.api)] = resolve(model, api=settings.api)
    if info.is_legacy:
        counted = count_body(
            info, decoded_body(request, info, settings.api), settings.api, settings.media_options, settings.as_of
        )
        return LineCounts(
            counted.model,
            counted.total_tokens,
            dict(counted.tokens_by_modality),
            counted.billable_characters,
            counted.media,
        )
    body = (
        decoded_body(request, info, settings.api)
        if config is None
        else request_body(request, info, settings.api, config=config, generate=True)
    )
    billed = usage_of_body(
        info,
        body,
        api=settings.api,
        as_of=settings.as_of,
        media_options=settings.media_options,
        history=history,
        count_billable=info.billed_by_characters,
    )
    return LineCounts(
        model=billed.model,
        prompt_tokens=billed.prompt_token_count,
        by_modality=billed.prompt_tokens_by_modality,
        billable_characters=billed.prompt.billable_characters,
        media=billed.prompt.media,
        max_output_tokens=billed.max_output_tokens,
        thinking_budget=billed.thinking_budget,
        bounds=billed.bounds,
    )


def interactions_counts(line: BatchLine, settings: BatchSettings) -> LineCounts:
    """An Interactions API body's line, billed as the Gemini API generateContent body it reads as (and priced as
    one); its history, Interactions answers, read as generateContent responses. Only the Gemini API serves
    Interactions: a job counting for Vertex AI refuses the line rather than count it in another API's dialect."""
    if settings.api != GEMINI:
        raise invalid_argument(
            "An Interactions API body is a Gemini API request: count this file with --api gemini.", "input"
        )
    model, body = interactions_request(line.request)
    return line_counts(model, body, settings, interactions_history(line.history))


@dataclass(eq=False, slots=True)  # compared and hashed by identity: a memo key
class PlainPlan:
    """How the full path bills a plain line (`lines.plain_line`) of one model, number of text parts (the turn's
    and the system instruction's) and generationConfig: the texts' tokens plus a constant, with the same model,
    output cap and thinking budget.

    For such a request the full path counts exactly `tokenizer.count_many(texts)` of the day's tokenizer and
    adds what accounting.yaml's rules add for the request's structure (a role token per turn, a response
    schema, a template), none of which reads the words; a plan is made only where the full path's answers to
    probe texts agree with that formula in every field a batch line reads, else the line takes the full path.
    """

    model: ModelInfo
    count_many: Callable[[Sequence[str]], list[int]]
    overhead: int
    max_output_tokens: int | None
    thinking_budget: int | None


# Probe texts: ASCII words, whitespace runs, Hangul, an emoji, digits, a long run of code.
_PROBES = ("Hello there", " a\n\tb  c 가나다 😀 12345\n", "def f(x):\n    return x * 2  # the end\n" * 40)


def _plain_plan(
    model: str, turns: tuple[tuple[str, int], ...], system: int, config: dict[str, Any] | None, settings: BatchSettings
) -> PlainPlan | None:
    """The plan of plain lines of this shape (turns of (role, text parts), `system` text parts of a system
    instruction), checked against the full path on every probe; None: no plan."""
    plan: PlainPlan | None = None
    try:
        for probe in _PROBES:
            texts = [f"{probe}{i}" for i in range(sum(parts for _, parts in turns) + system)]
            contents = []
            at = 0
            for role, parts in turns:
                contents.append({"role": role, "parts": [{"text": t} for t in texts[at : at + parts]]})
                at += parts
            request: dict[str, Any] = {"contents": contents}
            if system:
                request["systemInstruction"] = {"parts": [{"text": t} for t in texts[len(texts) - system :]]}
            if config is not None:
                request["generationConfig"] = config
            counts = line_counts(model, request, settings)
            info = counts.model
            if info.is_legacy or info.billed_by_characters:  # (their lines bill characters and media too)
                return None
            # Parts the service reads as one text merge at their seams, which the probes' texts never do.
            several = system > 1 or any(parts > 1 for _, parts in turns)
            if several and text_parts_joined_for(info, settings.api, GENERATE_CONTENT) is not None:
                return None
            tokenizer = get_tokenizer(tokenizer_for(info, settings.api, parse_day(settings.as_of, "as_of")))
            tokens = counts.prompt_tokens
            found = PlainPlan(
                info,
                tokenizer.count_many,
                tokens - sum(tokenizer.count_many(texts)),
                counts.max_output_tokens,
                counts.thinking_budget,
            )
            if (
                tokens <= 0
                or counts.by_modality != {"TEXT": tokens}
                or counts.billable_characters
                or counts.media != MediaUsage()
                or counts.bounds is not None
                or (
                    plan is not None
                    and (
                        found.model is not plan.model
                        or found.overhead != plan.overhead
                        or found.max_output_tokens != plan.max_output_tokens
                        or found.thinking_budget != plan.thinking_budget
                    )
                )
            ):
                return None
            plan = plan or found
    except VertexMeterError:
        return None  # the full path refuses this shape: each line gets its error there
    return plan


class LineCosts:
    """A job's line costs, as `pricing.quote` makes them (one price list per model, loaded once per worker
    process), memoised: a line's cost depends only on its model and counts, which repeat a lot across a
    batch file (an exact memo, cleared when full so that memory stays bounded)."""

    def __init__(self, settings: BatchSettings) -> None:
        self.settings = settings
        self._lists: dict[str, tuple[PriceList, tuple[str, ...]] | VertexMeterError] = {}
        self._costs: dict[tuple[Any, ...], LineCost] = {}
        # count_chunk's memo of serialised result tails (the fields after `line`/key), same bound
        self.tails: dict[tuple[Any, ...], tuple[LineCost, str]] = {}
        self.plans: dict[tuple[str, tuple[tuple[str, int], ...], int, bytes], PlainPlan | None] = {}
        # (plan, prompt tokens) -> a plain line's cost and serialised tail, same bound
        self.plain_tails: dict[tuple[PlainPlan, int], tuple[LineCost, str]] = {}

    def plan(self, line: PlainLine) -> PlainPlan | None:
        key = (line.model, line.turns, line.system, line.config_key)
        try:
            return self.plans[key]
        except KeyError:
            if len(self.plans) >= PLAN_MEMO_SIZE:
                self.plans.clear()
            plan = self.plans[key] = _plain_plan(line.model, line.turns, line.system, line.config, self.settings)
            return plan

    def plain_tail(self, plan: PlainPlan, tokens: int) -> tuple[LineCost, str] | None:
        """A plain line's cost and result fields after its leading ones, as the full path writes them; None
        when the line cannot be priced (the full path then says why)."""
        counts = LineCounts(
            plan.model, tokens, {"TEXT": tokens}, 0, MediaUsage(), plan.max_output_tokens, plan.thinking_budget
        )
        try:
            cost = self.cost(counts)
        except VertexMeterError:
            return None
        if len(self.plain_tails) >= COST_MEMO_SIZE:
            self.plain_tails.clear()
        known = self.plain_tails[(plan, tokens)] = (cost, _tail(counts, cost))
        return known

    def price_list(self, model_id: str) -> tuple[PriceList, tuple[str, ...]]:
        """The job's API's price list for the model (as `estimate` picks it), and the note when it fell back."""
        found = self._lists.get(model_id)
        if found is None:
            try:
                found = price_list_for(model_id, self.settings.api, self.settings.as_of)
            except VertexMeterError as error:
                found = error
            self._lists[model_id] = found
        if isinstance(found, VertexMeterError):
            raise found
        return found

    def cost(self, counts: LineCounts) -> LineCost:
        """The line's cost JSON: min (no output) and max (output at the cap, or the stated output size)."""
        media = counts.media
        audio = counts.by_modality.get("AUDIO", 0)
        key: tuple[Any, ...] = (
            counts.model.id,
            counts.prompt_tokens,
            audio,
            counts.max_output_tokens,
            counts.thinking_budget,
        )
        prices, _ = self.price_list(counts.model.id)
        if prices.model.billing == "characters":  # only these are billed by what they count
            key += (counts.billable_characters, media.images, media.video_seconds, media.audio_seconds, media.pdf_pages)
        cost = self._costs.get(key)
        if cost is None:
            if len(self._costs) >= COST_MEMO_SIZE:
                self._costs.clear()
            cost = self._costs[key] = LineCost.from_json(self._price(counts))
        return cost

    def _price(self, counts: LineCounts) -> dict[str, Any]:
        prices, list_notes = self.price_list(counts.model.id)
        stated = self.settings.output_tokens
        quoted = quote(
            prices,
            PromptCounts(counts.prompt_tokens, counts.by_modality, counts.billable_characters, counts.media),
            model=counts.model,
            mode=self.settings.mode,
            max_output_tokens=counts.max_output_tokens,
            thinking_budget=counts.thinking_budget,
            output_tokens=stated,
            notes=list_notes,
        )
        low, high = quoted.total_range
        cost: dict[str, Any] = {
            "currency": "USD",
            "outputTokens": stated if stated is not None else {"min": 0, "max": quoted.max_output_tokens},
            "min": money(low),
            "max": money(high),
            "lineItems": quoted.line_items_json(),
        }
        if quoted.notes:
            cost["notes"] = list(quoted.notes)
        return cost


def error_json(error: VertexMeterError, reason: str) -> dict[str, Any]:
    """Google's error body, with a google.rpc.ErrorInfo naming the reason (what the summary groups by)."""
    body = error.to_json()["error"]
    body["details"] = [
        *body["details"],
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": ERROR_DOMAIN},
    ]
    return body


def counting_reason(error: VertexMeterError) -> str:
    """Why a request was refused, for the summary's counts by reason."""
    path = error.field_path or ""
    if error.status == "NOT_FOUND" and "model" in error.message.lower() and not _MEDIA_PATH.search(path):
        return "UNKNOWN_MODEL"
    if _MEDIA_PATH.search(path) or _MEDIA_PATH.search(error.message):
        return "MEDIA"
    if "Unknown name" in error.message:
        return "UNKNOWN_FIELD"
    return "INVALID_REQUEST"


def count_line(number: int, raw: bytes | OversizeLine, settings: BatchSettings, costs: LineCosts) -> dict[str, Any]:
    """One input line -> its result object (`line` is 1-based over all inputs)."""
    result, counts, cost = _count_line(number, raw, settings, costs)
    if counts is not None and cost is not None:
        result |= counted_fields(counts)
        result["cost"] = cost.json
    return result


def counted_fields(counts: LineCounts) -> dict[str, Any]:
    """A counted line's fields after its leading ones: model, counts, whether it fits the context window."""
    fields: dict[str, Any] = {"model": counts.model.id, "promptTokenCount": counts.prompt_tokens}
    if not counts.model.is_legacy:
        fields["promptTokensDetails"] = modality_details(counts.by_modality)
    if counts.model.billed_by_characters:
        fields["totalBillableCharacters"] = counts.billable_characters
    fields["fitsContextWindow"] = counts.prompt_tokens <= counts.model.input_token_limit
    if counts.bounds is not None:
        fields["bounds"] = counts.bounds
    return fields


def _count_line(
    number: int, raw: bytes | OversizeLine, settings: BatchSettings, costs: LineCosts, value: Any = UNDECODED
) -> tuple[dict[str, Any], LineCounts | None, LineCost | None]:
    """(head, counts, cost) of a priced line: its leading fields (line, key, kept fields), counts and cost.
    A refused line: (its whole result, its error last, None, None). `value`: the line's JSON value, when
    `read_line` gave it."""
    result: dict[str, Any] = {"line": number}
    if isinstance(raw, OversizeLine):
        too_large = invalid_argument(
            f"Request payload size exceeds the limit: {settings.max_line_bytes} bytes (this line has {raw.size})."
        )
        result["error"] = error_json(too_large, "LINE_TOO_LARGE")
        return result, None, None
    try:
        line: BatchLine = parse_line(raw, settings.model, value)
    except LineError as refused:
        if refused.key:
            result[refused.key[0]] = refused.key[1]
        result["error"] = error_json(refused.error, refused.reason)
        return result, None, None
    if line.key:
        result[line.key[0]] = line.key[1]
    if line.kept:
        result["fields"] = line.kept
    try:
        if line.interactions:
            counts = interactions_counts(line, settings)
        else:
            counts = line_counts(line.model or "", line.request, settings, line.history, line.config)
    except VertexMeterError as error:
        result["error"] = error_json(error, counting_reason(error))
        return result, None, None
    limit = counts.model.input_token_limit
    if counts.prompt_tokens > limit:
        too_long = invalid_argument(
            f"The input token count ({counts.prompt_tokens}) exceeds the maximum number of tokens allowed ({limit})."
        )
        result |= counted_fields(counts)
        result["error"] = error_json(too_long, "OVER_CONTEXT_WINDOW")
        return result, None, None
    try:
        return result, counts, costs.cost(counts)
    except VertexMeterError as error:
        reason = "UNPRICED_MODEL" if error.status == "NOT_FOUND" else "PRICING"
        result |= counted_fields(counts)
        result["error"] = error_json(error, reason)
    return result, None, None


@dataclass
class ChunkResult:
    """What a worker sends back for a chunk: its result lines and their tally. The lines are UTF-8 JSONL,
    encoded once by the worker: bytes cross the process boundary as they are and go to the file unchanged."""

    data: bytes
    tally: Tally
    lines: int
    stopped: bool = False  # fail-fast: the chunk ends at its first refused line
    input_bytes: int = 0


_line_costs: dict[BatchSettings, LineCosts] = {}  # per worker process: price lists and tokenizers load once


def count_chunk(settings: BatchSettings, first_line: int, raws: list[bytes | OversizeLine] | FileSpan) -> ChunkResult:
    """Count a chunk of consecutive lines (or the lines of a file span); the unit of work of every engine."""
    if isinstance(raws, FileSpan):
        raws = span_lines(raws, settings.max_line_bytes)
    costs = _line_costs.get(settings)
    if costs is None:
        costs = _line_costs[settings] = LineCosts(settings)
    tally = Tally()
    add_counted = tally.add_counted
    out: list[str] = []  # result lines, each with its line end
    stopped = False
    size = 0
    tails = costs.tails
    plain_tails = costs.plain_tails
    default_model = settings.model
    number = first_line - 1
    for raw in raws:
        number += 1
        value = UNDECODED
        if isinstance(raw, OversizeLine):
            size += raw.size
        else:
            size += len(raw) + 1
            if not raw or raw.isspace():
                tally.blank_lines += 1  # no result line: a file of newlines must not become a file of errors
                continue
            # Read by orjson (lines.read_line); a plain line: its texts counted by the plan the full path agreed with.
            line, value = read_line(raw, default_model)
            plan = None if line is None else costs.plan(line)
            if line is not None and plan is not None:
                tokens = sum(plan.count_many(line.texts)) + plan.overhead
                if 0 < tokens <= plan.model.input_token_limit:  # (over the window: the full path writes why)
                    known = plain_tails.get((plan, tokens)) or costs.plain_tail(plan, tokens)
                    if known is not None:
                        add_counted(plan.model.id, tokens, (("TEXT", tokens),), None, known[0])
                        if line.key is None and not line.kept:
                            out.append(f'{{"line":{number},{known[1]}')
                        else:
                            leading: dict[str, Any] = {"line": number}
                            if line.key is not None:
                                leading[line.key[0]] = line.key[1]
                            if line.kept:
                                leading["fields"] = line.kept
                            out.append(f"{to_json_line(leading)[:-1]},{known[1]}")
                        continue
        head, counts, cost = _count_line(number, raw, settings, costs, value)
        if counts is None or cost is None:  # refused: the whole result is in `head`
            tally.add(head)
            out.append(to_json_line(head) + "\n")
            if settings.fail_fast:
                stopped = True
                break
            continue
        model = counts.model
        billable = counts.billable_characters if model.billed_by_characters else None
        by_modality = counts.by_modality
        add_counted(model.id, counts.prompt_tokens, () if model.is_legacy else by_modality.items(), billable, cost)
        # What follows the leading fields depends only on the counts and the (memoised) cost, which repeat
        # across a batch: serialised once per distinct tail, the cost's JSON spliced in as the last field.
        bounds = None if counts.bounds is None else tuple(counts.bounds["promptTokenCount"])
        key = (id(cost), model.id, counts.prompt_tokens, tuple(by_modality.items()), billable, bounds)
        known = tails.get(key)
        if known is None or known[0] is not cost:  # (an id is only this cost's while the memo holds it)
            if len(tails) >= COST_MEMO_SIZE:
                tails.clear()
            known = tails[key] = (cost, _tail(counts, cost))
        if len(head) == 1:
            out.append(f'{{"line":{number},{known[1]}')
        else:
            out.append(f"{to_json_line(head)[:-1]},{known[1]}")
    return ChunkResult(data="".join(out).encode(), tally=tally, lines=len(out), stopped=stopped, input_bytes=size)


def _tail(counts: LineCounts, cost: LineCost) -> str:
    """A counted line's serialised fields after its leading ones, the cost's JSON spliced in last."""
    return to_json_line(counted_fields(counts))[1:-1] + ',"cost":' + cost.text + "}\n"


def warm_up(settings: BatchSettings) -> None:
    """Load the job model's tokenizer and prices in this worker before its first chunk arrives."""
    if not settings.model:
        return
    try:
        model = resolve(settings.model, api=settings.api)
        get_tokenizer(model.tokenizer)
        _line_costs.setdefault(settings, LineCosts(settings)).price_list(model.id)
    except VertexMeterError:
        pass  # every line will report it
