"""Tokenizer model files: pinned by SHA-256, found in a user override, the user cache or the package.

Nothing is downloaded implicitly: `refresh()` (the `vertexmeter tokenizers refresh` command) is the
only code path that touches the network, and it keeps a file only when its hash is the pinned one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vertexmeter.datafiles import cache_dir as user_cache_dir
from vertexmeter.datafiles import package_path
from vertexmeter.errors import VertexMeterError
from vertexmeter.paths import TOKENIZER_DIR_ENV
from vertexmeter.tokenizing.pins import PINS

_MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class TokenizerAsset:
    family: str
    engine: str  # "sentencepiece" | "tokenizers" (also the core's model kinds)
    filename: str  # the name in every location; the package may hold it xz-compressed
    sha256: str  # of the uncompressed file
    upstream_url: str
    provenance: str


_SOURCES = {  # family -> (upstream URL, provenance); engine, file name and hash: pins.py
    "gemma2": (
        "https://raw.githubusercontent.com/google/gemma_pytorch/"
        "33b652c465537c6158f9a472ea5700e5e770ad3f/tokenizer/tokenizer.model",
        "google/gemma_pytorch tokenizer/tokenizer.model (Gemma 1, 256,000 pieces), Apache-2.0",
    ),
    "gemma3": (
        "https://raw.githubusercontent.com/google/gemma_pytorch/"
        "014acb7ac4563a5f77c76d7ff98f31b568c16508/tokenizer/gemma3_cleaned_262144_v2.spiece.model",
        "google/gemma_pytorch gemma3_cleaned_262144_v2.spiece.model (262,144 pieces), Apache-2.0",
    ),
    "gemma4": (
        "https://huggingface.co/google/gemma-4-E4B-it/resolve/main/tokenizer.json",
        "Hugging Face google/gemma-4-* tokenizer.json (what google-genai loads), Apache-2.0",
    ),
}

ASSETS: dict[str, TokenizerAsset] = {
    family: TokenizerAsset(family, engine, filename, sha256, *_SOURCES[family])
    for family, (engine, filename, sha256) in PINS.items()
}


def unknown_family(family: str) -> VertexMeterError:
    return VertexMeterError(
        "INVALID_ARGUMENT", f"Unknown tokenizer family {family!r}; known: {', '.join(sorted(ASSETS))}."
    )


def cache_dir() -> Path:
    return user_cache_dir() / "tokenizers"


@dataclass(frozen=True)
class Location:
    kind: str  # "override" | "cache" | "package"
    path: Path
    compressed: bool


def candidate_locations(asset: TokenizerAsset) -> list[Location]:
    """Where the asset may live, in the order they are tried."""
    found: list[Location] = []
    override = os.environ.get(TOKENIZER_DIR_ENV)
    if override:
        found += _in_dir("override", Path(override), asset)
    found += _in_dir("cache", cache_dir(), asset)
    package = package_path("vertexmeter.tokenizing", "data")
    found += _in_dir("package", package, asset)
    return found


def _in_dir(kind: str, directory: Path, asset: TokenizerAsset) -> list[Location]:
    plain, packed = directory / asset.filename, directory / (asset.filename + ".xz")
    if plain.is_file():
        return [Location(kind, plain, False)]
    if packed.is_file():
        return [Location(kind, packed, True)]
    return []


def sha256_hex(data: bytes) -> str:
    import hashlib  # here: a start that maps its core tables hashes no model file

    return hashlib.sha256(data).hexdigest()


def read_location(location: Location) -> bytes:
    data = location.path.read_bytes()
    if not location.compressed:
        return data
    import lzma  # here: only the packaged gemma4 file is compressed, and only deriving its table reads it

    return lzma.decompress(data)


def load_verified(family: str) -> tuple[bytes, Location]:
    """The asset's bytes from the first location that has it; a hash mismatch is an error, not a skip."""
    asset = ASSETS.get(family)
    if asset is None:
        raise unknown_family(family)
    locations = candidate_locations(asset)
    if not locations:
        raise VertexMeterError(
            "FAILED_PRECONDITION",
            f"Tokenizer file {asset.filename} for {family} was not found in ${TOKENIZER_DIR_ENV}, "
            f"{cache_dir()} or the package. Reinstall vertexmeter or run `vertexmeter tokenizers refresh {family}`.",
        )
    location = locations[0]
    data = read_location(location)
    digest = sha256_hex(data)
    if digest != asset.sha256:
        raise VertexMeterError(
            "FAILED_PRECONDITION",
            f"Tokenizer file {location.path} ({location.kind}) has sha256 {digest}, expected the pinned "
            f"{asset.sha256}. Remove it or run `vertexmeter tokenizers refresh {family}`.",
        )
    return data, location


@dataclass(frozen=True)
class AssetStatus:
    family: str
    engine: str
    filename: str
    sha256: str
    location: str | None
    source: str | None  # override | cache | package
    status: str  # ok | mismatch | missing


def status(family: str) -> AssetStatus:
    asset = ASSETS[family]
    locations = candidate_locations(asset)
    if not locations:
        return AssetStatus(family, asset.engine, asset.filename, asset.sha256, None, None, "missing")
    location = locations[0]
    ok = sha256_hex(read_location(location)) == asset.sha256
    return AssetStatus(
        family,
        asset.engine,
        asset.filename,
        asset.sha256,
        str(location.path),
        location.kind,
        "ok" if ok else "mismatch",
    )


def refresh(family: str, *, url: str | None = None, timeout: float = 60.0) -> Path:
    """Download a family's file from upstream (or `url`, e.g. a mirror) into the user cache, hash-checked."""
    asset = ASSETS.get(family)
    if asset is None:
        raise unknown_family(family)
    import urllib.request  # here, not at the top: it pulls in ssl and http (~25 ms of every start)

    source = url or asset.upstream_url
    if not source.startswith(("https://", "http://", "file://")):
        raise VertexMeterError("INVALID_ARGUMENT", f"Unsupported URL scheme in {source!r}.")
    try:
        with urllib.request.urlopen(source, timeout=timeout) as response:  # noqa: S310 (scheme checked)
            data = response.read(_MAX_DOWNLOAD_BYTES + 1)
    except OSError as exc:
        raise VertexMeterError("UNAVAILABLE", f"Could not download {source}: {exc}") from exc
    if len(data) > _MAX_DOWNLOAD_BYTES:
        raise VertexMeterError("FAILED_PRECONDITION", f"{source} is larger than {_MAX_DOWNLOAD_BYTES} bytes.")
    if data[:6] == b"\xfd7zXZ\x00":
        import lzma

        data = lzma.decompress(data)
    digest = sha256_hex(data)
    if digest != asset.sha256:
        raise VertexMeterError(
            "DATA_LOSS", f"{source} has sha256 {digest}, not the pinned {asset.sha256}; nothing was kept."
        )
    target_dir = cache_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    import tempfile

    with tempfile.NamedTemporaryFile(dir=target_dir, delete=False) as tmp:
        tmp.write(data)
    target = target_dir / asset.filename
    os.replace(tmp.name, target)
    return target
