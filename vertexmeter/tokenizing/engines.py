"""Tokenizer engines behind one small interface: encode and count texts, turn ids into token bytes.

SentencePiece and `tokenizers` are the reference engines. The core-backed classes count through the
counting core (tokenizing/core: split where no piece spans, cached chunk counts) and, for
tokenizer.json models, encode with the core's own BPE, so `tokenizers` is not needed to count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from vertexmeter.errors import VertexMeterError
from vertexmeter.tokenizing.core import CoreTable, make_splitter
from vertexmeter.tokenizing.counter import _valid_text

# Below this many texts, encoding one by one beats the engines' threaded batch calls (bench/).
_BATCH_THRESHOLD = 16
_BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
_SPACE_MARK = "\u2581"  # SentencePiece's "▁"


class Tokenizer(Protocol):
    family: str

    def encode(self, text: str) -> list[int]: ...

    def count(self, text: str) -> int: ...

    def encode_many(self, texts: Sequence[str]) -> list[list[int]]: ...

    def count_many(self, texts: Sequence[str]) -> list[int]: ...

    def token_bytes(self, token_id: int) -> bytes: ...


def piece_bytes(piece: str) -> bytes:
    """A piece's bytes as computeTokens reports them: `▁` is a space, `<0xNN>` is that raw byte."""
    match = _BYTE_PIECE.match(piece)
    if match:
        return bytes([int(match.group(1), 16)])
    return piece.replace(_SPACE_MARK, " ").encode("utf-8")


class SentencePieceTokenizer:
    """Gemma 1 / Gemma 3 SentencePiece models, encoded exactly as google-genai does (no BOS/EOS)."""

    def __init__(self, family: str, model_proto: bytes) -> None:
        import sentencepiece  # only the reference engine needs it; the core does not

        self.family = family
        self._sp = sentencepiece.SentencePieceProcessor()
        self._sp.LoadFromSerializedProto(model_proto)
        self._bytes_cache: dict[int, bytes] = {}

    def encode(self, text: str) -> list[int]:
        try:
            return self._sp.EncodeAsIds(text)
        except (RuntimeError, TypeError):  # sentencepiece's answer to a lone surrogate: refuse it as the core does
            _valid_text(text)
            raise

    def count(self, text: str) -> int:
        return len(self.encode(text))

    def encode_many(self, texts: Sequence[str]) -> list[list[int]]:
        try:
            if len(texts) < _BATCH_THRESHOLD:
                return [self._sp.EncodeAsIds(text) for text in texts]
            return self._sp.Encode(list(texts), out_type=int)
        except (RuntimeError, TypeError):
            for text in texts:
                _valid_text(text)
            raise

    def count_many(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.encode_many(texts)]

    def token_bytes(self, token_id: int) -> bytes:
        cached = self._bytes_cache.get(token_id)
        if cached is None:
            if self._sp.IsByte(token_id):
                cached = piece_bytes(self._sp.IdToPiece(token_id))
            else:
                cached = self._sp.IdToPiece(token_id).replace(_SPACE_MARK, " ").encode("utf-8")
            self._bytes_cache[token_id] = cached
        return cached


class HuggingFaceTokenizer:
    """Gemma 4 tokenizer.json through `tokenizers`; its post-processor adds no BOS (SOURCES.md)."""

    def __init__(self, family: str, tokenizer_json: bytes) -> None:
        try:
            import tokenizers
        except ImportError as exc:  # only models the core cannot take need it (docs/tokenizing.md)
            raise VertexMeterError(
                "FAILED_PRECONDITION",
                f"The {family} tokenizer needs the `tokenizers` package: pip install tokenizers",
            ) from exc
        self.family = family
        self._tok = tokenizers.Tokenizer.from_str(tokenizer_json.decode("utf-8"))
        self._bytes_cache: dict[int, bytes] = {}

    def encode(self, text: str) -> list[int]:
        try:
            return self._tok.encode(text, add_special_tokens=True).ids
        except TypeError:  # tokenizers' answer to a lone surrogate: refuse it as the core does
            _valid_text(text)
            raise

    def count(self, text: str) -> int:
        return len(self.encode(text))

    def encode_many(self, texts: Sequence[str]) -> list[list[int]]:
        try:
            if len(texts) < _BATCH_THRESHOLD:
                return [self._tok.encode(text, add_special_tokens=True).ids for text in texts]
            return [e.ids for e in self._tok.encode_batch(list(texts), add_special_tokens=True)]
        except TypeError:
            for text in texts:
                _valid_text(text)
            raise

    def count_many(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.encode_many(texts)]

    def token_bytes(self, token_id: int) -> bytes:
        cached = self._bytes_cache.get(token_id)
        if cached is None:
            piece = self._tok.id_to_token(token_id)
            if piece is None:
                raise ValueError(f"token id {token_id} is outside the {self.family} vocabulary")
            cached = piece_bytes(piece)
            self._bytes_cache[token_id] = cached
        return cached


class CoreSentencePieceTokenizer(SentencePieceTokenizer):
    """The pure-Python core over a SentencePiece model: its cut and cache, sentencepiece for misses and ids."""

    def __init__(self, family: str, model_proto: bytes, table: CoreTable) -> None:
        super().__init__(family, model_proto)
        self._splitter = make_splitter(table)
        encode = self._sp.EncodeAsIds
        self._count_chunk = lambda chunk: len(encode(chunk))

    def count(self, text: str) -> int:
        try:
            return int(self._splitter.count(text, self._count_chunk))
        except UnicodeEncodeError:
            _valid_text(text)
            raise

    def count_many(self, texts: Sequence[str]) -> list[int]:
        return [self.count(text) for text in texts]
