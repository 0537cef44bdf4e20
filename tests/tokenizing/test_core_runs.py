"""Long runs of one character (chunks with no cut point): the native core's run passes against the engines.

A run of 256 characters or more is encoded by per-level passes when they take the heap's merges
(docs/tokenizing.md), else by the streaming heap (the heap's algorithm in a window of fixed size), else,
when that window fills, by the heap; every way the ids are the engine's. Lengths around the run threshold
and the periods of the run pieces, characters whose merges cascade (the passes give up: spaces on
gemma4), runs longer than the streaming heap's window, characters that user-defined pieces or special
tokens match, that fall back to bytes, and models whose run pieces were reordered so that the passes
must give up, and so that the window fills.
"""

from __future__ import annotations

import json
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


def _as_engine(fam: Family, text: str, *, bpe_too: bool = False) -> None:
    """The splitter's ids and count for `text` (and the bare encoder's, `bpe_too`) are the engine's."""
    splitter, bpe = _encoder(fam)
    expected = fam.reference(text)
    if bpe_too:
        assert bpe.encode(text) == expected, len(text)
    assert splitter.encode(text, bpe) == expected, len(text)
    assert splitter.count(text, bpe) == len(expected), len(text)


@needs_native
@pytest.mark.parametrize("char", CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_runs_encode_and_count_as_the_engine(fam: Family, char: str) -> None:
    for n in LENGTHS:
        _as_engine(fam, char * n, bpe_too=True)


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
    for text in ["b" + "a" * 3000 + "b", "a" * 700 + "b" * 700 + "a" * 700, "=" * 999 + "-" * 1001, "aa " * 400]:
        _as_engine(fam, text)


@needs_native
def test_a_megabyte_run_encodes_as_the_engine(fam: Family) -> None:
    _as_engine(fam, "a" * 1_000_003)


@needs_native
def test_runs_of_spaces_longer_than_the_stream_window_encode_as_the_engine(fam: Family) -> None:
    # on gemma4 each block of 31 spaces is a cascade of merges (the streaming heap); its window of 4,096
    # symbols is emptied and reused several times over 300k spaces
    for text in [" " * 131_071, " " * 300_007, "x" + " " * 200_001 + "x", " " * 150_000 + "\n" + " " * 150_001]:
        _as_engine(fam, text, bpe_too=True)


COUNT_IN_A_CHILD = """
import resource, sys
from vertexmeter.tokenizing import get_tokenizer
tok = get_tokenizer(sys.argv[1]); tok.count("warm")
text = sys.argv[2] * 20_000_000
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
n = tok.count(text)
print(n, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


@needs_native
@pytest.mark.parametrize("name", sorted(core_helpers.FAMILIES))
@pytest.mark.parametrize(("char", "tokens"), [("a", 2_500_000), (" ", 645_162)], ids=["a", "space"])
def test_counting_a_run_takes_no_memory_per_character(name: str, char: str, tokens: int) -> None:
    # the heap would hold ~28-32 bytes a character (640 MB here); the passes hold one symbol per level, the
    # streaming heap a window (gemma4's spaces); gemma2/3 match 31 spaces at a time as user-defined pieces
    # ("a" * 8 is the longest run piece of all three vocabularies, 31 spaces the longest of spaces)
    out = subprocess.run(
        [sys.executable, "-c", COUNT_IN_A_CHILD, name, char], capture_output=True, text=True, check=True
    )
    counted, grown = map(int, out.stdout.split())
    assert counted == tokens
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


def _x_runs_reordered() -> bytes:
    # gemma4 with the merges among runs of "x" replaced: ("xx", "x") outranks ("x", "x"), so every pair
    # of the tail makes a cascade (the passes give up); ("xxx", "x") and ("xxxx", "xxxx") come after it,
    # so the window's candidates wait, and two "xxx" never seal (6 < 8): a short run is streamed to its
    # end, a long one fills the window and takes the heap
    spec = json.loads(packaged_bytes("gemma4"))
    model = spec["model"]
    runs = [m for m in model["merges"] if set(m[0] + m[1]) == {"x"}]
    merges = [m for m in model["merges"] if m not in runs]
    for at, merge in [(0, ["xx", "x"]), (1, ["x", "x"]), (2, ["xxx", "x"]), (3, ["xxxx", "xxxx"])]:
        merges.insert(at, merge)
    model["merges"] = merges
    return json.dumps(spec).encode("utf-8")


@needs_native
def test_a_cascade_with_waiting_merges_streams_or_takes_the_heap() -> None:
    tokenizers = pytest.importorskip("tokenizers")
    data = _x_runs_reordered()
    reference = tokenizers.Tokenizer.from_str(data.decode("utf-8"))
    tokenizer = core_tokenizer("reordered", "tokenizers", derive("tokenizers", data), lambda: data)
    for n in [256, 257, 258, 1000, 1001, 12_287, 12_288, 12_289, 12_290, 40_001]:
        text = "x" * n
        expected = reference.encode(text).ids
        assert expected[-1] != expected[0] or n % 3 == 0  # the end's "xxx" + "x" merged: the waiting merge ran
        assert tokenizer.encode(text) == expected, n
        assert tokenizer.count(text) == len(expected), n
