"""The README's library examples print what they say they print."""

from __future__ import annotations

import ast
from pathlib import Path

import vertexmeter

README = Path(__file__).resolve().parents[1] / "README.md"


def test_library_examples_are_true() -> None:
    lines = README.read_text("utf-8").splitlines()
    checked = 0
    for call, shown in zip(lines, lines[1:], strict=False):
        if call.startswith("vertexmeter.") and shown.startswith("# {"):
            expected = ast.literal_eval(shown[2:])
            assert eval(call, {"vertexmeter": vertexmeter}) == expected, call  # noqa: S307 (our own README)
            checked += 1
    assert checked >= 3
