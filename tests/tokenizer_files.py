"""The packaged tokenizer files, read the way the package stores them (helpers shared by tests)."""

from __future__ import annotations

from pathlib import Path

from vertexmeter import tokenizing
from vertexmeter.tokenizing.assets import ASSETS, Location, read_location


def packaged_bytes(family: str) -> bytes:
    """The uncompressed bytes of a family's packaged file."""
    asset = ASSETS[family]
    data_dir = Path(tokenizing.__file__).parent / "data"
    plain, packed = data_dir / asset.filename, data_dir / (asset.filename + ".xz")
    location = Location("package", plain, False) if plain.exists() else Location("package", packed, True)
    return read_location(location)
