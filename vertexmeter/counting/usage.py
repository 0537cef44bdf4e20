"""The bill: the `usageMetadata` generateContent would report for a request (and its response).

countTokens and generateContent count the same prompt differently (docs/counting.md): the role
overhead, tool templates and media rules depend on the API, the call and the model generation, and
the vocabulary on the date. `usage()` reads a generateContent body for the generateContent call;
`count()` stays Google's countTokens.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from vertexmeter.counting.accounting import (
    ResponseView,
    SeamBounds,
    lone_string_objects_before_key,
    output_seam_bounds,
    seam_bounds,
    strings_ending_before_key,
    strings_ending_in_paren,
    top_level_numbers,
)
from vertexmeter.counting.count import (
    CountResult,
    count_prompt_tokens,
    modality_details,
    model_info,
)
from vertexmeter.counting.dated import rules_on
from vertexmeter.counting.server_tools import ServerToolCalls, server_tool_calls
from vertexmeter.counting.streamed_calls import (
    StreamedCalls,
    output_rules,
    streamed_call_tokens,
)
from vertexmeter.counting.texts import ESCAPE, escaped_payload, part_texts, value_texts
from vertexmeter.counting.thoughts import ReplayedThoughtCount, replayed_thought_tokens, thought_history, thought_reach
from vertexmeter.counting.tool_runs import ToolRunSpan, tool_run_span
from vertexmeter.dates import parse_day
from vertexmeter.errors import failed_precondition, invalid_argument
from vertexmeter.media import MediaOptions, generated_image_tokens
from vertexmeter.registry import (
    Accounting,
    CodeParts,
    DatedRule,
    DatedWeights,
    ModelInfo,
    OutputCalls,
    RawPromptRule,
    Redirect,
    SecondPassBounds,
    StreamedChunks,
    StreamedOutputBounds,
    accounting_for,
    code_parts_for,
    counts_text_pieces_apart,
    dated_rule_on,
    dated_weights_unsure_on,
    output_calls_for,
    raw_prompt_rule_for,
    redirect_for,
    replayed_thoughts_for,
    second_pass_bounds_for,
    streamed_chunks_for,
    streamed_output_bounds_for,
    tokenizer_for,
    usage_fields_for,
)
from vertexmeter.requests import (
    Prompt,
    media_field,
    parse_generate_request,
    plain,
    request_body,
    response_candidates,
    response_shows_tool_run,
    response_thoughts,
)
from vertexmeter.tokenizing import Tokenizer, get_tokenizer
from vertexmeter.vocabulary import GENERATE_CONTENT


@dataclass
class UsageResult:
    """The typed usageMetadata; `to_rest()` gives the JSON generateContent reports."""

    model: ModelInfo
    api: str
    prompt: CountResult  # the billed prompt (cached tokens included)
    as_of: dt.date | None = None
    candidates_tokens_by_modality: dict[str, int] = field(default_factory=dict)
    thoughts_token_count: int = 0
    cached_content_token_count: int = 0
    has_response: bool = False
    # The thoughts replayed thought signatures bill again (accounting.yaml `replayed_thoughts`), in the prompt.
    replayed_thoughts: ReplayedThoughtCount | None = None
    # usageMetadata's non-count fields (trafficType on Vertex, serviceTier on the Gemini API), as dated data.
    fields: dict[str, str] = field(default_factory=dict)
    # rawPromptTokenCount - promptTokenCount where answers report it (accounting.yaml `raw_prompt_tokens`), else None.
    raw_prompt_overhead: int | None = None
    raw_prompt_rule: RawPromptRule | None = None
    # Replayed function payloads whose seams the service bills a token or two away from the rule, either way.
    seams: SeamBounds | None = None
    # A streamed response whose text the service bills a few tokens off its count (accounting.yaml
    # `streamed_output_bounds`): the rule and the text tokens it concerns.
    streamed_output: tuple[StreamedOutputBounds, int] | None = None
    # A response given as its streamed chunks whose text is billed chunk by chunk (accounting.yaml
    # `streamed_chunks_apart`).
    streamed_chunks: StreamedChunks | None = None
    # A response that shows only thought summaries (includeThoughts) and states no thoughtsTokenCount of its own:
    # the thoughts billed are the model's whole thinking, which the summaries do not show. (low, high).
    unknown_thoughts: tuple[int, int] | None = None
    # The requested name was answered by another model that day (models.yaml `redirects`): `model` is that one.
    redirect: Redirect | None = None
    # The calls the output bills to server-side tools (accounting.yaml `server_tool_calls`), and how many more tokens
    # calls a response without its metadata cannot tell may bill.
    server_tools: ServerToolCalls = field(default_factory=ServerToolCalls)
    # The service reported the thoughts inside candidatesTokenCount that day (accounting.yaml `thoughts_in_candidates`):
    # candidatesTokenCount = the output + thoughtsTokenCount, and the total counts them once.
    thoughts_in_candidates: DatedRule | None = None
    # The service billed no whitespace at the end of an output's text that day (accounting.yaml
    # `trailing_whitespace_not_billed`), where output_newlines alone would bill it.
    trailing_whitespace: DatedRule | None = None
    # The accounting.yaml `code_execution_parts` entry that read the request's or the response's code parts.
    code_parts: CodeParts | None = None
    # The accounting.yaml `function_call_outputs` entry that counted the response's functionCall parts.
    output_calls: OutputCalls | None = None
    # Built-in tools whose run for the answer the service bills in the prompt (accounting.yaml `tool_runs_in_prompt`):
    # how far above the point value the prompt may be.
    tool_runs: ToolRunSpan | None = None
    # The serving model sometimes billed a second pass over the prompt on these days (accounting.yaml
    # `prompt_second_pass`): the same body billed once or about twice, which the request does not tell.
    second_pass: SecondPassBounds | None = None
    # dated_weights entries whose change no recorded answer dates on this day, each with what its weights would
    # change in the prompt (accounting.yaml `seen_without_before` / `seen_without_after`): either may hold.
    unsure_dated: tuple[tuple[DatedWeights, int], ...] = ()
    # Calls streamed in pieces (accounting.yaml `streamed_call_arguments`): what their streamed arguments add in the
    # history (prompt) and in the response (output), and how much of it the bill may not hold.
    streamed_history: StreamedCalls | None = None
    streamed_calls: StreamedCalls | None = None
    # The response's call args whose seams the service bills a token either way (uncertain_seams, output shapes).
    output_seams: SeamBounds | None = None

    @property
    def model_version(self) -> str:
        """The modelVersion a generateContent answer names: the redirect's model, else the registry's id."""
        return self.redirect.served_by if self.redirect is not None else self.model.id

    @property
    def raw_prompt_token_count(self) -> int | None:
        """rawPromptTokenCount (not billed), where the model's answers report it."""
        return None if self.raw_prompt_overhead is None else self.prompt_token_count + self.raw_prompt_overhead

    @property
    def replayed_thoughts_token_count(self) -> int:
        return self.replayed_thoughts.tokens if self.replayed_thoughts else 0

    @property
    def prompt_token_count(self) -> int:
        return self.prompt.total_tokens + self.cached_content_token_count + self.replayed_thoughts_token_count

    @property
    def prompt_tokens_by_modality(self) -> dict[str, int]:
        out = dict(self.prompt.tokens_by_modality)
        if self.replayed_thoughts_token_count:
            out["TEXT"] = out.get("TEXT", 0) + self.replayed_thoughts_token_count
        return out

    @property
    def exact(self) -> bool:
        """False when a part of the bill cannot be known offline: `bounds` then says how far it can be."""
        thoughts_exact = self.replayed_thoughts is None or self.replayed_thoughts.exact
        return (
            thoughts_exact
            and self.seams is None
            and self.tool_runs is None
            and self.second_pass is None
            and not self.unsure_dated
            and self.streamed_output is None
            and self.unknown_thoughts is None
            and not self.server_tools.unknown_high
            and not _spread(self.streamed_history)
            and not _spread(self.streamed_calls)
            and self.output_seams is None
            and not self.prompt.media_bounds
        )

    @property
    def bounds(self) -> dict[str, Any] | None:
        """{"promptTokenCount": [low, high], "candidatesTokenCount": [low, high], "totalTokenCount": [low, high],
        "reason": …} when not exact; only the counts that cannot be exact (and the total) have a range."""
        if self.exact:
            return None
        thoughts = self.replayed_thoughts
        reasons: list[str] = []
        prompt_low = prompt_high = self.prompt_token_count
        if thoughts is not None and not thoughts.exact:
            prompt_low += thoughts.low - thoughts.tokens
            prompt_high += thoughts.high - thoughts.tokens
            reasons.append(thoughts.reason or "")
        if self.seams is not None:
            prompt_low += self.seams.low
            prompt_high += self.seams.high
            reasons.append(self.seams.reason)
        if self.tool_runs is not None:
            prompt_high += self.tool_runs.high
            reasons.append(self.tool_runs.reason)
        if self.second_pass is not None:
            prompt_high += self.second_pass.high(self.prompt_token_count)
            reasons.append(self.second_pass.reason)
        for entry, change in self.unsure_dated:
            prompt_low += min(0, change)
            prompt_high += max(0, change)
            reasons.append(_unsure_dated_reason(entry, change))
        if self.streamed_history is not None and self.streamed_history.spread:
            prompt_low -= self.streamed_history.spread
            reasons.append(self.streamed_history.reason)
        for low, high, reason in self.prompt.media_bounds:
            prompt_low += low
            prompt_high += high
            reasons.append(reason)
        out: dict[str, Any] = {}
        streamed_calls = _spread(self.streamed_calls)
        output_uncertain = (
            self.streamed_output is not None
            or bool(self.server_tools.unknown_high)
            or bool(streamed_calls)
            or self.output_seams is not None
        )
        if (prompt_low, prompt_high) != (self.prompt_token_count,) * 2 or not output_uncertain:
            out["promptTokenCount"] = [prompt_low, prompt_high]
        output_low = output_high = self.candidates_token_count
        if self.streamed_output is not None:
            rule, text_tokens = self.streamed_output
            low, high = rule.around(text_tokens)
            output_low += low - text_tokens
            output_high += high - text_tokens
            reasons.append(rule.reason)
        if self.server_tools.unknown_high:  # the point value counts the typical call; the bounds, none up to the most
            output_low -= self.server_tools.estimate
            output_high += self.server_tools.unknown_high - self.server_tools.estimate
            reasons.append(self.server_tools.reason)
        if streamed_calls and self.streamed_calls is not None:
            output_low -= streamed_calls
            reasons.append(self.streamed_calls.reason)
        if self.output_seams is not None:
            output_low += self.output_seams.low
            output_high += self.output_seams.high
            reasons.append(self.output_seams.reason)
        if output_uncertain:
            out["candidatesTokenCount"] = [output_low, output_high]
        rest_low = rest_high = self.thoughts_token_count
        if self.unknown_thoughts is not None:
            rest_low, rest_high = self.unknown_thoughts
            out["thoughtsTokenCount"] = [rest_low, rest_high]
            shown = (
                "The response shows thought summaries, not the thoughts"
                if rest_low
                else "The response shows no thoughts, and the model thinks"
            )
            reasons.append(
                f"{shown}: thoughtsTokenCount bills the model's whole thinking (at least the summaries' tokens, at "
                "most the thinking budget or the output limit). Give the response with its usageMetadata to take "
                "Google's own count."
            )
        if self.thoughts_in_candidates is not None:  # the thoughts are in the output's count, and its range
            output_low += rest_low - self.thoughts_token_count
            output_high += rest_high - self.thoughts_token_count
            if self.unknown_thoughts is not None:
                out["candidatesTokenCount"] = [output_low, output_high]
            rest_low = rest_high = 0
        out["totalTokenCount"] = [prompt_low + output_low + rest_low, prompt_high + output_high + rest_high]
        if self.raw_prompt_overhead is not None and "promptTokenCount" in out:
            out["rawPromptTokenCount"] = [prompt_low + self.raw_prompt_overhead, prompt_high + self.raw_prompt_overhead]
        out["reason"] = " ".join(reasons)
        return out

    @property
    def candidates_token_count(self) -> int:
        """candidatesTokenCount: the output's tokens (and the thoughts, where that day's service counted them in)."""
        inside = self.thoughts_token_count if self.thoughts_in_candidates is not None else 0
        return sum(self.candidates_tokens_by_modality.values()) + inside

    @property
    def total_token_count(self) -> int:
        outside = self.thoughts_token_count if self.thoughts_in_candidates is None else 0
        return self.prompt_token_count + self.candidates_token_count + outside

    @property
    def fits_context_window(self) -> bool:
        return self.prompt_token_count <= self.model.input_token_limit

    @property
    def confidence(self) -> str:
        """The registry's confidence in the model's counting facts (the prompt count's)."""
        return self.prompt.confidence

    @property
    def inferred(self) -> bool:
        """True when the counts rest on inferred facts (a new family's tokenizer or overheads): estimates."""
        return self.prompt.inferred

    @property
    def max_output_tokens(self) -> int | None:
        """generationConfig.maxOutputTokens of the parsed request."""
        return self.prompt.request.max_output_tokens

    @property
    def thinking_budget(self) -> int | None:
        """generationConfig.thinkingConfig.thinkingBudget of the parsed request."""
        return self.prompt.request.thinking_budget

    @property
    def output_token_limit(self) -> int:
        """The most output tokens this request can be billed for: maxOutputTokens, else the model's cap."""
        return self.max_output_tokens if self.max_output_tokens is not None else self.model.output_token_limit

    @property
    def rules(self) -> list[dict[str, Any]]:
        """The rules this bill applied, with their confidence and evidence ids (docs/counting.md)."""
        from vertexmeter.counting.explain import applied_rules, redirect_rule, rule_entry

        replayed = self.replayed_thoughts.rule if self.replayed_thoughts else None
        dated = self.thoughts_in_candidates
        inside = [rule_entry("thoughts_in_candidates", dated)] if dated is not None else []
        if self.second_pass is not None:
            inside.append(rule_entry("prompt_second_pass", self.second_pass))
        if self.trailing_whitespace is not None:
            inside.append(rule_entry("trailing_whitespace_not_billed", self.trailing_whitespace))
        for streamed in (self.streamed_history, self.streamed_calls):
            for entry in streamed.rules if streamed is not None else ():
                inside.append(rule_entry("streamed_call_arguments", entry))
        for seam, _ in self.output_seams.found if self.output_seams is not None else ():
            inside.append(rule_entry(f"uncertain_seams ({seam.shape})", seam))
        return (
            inside
            + redirect_rule(self.redirect)
            + applied_rules(
                self.prompt.request,
                self.prompt.tokenizer,
                replayed=replayed,
                response=self.has_response,
                raw_prompt=self.raw_prompt_rule,
                seams=self.seams,
                streamed=self.streamed_output[0] if self.streamed_output else None,
                chunks=self.streamed_chunks,
                server_tools=[*self.server_tools.rules, *self.server_tools.unknown],
                reach=self.replayed_thoughts.reach if self.replayed_thoughts else None,
                dated=self.prompt.dated,
                code=self.code_parts,
                calls=self.output_calls,
                tool_runs=self.tool_runs.rules if self.tool_runs else (),
            )
        )

    def to_rest(self, explain: bool = False) -> dict[str, Any]:
        """usageMetadata JSON in Google's field order; zero counts omitted, as proto3 JSON does; `explain` adds
        the rules applied (not Google's)."""
        out: dict[str, Any] = {}
        if self.prompt_token_count:
            out["promptTokenCount"] = self.prompt_token_count
        if self.has_response and self.candidates_token_count:
            out["candidatesTokenCount"] = self.candidates_token_count
        if self.cached_content_token_count:
            out["cachedContentTokenCount"] = self.cached_content_token_count
        out["totalTokenCount"] = self.total_token_count
        if "trafficType" in self.fields:
            out["trafficType"] = self.fields["trafficType"]
        details = modality_details(self.prompt_tokens_by_modality)
        if details:
            out["promptTokensDetails"] = details
        if self.cached_content_token_count:
            out["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": self.cached_content_token_count}]
        if self.has_response:
            by_modality = dict(self.candidates_tokens_by_modality)
            if self.thoughts_in_candidates is not None and self.thoughts_token_count:
                by_modality["TEXT"] = by_modality.get("TEXT", 0) + self.thoughts_token_count
            candidates = modality_details(by_modality)
            if candidates:
                out["candidatesTokensDetails"] = candidates
        if self.thoughts_token_count:
            out["thoughtsTokenCount"] = self.thoughts_token_count
        out.update({k: v for k, v in self.fields.items() if k != "trafficType"})
        if self.raw_prompt_token_count is not None:
            out["rawPromptTokenCount"] = self.raw_prompt_token_count
        bounds = self.bounds
        if bounds is not None:
            out["bounds"] = bounds  # not Google's: present only on a count that cannot be exact offline
        if explain:
            out["rules"] = self.rules
        return out


