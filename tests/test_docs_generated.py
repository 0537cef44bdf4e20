"""Docs tables generated from the data are what their generators print today."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_the_parity_table_of_docs_counting_is_current() -> None:
    tool = _tool("parity_table")
    text = (ROOT / "docs" / "counting.md").read_text("utf-8")
    assert tool.current_block(text) == tool.block(), "run: python tools/parity_table.py --write"


def test_the_list_of_misses_of_docs_counting_is_current() -> None:
    """Every miss of the ground-truth files is listed with the open rule it belongs to, none unclassified."""
    tool = _tool("parity_table")
    text = (ROOT / "docs" / "counting.md").read_text("utf-8")
    block = tool.current_block(text, tool.MISSES_BEGIN, tool.MISSES_END)
    assert block == tool.misses_block(), "run: python tools/parity_table.py --write"
    assert "unclassified" not in block
