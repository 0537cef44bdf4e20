"""Replayed thought signatures: the thoughts an agent turn bills again (accounting.yaml `replayed_thoughts`).

A model turn replayed with its `thoughtSignature` can bill, as prompt tokens, the `thoughtsTokenCount` of
the response that produced the signature. The request does not carry that number; the earlier responses
do. Given them (`history`), the count is exact; without them, the signature's size bounds it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from vertexmeter.errors import invalid_argument
from vertexmeter.registry import (
    THOUGHT_BILLING_WINDOWS,
    ReplayedThoughts,
    SignatureSize,
    ThoughtReach,
    signature_size,
    thought_reach_for,
)
from vertexmeter.requests import Prompt, decode_bytes, plain, response_signatures, response_thoughts

_DAY = dt.timedelta(days=1)
# Billings under which only a streamed response's thoughts can bill again (accounting.yaml `replayed_thoughts`).
_STREAMED_ONLY = ("when_streamed", "unknown_when_streamed")

# Signatures Google documents as placeholders for turns that had none (they carry no thoughts), as the
# request parser decodes them (a signature is proto `bytes`): the text sent as the field's base64, or its own bytes
# (google-genai's `thought_signature=b"skip_thought_signature_validator"`, sent base64-encoded: pyd-0251, -0654
# bill nothing).
_PLACEHOLDERS = ("skip_thought_signature_validator", "context_engineering_is_the_way_to_go")
DUMMY_SIGNATURES = frozenset(decode_bytes(text, "thought_signature") for text in _PLACEHOLDERS) | frozenset(
    text.encode() for text in _PLACEHOLDERS
)


@dataclass(frozen=True)
class ThoughtHistory:
    """What the earlier responses of a conversation say: signature -> (response index, thoughtsTokenCount)."""

    by_signature: dict[bytes, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReplayedThoughtCount:
    """The replayed thoughts a request bills: `tokens` (the point value added to promptTokenCount) within
    [`low`, `high`]; `reason` says why they differ (None when exact)."""

    tokens: int
    low: int
    high: int
    signatures: int  # replayed signatures in the rule's scope
    rule: ReplayedThoughts
    reason: str | None = None
    reach: ThoughtReach | None = None  # accounting.yaml replayed_thoughts_reach, where it applies

    @property
    def exact(self) -> bool:
        return self.reason is None


def thought_history(history: Any) -> ThoughtHistory:
    """Read `history`: the conversation's earlier generateContent responses (GenerateContentResponse JSON,
    google-genai objects, or a list of a streamed response's chunks), in any order."""
    if history is None:
        return ThoughtHistory()
    history = plain(history, "history")
    if not isinstance(history, list):
        raise invalid_argument("history is a list of the conversation's earlier generateContent responses.", "history")
    by_signature: dict[bytes, tuple[int, int]] = {}
    for i, response in enumerate(history):
        chunks = response if isinstance(response, list) else [response]
        pending: list[bytes] = []  # signatures seen before any chunk stated a thought count
        thoughts: int | None = None
        for k, chunk in enumerate(chunks):
            path = f"history[{i}][{k}]" if isinstance(response, list) else f"history[{i}]"
            if not isinstance(chunk, dict):
                raise invalid_argument("A history entry is a GenerateContentResponse (a JSON object).", path)
            stated = response_thoughts(chunk, path)
            # Streamed chunks repeat the running total; a signature carries the thoughts counted by the chunk that
            # brought it (t3-0541's stream: 239 with its function calls, 251 at the end after more text; the next
            # request bills 239: t3-0542).
            thoughts = stated if stated is not None else thoughts
            for signature in response_signatures(chunk, path):
                if thoughts is None:
                    pending.append(signature)
                else:
                    by_signature.setdefault(signature, (i, thoughts))
        for signature in pending:
            by_signature.setdefault(signature, (i, thoughts or 0))
    return ThoughtHistory(by_signature)


def thought_reach(prompt: Prompt, call: str) -> ThoughtReach | None:
    """The reach entry for the prompt's API, call and generation, None where the scope alone says."""
    return thought_reach_for(prompt.api, call, prompt.model.rules_generation)