def usage(
    model: str | ModelInfo,
    request: Any,
    *,
    api: str = "vertex",
    response: Any = None,
    as_of: Any = None,
    media_options: MediaOptions | None = None,
    cached_content_tokens: int | None = None,
    history: Any = None,
    config: Any = None,
    streamed: bool | None = None,
) -> UsageResult:
    """The typed bill of a generateContent `request` (either API's body, dict / JSON / google-genai types).

    config: google-genai's GenerateContentConfig (or its dict), as generate_content(config=) takes it.
    response: the candidate's text, a `Content`, a GenerateContentResponse JSON, or a list of streamed
        GenerateContentResponse chunks; its tokens fill candidatesTokenCount / thoughtsTokenCount.
    as_of: the date whose rules apply (vocabulary, overheads); default: today's service.
    cached_content_tokens: the size of the `cachedContent` the request names (a cache cannot be read
        offline); required when the request names one.
    history: the conversation's earlier generateContent responses (JSON, google-genai objects, or lists of
        streamed chunks): the thoughts of those whose thought signatures the request replays are billed
        exactly; without them the bill carries `bounds` (docs/counting.md, "Replayed thoughts").
    streamed: the conversation's answers came from streamGenerateContent (True) or generateContent (False); None:
        not said. A response given joined (its text, a `Content`, one merged response) from a stream: where a
        stream bills its text off the text's count (accounting.yaml `streamed_output_bounds`) and the chunks that
        would tell are not given, the output carries `bounds`. Replayed signatures where only a streamed response's
        bill (accounting.yaml `replayed_thoughts`, `when_streamed`): said, it decides; not said, the signature's
        segments tell (docs/counting.md, "Replayed thoughts"). Said, it also picks the readings a signature's size is
        read with where the producing response's thoughts are not given (accounting.yaml `signature_size`
        `by_generation` `streamed`: the Gemini API's streamed 3.x signatures carry more bytes per thought).
    """
    day = parse_day(as_of, "as_of")
    info = model_info(model, api, on=day)
    result = usage_of_body(
        info,
        request_body(request, info, api, config=config, generate=True),
        api=api,
        response=response,
        as_of=as_of,
        media_options=media_options,
        cached_content_tokens=cached_content_tokens,
        history=history,
        streamed=streamed,
    )
    if isinstance(model, str):
        result.redirect = redirect_for(model, api=api, on=day)
    return result


