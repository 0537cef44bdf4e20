"""Every log shape the ledger reads, priced to the digit (hand-computed golden values in the comments).

Rates (Vertex, November 2025): gemini-2.5-flash in 0.30, cached 0.03, out 2.50 per 1M; claude-sonnet-4-5 in 3,
cache write 3.75, cache read 0.30, out 15 (batch: half); llama-4-maverick in 0.35, out 1.15.
"""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from vertexmeter.ledger import FORMATS, bill
from vertexmeter.ledger.formats import read_item

WHEN = "2025-11-03T10:00:00Z"
UNIX = 1762164000  # 2025-11-03T10:00:00Z


def one(db: str, tmp_path: Path, *lines: Any, **kwargs: Any) -> Any:
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report = bill(str(log), db=db, **kwargs)
    assert not report.bad_lines, [b.reason for b in report.bad_lines]
    return report


def claude(**usage: Any) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn",
        "usage": usage,
    }


CLAUDE_USAGE = {
    "input_tokens": 1000,
    "cache_creation_input_tokens": 2000,
    "cache_read_input_tokens": 3000,
    "output_tokens": 100,
}
# 1,000 x 3 + 2,000 x 3.75 + 3,000 x 0.30 + 100 x 15 = 3,000 + 7,500 + 900 + 1,500 per 1M
CLAUDE_TOTAL = D("0.0129")


def test_anthropic_messages_with_cache_writes_and_reads(db: str, tmp_path: Path) -> None:
    report = one(db, tmp_path, claude(**CLAUDE_USAGE), day="2025-11-03", by="model")
    assert report.total == CLAUDE_TOTAL
    assert report.breakdowns["model"] == {"claude-sonnet-4-5": {"requests": 1, "total": "0.0129"}}
    assert list(report.breakdowns) == ["model"]  # only the requested breakdown is built
    assert list(report.months) == ["2025-11"]


def test_anthropic_lines_need_a_day(db: str, tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps(claude(**CLAUDE_USAGE)) + "\n")
    report = bill(str(log), db=db)
    assert report.requests == 0 and "give --day" in report.bad_lines[0].reason


def test_anthropic_stream_events_are_one_call(db: str, tmp_path: Path) -> None:
    start = {
        "type": "message_start",
        "message": {
            **claude(input_tokens=1000, cache_creation_input_tokens=2000, cache_read_input_tokens=3000, output_tokens=1)
        },
    }
    events = [
        start,
        {"type": "content_block_start", "index": 0},
        {"type": "content_block_delta", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 100}},
        {"type": "message_stop"},
    ]
    assert one(db, tmp_path, events, day="2025-11-03").total == CLAUDE_TOTAL


def test_anthropic_in_a_vertex_batch_output_line_pays_batch_rates(db: str, tmp_path: Path) -> None:
    line = {"custom_id": "c1", "request": {"messages": []}, "response": claude(**CLAUDE_USAGE)}
    report = one(db, tmp_path, line, day="2025-11-03", by="mode")
    assert report.total == CLAUDE_TOTAL / 2 and report.breakdowns["mode"] == {
        "batch": {"requests": 1, "total": "0.00645"}
    }


def test_anthropic_unpriced_usage_is_refused_not_zeroed(db: str, tmp_path: Path) -> None:
    hour = claude(
        input_tokens=1,
        output_tokens=1,
        cache_creation_input_tokens=10,
        cache_creation={"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 10},
    )
    search = claude(input_tokens=1, output_tokens=1, server_tool_use={"web_search_requests": 2})
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps(hour) + "\n" + json.dumps({**search, "id": "msg_02"}) + "\n")
    report = bill(str(log), db=db, day="2025-11-03")
    assert [b.line for b in report.bad_lines] == [1, 2]
    assert "1-hour cache writes" in report.bad_lines[0].reason and "web search" in report.bad_lines[1].reason


