"""Which rules made an answer: the accounting.yaml entries (with confidence and evidence ids) a count applied."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Protocol

from vertexmeter.registry import (
    RawPromptRule,
    Redirect,
    ReplayedThoughts,
    StreamedChunks,
    StreamedOutputBounds,
    accounting_for,
    text_parts_joined_for,
    tokenizer_history,
)
from vertexmeter.requests import Prompt, media_field

if TYPE_CHECKING:
    from vertexmeter.counting.accounting import SeamBounds
    from vertexmeter.registry import CodeParts, DatedWeights, OutputCalls, ServerToolCall, ThoughtReach, ToolRunBounds


def applied_rules(
    prompt: Prompt,
    vocabulary: str,
    *,
    replayed: ReplayedThoughts | None = None,
    response: bool = False,
    raw_prompt: RawPromptRule | None = None,
    seams: SeamBounds | None = None,
    streamed: StreamedOutputBounds | None = None,
    chunks: StreamedChunks | None = None,
    server_tools: list[ServerToolCall] | None = None,
    reach: ThoughtReach | None = None,
    dated: tuple[DatedWeights, ...] = (),
    code: CodeParts | None = None,
    calls: OutputCalls | None = None,
    tool_runs: tuple[ToolRunBounds, ...] = (),
) -> list[dict[str, Any]]:
    """The rules behind a count of `prompt` (and its response), each as {"rule", "confidence", "evidence"}."""
    rules = accounting_for(prompt.model, prompt.api, prompt.call)
    parts = [part for turn in prompt.contents for part in turn.parts]
    used = ["role_overhead"]
    if any(tool.get("functionDeclarations") for tool in prompt.tools):
        used.append("tool_templates")
    if any("functionCall" in part or "functionResponse" in part for part in parts):
        used.append("function_history")
    if prompt.generation_config.get("responseSchema") or "responseJsonSchema" in prompt.generation_config:
        used.append("response_schema")
    if response:
        used += ["stop_sequences", "output_newlines"]
    out: list[dict[str, Any]] = []
    for name in used:
        confidence, evidence = rules.sources.get(name, ("", ()))
        out.append({"rule": f"accounting.yaml {name}", "confidence": confidence, "evidence": list(evidence)})
    joined = text_parts_joined_for(prompt.model, prompt.api, prompt.call)
    turns = [*prompt.contents, *([prompt.system_instruction] if prompt.system_instruction else [])]
    if joined is not None and any(_text_runs(turn.parts) for turn in turns):
        out.append(rule_entry("text_parts_joined", joined))
    for entry in dated:
        weights = ", ".join(f"{name} {value}" for name, value in entry.weights)
        since = "" if entry.since == dt.date.min else f"from {entry.since.isoformat()} "
        days = f"{since}until {entry.until.isoformat()}"
        out.append(rule_entry(f"dated_weights ({entry.table} {days}: {weights})", entry))
    if replayed is not None:
        out.append(rule_entry(f"replayed_thoughts ({replayed.scope}, {replayed.billed})", replayed))
    if reach is not None:
        skipped = f"; not thoughts: {', '.join(reach.not_thoughts)}" if reach.not_thoughts else ""
        out.append(rule_entry(f"replayed_thoughts_reach ({reach.earlier_turns}, {reach.signatures}{skipped})", reach))
    if raw_prompt is not None:
        out.append(rule_entry("raw_prompt_tokens", raw_prompt))
    for seam, _ in seams.found if seams is not None else ():
        out.append(rule_entry(f"uncertain_seams ({seam.shape})", seam))
    for run in tool_runs:
        out.append(rule_entry(f"tool_runs_in_prompt ({', '.join(run.tools)}: up to {run.per_run} per run)", run))
    if chunks is not None:
        out.append(rule_entry(f"streamed_chunks_apart ({chunks.edges})", chunks))
    if streamed is not None:
        out.append(rule_entry("streamed_output_bounds", streamed))
    for tool in server_tools or ():
        out.append(rule_entry(f"server_tool_calls ({tool.tool})", tool))
    if calls is not None:
        brace = " (its args' { a token apart)" if calls.args_brace_apart else ""
        shape = f"written as {calls.written_as}{brace}, " if calls.written_as else ""
        numbers = f", + {calls.per_number} per number" if calls.per_number else ""
        out.append(
            rule_entry(
                f"function_call_outputs ({shape}args as {calls.payload}, + {calls.per_call} per call{numbers})", calls
            )
        )
    if code is not None:
        out.append(rule_entry(f"code_execution_parts (code {code.code}, + {code.per_code_part} per code part)", code))
    era = next(
        (e for e in tokenizer_history() if e.family == vocabulary and prompt.model.rules_generation in e.generations),
        None,
    )
    out.append(
        {
            "rule": f"vocabulary {vocabulary}" + (" (accounting.yaml tokenizer_history)" if era else " (models.yaml)"),
            "confidence": prompt.model.confidence,
            "evidence": list(era.evidence if era else prompt.model.sources),
        }
    )
    if any(media_field(part) for part in parts):
        out.append({"rule": "media/rules.yaml", "confidence": "", "evidence": ["docs/media.md"]})
    return out


class _Sourced(Protocol):
    @property
    def confidence(self) -> str: ...
    @property
    def evidence(self) -> tuple[str, ...]: ...


def rule_entry(rule: str, source: _Sourced) -> dict[str, Any]:
    """An accounting.yaml rule as explain lists it, with its entry's confidence and evidence."""
    return {"rule": f"accounting.yaml {rule}", "confidence": source.confidence, "evidence": list(source.evidence)}


def redirect_rule(redirect: Redirect | None) -> list[dict[str, Any]]:
    """The models.yaml `redirects` entry that chose the counting model, as a rule (none when no redirect applied)."""
    if redirect is None:
        return []
    return [
        {
            "rule": f"models.yaml redirects ({redirect.name} -> {redirect.served_by} on {'/'.join(redirect.apis)} "
            f"from {redirect.start.isoformat()})",
            "confidence": "observed",
            "evidence": list(redirect.evidence),
        }
    ]


def _text_runs(parts: list[dict[str, Any]]) -> bool:
    """True when two text parts follow each other (what `text_parts_joined` reads as one text)."""
    return any("text" in a and "text" in b for a, b in zip(parts, parts[1:], strict=False))
