"""Tokenizers by family (gemma2, gemma3, gemma4): a registry of encodings with a hash-verified loader."""

from __future__ import annotations

import threading

from vertexmeter.tokenizing.assets import ASSETS, AssetStatus, TokenizerAsset, refresh, status, unknown_family
from vertexmeter.tokenizing.engines import (
    HuggingFaceTokenizer,
    SentencePieceTokenizer,
    Tokenizer,
    piece_bytes,
)

__all__ = [
    "ASSETS",
    "AssetStatus",
    "Tokenizer",
    "TokenizerAsset",
    "families",
    "get_tokenizer",
    "piece_bytes",
    "refresh",
    "status",
]

_loaded: dict[str, Tokenizer] = {}
_lock = threading.Lock()


def families() -> list[str]:
    return sorted(ASSETS)


def get_tokenizer(family: str) -> Tokenizer:
    """The family's tokenizer, loaded and hash-verified once per process."""
    tokenizer = _loaded.get(family)
    if tokenizer is not None:
        return tokenizer
    with _lock:
        if family not in _loaded:
            from vertexmeter.tokenizing.assets import load_verified

            asset = ASSETS.get(family)
            if asset is None:
                raise unknown_family(family)
            data, _ = load_verified(family)
            if asset.engine == "sentencepiece":
                _loaded[family] = SentencePieceTokenizer(family, data)
            else:
                _loaded[family] = HuggingFaceTokenizer(family, data)
        return _loaded[family]


def clear_cache() -> None:
    """Forget loaded tokenizers (tests that switch the asset locations use it)."""
    with _lock:
        _loaded.clear()
