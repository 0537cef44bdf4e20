"""Tokenizing test helpers: each family's derived core table beside its reference engine (a module of its
own: `conftest` names clash across folders)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sentencepiece

from tests.tokenizer_files import packaged_bytes
from vertexmeter.tokenizing.core import CoreTable, derive, pure

try:
    from vertexmeter.tokenizing.core import _native  # type: ignore[attr-defined]
except ImportError:  # no compiler: the pure twin is still tested
    _native = None

IMPLEMENTATIONS = [pure] + ([_native] if _native is not None else [])
FAMILIES = {"gemma2": "sentencepiece", "gemma3": "sentencepiece", "gemma4": "tokenizers"}


@dataclass
class Family:
    name: str
    kind: str
    table: CoreTable
    reference: Callable[[str], list[int]]  # the engine's ids: sentencepiece or tokenizers
    sp: Any = None


_families: dict[str, Family] = {}


def family(name: str) -> Family:
    if name not in _families:
        kind = FAMILIES[name]
        data = packaged_bytes(name)
        if kind == "sentencepiece":
            sp = sentencepiece.SentencePieceProcessor()
            sp.LoadFromSerializedProto(data)
            _families[name] = Family(name, kind, derive(kind, data), sp.EncodeAsIds, sp)
        else:
            tokenizers = pytest.importorskip("tokenizers")
            tok = tokenizers.Tokenizer.from_str(data.decode("utf-8"))
            _families[name] = Family(
                name, kind, derive(kind, data), lambda text: tok.encode(text, add_special_tokens=True).ids
            )
    return _families[name]
