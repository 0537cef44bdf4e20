"""The two tokenizer engines behind one small interface: encode texts, turn ids into token bytes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

import sentencepiece
import tokenizers

# Below this many texts, encoding one by one beats the engines' threaded batch calls (bench/).
_BATCH_THRESHOLD = 16
_BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
_SPACE_MARK = "\u2581"  # SentencePiece's "▁"


class Tokenizer(Protocol):
    family: str

    def encode(self, text: str) -> list[int]: ...

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
        self.family = family
        self._sp = sentencepiece.SentencePieceProcessor()
        self._sp.LoadFromSerializedProto(model_proto)
        self._bytes_cache: dict[int, bytes] = {}

    def encode(self, text: str) -> list[int]:
        return self._sp.EncodeAsIds(text)

    def encode_many(self, texts: Sequence[str]) -> list[list[int]]:
        if len(texts) < _BATCH_THRESHOLD:
            return [self._sp.EncodeAsIds(text) for text in texts]
        return self._sp.Encode(list(texts), out_type=int)

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
        self.family = family
        self._tok = tokenizers.Tokenizer.from_str(tokenizer_json.decode("utf-8"))
        self._bytes_cache: dict[int, bytes] = {}

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=True).ids

    def encode_many(self, texts: Sequence[str]) -> list[list[int]]:
        if len(texts) < _BATCH_THRESHOLD:
            return [self._tok.encode(text, add_special_tokens=True).ids for text in texts]
        return [e.ids for e in self._tok.encode_batch(list(texts), add_special_tokens=True)]

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