def replayed_signatures(prompt: Prompt, scope: str, reach: ThoughtReach | None = None) -> list[bytes]:
    """The signatures of the request's model turns that the scope bills, in order: each once, or each time a part
    carries it where the reach says `per_part`."""
    if scope == "none":
        return []
    contents = prompt.contents
    start = -1
    if scope == "current_turn":
        # The current turn starts after the last Content of the user's own text: not function responses, nor a text
        # sent beside them (a tool's attachment: rllm-0883, -0974 bill the call's thoughts).
        for i, turn in enumerate(contents):
            if (
                turn.role != "model"
                and any("text" in part and not part.get("thought") for part in turn.parts)
                and not any("functionResponse" in part for part in turn.parts)
            ):
                start = i
    per_part = reach is not None and reach.signatures == "per_part"
    skip = reach.not_thoughts if reach is not None else ()
    current = _turn_signatures(contents[start + 1 :], per_part, skip)
    if current and start >= 0 and reach is not None and reach.earlier_turns == "when_current_replays":
        return _turn_signatures(contents, per_part, skip)
    return current


def _parallel_call_signatures(prompt: Prompt) -> set[bytes]:
    """The signatures carried by model turns of two or more function calls."""
    out: set[bytes] = set()
    for turn in prompt.contents:
        if turn.role == "model" and sum("functionCall" in part for part in turn.parts) >= 2:
            out.update(p["thoughtSignature"] for p in turn.parts if isinstance(p.get("thoughtSignature"), bytes))
    return out


def _turn_signatures(turns: list[Any], per_part: bool, skip: tuple[str, ...] = ()) -> list[bytes]:
    seen: list[bytes] = []
    for turn in turns:
        if turn.role != "model":
            continue
        for part in turn.parts:
            if any(name in part for name in skip):
                continue  # a server-side tool's signature (accounting.yaml replayed_thoughts_reach not_thoughts)
            signature = part.get("thoughtSignature")
            if isinstance(signature, bytes) and signature and (per_part or signature not in seen):
                seen.append(signature)
    return seen


def signature_segments(signature: bytes) -> int:
    """How many top-level length-delimited segments frame a signature (0 when it is not framed so): a whole response's
    signature has one, a streamed 2.5 response's one per streamed stretch of thoughts. Only this framing is read; the
    segments' contents are a key id and ciphertext."""
    segments, i = 0, 0
    while i < len(signature):
        key, i = _varint(signature, i)
        if key is None or key & 7 != 2:  # not a length-delimited field: not the framing we know
            return 0
        length, i = _varint(signature, i)
        if length is None or i + length > len(signature):
            return 0
        i += length
        segments += 1
    return segments


def streamed_signature(signature: bytes) -> bool:
    """True when a signature holds more than one top-level segment, as signatures of streamed responses do (one
    segment per streamed stretch of thoughts: 2 of 2 streamed 2.5 responses of conversations_2026, none of its 63
    whole ones)."""
    return signature_segments(signature) > 1


def _varint(data: bytes, i: int) -> tuple[int | None, int]:
    value, shift = 0, 0
    while i < len(data) and shift < 64:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7
    return None, i


def signature_thoughts(
    signature: bytes,
    size: SignatureSize,
    api: str | None = None,
    generation: str | None = None,
    streamed: bool | None = None,
) -> tuple[int, int, int]:
    """(low, point, high) thoughts a signature of this size carries (accounting.yaml `signature_size`): the
    intersection of its readings (with those of the API's generation that produced it, `by_generation`, and where
    `streamed` is said those of its streamed or whole responses), the point value clamped into it; one of at most
    `thoughtless_up_to_bytes` reads as none, up to the readings' high."""
    if signature in DUMMY_SIGNATURES:
        return 0, 0, 0
    extra = max(0, signature_segments(signature) - 1)
    n = max(0, len(signature) - size.per_extra_segment_bytes * extra)
    low, high = 0, math.inf
    for overhead_low, overhead_high, k_low, k_high in size.readings_for(
        api, generation, streamed, size.framing_of(signature)
    ):
        low = max(low, math.floor(max(0, n - overhead_high) / k_high))
        high = min(high, math.ceil(max(0, n - overhead_low) / k_low))
    top = max(int(high), low)
    if n <= size.thoughtless_up_to_bytes:  # as small as the signatures of responses without thoughts: none
        return 0, 0, top
    point_weight = (
        size.per_extra_segment_bytes if size.point_extra_segment_bytes is None else size.point_extra_segment_bytes
    )
    per_token = size.point_for(api, generation, streamed)
    point = round(max(0, len(signature) - point_weight * extra - size.overhead_bytes) / per_token)
    return low, min(max(point, low), top), top