def usage_of_body(
    info: ModelInfo,
    body: dict[str, Any],
    *,
    api: str,
    response: Any = None,
    as_of: Any = None,
    media_options: MediaOptions | None = None,
    cached_content_tokens: int | None = None,
    history: Any = None,
    count_billable: bool = True,
    streamed: bool | None = None,
) -> UsageResult:
    """`usage` of a body `request_body` already made (estimate builds it once, to tell :predict bodies).
    count_billable=False: the prompt's billable characters are not counted (see `count_prompt_tokens`);
    streamed: as `usage` takes it."""
    if streamed is not None and not isinstance(streamed, bool):
        raise invalid_argument(f"streamed is true, false or not given, not {streamed!r}.", "streamed")
    day = parse_day(as_of, "as_of")
    prompt = parse_generate_request(info, body, api)
    cached = _cached_tokens(prompt, cached_content_tokens)
    known = thought_history(history)
    counted = count_prompt_tokens(prompt, media_options or MediaOptions(), day, count_billable=count_billable)
    tokenizer = get_tokenizer(tokenizer_for(prompt.model, prompt.api, day))
    # The tool template in force on the day (dated_weights can change what it reads), for the declarations' seams.
    template = rules_on(accounting_for(prompt.model, prompt.api, prompt.call), day).tools if prompt.tools else None
    raw_rule = raw_prompt_rule_for(info, api, day) if prompt.call == GENERATE_CONTENT else None
    replayed = replayed_thought_tokens(
        prompt,
        replayed_thoughts_for(info, api, GENERATE_CONTENT, day),
        known,
        thought_reach(prompt, GENERATE_CONTENT),
        streamed=streamed,
    )
    result = UsageResult(
        model=info,
        api=api,
        prompt=counted,
        as_of=day,
        cached_content_token_count=cached,
        replayed_thoughts=replayed if replayed.signatures else None,
        fields=_usage_fields(prompt, day),
        raw_prompt_overhead=_raw_prompt_overhead(prompt, raw_rule),
        raw_prompt_rule=raw_rule,
        seams=seam_bounds(
            prompt,
            reads_json_schemas=template is None or template.counts_json_schemas,
            tokens=tokenizer.count,  # a count, without the list of ids encode builds
            template=template,
            day=day,
        ),
        streamed_history=counted.streamed_history,
        tool_runs=tool_run_span(prompt, GENERATE_CONTENT, day, response),
        second_pass=_second_pass(prompt, info, api, day),
        unsure_dated=_unsure_dated(prompt, counted, media_options or MediaOptions(), day),
    )
    if response is not None:
        streamed_rule = streamed_output_bounds_for(info, api, GENERATE_CONTENT, day)
        candidates, thoughts, streamed_text, read_by, streamed_calls, result.output_seams = count_response(
            prompt,
            response,
            day,
            streamed_rule,
            joined_stream=bool(streamed),
            chunk_rule=streamed_chunks_for(info, api, GENERATE_CONTENT, day),
        )
        result.server_tools = server_tool_calls(
            prompt,
            response,
            tokenizer,
            GENERATE_CONTENT,
            answer_tokens=candidates.get("TEXT", 0),
            day=day,
        )
        billed_calls = result.server_tools.tokens + result.server_tools.estimate
        if billed_calls:
            candidates["TEXT"] = candidates.get("TEXT", 0) + billed_calls
        result.candidates_tokens_by_modality = candidates
        result.has_response = True
        stated = _stated_thoughts(response)
        # The response's own usageMetadata is Google's count of its thinking; thought summaries (the only
        # thoughts a response shows) bound it from below, the thinking budget or the output left from above.
        result.thoughts_token_count = thoughts if stated is None else stated
        result.thoughts_in_candidates = dated_rule_on(
            "thoughts_in_candidates", api, GENERATE_CONTENT, info.rules_generation, day
        )
        result.trailing_whitespace = _trailing_whitespace_rule(prompt, day)
        budget = result.thinking_budget
        # On the days the service counted the thoughts inside candidatesTokenCount, a response that states none and
        # shows none still carries the model's hidden thinking in that count (unless thinking is off: budget 0). The
        # models of the generations the rule names think (every 2.5 model of those days does); a model of another
        # generation counted by their rules (a 2.0 preview by 2.5's) does not.
        inside = result.thoughts_in_candidates
        hidden = stated is None and inside is not None and budget != 0 and info.generation in inside.generations
        if stated is None and (thoughts or hidden):
            high = (
                budget
                if budget is not None and budget > 0
                else result.output_token_limit - result.candidates_token_count
            )
            result.unknown_thoughts = (thoughts, max(high, thoughts))
        if streamed_rule is not None and streamed_text:
            result.streamed_output = (streamed_rule, streamed_text)
        result.streamed_calls = streamed_calls
        for rule in read_by:
            if isinstance(rule, StreamedChunks):
                result.streamed_chunks = rule
            elif isinstance(rule, OutputCalls):
                result.output_calls = rule
            else:
                result.code_parts = rule
    if result.code_parts is None and any(_code_field(part) for turn in prompt.contents for part in turn.parts):
        result.code_parts = code_parts_for(api, GENERATE_CONTENT, info.rules_generation, day)
    return result


