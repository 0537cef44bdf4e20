"""Tokenizers by family (gemma2, gemma3, gemma4): a registry of encodings with a hash-verified loader.

The names below load on first use (the module's `__getattr__`): importing the package, or its counting
core, costs nothing until a tokenizer is needed, which is what lets the quick `count` path start fast.
"""

from __future__ import annotations

import os
import threading

from vertexmeter.lazy import lazy_attributes

TYPE_CHECKING = False  # not typing's: the quick count path does not import typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from vertexmeter.tokenizing.assets import (
        ASSETS,
        AssetStatus,
        TokenizerAsset,
        refresh,
        status,
    )
    from vertexmeter.tokenizing.core import CoreTable, billable_characters, mapped_counter
    from vertexmeter.tokenizing.counter import CoreBpeTokenizer
    from vertexmeter.tokenizing.engines import (
        CoreSentencePieceTokenizer,
        HuggingFaceTokenizer,
        SentencePieceTokenizer,
        Tokenizer,
        piece_bytes,
    )

__all__ = [
    "ENGINE_ONLY_ENV",
    "PURE_PYTHON_ENV",
    "mapped_counter",
    "CoreBpeTokenizer",
    "CoreSentencePieceTokenizer",
    "HuggingFaceTokenizer",
    "SentencePieceTokenizer",
    "core_tokenizer",
    "engine_tokenizer",
    "ASSETS",
    "AssetStatus",
    "Tokenizer",
    "TokenizerAsset",
    "billable_characters",
    "families",
    "get_tokenizer",
    "piece_bytes",
    "refresh",
    "status",
    "stored_table_file",
    "table_path",
]

_HOMES = {
    "ASSETS": "vertexmeter.tokenizing.assets",
    "AssetStatus": "vertexmeter.tokenizing.assets",
    "TokenizerAsset": "vertexmeter.tokenizing.assets",
    "refresh": "vertexmeter.tokenizing.assets",
    "status": "vertexmeter.tokenizing.assets",
    "CoreBpeTokenizer": "vertexmeter.tokenizing.counter",
    "CoreSentencePieceTokenizer": "vertexmeter.tokenizing.engines",
    "HuggingFaceTokenizer": "vertexmeter.tokenizing.engines",
    "SentencePieceTokenizer": "vertexmeter.tokenizing.engines",
    "Tokenizer": "vertexmeter.tokenizing.engines",
    "piece_bytes": "vertexmeter.tokenizing.engines",
    "billable_characters": "vertexmeter.tokenizing.core",
    "mapped_counter": "vertexmeter.tokenizing.core",
}


__getattr__ = lazy_attributes(__name__, _HOMES)


# Set to 1, the reference engines count every text whole (no core); a debugging and benchmarking switch.
ENGINE_ONLY_ENV = "VERTEXMETER_ENGINE_ONLY"
# Set to 1, the counting core runs its pure Python implementation, not the C extension.
PURE_PYTHON_ENV = "VERTEXMETER_PURE_PYTHON"
_loaded: dict[str, Tokenizer] = {}
_lock = threading.Lock()


def families() -> list[str]:
    from vertexmeter.tokenizing.assets import ASSETS

    return sorted(ASSETS)


def get_tokenizer(family: str) -> Tokenizer:
    """The family's tokenizer, loaded and hash-verified once per process."""
    tokenizer = _loaded.get(family)
    if tokenizer is not None:
        return tokenizer
    with _lock:
        if family not in _loaded:
            _loaded[family] = _load_mapped(family) or _load(family)
        return _loaded[family]


def _load_mapped(family: str) -> Tokenizer | None:
    """The family's core straight from its stored table, importing no more than the core (no pathlib,
    dataclasses, json or the asset code): what most starts take. None, for `_load` to decide, whenever
    anything is other than plain: an override directory (its file is verified first), the engines or the
    pure core asked for, no model file installed (`_load` says so), or no usable table stored yet."""
    from vertexmeter.paths import PACKAGE_DIR, TOKENIZER_DIR_ENV, cache_root
    from vertexmeter.tokenizing.core import mapped_tokenizer_parts, table_file
    from vertexmeter.tokenizing.pins import PINS

    pin = PINS.get(family)
    if pin is None or any(os.environ.get(name) for name in (TOKENIZER_DIR_ENV, ENGINE_ONLY_ENV, PURE_PYTHON_ENV)):
        return None
    _, filename, sha256 = pin
    cache = os.path.join(cache_root(), "tokenizers")
    homes = (cache, os.path.join(PACKAGE_DIR, "tokenizing", "data"))  # assets.candidate_locations' order
    if not any(os.path.isfile(os.path.join(home, filename + ext)) for home in homes for ext in ("", ".xz")):
        return None
    parts = mapped_tokenizer_parts(os.path.join(cache, "core", table_file(family, sha256)), sha256)
    if parts is None:
        return None
    from vertexmeter.tokenizing.counter import CoreBpeTokenizer

    return CoreBpeTokenizer.mapped(family, *parts)


