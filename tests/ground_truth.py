"""Replaying the real answers recorded in tests/data/ground_truth.jsonl (a vendored copy of the shared
ground truth; tests/data/PROVENANCE.md says where it comes from)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vertexmeter
from vertexmeter.errors import VertexMeterError


def ground_truth_path() -> Path:
    """The vendored copy; VERTEXMETER_GROUND_TRUTH points at another file (e.g. a newer shared one)."""
    override = os.environ.get("VERTEXMETER_GROUND_TRUTH")
    return Path(override) if override else Path(__file__).resolve().parent / "data" / "ground_truth.jsonl"


def load_records() -> list[dict[str, Any]]:
    path = ground_truth_path()
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def is_multimodal(record: dict[str, Any]) -> bool:
    parts = [p for c in record["request"].get("contents", []) for p in c.get("parts", [])]
    return any("inlineData" in p or "fileData" in p for p in parts)


@dataclass
class Replay:
    record: dict[str, Any]
    group: str  # countTokens | output | generateContent.prompt
    expected: int
    got: int | None
    note: str = ""

    @property
    def exact(self) -> bool:
        return self.got == self.expected


def replay(record: dict[str, Any]) -> Replay:
    """What vertexmeter answers for one recorded text item, in the dialect it was recorded in."""
    api = "gemini" if record["endpoint"] == "gemini-api" else "vertex"
    expected = record["expected"]["totalTokens"]
    model, request = record["model"], record["request"]
    try:
        if record["kind"] == "output":
            # candidatesTokenCount / outputTokenCount: the raw token count of the generated text.
            if "instances" in request:
                # The record keeps the generated text; count it as the text model's own text.
                body = {"instances": [{"prompt": record["text"]}]}
                got = vertexmeter.count(model, body, api="vertex").total_tokens
            else:
                infos = vertexmeter.compute_tokens(model, request)["tokensInfo"]
                got = sum(len(info["tokenIds"]) for info in infos)
            return Replay(record, "output", expected, got)
        group = "countTokens" if record["api"] == "countTokens" else "generateContent.prompt"
        if api == "gemini" and set(request) - {"contents"}:
            # The Gemini API takes system instruction and tools only inside generateContentRequest,
            # which is how the SDKs that recorded these answers sent them.
            request = {"generateContentRequest": {"model": f"models/{model}", **request}}
        return Replay(record, group, expected, vertexmeter.count(model, request, api=api).total_tokens)
    except VertexMeterError as error:
        return Replay(record, "error", expected, None, str(error))