def usage_metadata(
    model: str,
    request: Any,
    *,
    api: str = "vertex",
    response: Any = None,
    as_of: Any = None,
    media_options: MediaOptions | None = None,
    cached_content_tokens: int | None = None,
    history: Any = None,
    explain: bool = False,
    config: Any = None,
    streamed: bool | None = None,
) -> dict[str, Any]:
    """The `usageMetadata` JSON generateContent would return for `request` (and `response`) on `model`;
    `explain=True` adds `rules`: the accounting rules applied, with confidence and evidence ids."""
    return usage(
        model,
        request,
        api=api,
        response=response,
        as_of=as_of,
        media_options=media_options,
        cached_content_tokens=cached_content_tokens,
        history=history,
        config=config,
        streamed=streamed,
    ).to_rest(explain=explain)


def _usage_fields(prompt: Prompt, day: dt.date | None) -> dict[str, str]:
    fields = usage_fields_for(prompt.api, day)
    tier = prompt.service_tier
    if "serviceTier" in fields and isinstance(tier, str) and tier:
        fields["serviceTier"] = tier.lower()
    return fields


def _unsure_dated(
    prompt: Prompt, counted: CountResult, media_options: MediaOptions, day: dt.date | None
) -> tuple[tuple[DatedWeights, int], ...]:
    """Each dated_weights entry whose change no recorded answer dates on `day`, with what its weights change in this
    prompt (entries that change nothing here are left out: the count is exact either way)."""
    out = []
    for entry in dated_weights_unsure_on(prompt.api, prompt.call, prompt.model.rules_generation, day):
        other = count_prompt_tokens(prompt, media_options, day, count_billable=False, also=(entry,))
        if other.total_tokens != counted.total_tokens:
            out.append((entry, other.total_tokens - counted.total_tokens))
    return tuple(out)


