"""Docs tables generated from the data are what their generators print today."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ground_truth import mined_history_names
from tests.tool_modules import load_tool

ROOT = Path(__file__).resolve().parent.parent


_tool = load_tool


def test_the_parity_table_of_docs_counting_is_current() -> None:
    tool = _tool("parity_table")
    text = (ROOT / "docs" / "counting.md").read_text("utf-8")
    assert tool.current_block(text) == tool.block(), "run: python tools/parity_table.py --write"


def test_the_parity_table_lists_every_mined_set() -> None:
    """A set added to tests/data shows in the table of docs/counting.md."""
    tool = _tool("parity_table")
    assert sorted(tool.MINED) == mined_history_names()


def test_the_list_of_misses_of_docs_counting_is_current() -> None:
    """Every miss of the ground-truth files is listed with the open rule it belongs to, none unclassified."""
    tool = _tool("parity_table")
    text = (ROOT / "docs" / "counting.md").read_text("utf-8")
    block = tool.current_block(text, tool.MISSES_BEGIN, tool.MISSES_END)
    assert block == tool.misses_block(), "run: python tools/parity_table.py --write"
    assert "unclassified" not in block


def test_the_settings_table_of_docs_server_is_current() -> None:
    tool = _tool("server_settings")
    text = (ROOT / "docs" / "server.md").read_text("utf-8")
    assert tool.current_block(text) == tool.block(), "run: python tools/server_settings.py --write"


def test_every_server_setting_has_a_flag_whose_stated_default_is_the_setting_s() -> None:
    tool = _tool("server_settings")
    from vertexmeter.server.config import FIELD_NAMES

    assert [row[1].split("`")[1] for row in tool.rows()] == [f"VERTEXMETER_{name.upper()}" for name in FIELD_NAMES]
    stated = tool.help_defaults()
    assert len(stated) >= len(FIELD_NAMES) // 2  # most flags state their default in `--help`
    wrong = {name: pair for name, pair in stated.items() if pair[0] != pair[1]}
    assert not wrong, f"`vertexmeter serve --help` states other defaults than server/config.py: {wrong}"


def test_a_size_default_is_written_in_binary_units() -> None:
    tool = _tool("server_settings")
    assert [tool._size(n) for n in (72 * 1024**2, 256 * 1024, 4 * 1024**3, 1000, 0)] == [
        "72MiB",
        "256KiB",
        "4GiB",
        "1000",
        "0",
    ]


@pytest.mark.parametrize("name", ["role_overhead", "tool_templates", "tokenizer_history"])
def test_the_accounting_tables_of_docs_counting_are_current(name: str) -> None:
    tool = _tool("accounting_tables")
    text = (ROOT / "docs" / "counting.md").read_text("utf-8")
    assert tool.current_block(text, name) == tool.block(name), "run: python tools/accounting_tables.py --write"


def test_the_accounting_tables_say_what_the_rules_say() -> None:
    """Spot values read back from the tables against the registry's own lookup of the same rules."""
    from vertexmeter.registry.models import _registry

    tool = _tool("accounting_tables")
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ")[1:-1] for line in tool.role_overhead().splitlines()[2:]}
    columns = [c.strip() for c in tool.role_overhead().splitlines()[0].split("|")[2:-2]]
    for label, api, call in [
        ("Gemini API countTokens", "gemini", "countTokens"),
        ("Gemini API generateContent", "gemini", "generateContent"),
    ]:
        for generation, cell in zip(columns, rows[label], strict=True):
            rule = _registry().accounting[(api, call, {"3.x": "3"}.get(generation, generation))]
            assert cell == ("raw + R" if rule.per_role_content == 1 else "raw"), (label, generation)
    assert set(tool.TABLES) == {"role_overhead", "tool_templates", "tokenizer_history"}
