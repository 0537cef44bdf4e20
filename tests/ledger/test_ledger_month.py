"""A month's log as a team has it: 10,000 lines of every format, 2 % of them corrupted.

Every good line is billed, the total equals an independent Decimal computation (the rates typed in below,
not read from the catalogue), the corrupted lines are listed by number, a re-import adds nothing, and the
report from the ledger alone (`bill --db --month`) reproduces the total.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from vertexmeter.cli import main
from vertexmeter.ledger import bill

LINES = 10_000
MONTH = "2026-11"
DAY = "2026-11-15"  # --day, for the formats that carry no time (Anthropic messages)
M = Decimal(1_000_000)
# Vertex list prices per 1M tokens in November 2026 (the pricing page / LiteLLM rows the catalogue cites):
# (fresh input, cache read, cache write, output incl. thinking); batch is half of online for all three.
RATES = {
    ("gemini-2.5-flash", "online"): (Decimal("0.30"), Decimal("0.03"), None, Decimal("2.50")),
    ("gemini-2.5-flash", "batch"): (Decimal("0.15"), None, None, Decimal("1.25")),
    ("claude-sonnet-4-5", "online"): (Decimal("3"), Decimal("0.30"), Decimal("3.75"), Decimal("15")),
    ("claude-sonnet-4-5", "batch"): (Decimal("1.5"), Decimal("0.15"), Decimal("1.875"), Decimal("7.5")),
    ("llama-4-maverick", "online"): (Decimal("0.35"), None, None, Decimal("1.15")),
}
Usage = tuple[int, int, int, int]  # fresh input, cache read, cache write, output (thinking included)
Made = tuple[Any, str, str, Usage]


def cost(model: str, mode: str, usage: Usage) -> Decimal:
    fresh, read, write, out = usage
    rate_in, rate_read, rate_write, rate_out = RATES[(model, mode)]
    total = fresh * rate_in + out * rate_out
    total += read * rate_read if read else 0
    total += write * rate_write if write else 0
    return total / M


def stamp(rng: random.Random) -> str:
    return f"{MONTH}-{rng.randint(1, 30):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00.123456789Z"


def gemini_body(rid: str, rng: random.Random, *, cache: bool = True) -> tuple[dict[str, Any], Usage]:
    fresh, cached = rng.randint(1, 50_000), rng.randint(0, 30_000) if cache else 0
    out, thoughts = rng.randint(0, 4000), rng.randint(0, 2000)
    meta = {
        "promptTokenCount": fresh + cached,
        "candidatesTokenCount": out,
        "thoughtsTokenCount": thoughts,
        "totalTokenCount": fresh + cached + out + thoughts,
    }
    if cached:
        meta["cachedContentTokenCount"] = cached
    body = {
        "responseId": rid,
        "modelVersion": "gemini-2.5-flash",
        "createTime": stamp(rng),
        "usageMetadata": meta,
        "candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
    }
    return body, (fresh, cached, 0, out + thoughts)


def claude_body(rid: str, rng: random.Random) -> tuple[dict[str, Any], Usage]:
    usage = (rng.randint(1, 60_000), rng.randint(0, 60_000), rng.randint(0, 60_000), rng.randint(1, 4000))
    body = {
        "id": rid,
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "usage": {
            "input_tokens": usage[0],
            "cache_read_input_tokens": usage[1],
            "cache_creation_input_tokens": usage[2],
            "output_tokens": usage[3],
        },
    }
    return body, usage


def llama_usage(rng: random.Random) -> tuple[dict[str, Any], Usage]:
    prompt, completion = rng.randint(1, 20_000), rng.randint(1, 3000)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}, (
        prompt,
        0,
        0,
        completion,
    )


def unix(rng: random.Random) -> int:
    return 1793491200 + rng.randint(0, 29 * 86400)  # 2026-11-01T00:00:00Z + up to 29 days


def make_gemini(i: int, rng: random.Random) -> Made:
    body, usage = gemini_body(f"gem-{i}", rng)
    return body, "gemini-2.5-flash", "online", usage


def make_gemini_stream(i: int, rng: random.Random) -> Made:
    body, usage = gemini_body(f"gst-{i}", rng)
    first = {
        "responseId": body["responseId"],
        "modelVersion": body["modelVersion"],
        "createTime": body["createTime"],
        "candidates": [{"content": {"role": "model", "parts": [{"text": "o"}]}}],
        "usageMetadata": {"promptTokenCount": body["usageMetadata"]["promptTokenCount"]},
    }
    return [first, body], "gemini-2.5-flash", "online", usage


def make_anthropic(i: int, rng: random.Random) -> Made:
    body, usage = claude_body(f"msg_{i}", rng)
    return body, "claude-sonnet-4-5", "online", usage


def make_anthropic_stream(i: int, rng: random.Random) -> Made:
    body, usage = claude_body(f"msgs_{i}", rng)
    start = {**body, "content": [], "usage": {**body["usage"], "output_tokens": 1}}
    events = [
        {"type": "message_start", "message": start},
        {"type": "content_block_delta", "index": 0},
        {"type": "message_delta", "usage": {"output_tokens": usage[3]}},
        {"type": "message_stop"},
    ]
    return events, "claude-sonnet-4-5", "online", usage


def make_openai(i: int, rng: random.Random) -> Made:
    usage_json, usage = llama_usage(rng)
    body = {
        "id": f"chatcmpl-{i}",
        "object": "chat.completion",
        "created": unix(rng),
        "model": "meta/llama-4-maverick-17b-128e-instruct-maas",
        "choices": [],
        "usage": usage_json,
    }
    return body, "llama-4-maverick", "online", usage


def make_openai_stream(i: int, rng: random.Random) -> Made:
    usage_json, usage = llama_usage(rng)
    chunk = {
        "id": f"chatcmpl-s{i}",
        "object": "chat.completion.chunk",
        "created": unix(rng),
        "model": "meta/llama-4-maverick-17b-128e-instruct-maas",
        "choices": [{"delta": {"content": "o"}}],
    }
    return [chunk, {**chunk, "choices": [], "usage": usage_json}], "llama-4-maverick", "online", usage


def make_otel(i: int, rng: random.Random) -> Made:
    fresh, read, write, out = (
        rng.randint(1, 60_000),
        rng.randint(0, 60_000),
        rng.randint(0, 60_000),
        rng.randint(1, 999),
    )
    attrs = {
        "gen_ai.usage.input_tokens": fresh + read + write,
        "gen_ai.usage.cache_read.input_tokens": read,
        "gen_ai.usage.cache_creation.input_tokens": write,
        "gen_ai.usage.output_tokens": out,
    }
    span = {
        "traceId": f"{i:032x}",
        "spanId": f"{i:016x}",
        "name": "chat",
        "startTimeUnixNano": str(unix(rng) * 10**9),
        "attributes": [{"key": "gen_ai.request.model", "value": {"stringValue": "claude-sonnet-4-5@20250929"}}]
        + [{"key": k, "value": {"intValue": str(v)}} for k, v in attrs.items()],
    }
    line = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [span]}]}]}
    return line, "claude-sonnet-4-5", "online", (fresh, read, write, out)


def make_batch(i: int, rng: random.Random) -> Made:
    body, usage = gemini_body(f"bat-{i}", rng, cache=False)
    line = {"status": "", "processed_time": body.pop("createTime"), "request": {"contents": []}, "response": body}
    return line, "gemini-2.5-flash", "batch", usage


def make_claude_batch(i: int, rng: random.Random) -> Made:
    body, usage = claude_body(f"msgb_{i}", rng)
    return {"custom_id": f"c{i}", "request": {"messages": []}, "response": body}, "claude-sonnet-4-5", "batch", usage


def make_envelope(i: int, rng: random.Random) -> Made:
    body, usage = gemini_body(f"env-{i}", rng)
    line = {"time": body.pop("createTime"), "project": "p-env", "request": {"contents": []}, "response": body}
    return line, "gemini-2.5-flash", "online", usage


MAKERS: list[Callable[[int, random.Random], Made]] = [
    make_gemini,
    make_gemini_stream,
    make_anthropic,
    make_anthropic_stream,
    make_openai,
    make_openai_stream,
    make_otel,
    make_batch,
    make_claude_batch,
    make_envelope,
]


def corrupt(kind: int, text: str, i: int) -> str:
    """Five ways a month's log goes bad: a cut line, a count beyond int32, a year 9999, no usage, a NUL id."""
    if kind == 0:
        return text[: len(text) // 2]
    if kind == 1:
        return json.dumps(
            {
                "responseId": f"bad-{i}",
                "modelVersion": "gemini-2.5-flash",
                "createTime": f"{DAY}T00:00:00Z",
                "usageMetadata": {"promptTokenCount": 10**30},
            }
        )
    if kind == 2:
        return json.dumps(
            {
                "responseId": f"bad-{i}",
                "modelVersion": "gemini-2.5-flash",
                "createTime": "9999-11-01T00:00:00Z",
                "usageMetadata": {"promptTokenCount": 5},
            }
        )
    if kind == 3:
        return json.dumps(
            {"responseId": f"bad-{i}", "modelVersion": "gemini-2.5-flash", "createTime": f"{DAY}T00:00:00Z"}
        )
    return json.dumps(
        {
            "responseId": f"bad\u0000{i}",
            "modelVersion": "gemini-2.5-flash",
            "createTime": f"{DAY}T00:00:00Z",
            "usageMetadata": {"promptTokenCount": 5},
        }
    )


def test_a_month_of_mixed_logs_with_corrupted_lines(tmp_path: Path) -> None:
    rng = random.Random(2026_11)
    texts: list[str] = []
    expected_total = Decimal(0)
    corrupted: list[int] = []
    for i in range(LINES):
        number = i + 1
        if number % 50 == 0:  # 2 %
            made = MAKERS[i % len(MAKERS)](i, rng)
            texts.append(corrupt(len(corrupted) % 5, json.dumps(made[0]), i))
            corrupted.append(number)
            continue
        item, model, mode, usage = MAKERS[i % len(MAKERS)](i, rng)
        texts.append(json.dumps(item))
        expected_total += cost(model, mode, usage)
    log = tmp_path / "month.jsonl"
    log.write_text("\n".join(texts) + "\n")
    db = str(tmp_path / "ledger.sqlite")

    report = bill(str(log), db=db, day=DAY, by=("model", "mode"))
    assert len(corrupted) == 200
    assert [b.line for b in report.bad_lines] == corrupted
    assert {b.file for b in report.bad_lines} == {str(log)}
    assert report.imported["new"] == report.requests == LINES - 200
    assert report.total == expected_total
    billed = expected_total.quantize(Decimal("0.01"), rounding=ROUND_CEILING)
    assert report.billed_total == billed and report.months == {
        MONTH: {"requests": LINES - 200, "total": report.to_json()["total"], "billed_total": str(billed)}
    }
    assert report.exit_code == 1

    again = bill(str(log), db=db, day=DAY)
    assert again.imported["new"] == 0 and again.imported["duplicates"] == LINES - 200
    assert again.total == expected_total and [b.line for b in again.bad_lines] == corrupted

    result = CliRunner().invoke(main, ["bill", "--db", db, "--month", MONTH, "--by", "model,day"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert Decimal(data["total"]) == expected_total and data["billed_total"] == str(billed)