def _unsure_dated_reason(entry: DatedWeights, change: int) -> str:
    span = f"from {entry.since} until {entry.until}" if entry.since != dt.date.min else f"until {entry.until}"
    edges = ", ".join(
        f"{label} {day}"
        for label, day in (
            ("the last answer seen without them", entry.seen_without_before),
            ("the first answer seen without them", entry.seen_without_after),
        )
        if day is not None
    )
    weights = ", ".join(f"{name} {value}" for name, value in entry.weights)
    return (
        f"The recorded answers bill this request's {entry.table} with {weights} {span} ({edges}); between, no answer "
        f"tells which held on this day: {change:+d} tokens with them (accounting.yaml dated_weights)."
    )


def _second_pass(prompt: Prompt, info: ModelInfo, api: str, day: dt.date | None) -> SecondPassBounds | None:
    """The accounting.yaml `prompt_second_pass` entry that bounds this generateContent prompt, or None."""
    rule = second_pass_bounds_for(info, api, prompt.call, day) if prompt.call == GENERATE_CONTENT else None
    if rule is not None and rule.first_turn_only and any(turn.role == "model" for turn in prompt.contents):
        return None
    return rule


def _raw_prompt_overhead(prompt: Prompt, rule: RawPromptRule | None) -> int | None:
    """rawPromptTokenCount - promptTokenCount under `rule` (accounting.yaml `raw_prompt_tokens`), None without one."""
    if rule is None:
        return None
    total = rule.base + (rule.with_system_or_tools if prompt.system_instruction or prompt.tools else 0)
    for turn in prompt.contents:
        calls = any("functionCall" in part for part in turn.parts)
        responses = any("functionResponse" in part for part in turn.parts)
        if calls:
            total += rule.per_call_content
        elif responses:
            total += rule.per_response_content
        elif turn.role == "model":
            total += rule.per_model_text_content
        else:
            total += rule.per_user_text_content
    return total


