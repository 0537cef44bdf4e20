"""Where vertexmeter keeps its files: the user cache (parsed data, core tables, quick count entries) and
the package itself. Plain `os.path`, no other import: the quick count path starts here."""

from __future__ import annotations

import os

CACHE_DIR_ENV = "VERTEXMETER_CACHE_DIR"
DATA_DIR_ENV = "VERTEXMETER_DATA_DIR"  # where `vertexmeter data update` installs a newer data set
TOKENIZER_DIR_ENV = "VERTEXMETER_TOKENIZER_DIR"  # a directory of tokenizer files that overrides the packaged ones
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def cache_root() -> str:
    """vertexmeter's user cache: $VERTEXMETER_CACHE_DIR, else $XDG_CACHE_HOME/vertexmeter (~/.cache/vertexmeter)."""
    return os.environ.get(CACHE_DIR_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "vertexmeter"
    )


def data_root() -> str:
    """vertexmeter's user data: $VERTEXMETER_DATA_DIR, else $XDG_DATA_HOME/vertexmeter (~/.local/share/vertexmeter)."""
    return os.environ.get(DATA_DIR_ENV) or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share"), "vertexmeter"
    )


def installed_manifest() -> str:
    """The manifest of the data set `vertexmeter data update` installed (it may not exist)."""
    return os.path.join(data_root(), "dataset", "manifest.json")
