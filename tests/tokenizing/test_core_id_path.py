"""SentencePiece BPE by piece ids, and the range path it falls back to; the core's billable characters."""

from __future__ import annotations

import sys
from typing import Any

import pytest
import sentencepiece

from tests.tokenizer_files import packaged_bytes
from tests.tokenizing import core_helpers
from tests.tokenizing.core_helpers import family
from vertexmeter.counting import billable_characters
from vertexmeter.tokenizing import core_tokenizer
from vertexmeter.tokenizing.core import derive, make_bpe

pb = pytest.importorskip("sentencepiece.sentencepiece_model_pb2")
native = core_helpers._native
needs_native = pytest.mark.skipif(native is None, reason="the id path is the C core's")

TEXTS = [
    "",
    "in the beginning, interesting things in Tinnitus",
    "説明書 を読む 説明書説明書 in",
    "a" * 700,
    " " * 300 + "x",
    "<start_of_turn>user\nhi<end_of_turn>\n<b><i>x</i></b>",
    "def f(x):\n\treturn x  # 😀👍🏽 \u200d한국어 中文 日本語",
    "\U00020000\U0002a6d0 \ue123\ue124 ꙮꙬ yꙮꙬꙮ",
]


def _model(change: Any) -> bytes:
    model = pb.ModelProto()
    model.ParseFromString(packaged_bytes("gemma2"))
    change(model)
    return model.SerializeToString()


def _agrees(data: bytes, texts: list[str]) -> Any:
    """The core tokenizer over `data`, checked id for id and count for count against sentencepiece."""
    sp = sentencepiece.SentencePieceProcessor()
    sp.LoadFromSerializedProto(data)
    tokenizer = core_tokenizer("gemma2", "sentencepiece", derive("sentencepiece", data), lambda: data)
    for text in texts:
        assert tokenizer.encode(text) == sp.EncodeAsIds(text), text
        assert tokenizer.count(text) == len(sp.EncodeAsIds(text)), text
    return tokenizer


@needs_native
@pytest.mark.slow
@pytest.mark.parametrize("name", ["gemma2", "gemma3"])
def test_the_shipped_sentencepiece_models_merge_by_ids_with_the_engines_ids(name: str) -> None:
    fam = family(name)
    encoder = make_bpe(fam.table)
    assert encoder.merges_by_ids
    again = type(encoder).from_image(encoder.image())  # the id tables travel in the image
    assert again.merges_by_ids
    for text in TEXTS:
        assert encoder.encode(text) == again.encode(text) == fam.reference(text), text


@needs_native
@pytest.mark.slow
def test_scores_that_do_not_fall_with_the_id_take_the_range_path_with_the_same_ids() -> None:
    def promote_the_last_piece(model: Any) -> None:
        last = max(i for i, p in enumerate(model.pieces) if p.type == 1 and len(p.piece) >= 2)
        model.pieces[last].score = 1.0  # now above "in" (score 0), the first merge

    tokenizer = _agrees(_model(promote_the_last_piece), TEXTS)
    assert not tokenizer._bpe.merges_by_ids


@needs_native
@pytest.mark.slow
def test_a_piece_holding_a_character_that_is_no_piece_takes_the_range_path_with_the_same_ids() -> None:
    model = pb.ModelProto()
    model.ParseFromString(packaged_bytes("gemma2"))
    pieces = {p.piece for p in model.pieces}
    a, b = [c for c in map(chr, range(0xE000, 0xF8FF)) if c not in pieces][:2]

    def add_piece(model: Any) -> None:
        piece = model.pieces.add()  # the lowest score: the scores still fall with the id
        piece.piece, piece.score, piece.type = a + b, min(p.score for p in model.pieces) - 1, 1

    tokenizer = _agrees(_model(add_piece), [*TEXTS, f"x {a}{b} y{a}{b}{a} {b}{a}"])
    assert not tokenizer._bpe.merges_by_ids


@pytest.mark.parametrize("impl", core_helpers.IMPLEMENTATIONS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_billable_characters_leave_out_exactly_what_str_isspace_calls_whitespace(impl: Any) -> None:
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    assert impl.billable_characters(every) == len(every) - sum(c.isspace() for c in every)
    for c in every:
        if c.isspace() or ord(c) < 0x3100:
            assert impl.billable_characters(c) == (0 if c.isspace() else 1), hex(ord(c))
    for text in ["", " ", "a b", "\x1c\x1d\x1e\x1fx", "\u3000한\u205f국\u2028", "é\xa0è\x85", "🙂 🙂"]:
        assert impl.billable_characters(text) == sum(map(len, text.split())) == billable_characters(text)
    with pytest.raises(TypeError):
        impl.billable_characters(b"bytes")  # type: ignore[arg-type]
