"""The public face: `dir(vertexmeter)` lists it, every listed name loads, and none loads an engine early."""

from __future__ import annotations

import subprocess
import sys

import vertexmeter


def test_dir_lists_the_public_api() -> None:
    """Was: dir(vertexmeter) showed only dunders and helpers: the lazy names were invisible in a REPL."""
    listed = dir(vertexmeter)
    assert listed == sorted({*vertexmeter.__all__, "__version__"})
    for name in ("count_tokens", "usage_metadata", "estimate", "LocalTokenizer", "VertexMeterError"):
        assert name in listed
    assert not [name for name in listed if name.startswith("_") and name != "__version__"]


def test_every_listed_name_loads() -> None:
    for name in vertexmeter.__all__:
        assert getattr(vertexmeter, name) is not None, name


def test_dir_loads_nothing() -> None:
    code = (
        "import sys, vertexmeter; dir(vertexmeter); "
        "print(sorted(m for m in sys.modules if m.startswith('vertexmeter.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "vertexmeter.counting" not in out and "vertexmeter.pricing" not in out