def _cached_tokens(prompt: Prompt, stated: int | None) -> int:
    if not prompt.cached_content:
        if stated:
            raise invalid_argument(
                "cached_content_tokens was given but the request names no cachedContent.", "cached_content"
            )
        return 0
    if stated is None:
        raise failed_precondition(
            f"The request names cachedContent {prompt.cached_content!r}, a server-side cache that cannot be read "
            "offline. State its size (cached_content_tokens / --cached-tokens) or send its contents in `contents`.",
            "cached_content",
        )
    if isinstance(stated, bool) or not isinstance(stated, int) or stated < 0:
        raise invalid_argument(
            f"cached_content_tokens must be a whole number >= 0, not {stated!r}.", "cached_content_tokens"
        )
    return stated


# ---- the response ---------------------------------------------------------------------------------
def _stated_thoughts(response: Any) -> int | None:
    """thoughtsTokenCount as the response's own usageMetadata states it (a stream: the last chunk that states
    usage), or None when it states no usage."""
    response = plain(response, "response")
    chunks = response if isinstance(response, list) else [response]
    stated = None
    for i, chunk in enumerate(chunks):
        if isinstance(chunk, dict):
            path = f"response[{i}]" if isinstance(response, list) else "response"
            value = response_thoughts(chunk, path)
            stated = value if value is not None else stated
    return stated


