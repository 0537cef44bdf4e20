"""Where vertexmeter keeps its files: the user cache (parsed data, core tables, quick count entries) and
the package itself. Plain `os.path`, no other import: the quick count path starts here."""

from __future__ import annotations

import os

CACHE_DIR_ENV = "VERTEXMETER_CACHE_DIR"
TOKENIZER_DIR_ENV = "VERTEXMETER_TOKENIZER_DIR"  # a directory of tokenizer files that overrides the packaged ones
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def cache_root() -> str:
    """vertexmeter's user cache: $VERTEXMETER_CACHE_DIR, else $XDG_CACHE_HOME/vertexmeter (~/.cache/vertexmeter)."""
    return os.environ.get(CACHE_DIR_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "vertexmeter"
    )
