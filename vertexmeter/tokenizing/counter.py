"""The counting core's tokenizer: its own exact BPE (SentencePiece's or tokenizers' algorithm), chunk by chunk.

Kept free of heavy imports (no json, re, typing, dataclasses): a process that loads a family from its
stored core table (tokenizing/__init__.py) counts and encodes with no more than this module, the core
and its memory map. Token bytes (computeTokens) load the vocabulary's table view on first use.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: see above
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from vertexmeter.tokenizing.core import CoreTable


class CoreBpeTokenizer:
    """The core with its own exact BPE, chunk by chunk.

    Neither engine is loaded: ids, counts and token bytes all come from the core table.
    """

    def __init__(self, family: str, table: CoreTable, encoder: Any) -> None:
        from dataclasses import replace

        from vertexmeter.tokenizing.core import make_splitter

        self.family = family
        self._splitter = make_splitter(table)
        self._bpe = encoder
        # kept: the vocabulary, for token bytes; the encoder and splitter hold their own tables
        self._core: CoreTable | None = replace(table, pairs=b"", chars=b"", merges=b"", scores=b"", types=b"")
        self._load_core: Callable[[], CoreTable] | None = None
        self._bytes_cache: dict[int, bytes] = {}
        self._vocab: tuple[memoryview, Any] | None = None

    @classmethod
    def mapped(cls, family: str, splitter: Any, encoder: Any, load_core: Callable[[], CoreTable]) -> CoreBpeTokenizer:
        """A tokenizer over a splitter and encoder already made from a stored table; `load_core()` gives the
        table (for token bytes) when first needed."""
        self = cls.__new__(cls)
        self.family = family
        self._splitter = splitter
        self._bpe = encoder
        self._core = None
        self._load_core = load_core
        self._bytes_cache = {}
        self._vocab = None
        return self

    @property
    def core(self) -> CoreTable:
        if self._core is None:
            assert self._load_core is not None
            self._core = self._load_core()  # two threads may both load it: the same table either way
        return self._core

    def encode(self, text: str) -> list[int]:
        try:
            return self._splitter.encode(text, self._bpe)  # a new list each call
        except UnicodeEncodeError:
            _valid_text(text)
            raise

    def count(self, text: str) -> int:
        try:
            return int(self._splitter.count(text, self._bpe))
        except UnicodeEncodeError:
            _valid_text(text)
            raise

    def encode_many(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.encode(text) for text in texts]

    def count_many(self, texts: Sequence[str]) -> list[int]:
        count, bpe = self._splitter.count, self._bpe
        try:  # the core's entry called in place (a prompt is a few dozen texts: a method call each cost more)
            return [int(count(text, bpe)) for text in texts]
        except UnicodeEncodeError:
            return [self.count(text) for text in texts]  # the first text that fails is named, as count names it

    def token_bytes(self, token_id: int) -> bytes:
        cached = self._bytes_cache.get(token_id)
        if cached is None:
            cached = self._bytes_cache[token_id] = self._piece_bytes(token_id)
        return cached

    def _piece_bytes(self, token_id: int) -> bytes:
        """engines.piece_bytes(core.piece(token_id)) on the piece's UTF-8 as stored: `▁` (E2 96 81) is a
        space, and only a piece that may be `<0xNN>` is decoded (computeTokens asks this for every id it
        has not met; the table and a memoryview per call cost more than the piece)."""
        vocab = self._vocab
        if vocab is None:
            core = self.core
            vocab = self._vocab = (memoryview(core.vocab_offsets).cast("I"), core.vocab_blob)
        offsets, blob = vocab
        if not 0 <= token_id < len(offsets) - 1:
            self.core.piece(token_id)  # its error names the vocabulary's size
        raw = bytes(blob[offsets[token_id] : offsets[token_id + 1]])
        if b"<0x" in raw:
            from vertexmeter.tokenizing.engines import piece_bytes

            return piece_bytes(raw.decode("utf-8"))
        return raw.replace(b"\xe2\x96\x81", b" ")


def _valid_text(text: str) -> None:
    """Refuse what no engine can encode (a lone surrogate) with an error in Google's shape."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        from vertexmeter.errors import VertexMeterError

        raise VertexMeterError(
            "INVALID_ARGUMENT", f"Text is not valid Unicode (a lone surrogate at index {exc.start})."
        ) from exc
