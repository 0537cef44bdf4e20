"""Batch test helpers: request lines and result files (a module of its own: `conftest` names clash across folders)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "Vertex",
    "batch",
    "prediction",
    "token",
    "東京",
    "こんにちは",
    "émoji",
    "🎉",
    "1234",
    "<b>tag</b>",
    "naïve",
    "café",
    "Straße",
    "×÷",
    "\t",
    "tab\nnewline",
]


def request_body(rng: random.Random, words: int) -> dict[str, Any]:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    body: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    if rng.random() < 0.3:
        body["systemInstruction"] = {"parts": [{"text": "Answer briefly."}]}
        body["generationConfig"] = {"maxOutputTokens": rng.choice([16, 64, 256]), "temperature": 0.2}
    if rng.random() < 0.2:
        body["contents"] += [
            {"role": "model", "parts": [{"text": "Sure."}]},
            {"role": "user", "parts": [{"text": "More, please."}]},
        ]
    return body


def distinct_requests(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [request_body(rng, rng.randint(1, 60)) for _ in range(count)]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_results(path: Path) -> list[dict[str, Any]]:
    """The result lines of a results file (its first line, the job header `{"line": 0, "job": …}`, left out)."""
    results = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert results and results[0]["line"] == 0 and "fingerprint" in results[0]["job"], results[:1]
    return results[1:]
