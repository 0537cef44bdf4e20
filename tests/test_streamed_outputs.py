"""The Gemini API's 2.5 streamed answers, chunk by chunk (tests/evidence/streamed_outputs.json): accounting.yaml
`streamed_chunks_apart` (given the chunks) and `streamed_output_bounds` (given joined), replayed on every recorded
stream."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vertexmeter
from vertexmeter.datafiles import load_yaml
from vertexmeter.registry import build_registry
from vertexmeter.tokenizing import get_tokenizer

EVIDENCE = json.loads((Path(__file__).parent / "evidence" / "streamed_outputs.json").read_text("utf-8"))
PROMPT = {"contents": [{"role": "user", "parts": [{"text": "."}]}]}


def _billed(stream: dict[str, Any]) -> int | None:
    counts = [c["candidatesTokenCount"] for c in stream["chunks"] if "candidatesTokenCount" in c]
    return counts[-1] if counts else None


def _kind(stream: dict[str, Any]) -> str:
    tool_use = any("toolUsePromptTokenCount" in c for c in stream["chunks"])
    if tool_use and not any("other_parts" in c for c in stream["chunks"]):
        return "grounded"  # the searches' own tokens on top (accounting.yaml server_tool_calls)
    if any(c["thought"] for c in stream["chunks"]):
        return "thought summaries"
    return "text"


def _chunks(stream: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for chunk in stream["chunks"]:
        parts = (
            ([{"text": chunk["thought"], "thought": True}] if chunk["thought"] else [])
            + ([{"text": chunk["text"]}] if chunk["text"] else [])
            + chunk.get("other_parts", [])
        )
        usage = {k: v for k, v in chunk.items() if k.endswith("TokenCount")}
        metadata = {k: v for k, v in chunk.items() if k in ("groundingMetadata", "urlContextMetadata")}
        candidate = {"content": {"role": "model", "parts": parts}, **metadata}
        out.append({"candidates": [candidate], **({"usageMetadata": usage} if usage else {})})
    return out


def _prompt(stream: dict[str, Any]) -> dict[str, Any]:
    return {**PROMPT, "tools": stream["request_tools"]} if "request_tools" in stream else PROMPT


STREAMS = [s for s in EVIDENCE if _billed(s) is not None]


def test_the_evidence_is_what_the_rules_say() -> None:
    assert Counter(_kind(s) for s in STREAMS) == {"text": 156, "thought summaries": 31, "grounded": 14}
    assert len({s["source"]["repo"] for s in STREAMS if _kind(s) == "text"}) == 10
    assert len({s["source"]["repo"] for s in STREAMS if _kind(s) == "thought summaries"}) == 5
    assert {s["model"] for s in STREAMS} == {
        "gemini-2.5-flash",
        "gemini-2.5-pro",
        "gemini-2.5-pro-preview-05-06",
        "gemini-2.5-flash-lite",
        "gemini-2.5-flash-lite-preview-06-17",
    }
    rules = load_yaml("vertexmeter.registry", "accounting.yaml")
    ids = {s["id"] for s in EVIDENCE}
    for section in ("streamed_chunks_apart", "streamed_output_bounds"):
        entry = next(e for e in rules[section] if e["generations"] == ["2.5"])
        assert set(entry["evidence"]) <= ids, section


@pytest.mark.parametrize("stream", STREAMS, ids=[s["id"] for s in STREAMS])
def test_every_recorded_2_5_stream_given_as_chunks_is_exact(stream: dict[str, Any]) -> None:
    """Text, function calls, code execution, grounding (the request's tools and the chunks' groundingMetadata: the
    searches bill on top); with and without thought summaries (1 less each)."""
    answer = vertexmeter.usage(
        stream["model"], _prompt(stream), api="gemini", response=_chunks(stream), as_of=stream["day"]
    )
    assert (answer.candidates_token_count, answer.bounds) == (_billed(stream), None)


JOINED = [s for s in STREAMS if _kind(s) != "grounded" and not any("other_parts" in c for c in s["chunks"])]


@pytest.mark.parametrize("stream", JOINED, ids=[s["id"] for s in JOINED])
def test_every_recorded_2_5_stream_given_joined_is_inside_its_bounds(stream: dict[str, Any]) -> None:
    text = "".join(c["text"] for c in stream["chunks"])
    answer = vertexmeter.usage(
        stream["model"],
        PROMPT,
        api="gemini",
        response={"role": "model", "parts": [{"text": text}]},
        streamed=True,
        as_of=stream["day"],
    )
    assert answer.bounds is not None
    low, high = answer.bounds["candidatesTokenCount"]
    assert low <= _billed(stream) <= high
    assert "accounting.yaml streamed_output_bounds" in answer.bounds["reason"]


def test_a_thought_summary_bills_one_less() -> None:
    """thst-0009: fantasy's call after one thought summary bills 14, the call alone 15 (function_call_outputs)."""
    stream = next(s for s in STREAMS if s["id"] == "thst-0009")
    chunks = _chunks(stream)
    answer = vertexmeter.usage(stream["model"], PROMPT, api="gemini", response=chunks, as_of=stream["day"])
    assert answer.candidates_token_count == 14
    without = [
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [p for p in c["candidates"][0]["content"]["parts"] if not p.get("thought")],
                    }
                }
            ]
        }
        for c in chunks
    ]
    alone = vertexmeter.usage(stream["model"], PROMPT, api="gemini", response=without, as_of=stream["day"])
    assert alone.candidates_token_count == 15
    # Nothing billed below zero: a stream of summaries only
    thoughts = [{"candidates": [{"content": {"role": "model", "parts": [{"text": "Hm.", "thought": True}]}}]}] * 3
    empty = vertexmeter.usage(stream["model"], PROMPT, api="gemini", response=thoughts, as_of=stream["day"])
    assert empty.candidates_token_count == 0