def replayed_thought_tokens(
    prompt: Prompt,
    rule: ReplayedThoughts,
    history: ThoughtHistory,
    reach: ThoughtReach | None = None,
    streamed: bool | None = None,
) -> ReplayedThoughtCount:
    """What the request's replayed signatures bill under `rule` (and its `reach`), exact for the signatures `history`
    knows. `streamed`: the caller says the conversation's answers were streamed (True) or not (False); where the rule
    bills only a streamed response's thoughts and the caller does not say, the signature's segments tell (a whole
    response's signature can hold several too: crew-0121, mira-0342)."""
    signatures = replayed_signatures(prompt, rule.scope, reach)
    per_part = reach is not None and reach.signatures == "per_part"
    size = signature_size()
    known_responses: dict[int, int] = {}
    known_parts = 0
    low = point = high = 0
    unknown: list[bytes] = []
    # Signatures the recorded answers of this shape billed none of (accounting.yaml replayed_thoughts_reach
    # may_bill_none): what they would bill leaves the low end.
    doubt = reach.bills_maybe_none("streamed_parallel_calls", prompt.model.rules_id) if reach is not None else None
    in_doubt = _parallel_call_signatures(prompt) if doubt else set()
    doubtful: dict[bytes, int] = {}
    for signature in signatures:
        if rule.billed in _STREAMED_ONLY and not (streamed_signature(signature) if streamed is None else streamed):
            continue  # a whole (not streamed) response's thoughts are not billed again
        doubted = signature in in_doubt and (streamed_signature(signature) if streamed is None else streamed)
        found = history.by_signature.get(signature)
        if found is not None:
            if per_part:
                known_parts += found[1]
            else:
                known_responses[found[0]] = found[1]
            if doubted:
                doubtful[signature] = (doubtful.get(signature, 0) + found[1]) if per_part else found[1]
            continue
        # Not said, a signature of several segments was streamed (a 3.x one has one segment either way).
        said = streamed if streamed is not None else (True if streamed_signature(signature) else None)
        lo, mid, hi = signature_thoughts(signature, size, prompt.api, prompt.model.rules_generation, said)
        if hi:
            unknown.append(signature)
        if doubted:
            doubtful[signature] = doubtful.get(signature, 0) + lo
        low, point, high = low + lo, point + mid, high + hi
    # Distinct signatures' errors partly cancel in their sum (accounting.yaml `several_signatures`); one signature
    # billed per part it rides on (Vertex 2.5) errs alike each time, so a repeat keeps the plain sum.
    factor = size.several_factor(len(unknown)) if len(set(unknown)) == len(unknown) else 1.0
    if factor < 1:
        low, high = point - math.ceil((point - low) * factor), point + math.ceil((high - point) * factor)
    known = sum(known_responses.values()) + known_parts
    low, point, high = low + known, point + known, high + known
    reasons = []
    if doubt and sum(doubtful.values()):
        low = max(0, low - sum(doubtful.values()))
        reasons.append(f"{len(doubtful)} replayed signature(s) of a streamed response's parallel calls: {doubt}")
    if rule.billed in THOUGHT_BILLING_WINDOWS and rule.window and high:
        # Billed or not on this day, the records do not tell: the point value bills them as the service does
        # after the window, the low end bills none.
        low = 0
        first, last = rule.window
        reasons.append(
            f"{len(signatures)} replayed thought signature(s): this service began billing the thoughts of the "
            f"responses that produced them between {first - _DAY} (the last recorded answer that billed none) and "
            f"{last + _DAY} (the first that billed them); on this day either may hold (accounting.yaml "
            "replayed_thoughts)."
        )
    if unknown:
        reasons.append(
            f"{len(unknown)} replayed thought signature(s) bill the thoughts of the responses that produced them, "
            "which the request does not carry: estimated from the signatures' size. Pass the conversation's earlier "
            "responses (history) for the exact count."
        )
    return ReplayedThoughtCount(
        tokens=point,
        low=low,
        high=high,
        signatures=len(signatures),
        rule=rule,
        reason=" ".join(reasons) or None,
        reach=reach,
    )
