"""accounting.yaml `replayed_thoughts_reach` and the current turn's start: which replayed thought signatures Vertex 2.5
bills, replayed on crmne/ruby_llm's recorded answers with the thoughtsTokenCount of the responses that produced their
signatures (the earlier interactions of the same cassettes, as the mined records state them)."""

from __future__ import annotations

from typing import Any

import pytest

import vertexmeter
from tests.ground_truth import load_mined_history

RECORDS = {r["id"]: r for r in load_mined_history("ruby_llm")}


def _history(record: dict[str, Any], thoughts: list[int]) -> list[dict[str, Any]]:
    """One response per model turn that carries a signature, in order, stating the given thoughts."""
    turns = [c for c in record["request"]["contents"] if c.get("role") == "model"]
    turns = [c for c in turns if any(p.get("thoughtSignature") for p in c["parts"])]
    assert len(turns) == len(thoughts)
    return [
        {
            "candidates": [{"content": {"role": "model", "parts": turn["parts"]}}],
            "usageMetadata": {"thoughtsTokenCount": n},
        }
        for turn, n in zip(turns, thoughts, strict=True)
    ]


@pytest.mark.parametrize(
    ("record_id", "thoughts", "billed"),
    [
        ("rllm-0824", [42, 49], 91),  # asked again, called again: both calls' thoughts
        ("rllm-0960", [90, 57], 147),
        ("rllm-0823", [42], 0),  # the same conversation ending in the user's new question: none
        ("rllm-0959", [90], 0),
        ("rllm-0954", [44], 88),  # one response's signature on two parallel calls: twice
        ("rllm-0883", [59], 59),  # a tool's attachment sent as text beside the function response: still this turn
        ("rllm-0974", [38], 38),
        ("rllm-0822", [42], 42),  # one call in the current turn (the rule before)
    ],
)
def test_vertex_25_bills_the_recorded_thoughts(record_id: str, thoughts: list[int], billed: int) -> None:
    record = RECORDS[record_id]
    model, body, day = record["model"], record["request"], record["recorded"]
    result = vertexmeter.usage(model, body, api="vertex", as_of=day, history=_history(record, thoughts))
    assert result.prompt_token_count == record["expected"]["totalTokens"]
    assert result.replayed_thoughts_token_count == billed
    assert result.bounds is None
    alone = vertexmeter.usage(model, body, api="vertex", as_of=day)
    if billed:
        # Without the earlier responses: bounds from the signatures' sizes that hold the recorded prompt.
        low, high = alone.bounds["promptTokenCount"]
        assert low <= record["expected"]["totalTokens"] <= high
        rules = [r["rule"] for r in alone.rules]
        assert "accounting.yaml replayed_thoughts_reach (when_current_replays, per_part)" in rules
    else:
        assert alone.bounds is None and alone.prompt_token_count == record["expected"]["totalTokens"]


def test_the_gemini_api_keeps_one_bill_per_response() -> None:
    """The reach is Vertex 2.5's: the Gemini API's 3 previews bill a repeated signature once and no earlier turn."""
    record = RECORDS["rllm-0954"]
    body = record["request"]
    history = _history(record, [44])
    vertex = vertexmeter.usage("gemini-2.5-flash", body, api="vertex", as_of="2026-08-19", history=history)
    gemini = vertexmeter.usage("gemini-3-flash-preview", body, api="gemini", as_of="2026-08-19", history=history)
    assert vertex.replayed_thoughts_token_count == 88
    assert gemini.replayed_thoughts_token_count == 44


def test_a_server_side_tools_signatures_are_not_thoughts() -> None:
    """Gemini API 3.x (accounting.yaml replayed_thoughts_reach not_thoughts): pydantic-ai's pyd-0937 replays a
    functionCall and a googleSearch toolCall / toolResponse of one response that thought 55 tokens (pyd-0936), each
    part with its signature; the tool parts' signatures carry the search, not thoughts (35,187 bytes for 55)."""
    record = next(r for r in load_mined_history("pydantic_ai_history") if r["id"] == "pyd-0937")
    model, body, day = record["model"], record["request"], record["recorded"]
    turn = body["contents"][1]
    assert [next(k for k in p if k != "thoughtSignature") for p in turn["parts"]] == [
        "functionCall",
        "toolCall",
        "toolResponse",
    ]
    alone = vertexmeter.usage(model, body, api="gemini", as_of=day)
    # the thoughts read from the functionCall's signature alone, [123, 163]; the declared googleSearch may run again
    # (its own run and the one replayed, up to 510 each: accounting.yaml tool_runs_in_prompt)
    assert alone.bounds is not None and (alone.prompt_token_count, alone.bounds["promptTokenCount"]) == (
        139,
        [123, 163 + 2 * 510],
    )
    assert alone.replayed_thoughts is not None and alone.replayed_thoughts.signatures == 1
    low, high = alone.bounds["promptTokenCount"]
    assert low <= record["expected"]["totalTokens"] <= high
    history = [{"candidates": [{"content": turn}], "usageMetadata": {"thoughtsTokenCount": 55}}]
    known = vertexmeter.usage(model, body, api="gemini", as_of=day, history=history)
    assert known.prompt_token_count == record["expected"]["totalTokens"]
    assert known.bounds is not None and known.bounds["promptTokenCount"] == [132, 132 + 2 * 510]
    assert any("replayed_thoughts_reach" in r["rule"] and "toolCall" in r["rule"] for r in alone.rules)


def test_not_thoughts_names_only_tool_parts() -> None:
    import copy

    from vertexmeter.datafiles import load_yaml
    from vertexmeter.registry import build_registry

    models = load_yaml("vertexmeter.registry", "models.yaml")
    rules = load_yaml("vertexmeter.registry", "accounting.yaml")
    broken = copy.deepcopy(rules)
    entry = next(e for e in broken["replayed_thoughts_reach"] if e.get("not_thoughts"))
    entry["not_thoughts"] = ["functionCall"]
    with pytest.raises(ValueError, match="replayed_thoughts_reach"):
        build_registry(models, broken)