def stored_table_file(family: str) -> str | None:
    """Where the family's core table is kept in the user cache, as a string (no pathlib: the quick count
    path asks), whether or not it exists yet; None for an unknown family."""
    from vertexmeter.paths import cache_root
    from vertexmeter.tokenizing.core import table_file
    from vertexmeter.tokenizing.pins import PINS

    pin = PINS.get(family)
    return None if pin is None else os.path.join(cache_root(), "tokenizers", "core", table_file(family, pin[2]))


def _load(family: str) -> Tokenizer:
    """The counting core over the family's model when its conditions hold, else the plain engine.

    The core table is derived from the verified model file once and kept, hash-checked, in the user
    cache; the family then loads from that table alone (no 32 MB JSON to parse, no engine) unless an
    override directory holds the file, which is verified first as always.
    """
    from vertexmeter.tokenizing.assets import ASSETS, candidate_locations, load_verified, unknown_family
    from vertexmeter.tokenizing.core import derive, load_table

    asset = ASSETS.get(family)
    if asset is None:
        raise unknown_family(family)
    engine_only = os.environ.get(ENGINE_ONLY_ENV, "") not in ("", "0")
    loaded: dict[str, bytes] = {}

    def model_bytes() -> bytes:
        if "data" not in loaded:
            loaded["data"] = load_verified(family)[0]
        return loaded["data"]

    locations = candidate_locations(asset)
    if not locations or locations[0].kind == "override":
        model_bytes()  # verify now: a missing or tampered override is an error even when a table is cached
    if engine_only:
        return engine_tokenizer(family, asset.engine, model_bytes())
    table = load_table(_core_dir(), family, asset.sha256, lambda: derive(asset.engine, model_bytes()))
    return core_tokenizer(family, asset.engine, table, model_bytes)


def _core_dir() -> Path:
    from vertexmeter.tokenizing.assets import cache_dir

    return cache_dir() / "core"


def table_path(family: str) -> Path:
    """Where the family's core table is kept in the user cache (whether or not it exists yet)."""
    from vertexmeter.tokenizing.assets import ASSETS, unknown_family
    from vertexmeter.tokenizing.core import table_file

    asset = ASSETS.get(family)
    if asset is None:
        raise unknown_family(family)
    return _core_dir() / table_file(family, asset.sha256)


def engine_tokenizer(family: str, engine: str, model: bytes) -> Tokenizer:
    """The reference engine over a model file ("sentencepiece" ModelProto or "tokenizers" JSON)."""
    from vertexmeter.tokenizing.engines import HuggingFaceTokenizer, SentencePieceTokenizer

    if engine == "sentencepiece":
        return SentencePieceTokenizer(family, model)
    return HuggingFaceTokenizer(family, model)


def core_tokenizer(family: str, engine: str, table: CoreTable, model: Callable[[], bytes]) -> Tokenizer:
    """The counting core over a model when its table says cutting is exact, else the reference engine."""
    from vertexmeter.tokenizing.core import make_bpe
    from vertexmeter.tokenizing.counter import CoreBpeTokenizer
    from vertexmeter.tokenizing.engines import CoreSentencePieceTokenizer

    if not table.chunkable:
        return engine_tokenizer(family, engine, model())
    encoder = make_bpe(table)
    if encoder is None:  # the pure core has no SentencePiece BPE of its own
        return CoreSentencePieceTokenizer(family, model(), table)
    return CoreBpeTokenizer(family, table, encoder)


def clear_cache() -> None:
    """Forget loaded tokenizers (tests that switch the asset locations use it)."""
    with _lock:
        _loaded.clear()
