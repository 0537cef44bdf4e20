"""Batch lines that are Gemini Interactions API bodies (`POST /v1beta/interactions`): recognised by `input`, billed
as the Library bills them (`interactions_result`) and priced like the generateContent line they read as; their
`history` holds earlier Interactions answers; every refusal reported by its line number, the rest counted."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

import vertexmeter
from tests.batch.batch_helpers import read_results, write_lines
from vertexmeter.batch import estimate_batch
from vertexmeter.counting import interactions_history
from vertexmeter.requests import interactions_request

DATA = Path(__file__).resolve().parents[1] / "data" / "interactions_2026.jsonl.gz"
with gzip.open(DATA, "rt", encoding="utf-8") as _lines:
    RECORDS: list[dict[str, Any]] = [json.loads(line) for line in _lines]
BY_ID = {r["id"]: r for r in RECORDS}
INPUTS = [r for r in RECORDS if r["kind"] == "input" and r["recorded"] == "2026-09-25"]  # one date: one job
DAY = "2026-09-25"


def _answer(record_id: str) -> dict[str, Any]:
    output = BY_ID[record_id.replace("-", "o-")]
    return {**output["response"], "usage": output["raw_usage"]}


def _reason(result: dict[str, Any]) -> str:
    return next(d["reason"] for d in result["error"]["details"] if d["@type"].endswith("ErrorInfo"))


def _run(tmp_path: Path, lines: list[str], api: str = "gemini") -> list[dict[str, Any]]:
    source = write_lines(tmp_path / "lines.jsonl", lines)
    out = tmp_path / "results.jsonl"
    estimate_batch(str(source), "gemini-3.7-flash", output=str(out), api=api, workers=1, as_of=DAY)
    return read_results(out)


@pytest.mark.parametrize("with_history", [False, True], ids=["bare", "history"])
def test_recorded_bodies_are_billed_as_the_library_bills_them(tmp_path: Path, with_history: bool) -> None:
    lines = []
    for record in INPUTS:
        history = [_answer(i) for i in record["earlier"]] if with_history else None
        line: dict[str, Any] = {"key": record["id"], "request": record["request"]}
        if history:
            line["history"] = history
        lines.append(json.dumps(line))
    results = _run(tmp_path, lines)
    assert [r["key"] for r in results] == [r["id"] for r in INPUTS]
    for record, result in zip(INPUTS, results, strict=True):
        history = [_answer(i) for i in record["earlier"]] if with_history else None
        billed = vertexmeter.interactions_usage(record["request"], history=history, as_of=DAY)
        assert result["promptTokenCount"] == billed["total_input_tokens"], record["id"]
        assert ("bounds" in result) == ("bounds" in billed)
        if "bounds" in result:
            assert result["bounds"]["promptTokenCount"] == billed["bounds"]["total_input_tokens"]
        # priced like the generateContent line it reads as (same tokens, same catalogue rows)
        model, body = interactions_request(record["request"])
        generate: dict[str, Any] = {"request": {**body, "model": model}}
        if history:  # the earlier answers as the generateContent responses they stand for
            generate["history"] = interactions_history(history)
        (as_generate,) = _run(tmp_path, [json.dumps(generate)])
        assert result["cost"] == as_generate["cost"]
        assert result["promptTokenCount"] == as_generate["promptTokenCount"]


def test_a_bare_interactions_body_and_the_jobs_model(tmp_path: Path) -> None:
    results = _run(tmp_path, [json.dumps({"input": "What is 1 + 1?"}), json.dumps({"request": {"input": "Hi"}})])
    assert [r["model"] for r in results] == ["gemini-3.7-flash", "gemini-3.7-flash"]
    first = vertexmeter.interactions_usage({"model": "gemini-3.7-flash", "input": "What is 1 + 1?"}, as_of=DAY)
    assert results[0]["promptTokenCount"] == first["total_input_tokens"] == 9


def test_refusals_by_line_and_the_rest_counted(tmp_path: Path) -> None:
    simple = {"model": "gemini-3.7-flash", "input": "Hello"}
    lines = [
        json.dumps({"request": {**simple, "previous_interaction_id": "v1_x"}}),
        json.dumps({**simple, "temperature": 1}),
        json.dumps({"request": simple, "config": {"temperature": 0}}),
        json.dumps({"request": {**simple, "model": 3}}),
        json.dumps({**simple, "model": "gemini-9-nonesuch"}),
        json.dumps({"request": simple, "history": ["not an answer"]}),
        json.dumps(simple),
    ]
    results = _run(tmp_path, lines)
    assert [r["line"] for r in results] == list(range(1, 8))
    assert results[0]["error"]["status"] == "FAILED_PRECONDITION"
    assert "previous_interaction_id" in results[0]["error"]["message"]
    assert _reason(results[1]) == "UNKNOWN_FIELD" and '"temperature"' in results[1]["error"]["message"]
    assert _reason(results[2]) == "INVALID_LINE" and "config" in results[2]["error"]["message"]
    assert _reason(results[3]) == "INVALID_LINE"
    assert _reason(results[4]) == "UNKNOWN_MODEL"
    assert results[5]["error"]["code"] == 400
    assert "error" not in results[6] and results[6]["promptTokenCount"] > 0


def test_a_vertex_job_refuses_interactions_lines_rather_than_count_them_as_vertex(tmp_path: Path) -> None:
    results = _run(tmp_path, [json.dumps({"model": "gemini-3.7-flash", "input": "Hello"})], api="vertex")
    (result,) = results
    assert result["error"]["status"] == "INVALID_ARGUMENT" and "--api gemini" in result["error"]["message"]
