"""The miss path of the counting core: lone characters, characters that join nothing, the cache's sampling
when hits are rare, and a family loaded straight from its stored table (tokenizing/__init__.py)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.tokenizer_files import packaged_bytes
from tests.tokenizing import core_helpers
from tests.tokenizing.core_helpers import Family, family
from tests.tokenizing.test_core_differential import check
from vertexmeter import paths, tokenizing
from vertexmeter.tokenizing import CoreBpeTokenizer, get_tokenizer, table_path
from vertexmeter.tokenizing.core import make_bpe, make_splitter
from vertexmeter.tokenizing.engines import SentencePieceTokenizer

# every plane that has assigned characters, surrogates left out (no str of valid text holds one)
_RANGES = [(0x20, 0x7E), (0xA0, 0x2FFF), (0x3000, 0x9FFF), (0xAC00, 0xD7A3), (0xE000, 0xFFFD), (0x10000, 0x1FAFF),
           (0x20000, 0x2A6DF), (0x30000, 0x3134F), (0xE0000, 0xE01EF), (0xF0000, 0x10FFFF)]  # fmt: skip


def random_unicode(size: int, seed: int, space_every: int = 8) -> str:
    rng = random.Random(seed)
    out = []
    for _ in range(size):
        lo, hi = _RANGES[rng.randrange(len(_RANGES))]
        out.append(" " if rng.randrange(space_every) == 0 else chr(rng.randint(lo, hi)))
    return "".join(out)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_characters_from_every_plane_count_and_encode_as_the_engine(fam: Family, impl: Any, seed: int) -> None:
    text = random_unicode(5000, seed)
    check(fam, impl, text)
    check(fam, impl, text[::-1])  # the lone characters now come from the memo; the rest in another order


def test_lone_characters_count_as_the_engine_first_and_from_the_memo(fam: Family, impl: Any) -> None:
    # one character a chunk, each twice: once counted by the encoder, once from its memo
    chars = [" ", "a", "\u2581", "\x00", "\x7f", "é", "漢", "😀", "\U0010ffff", "\ue000", "\u0301", "<", "\n"]
    for char in chars * 2:
        check(fam, impl, char)
        check(fam, impl, f"{char}\U0001f9ff{char}")


def test_the_cache_samples_when_hits_are_rare_and_counts_stay_exact(impl: Any) -> None:
    fam = family("gemma2")
    splitter = impl.Splitter(fam.table.pairs, 16 * 1024 * 1024, 64)
    miss = lambda chunk: len(fam.sp.EncodeAsIds(chunk))  # noqa: E731
    rng = random.Random(5)
    unique = " ".join("".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=9)) for _ in range(12_000))  # all new
    assert splitter.count(unique, miss) == len(fam.sp.EncodeAsIds(unique))
    native = impl.__name__.endswith("_native")
    assert splitter.stats()["sampling"] is native  # the pure core keeps every chunk
    entries = splitter.stats()["entries"]
    assert not native or entries < splitter.stats()["misses"]  # sampled: not every miss was kept
    repeated = "the same words again and again, " * 400
    for _ in range(30):  # hits come back among the sampled chunks: every chunk is served again
        assert splitter.count(repeated, miss) == len(fam.sp.EncodeAsIds(repeated))
    assert splitter.stats()["sampling"] is False
    assert splitter.count(unique, miss) == len(fam.sp.EncodeAsIds(unique))


@pytest.mark.skipif(core_helpers._native is None, reason="the native core's miss path")
def test_misses_counted_side_by_side_count_as_the_engine(fam: Family) -> None:
    # every chunk new to a fresh splitter: short misses are encoded in turns, a block at a time; among them
    # words that hold user-defined pieces (whitespace runs) or special tokens, byte-fallback characters,
    # chunks of more than 32 symbols, and the same new chunk twice in one block
    rng = random.Random(fam.name)
    alphabet = "abcdefghijklmnopqrstuvwxyz가나다라마바사中文日本語説明書<>/_-.\t\n😀\U0010ffff\ue000"
    words = ["".join(rng.choices(alphabet, k=rng.randint(2, 40))) for _ in range(3000)]
    words += ["<start_of_turn>user", "<|turn>x", "a  b", "x\n\n\ny", "tabs\t\t\there", "<eos><eos>", "zz zz zz"]
    text = " ".join(words + words[:50])
    bpe = make_bpe(fam.table)
    assert make_splitter(fam.table).count(text, bpe) == len(fam.reference(text))
    for word in words[:300]:
        assert make_splitter(fam.table).count(word, bpe) == len(fam.reference(word)), word


@pytest.mark.skipif(core_helpers._native is None, reason="the native core's miss path")
@pytest.mark.parametrize("seed", [1, 2])
def test_misses_holding_user_defined_pieces_count_side_by_side_as_the_engine(fam: Family, seed: int) -> None:
    # code's misses: indentation (runs of spaces and tabs after a newline, some longer than the longest
    # whitespace piece), HTML-like tags and brackets, each next to new identifiers, many to a block, so
    # that SentencePiece's user-defined pieces are matched inside misses encoded in turns
    rng = random.Random(seed)
    names = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz_", k=rng.randint(1, 12))) for _ in range(2000)]
    lines = []
    for name in names:
        indent = rng.choice([" ", "\t", "  "]) * rng.choice([1, 2, 4, 8, 12, 16, 31, 32, 40])
        lead = rng.choice(["\n", "\n\n", "\n\n\n", "", "<b>", "</p>", "<start_of_turn>", "[", "\r\n"])
        lines.append(lead + indent + name + rng.choice(["(", " =", ":", "", "<", "\t#"]))
    text = "".join(lines)
    bpe = make_bpe(fam.table)
    assert make_splitter(fam.table).count(text, bpe) == len(fam.reference(text))
    assert make_splitter(fam.table).count(text[::-1], bpe) == len(fam.reference(text[::-1]))
    splitter = make_splitter(fam.table)
    for line in lines[:400]:
        assert splitter.count(line, bpe) == len(fam.reference(line)), line


@pytest.mark.skipif(core_helpers._native is None, reason="the native core's scans")
@pytest.mark.parametrize("wide", ["\u6f22", "\U0001f600"])  # a 2-byte str, a 4-byte str
def test_a_lone_surrogate_anywhere_in_a_wide_str_is_refused(fam: Family, wide: str) -> None:
    # the 2-byte scan checks eight characters a step before it counts: a surrogate in the first or last
    # lane of a step, and in the tail that no step covers, is found as the 4-byte scan finds it
    splitter, bpe = make_splitter(fam.table), make_bpe(fam.table)
    text = ("\u6f22\u5b57\u304b\u306a \uac00\ub098 " + wide) * 5
    for at in [0, 1, 7, 8, 9, 15, 16, 31, 32, len(text) - 1, len(text)]:
        with pytest.raises(UnicodeEncodeError):
            splitter.count(text[:at] + "\udc80" + text[at:], bpe)
    assert splitter.count(text, bpe) == len(fam.reference(text))


@pytest.mark.parametrize("name", ["gemma2", "gemma3", "gemma4"])
def test_a_family_maps_its_stored_table_with_the_same_ids_and_bytes(isolated_tokenizer_dirs: Path, name: str) -> None:
    built = get_tokenizer(name)  # the first start: derives and stores the table
    assert table_path(name).is_file()
    tokenizing.clear_cache()
    mapped = get_tokenizer(name)
    assert isinstance(mapped, CoreBpeTokenizer) and mapped is not built
    assert mapped._core is None  # type: ignore[attr-defined]  # mapped: the vocabulary is not loaded yet
    text = "Counting <eos> tokens:\t42 😀 — naïve 漢字 <b>bold</b>  \U0010ffff" + random_unicode(300, 9)
    reference = family(name).reference(text)
    assert mapped.encode(text) == built.encode(text) == reference
    assert mapped.count(text) == len(reference)
    ids = reference[:40]
    assert [mapped.token_bytes(i) for i in ids] == [built.token_bytes(i) for i in ids]
    if name != "gemma4":
        engine = SentencePieceTokenizer(name, packaged_bytes(name))
        assert [mapped.token_bytes(i) for i in ids] == [engine.token_bytes(i) for i in ids]


def test_an_unusual_start_takes_the_full_load(isolated_tokenizer_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    get_tokenizer("gemma2")  # stores the table
    assert tokenizing._load_mapped("gemma2") is not None
    assert tokenizing._load_mapped("gemma9") is None  # unknown: the full load says so
    for env in ("VERTEXMETER_TOKENIZER_DIR", "VERTEXMETER_ENGINE_ONLY", "VERTEXMETER_PURE_PYTHON"):
        with monkeypatch.context() as patch:
            patch.setenv(env, str(isolated_tokenizer_dirs / "override") if env.endswith("DIR") else "1")
            assert tokenizing._load_mapped("gemma2") is None
    with monkeypatch.context() as patch:  # no model file installed: the full load reports it
        patch.setattr(paths, "PACKAGE_DIR", str(isolated_tokenizer_dirs / "nowhere"))
        assert tokenizing._load_mapped("gemma2") is None
    stored = table_path("gemma2")
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))  # damaged: not mapped; the full load rebuilds it
    assert tokenizing._load_mapped("gemma2") is None
    tokenizing.clear_cache()
    text = "rebuilt 漢字"
    assert get_tokenizer("gemma2").count(text) == len(family("gemma2").reference(text))
    assert tokenizing._load_mapped("gemma2") is not None


def test_a_start_from_a_stored_table_imports_no_pathlib_dataclasses_or_json(isolated_tokenizer_dirs: Path) -> None:
    for name in ("gemma2", "gemma3", "gemma4"):
        get_tokenizer(name)  # store the tables in the isolated cache
    code = (
        "import sys; before = set(sys.modules); from vertexmeter.tokenizing import get_tokenizer;"
        "counts = [get_tokenizer(f).count('hi there 漢字') for f in ('gemma2', 'gemma3', 'gemma4')];"
        "heavy = ('pathlib', 'dataclasses', 'json', 'typing', 're', 'urllib', 'yaml', 'sentencepiece');"
        "print(counts, sorted(m for m in heavy if m in sys.modules and m not in before))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("VERTEXMETER_PURE_PYTHON", "VERTEXMETER_ENGINE_ONLY")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    expected = [len(family(name).reference("hi there 漢字")) for name in ("gemma2", "gemma3", "gemma4")]
    from vertexmeter.tokenizing import core

    assert out.strip() == f"{expected} []" if core.IMPLEMENTATION == "native" else out.startswith(str(expected))