def test_openai_chat_completions_from_the_maas_endpoint(db: str, tmp_path: Path) -> None:
    llama = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": UNIX,
        "model": "meta/llama-4-maverick-17b-128e-instruct-maas",
        "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100},
    }
    # Gemini through the OpenAI endpoint: 1,000 prompt of which 400 cached, 300 completion of which 200 reasoning:
    # 600 x 0.30 + 400 x 0.03 + (100 + 200) x 2.50 = 180 + 12 + 750 per 1M
    gemini = {
        "id": "chatcmpl-2",
        "object": "chat.completion",
        "created": UNIX,
        "model": "google/gemini-2.5-flash",
        "usage": {
            "prompt_tokens": 1000,
            "completion_tokens": 300,
            "prompt_tokens_details": {"cached_tokens": 400},
            "completion_tokens_details": {"reasoning_tokens": 200},
        },
    }
    report = one(db, tmp_path, llama, gemini, by="model,day")
    assert report.total == D("0.000465") + D("0.000942")
    assert report.breakdowns["model,day"] == {
        "gemini-2.5-flash": {"2025-11-03": {"requests": 1, "total": "0.000942"}},
        "llama-4-maverick-17b-128e-instruct-maas": {"2025-11-03": {"requests": 1, "total": "0.000465"}},
    }


