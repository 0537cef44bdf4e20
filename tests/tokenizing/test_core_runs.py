"""Long runs of one character (chunks with no cut point): the native core's run passes against the engines.

A run of 256 characters or more is encoded by per-level passes when they take the heap's merges
(docs/tokenizing.md), else by the heap; either way the ids are the engine's. Lengths around the run
threshold and the periods of the run pieces, characters whose merges cascade (the passes give up), that
user-defined pieces or special tokens match, that fall back to bytes, and models whose run pieces were
reordered so that the passes must give up.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import sentencepiece
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tokenizer_files import packaged_bytes
from tests.tokenizing import core_helpers
from tests.tokenizing.core_helpers import Family
from vertexmeter.tokenizing import core_tokenizer
from vertexmeter.tokenizing.core import derive, make_bpe, make_splitter

pytestmark = pytest.mark.slow

native = core_helpers._native
needs_native = pytest.mark.skipif(native is None, reason="the run passes are the C core's")

# 'a', '=', 'x', digits: passes; spaces, newlines, tabs: user-defined pieces (gemma2/3), cascades (gemma4);
# '<': special tokens start with it (gemma4); emoji, U+10FFFF, private use: byte fallback or one piece
CHARACTERS = ["a", "x", "=", "-", "*", ".", "#", "0", " ", "\n", "\t", "\u2581", "<", "ア", "中", "é", "😀",
              "\U0010ffff", "\ue000", "\u3000"]  # fmt: skip
LENGTHS = [255, 256, 257, 263, 264, 511, 512, 513, 1000, 1001, 1002, 1003, 1005, 1007, 4101]

_encoders: dict[str, tuple[Any, Any]] = {}


def _encoder(fam: Family) -> tuple[Any, Any]:
    if fam.name not in _encoders:
        _encoders[fam.name] = (make_splitter(fam.table), make_bpe(fam.table))
    return _encoders[fam.name]


@needs_native
@pytest.mark.parametrize("char", CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_runs_encode_and_count_as_the_engine(fam: Family, char: str) -> None:
    splitter, bpe = _encoder(fam)
    for n in LENGTHS:
        text = char * n
        expected = fam.reference(text)
        assert bpe.encode(text) == expected, n
        assert splitter.encode(text, bpe) == expected, n
        assert splitter.count(text, bpe) == len(expected), n


@needs_native
@settings(max_examples=60, deadline=None)
@given(char=st.characters(codec="utf-8"), n=st.integers(min_value=250, max_value=2100))
def test_any_run_encodes_as_the_engine(char: str, n: int) -> None:
    for name in core_helpers.FAMILIES:
        fam = core_helpers.family(name)
        splitter, bpe = _encoder(fam)
        expected = fam.reference(char * n)
        assert bpe.encode(char * n) == expected
        assert splitter.count(char * n, bpe) == len(expected)


@needs_native
def test_a_run_inside_text_and_runs_side_by_side(fam: Family) -> None:
    splitter, bpe = _encoder(fam)
    for text in ["b" + "a" * 3000 + "b", "a" * 700 + "b" * 700 + "a" * 700, "=" * 999 + "-" * 1001, "aa " * 400]:
        expected = fam.reference(text)
        assert splitter.encode(text, bpe) == expected
        assert splitter.count(text, bpe) == len(expected)


@needs_native
def test_a_megabyte_run_encodes_as_the_engine(fam: Family) -> None:
    splitter, bpe = _encoder(fam)
    text = "a" * 1_000_003
    expected = fam.reference(text)
    assert splitter.encode(text, bpe) == expected
    assert splitter.count(text, bpe) == len(expected)


COUNT_IN_A_CHILD = """
import resource, sys
from vertexmeter.tokenizing import get_tokenizer
tok = get_tokenizer(sys.argv[1]); tok.count("warm")
text = "a" * 20_000_000
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
n = tok.count(text)
print(n, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


@needs_native
@pytest.mark.parametrize("name", sorted(core_helpers.FAMILIES))
def test_counting_a_run_takes_no_memory_per_character(name: str) -> None:
    # the heap would hold ~32 bytes a character (640 MB here); the passes hold one symbol per level
    out = subprocess.run([sys.executable, "-c", COUNT_IN_A_CHILD, name], capture_output=True, text=True, check=True)
    tokens, grown = map(int, out.stdout.split())
    assert tokens == 2_500_000  # "a" * 8 is the longest run piece of all three vocabularies
    assert grown < 20_000_000


pb = pytest.importorskip("sentencepiece.sentencepiece_model_pb2")


@needs_native
def test_run_pieces_in_another_order_still_give_the_engines_ids() -> None:
    # "aaa" takes the id (and the score) of "aa": a merge into "aa" now makes an earlier candidate, so the
    # passes give up for runs of "a" and the heap encodes them
    model = pb.ModelProto()
    model.ParseFromString(packaged_bytes("gemma2"))
    ids = {p.piece: i for i, p in enumerate(model.pieces)}
    two, three = ids["aa"], ids["aaa"]
    model.pieces[two].piece, model.pieces[three].piece = "aaa", "aa"
    data = model.SerializeToString()
    sp = sentencepiece.SentencePieceProcessor()
    sp.LoadFromSerializedProto(data)
    tokenizer = core_tokenizer("gemma2", "sentencepiece", derive("sentencepiece", data), lambda: data)
    assert tokenizer._bpe.merges_by_ids  # type: ignore[attr-defined]
    for n in [256, 257, 258, 259, 1000, 1001, 4099]:
        text = "a" * n
        assert tokenizer.encode(text) == sp.EncodeAsIds(text), n
        assert tokenizer.count(text) == len(sp.EncodeAsIds(text)), n