def test_the_readings_ruled_out() -> None:
    """docs/counting.md "Streamed outputs": of the 156 text-only streams, how many each reading makes exact."""
    tokenizer = get_tokenizer("gemma3")

    def count(text: str) -> int:
        return tokenizer.count(text) if text else 0

    readings = {
        "joined": lambda ts: count("".join(ts)),
        "apart": lambda ts: sum(count(t) for t in ts),
        "apart, leading whitespace dropped": lambda ts: sum(count(t.lstrip()) for t in ts),
        "apart, trailing whitespace dropped": lambda ts: sum(count(t.rstrip()) for t in ts),
        "joined, its edges dropped": lambda ts: count("".join(ts).strip()),
        "apart, edges dropped": lambda ts: sum(count(t.strip()) for t in ts),
    }
    texts = [([c["text"] for c in s["chunks"]], _billed(s)) for s in STREAMS if _kind(s) == "text"]
    assert len(texts) == 156
    exact = {name: sum(read(ts) == billed for ts, billed in texts) for name, read in readings.items()}
    assert exact == {
        "joined": 102,
        "apart": 102,
        "apart, leading whitespace dropped": 120,
        "apart, trailing whitespace dropped": 127,
        "joined, its edges dropped": 116,
        "apart, edges dropped": 156,
    }


def test_streamed_chunks_apart_is_checked_when_the_data_loads() -> None:
    models = load_yaml("vertexmeter.registry", "models.yaml")
    rules = load_yaml("vertexmeter.registry", "accounting.yaml")
    twice = copy.deepcopy(rules)
    twice["streamed_chunks_apart"].append(twice["streamed_chunks_apart"][0])
    with pytest.raises(ValueError, match="covered twice"):
        build_registry(models, twice)
    for change, message in (
        ({"edges": "kept"}, "edges 'kept' is not one of"),
        ({"per_thought_part": 1}, "per_thought_part <= 0"),
        ({"evidence": []}, "evidence and a reason"),
        ({"reason": ""}, "evidence and a reason"),
    ):
        broken = copy.deepcopy(rules)
        broken["streamed_chunks_apart"][0].update(change)
        with pytest.raises(ValueError, match=message):
            build_registry(models, broken)


def test_a_chunk_ending_in_a_space_before_a_number() -> None:
    stream = next(s for s in STREAMS if s["id"] == "fnts-0013")
    answer = vertexmeter.usage(stream["model"], PROMPT, api="gemini", response=_chunks(stream), as_of=stream["day"])
    assert answer.candidates_token_count == 14  # "The sum of " + "15 and 27 is 42.": 3 + 11
    text = "".join(c["text"] for c in stream["chunks"])
    assert get_tokenizer("gemma3").count(text) == 15


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(alphabet="ab1 .\n", min_size=1, max_size=8), min_size=1, max_size=5),
    st.lists(st.sampled_from(["", " ", "\n", "  ", " \n"]), min_size=10, max_size=10),
)
def test_whitespace_at_a_chunk_s_edges_is_not_billed(texts: list[str], pads: list[str]) -> None:
    """On 2.5 a chunk bills the same with more spaces or newlines at its edges; its inner text as counted."""

    def stream(chunks: list[str]) -> list[dict[str, Any]]:
        return [{"candidates": [{"content": {"role": "model", "parts": [{"text": t}]}}]} for t in chunks if t]

    padded = [pads[2 * i % 10] + t + pads[(2 * i + 1) % 10] for i, t in enumerate(texts)]
    plain = vertexmeter.usage("gemini-2.5-flash", PROMPT, api="gemini", response=stream(texts), as_of="2026-01-01")
    more = vertexmeter.usage("gemini-2.5-flash", PROMPT, api="gemini", response=stream(padded), as_of="2026-01-01")
    tokenizer = get_tokenizer("gemma3")
    expected = sum(tokenizer.count(t.strip(" \n")) for t in texts if t.strip(" \n"))
    assert plain.candidates_token_count == more.candidates_token_count == expected
    assert plain.bounds is None and more.bounds is None