def count_response(
    prompt: Prompt,
    response: Any,
    as_of: dt.date | None,
    streamed_rule: StreamedOutputBounds | None = None,
    joined_stream: bool = False,
    chunk_rule: StreamedChunks | None = None,
) -> tuple[
    dict[str, int],
    int,
    int,
    tuple[CodeParts | OutputCalls | StreamedChunks, ...],
    StreamedCalls | None,
    SeamBounds | None,
]:
    """(candidate tokens by modality, thought tokens, streamed text tokens, the accounting.yaml `code_execution_parts`
    and `function_call_outputs` entries that read its parts, what its calls streamed in pieces add
    (`streamed_call_arguments`), its calls' uncertain seams (`uncertain_seams`)) of a response: the raw count of what
    the model wrote, and the text tokens of the candidates `streamed_rule` leaves uncertain (a list of chunks whose
    text spans at least its min_chunks, or a stream given joined: `joined_stream`, whose chunks are not known;
    accounting.yaml `streamed_output_bounds`), 0 when none.

    Text is counted per candidate as one string (streamed chunks joined); thought parts go to
    thoughtsTokenCount. Function calls count as accounting.yaml `function_call_outputs` writes them (where it has no
    entry, like the request's: name, argument keys and strings); code execution's parts as `code_execution_parts` says.
    A text cut by one of the request's stop sequences bills as accounting.yaml `stop_sequences` says; newlines
    at the start or end of the text as `output_newlines` says. A list of chunks where `chunk_rule` holds
    (accounting.yaml `streamed_chunks_apart`) bills each chunk's text apart, without the whitespace at its edges, and
    the rule's per_thought_part for each thought summary; a stream given joined (`joined_stream`) bills that
    per_thought_part for each thought part it shows (Mirascope's compute_fib after one summary: mirac-0248).
    """
    tokenizer = get_tokenizer(tokenizer_for(prompt.model, prompt.api, as_of))
    rules = accounting_for(prompt.model, prompt.api, GENERATE_CONTENT)
    if _trailing_whitespace_rule(prompt, as_of) is not None:
        rules = replace(rules, bills_trailing_whitespace=False)
    stops = _stop_sequences(prompt) if rules.billed_output == "before_stop" else []
    apart = counts_text_pieces_apart(prompt.model, prompt.api, GENERATE_CONTENT)
    by_modality: dict[str, int] = {}
    thoughts = uncertain = 0
    read_by: dict[str, CodeParts | OutputCalls | StreamedChunks] = {}
    calls: list[dict[str, Any]] = []  # the response's functionCall values, a streamed call's pieces joined
    chunks = isinstance(response, list)
    # A stream given joined (its chunks not known) still shows its thought summaries, each of which bills a token less
    # (streamed_chunks_apart per_thought_part).
    joined_rule = chunk_rule if joined_stream and not chunks else None
    chunk_rule = chunk_rule if chunks else None
    # Where a stream's chunks are counted apart (text_pieces_apart, streamed_chunks_apart), its chunks make the count
    # exact: only the joined text leaves it open.
    streamed = streamed_rule is not None and (joined_stream and not chunks or chunks and not apart and not chunk_rule)
    code_rule = code_parts_for(prompt.api, GENERATE_CONTENT, prompt.model.rules_generation, as_of)
    generation, rules_id = prompt.model.rules_generation, prompt.model.rules_id
    call_rule = output_calls_for(prompt.api, GENERATE_CONTENT, generation, as_of, rules_id)
    wrote_text = False  # a candidate has text (the output seams of a text: accounting.yaml uncertain_seams)
    trimmed: list[tuple[str, str]] = []  # (as written, as billed) of texts whose edges output_newlines left out
    texts: list[str] = []  # each candidate's text as billed (the response's output seams: uncertain_seams)
    written_calls: list[dict[str, Any]] = []
    for parts, finish_reason in response_candidates(response):
        pieces: list[str] = []  # the candidate's text parts: each ends on a token the model generated
        thought_text = ""
        summaries = 0  # thought parts with text: a streamed chunk's thought summary each
        others: list[str] = []
        # Code execution (accounting.yaml code_execution_parts): the code texts billed, each code part's own tokens,
        # and the runs of text parts a code part ends where its code is billed without its edges.
        code_texts: list[str] = []
        code_parts = 0
        segments: list[list[str]] = []
        # Calls written inside the candidate's text (function_call_outputs inside_text): a text's edge that meets
        # one is not the candidate's edge.
        call_first = call_last = False
        for j, part in enumerate(parts):
            if not isinstance(part, dict):
                raise invalid_argument("A response part is a JSON object.", f"response.parts[{j}]")
            if media_field(part):
                by_modality["IMAGE"] = by_modality.get("IMAGE", 0) + _generated_image_tokens(prompt, part, j)
                continue
            if isinstance(written := part.get("functionCall", part.get("function_call")), dict):
                written_calls.append(written)  # as the model wrote it, whether function_call_outputs reads it or not
            if "text" in part:
                if part.get("thought"):
                    thought_text += part["text"]
                    summaries += bool(part["text"])
                else:
                    pieces.append(part["text"])
                    call_last = False
            elif call_rule is not None and (call := part.get("functionCall", part.get("function_call"))) is not None:
                by_modality["TEXT"] = by_modality.get("TEXT", 0) + _output_call_tokens(tokenizer, call_rule, call)
                calls.append(call)
                read_by["calls"] = call_rule
                call_first = call_first or (call_rule.inside_text and not pieces and not segments)
                call_last = call_rule.inside_text
            elif code_rule is not None and (code_part := _code_field(part)) is not None:
                name, value = code_part
                read_by["code"] = code_rule
                if name == "executableCode":
                    code_parts += 1
                    code = value.get("code") if isinstance(value, dict) else None
                    if code_rule.code == "edges_stripped":
                        segments.append(pieces)
                        pieces = []
                        code_texts.append(code.strip() if isinstance(code, str) else "")
                    elif code_rule.code == "as_written":
                        code_texts.append(code if isinstance(code, str) else "")
                elif code_rule.result_billed:
                    others.extend(t for t, _ in part_texts(part, f"response.parts[{j}]"))
            else:
                others.extend(t for t, _ in part_texts(part, f"response.parts[{j}]"))
        # A code part billed without its edges ends the text before it: each earlier run of text parts is a text of
        # its own, with the same edges left out; the run after the last code part is the candidate's text.
        others.extend("".join(_billed_edges(rules, run)) for run in segments)
        written = "".join(pieces)
        pieces = _billed_edges(rules, pieces, inner_start=call_first and not segments, inner_end=call_last)
        others.extend(code_texts)
        if code_rule is not None and code_parts:
            by_modality["TEXT"] = by_modality.get("TEXT", 0) + code_rule.per_code_part * code_parts
        text = "".join(pieces)
        wrote_text = wrote_text or bool(text)
        if text:
            texts.append(text)
        if written != text and chunk_rule is None and not apart:
            trimmed.append((written, text))  # tokenized only where a seam weighs the edges (output_seam_bounds)
        if chunk_rule is not None:  # accounting.yaml streamed_chunks_apart: each chunk's text, its edges left out
            text_tokens = sum(tokenizer.count(billed) for piece in pieces if (billed := chunk_rule.billed(piece)))
            read_by["chunks"] = chunk_rule
        elif apart:  # accounting.yaml text_pieces_apart: a stream's chunks end where the model's tokens end
            text_tokens = sum(tokenizer.count(piece) for piece in pieces if piece)
        else:
            text_tokens = tokenizer.count(text) if text else 0
        if stops and text and finish_reason in (None, "STOP"):
            cut = tokens_before_stop(tokenizer, text, stops)
            text_tokens = text_tokens if cut is None else cut
        spans = not chunks or sum(1 for piece in pieces if piece) >= (streamed_rule.min_chunks if streamed_rule else 0)
        if streamed and spans:
            uncertain += text_tokens
        counted = text_tokens + sum(tokenizer.count(t) for t in others if t)
        if counted:
            by_modality["TEXT"] = by_modality.get("TEXT", 0) + counted
        if chunk_rule is not None and summaries and "TEXT" in by_modality:
            # accounting.yaml streamed_chunks_apart per_thought_part: each thought summary's chunk bills less output
            by_modality["TEXT"] = max(0, by_modality["TEXT"] + chunk_rule.per_thought_part * summaries)
        elif joined_rule is not None and summaries and "TEXT" in by_modality:
            by_modality["TEXT"] = max(0, by_modality["TEXT"] + joined_rule.per_thought_part * summaries)
        thoughts += tokenizer.count(thought_text) if thought_text else 0
    streamed_calls = streamed_call_tokens(calls, output_rules(prompt, as_of)) if calls else None
    if streamed_calls is not None:
        by_modality["TEXT"] = by_modality.get("TEXT", 0) + streamed_calls.tokens
    # A text's seams beside a built-in tool (text_beside_search) hold unless a whole response shows no tool ran.
    wrote_text = wrote_text and response_shows_tool_run(response) is not False
    seams = None
    if calls or wrote_text or trimmed or texts or written_calls:
        # Generation 3's reading of the calls, for a seam that bounds a call down to it (output_call_over_3).
        call_rule_3 = output_calls_for(prompt.api, GENERATE_CONTENT, "3", as_of) if calls else None
        view = ResponseView(
            texts=tuple(texts),
            calls_written=tuple(written_calls),
            streamed=chunks or joined_stream,
            call_tokens=None if call_rule is None else partial(_output_call_tokens, tokenizer, call_rule),
            call_tokens_3=None if call_rule_3 is None else partial(_output_call_tokens, tokenizer, call_rule_3),
            day=as_of,
        )
        seams = output_seam_bounds(prompt, calls, wrote_text, trimmed, tokenizer.count, view)
    return by_modality, thoughts, uncertain, tuple(read_by.values()), streamed_calls, seams


def _spread(streamed: StreamedCalls | None) -> int:
    """How many tokens below the point value the bill may be for streamed arguments (0: exact)."""
    return streamed.spread if streamed is not None else 0


def _trailing_whitespace_rule(prompt: Prompt, day: dt.date | None) -> DatedRule | None:
    """accounting.yaml `trailing_whitespace_not_billed`: the entry in force for the prompt's model on `day`."""
    return dated_rule_on(
        "trailing_whitespace_not_billed", prompt.api, GENERATE_CONTENT, prompt.model.rules_generation, day
    )