def test_openai_stream_takes_the_usage_chunk(db: str, tmp_path: Path) -> None:
    chunk = {
        "id": "chatcmpl-3",
        "object": "chat.completion.chunk",
        "created": UNIX,
        "model": "meta/llama-4-maverick-17b-128e-instruct-maas",
        "choices": [{"delta": {"content": "x"}}],
    }
    usage = {**chunk, "choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}
    assert one(db, tmp_path, [chunk, chunk, usage]).total == D("0.000465")
    # the same stream logged a chunk a line: the chunks before the usage chunk record no call of their own
    per_line = one(db, tmp_path, chunk, chunk, {**usage, "id": "chatcmpl-4"})
    assert per_line.imported["lines"] == 3 and per_line.imported["read"] == 1 and per_line.imported["new"] == 1
    log = tmp_path / "nousage.jsonl"
    log.write_text(json.dumps([chunk, chunk]) + "\n")
    report = bill(str(log), db=db)
    assert "include_usage" in report.bad_lines[0].reason


def test_gemini_stream_chunks_are_one_request(db: str, tmp_path: Path) -> None:
    chunks = [
        {
            "responseId": "s1",
            "modelVersion": "gemini-2.5-flash",
            "createTime": WHEN,
            "candidates": [{"content": {"parts": [{"text": "a"}]}}],
            "usageMetadata": {"promptTokenCount": 1000, "candidatesTokenCount": 1},
        },
        {
            "responseId": "s1",
            "modelVersion": "gemini-2.5-flash",
            "candidates": [{"content": {"parts": []}}],
            "usageMetadata": {"promptTokenCount": 1000, "candidatesTokenCount": 100, "thoughtsTokenCount": 50},
        },
    ]
    report = one(db, tmp_path, chunks)
    assert report.requests == 1 and report.total == D("0.0003") + D("0.000375")  # 150 out at 2.50
    # a one-line array of different responses (a compact JSON array log): each its own request
    other = [
        {**chunks[1], "responseId": "x1", "createTime": WHEN},
        {**chunks[1], "responseId": "x2", "createTime": WHEN},
    ]
    assert one(db, tmp_path, other).requests == 3


def test_gemini_grounding_cache_tools_thinking_and_flex(db: str, tmp_path: Path) -> None:
    line = {
        "responseId": "g",
        "modelVersion": "gemini-2.5-flash",
        "createTime": WHEN,
        "usageMetadata": {
            "promptTokenCount": 10_000,
            "cachedContentTokenCount": 8_000,
            "toolUsePromptTokenCount": 500,
            "candidatesTokenCount": 100,
            "thoughtsTokenCount": 200,
            "trafficType": "ON_DEMAND_FLEX",
        },
        "candidates": [{"groundingMetadata": {"webSearchQueries": ["a", "b"]}}],
    }
    report = one(db, tmp_path, line)
    # flex halves the fresh input and output rates (0.15, 1.25); cache hits keep 0.03 on 2.5; the grounded
    # prompt is inside the free daily allowance: 2,500 x 0.15 + 8,000 x 0.03 + 300 x 1.25 per 1M
    assert report.total == D("0.000375") + D("0.00024") + D("0.000375")
    assert report.free_grounded_prompts == 1


def test_enums_written_as_their_proto_numbers_read_as_their_names(db: str, tmp_path: Path) -> None:
    # the vertexai SDK's REST transport writes enums as numbers (recorded by opentelemetry-python-contrib and
    # openinference, tests/data/mined_otel_contrib.jsonl.gz): 1 is ON_DEMAND / TEXT, 4 ON_DEMAND_FLEX, 2 IMAGE
    def line(traffic: Any, text: Any, image: Any) -> dict[str, Any]:
        details = [{"modality": text, "tokenCount": 600}, {"modality": image, "tokenCount": 400}]
        usage = {"promptTokenCount": 1000, "candidatesTokenCount": 100, "promptTokensDetails": details}
        return {"responseId": "r", "modelVersion": "gemini-2.5-flash", "createTime": WHEN,
                "usageMetadata": {**usage, "trafficType": traffic}}  # fmt: skip

    for named, numbered in (("ON_DEMAND", 1), ("ON_DEMAND_FLEX", 4), ("ON_DEMAND_PRIORITY", 3), (None, 0)):
        [by_name] = read_item(line(named, "TEXT", "IMAGE"), "x:1")
        [by_number] = read_item(line(numbered, 1, 2), "x:1")
        assert (by_number.usage, by_number.mode) == (by_name.usage, by_name.mode)
        assert by_number.usage.input.image_tokens == 400
    # null is proto3's default (MODALITY_UNSPECIFIED), billed as text
    [unspecified] = read_item(line(None, None, "image"), "x:1")
    assert (unspecified.usage.input.tokens, unspecified.usage.input.image_tokens) == (600, 400)
    # flex halves 2.5 Flash's rates: 1,000 x 0.15 + 100 x 1.25 per 1M
    assert one(db, tmp_path, line(4, 1, 2)).total == D("0.000275")


@pytest.mark.parametrize(
    ("usage", "path"),
    [
        ({"trafficType": 9}, "usageMetadata.trafficType"),
        ({"trafficType": True}, "usageMetadata.trafficType"),
        ({"promptTokensDetails": [{"modality": 7, "tokenCount": 5}]}, "usageMetadata.promptTokensDetails[0].modality"),
        ({"promptTokensDetails": [{"modality": "SMELL", "tokenCount": 5}]}, "promptTokensDetails[0].modality"),
        ({"candidatesTokensDetails": [{"modality": [], "tokenCount": 1}]}, "candidatesTokensDetails[0].modality"),
    ],
)
def test_an_unknown_enum_is_refused_not_billed_as_nothing(usage: dict[str, Any], path: str) -> None:
    from vertexmeter.errors import VertexMeterError

    item = {"responseId": "r", "modelVersion": "gemini-2.5-flash", "createTime": WHEN}
    item["usageMetadata"] = {"promptTokenCount": 5, "candidatesTokenCount": 1, **usage}
    with pytest.raises(VertexMeterError) as err:
        read_item(item, "x:1")
    assert err.value.status == "INVALID_ARGUMENT" and path in str(err.value.violations)


def test_gemini_api_grounding_is_priced(db: str, tmp_path: Path) -> None:
    def grounded(i: int) -> dict[str, Any]:
        return {
            "responseId": f"api{i}",
            "modelVersion": "gemini-2.5-flash",
            "usageMetadata": {"promptTokenCount": 0},
            "candidates": [{"groundingMetadata": {"webSearchQueries": ["q"]}}],
        }

    report = one(db, tmp_path, *[grounded(i) for i in range(1502)], api="gemini", day="2025-11-03")
    assert report.total == D("0.07")  # 1,500 a day free on the Gemini API; 2 x 35 / 1,000
    assert report.free_grounded_prompts == 1500


def otlp(*spans: dict[str, Any], project: str | None = "proj-1") -> dict[str, Any]:
    resource = {"attributes": [{"key": "gcp.project_id", "value": {"stringValue": project}}]} if project else {}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": {"name": "x"}, "spans": list(spans)}]}]}


def span(span_id: str, model: str, provider: str = "gcp.vertex_ai", **usage: int) -> dict[str, Any]:
    attrs = [
        {"key": "gen_ai.provider.name", "value": {"stringValue": provider}},
        {"key": "gen_ai.request.model", "value": {"stringValue": model}},
    ]
    attrs += [{"key": key.replace("__", "."), "value": {"intValue": str(value)}} for key, value in usage.items()]
    return {
        "traceId": "t1",
        "spanId": span_id,
        "name": "chat",
        "startTimeUnixNano": str(UNIX * 10**9 + 5),
        "attributes": attrs,
    }


def test_opentelemetry_genai_spans(db: str, tmp_path: Path) -> None:
    usage = {
        "gen_ai__usage__input_tokens": 6000,
        "gen_ai__usage__output_tokens": 100,
        "gen_ai__usage__cache_read__input_tokens": 3000,
        "gen_ai__usage__cache_creation__input_tokens": 2000,
    }
    plain = {"traceId": "t1", "spanId": "http", "name": "POST", "attributes": []}  # not a model call
    line = otlp(
        span("a", "claude-sonnet-4-5@20250929", **usage),
        plain,
        span(
            "b",
            "gemini-2.5-flash",
            provider="gcp.gemini",
            gen_ai__usage__input_tokens=1000,
            gen_ai__usage__output_tokens=100,
        ),
    )
    report = one(db, tmp_path, line, by=("project", "api"))
    # Claude: input_tokens includes the cache reads and writes (semantic conventions): 1,000 fresh -> CLAUDE_TOTAL;
    # gemini on the Gemini API (gcp.gemini): 1,000 x 0.30 + 100 x 2.50
    assert report.requests == 2 and report.total == CLAUDE_TOTAL + D("0.00055")
    assert report.breakdowns["project"] == {"proj-1": {"requests": 2, "total": "0.01345"}}
    assert report.breakdowns["api"]["gemini"]["requests"] == 1
    again = bill(str(tmp_path / "log.jsonl"), db=db)
    assert again.imported["duplicates"] == 2  # span ids key the calls


def test_request_response_envelope_is_online_with_its_own_time(db: str, tmp_path: Path) -> None:
    envelope = {
        "time": WHEN,
        "project": "p9",
        "request": {"contents": [], "labels": {"team": "search"}},
        "response": {
            "responseId": "e1",
            "modelVersion": "gemini-2.5-flash",
            "usageMetadata": {"promptTokenCount": 1000, "candidatesTokenCount": 100},
        },
    }
    anthropic = {
        "timestamp": WHEN,
        "request": {"anthropic_version": "vertex-2023-10-16"},
        "response": claude(**CLAUDE_USAGE),
        "location": "us-east5",
    }
    report = one(db, tmp_path, envelope, anthropic, by=("label", "mode"))
    # Claude served regionally pays the 10% uplift
    assert report.total == D("0.00055") + CLAUDE_TOTAL * D("1.1")
    assert report.breakdowns["label"]["team=search"] == {"requests": 1, "total": "0.00055"}
    assert report.breakdowns["mode"]["online"]["requests"] == 2


def test_every_format_is_recognised_by_the_table() -> None:
    assert set(FORMATS) >= {
        "otel",
        "batch",
        "envelope",
        "gemini",
        "anthropic",
        "openai",
        "anthropic-stream",
        "openai-stream",
        "gemini-stream",
    }
    kinds = {
        "gemini": {
            "responseId": "r",
            "modelVersion": "gemini-2.5-flash",
            "createTime": WHEN,
            "usageMetadata": {"promptTokenCount": 1},
        },
        "anthropic": {**claude(input_tokens=1), "createTime": WHEN},
        "openai": {
            "id": "c",
            "object": "chat.completion",
            "created": UNIX,
            "model": "gpt-oss-20b-maas",
            "usage": {"prompt_tokens": 1},
        },
    }
    for fmt, item in kinds.items():
        (logged,) = read_item(item, "x:1")
        assert logged.format == fmt and logged.created.isoformat() == "2025-11-03T10:00:00+00:00"


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (
            {
                "object": "chat.completion",
                "usage": {"prompt_tokens": 5, "prompt_tokens_details": {"cached_tokens": 9}},
                "model": "gpt-oss-20b-maas",
                "created": UNIX,
            },
            "exceed",
        ),
        (
            otlp(
                span("z", "gemini-2.5-flash", gen_ai__usage__input_tokens=5, gen_ai__usage__cache_read__input_tokens=9)
            ),
            "exceed",
        ),
        (
            {
                "id": "c",
                "object": "chat.completion",
                "created": 10**12,
                "model": "gpt-oss-20b-maas",
                "usage": {"prompt_tokens": 1},
            },
            "Unix time",
        ),
        ([1, 2], "not a stream"),
        ({"type": "message_start"}, "no usage"),
        ([{"type": "message_start", "message": "x"}], "message_start"),
        ({"request": {}, "response": {"responseId": "r"}, "mode": "cheap"}, "mode must be"),
        ({"status": "", "request": {}, "response": {"x": 1}}, "no usageMetadata"),
    ],
)
def test_malformed_items_are_refused_with_a_reason(item: Any, reason: str) -> None:
    from vertexmeter.errors import VertexMeterError

    with pytest.raises(VertexMeterError) as err:
        read_item(item, "x:1")
    assert reason in err.value.message and err.value.status == "INVALID_ARGUMENT"