def _billed_edges(
    rules: Accounting, pieces: list[str], inner_start: bool = False, inner_end: bool = False
) -> list[str]:
    """A candidate's text parts with what the API leaves out at their edges (accounting.yaml `output_newlines`);
    `inner_start` / `inner_end`: a call the model wrote there makes that edge an inner one, billed as written."""
    pieces = list(pieces)
    if not rules.bills_edge_newlines and pieces:
        if not inner_start:
            pieces[0] = pieces[0].lstrip("\n")
        if not inner_end:
            pieces[-1] = pieces[-1].rstrip("\n")
    if not rules.bills_trailing_whitespace and pieces and not inner_end:
        pieces[-1] = pieces[-1].rstrip()
    return pieces


def _output_call_tokens(tokenizer: Tokenizer, rule: OutputCalls, call: Any) -> int:
    """A functionCall part of a response as accounting.yaml `function_call_outputs` bills it: its name, its args
    written as the rule's payload, and the rule's tokens per call, per top-level number of the args, per top-level
    string of them that ends with `)`, per one that ends a sentence before another key and per object of one string
    before another key."""
    call = call if isinstance(call, dict) else {}
    name = call.get("name")
    args = call.get("args") if isinstance(call.get("args"), dict) else {}
    name = name if isinstance(name, str) else ""
    numbers = rule.per_number * top_level_numbers(args) if rule.per_number else 0
    if rule.per_string_ending_in_paren:
        numbers += rule.per_string_ending_in_paren * strings_ending_in_paren(args)
    if rule.per_string_ending_before_key:
        numbers += rule.per_string_ending_before_key * strings_ending_before_key(args, rule.string_endings)
    if rule.per_lone_string_object_before_key:
        numbers += rule.per_lone_string_object_before_key * lone_string_objects_before_key(args)
    if rule.written_as:  # one text: the model's tokens span the name's and the args' edges
        if rule.args_brace_apart:  # ... but for the args' opening brace, a token of its own
            before, after = (side.replace("{name}", name) for side in rule.written_as.split("{args}"))
            pieces = (before, _call_json(args)[1:] + after)
            return sum(tokenizer.count(piece) for piece in pieces if piece) + 1 + rule.per_call + numbers
        text = rule.written_as.replace("{args}", _call_json(args)).replace("{name}", name)
        return tokenizer.count(text) + rule.per_call + numbers
    tokens = tokenizer.count(name) if name else 0
    if rule.payload == "escaped_strings":  # Gemma 4's tool-call text: each escape is one token of its own
        text = escaped_payload(args)
        tokens += sum(tokenizer.count(piece) for piece in text.split(ESCAPE) if piece) + text.count(ESCAPE)
    elif rule.payload == "json":
        tokens += tokenizer.count(_call_json(args))
    else:
        tokens += sum(tokenizer.count(text) for text, _ in value_texts(args, "args") if text)
    return tokens + rule.per_call + numbers


def _call_json(value: Any) -> str:
    """A call's args as the Gemini API's 2.5 writes them: JSON with no space after an object's commas, one after its
    colons and after a list's commas (`{"a": "x","b": ["y", "z"]}`); an object inside a list has a space after its
    commas too (`[{"a": 1, "b": 2}]`)."""
    return _json_value(value, ",")


def _json_value(value: Any, comma: str) -> str:
    if isinstance(value, dict):
        items = (f"{json.dumps(key, ensure_ascii=False)}: {_json_value(item, ',')}" for key, item in value.items())
        return "{" + comma.join(items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_json_value(item, ", ") for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _code_field(part: dict[str, Any]) -> tuple[str, Any] | None:
    """("executableCode" | "codeExecutionResult", its value) of a code execution part, either casing; else None."""
    for name, proto in (("executableCode", "executable_code"), ("codeExecutionResult", "code_execution_result")):
        if name in part or proto in part:
            return name, part.get(name, part.get(proto))
    return None


def tokens_before_stop(tokenizer: Tokenizer, text: str, stop_sequences: list[str]) -> int | None:
    """The tokens generated wholly before a stop sequence the service cut `text` at, or None.

    The model wrote text + stop; the service returns `text` and does not bill the token that
    completed the stop. Re-tokenizing text + stop shows whether a token spans the cut (" Paris" after
    "...is "): then the tokens that end inside `text` are billed. None when no stop sequence's
    re-tokenization spans the cut (the text ends on a token boundary: its own count stands).
    """
    cut = len(text.encode("utf-8"))
    for stop in stop_sequences:
        whole = text + stop
        pieces = [len(tokenizer.token_bytes(i)) for i in tokenizer.encode(whole)]
        if sum(pieces) != len(whole.encode("utf-8")):
            continue  # the vocabulary normalized the text: its pieces cannot be aligned with the cut
        end = 0
        for k, size in enumerate(pieces):
            start, end = end, end + size
            if end > cut:
                if start < cut:
                    return k
                break
    return None


def _stop_sequences(prompt: Prompt) -> list[str]:
    stops = prompt.generation_config.get("stopSequences") or []
    return [s for s in stops if isinstance(s, str) and s]


def _generated_image_tokens(prompt: Prompt, part: dict[str, Any], j: int) -> int:
    """A generated image at the model's default output size (rules.yaml `output_image`)."""
    blob = part.get("inlineData") or part.get("fileData") or {}
    mime = str(blob.get("mimeType") or "")
    tokens = generated_image_tokens(prompt.model.rules_generation, prompt.api)
    if not mime.startswith("image/") or tokens is None:
        raise invalid_argument(
            f"vertexmeter counts text, function calls and generated images ({prompt.model.generation} models: "
            f"{'none' if tokens is None else tokens}) in a response; this part ({mime or 'no mimeType'}) is not "
            "counted.",
            f"response.parts[{j}]",
        )
    return tokens
