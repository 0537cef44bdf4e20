"""The core's rules: derived tables, fallback when cutting is not exact, a bounded cache, stored tables."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys
from array import array
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sentencepiece

from tests.tokenizer_files import packaged_bytes
from tests.tokenizing import core_helpers
from tests.tokenizing.core_helpers import family
from vertexmeter import tokenizing
from vertexmeter.errors import VertexMeterError
from vertexmeter.tokenizing import (
    CoreBpeTokenizer,
    CoreSentencePieceTokenizer,
    HuggingFaceTokenizer,
    SentencePieceTokenizer,
    core_tokenizer,
    get_tokenizer,
)
from vertexmeter.tokenizing.core import derive, layout, load_table, make_bpe, tables

pytestmark = pytest.mark.slow  # builds core tables for many tokenizer variants

CORE_CLASSES = (CoreBpeTokenizer, CoreSentencePieceTokenizer)
pb = pytest.importorskip("sentencepiece.sentencepiece_model_pb2")


def modified_proto(family_name: str, change: Any) -> bytes:
    model = pb.ModelProto()
    model.ParseFromString(packaged_bytes(family_name))
    change(model)
    return model.SerializeToString()


def pair_set(table: tables.CoreTable) -> set[tuple[str, str]]:
    keys = array("Q")
    keys.frombytes(table.pairs)
    return {(chr(k >> 32), chr(k & 0xFFFFFFFF)) for k in keys}


def test_the_pair_table_is_derived_from_the_model_at_hand() -> None:
    original = family("gemma2").table
    assert ("ꙮ", "Ꙭ") not in pair_set(original)

    def add_piece(model: Any) -> None:
        piece = model.pieces.add()
        piece.piece, piece.score, piece.type = "ꙮꙬ", 0.0, pb.ModelProto.SentencePiece.USER_DEFINED

    data = modified_proto("gemma2", add_piece)
    table = derive("sentencepiece", data)
    assert table.chunkable and ("ꙮ", "Ꙭ") in pair_set(table)
    sp = sentencepiece.SentencePieceProcessor()
    sp.LoadFromSerializedProto(data)
    text = "x ꙮꙬ yꙮꙬꙮ"
    tokenizer = core_tokenizer("gemma2", "sentencepiece", table, lambda: data)
    assert isinstance(tokenizer, CORE_CLASSES)
    assert tokenizer.count(text) == len(sp.EncodeAsIds(text))
    assert tokenizer.encode(text) == sp.EncodeAsIds(text)
    # the table of the unmodified model would cut inside the new piece and count wrong
    stale = core_tokenizer("gemma2", "sentencepiece", original, lambda: data)
    assert stale.count(text) != len(sp.EncodeAsIds(text))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: setattr(m.normalizer_spec, "add_dummy_prefix", True), "dummy prefix"),
        (lambda m: setattr(m.normalizer_spec, "remove_extra_whitespaces", True), "extra whitespace"),
        (lambda m: setattr(m.normalizer_spec, "name", "nmt_nfkc"), "not identity"),
        (lambda m: setattr(m.trainer_spec, "model_type", pb.TrainerSpec.UNIGRAM), "not a BPE model"),
        (lambda m: setattr(m.pieces[20_000], "type", pb.ModelProto.SentencePiece.UNUSED), "unused pieces"),
    ],
)
def test_a_model_outside_the_conditions_falls_back_to_the_engine(change: Any, reason: str) -> None:
    data = modified_proto("gemma3", change)
    table = derive("sentencepiece", data)
    assert not table.chunkable and reason in table.reason
    tokenizer = core_tokenizer("gemma3", "sentencepiece", table, lambda: data)
    assert type(tokenizer) is SentencePieceTokenizer
    sp = sentencepiece.SentencePieceProcessor()
    sp.LoadFromSerializedProto(data)
    text = "  Hello   world\n\n\tfoo  "
    assert tokenizer.count(text) == len(sp.EncodeAsIds(text)) == len(tokenizer.encode(text))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda j: j.update(normalizer={"type": "NFKC"}), "normaliser"),
        (lambda j: j.update(pre_tokenizer={"type": "Whitespace"}), "pre-tokenizer"),
        (lambda j: j["model"].update(ignore_merges=True), "ignore_merges"),
        (lambda j: j["model"].update(byte_fallback=False), "byte fallback"),
        (lambda j: j["added_tokens"][0].update(lstrip=True), "matching options"),
    ],
)
def test_a_tokenizer_json_outside_the_conditions_falls_back(change: Any, reason: str, small_gemma4: dict) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    spec = copy.deepcopy(small_gemma4)
    change(spec)
    data = json.dumps(spec).encode("utf-8")
    table = derive("tokenizers", data)
    assert not table.chunkable and reason in table.reason
    tokenizer = core_tokenizer("gemma4", "tokenizers", table, lambda: data)
    assert type(tokenizer) is HuggingFaceTokenizer
    text = "Hello,  wörld\t<eos>!"
    assert tokenizer.encode(text) == tokenizers.Tokenizer.from_str(data.decode()).encode(text).ids


@pytest.fixture(scope="module")
def small_gemma4() -> dict:  # type: ignore[type-arg]
    """gemma4's tokenizer.json cut to its first 5,000 pieces (plus bytes and specials) and their merges."""
    spec = json.loads(packaged_bytes("gemma4"))
    model = spec["model"]
    keep = {piece: i for piece, i in model["vocab"].items() if i < 5000 or piece.startswith("<0x")}
    keep.update({added["content"]: added["id"] for added in spec["added_tokens"]})
    model["vocab"] = keep
    model["merges"] = [m for m in model["merges"] if m[0] in keep and m[1] in keep and m[0] + m[1] in keep]
    return spec  # type: ignore[no-any-return]


def test_a_different_tokenizer_json_gets_its_own_table_and_exact_ids(small_gemma4: dict) -> None:  # type: ignore[type-arg]
    tokenizers = pytest.importorskip("tokenizers")
    data = json.dumps(small_gemma4).encode("utf-8")
    table = derive("tokenizers", data)
    assert table.chunkable and table.pairs != family("gemma4").table.pairs
    tokenizer = core_tokenizer("small", "tokenizers", table, lambda: data)
    assert isinstance(tokenizer, CoreBpeTokenizer)
    reference = tokenizers.Tokenizer.from_str(data.decode())
    for text in ("Hello,  wörld\t<eos>!", "the quick brown fox jumps over the lazy dog  ", "漢字 😀 <|turn>x"):
        assert tokenizer.encode(text) == reference.encode(text).ids
        assert tokenizer.count(text) == len(reference.encode(text).ids)


def test_the_cache_stays_under_its_cap_and_keeps_no_long_chunks(impl: Any) -> None:
    fam = family("gemma3")
    cap = 256 * 1024
    splitter = impl.Splitter(fam.table.pairs, cap, 64)
    miss = lambda chunk: len(fam.sp.EncodeAsIds(chunk))  # noqa: E731
    words = [f"w{i}x{i * 7}" for i in range(20_000)]
    text = " ".join(words)
    assert splitter.count(text, miss) == len(fam.sp.EncodeAsIds(text))
    stats = splitter.stats()
    assert stats["resets"] > 0 and stats["bytes"] <= cap
    before = splitter.stats()["entries"]
    splitter.count(" " * 500, miss)  # one 500-character chunk: counted, not kept
    assert splitter.stats()["entries"] == before
    splitter.clear()
    assert splitter.stats() == {"hits": 0, "misses": 0, "resets": 0, "entries": 0, "bytes": 0, "sampling": False}


@pytest.mark.parametrize("cap", [0, 128 * 1024, 8 * 1024 * 1024])
def test_encode_remembers_chunk_ids_exactly_under_its_cap_and_across_threads(cap: int) -> None:
    """Splitter.encode's chunk -> ids cache: ids equal the engine's on a first and a cached encode, with
    resets (small cap), with nothing kept (cap 0), for chunks past max_chunk, from threads, after clear."""
    native = pytest.importorskip("vertexmeter.tokenizing.core._native")
    fam = family("gemma3")
    t = fam.table
    splitter = native.Splitter(t.pairs, cap, 64)
    bpe = native.SpBpe(t.vocab_offsets, t.vocab_blob, t.scores, t.types, t.byte_ids, t.unk_id)
    texts = [f"request {i}: " + " ".join(f"w{i * j}x{j}" for j in range(300)) for i in range(30)]
    texts += ["the the the  the", " " * 500 + "x" * 300, "漢字かな 😀 naïve", "", "a", "abc abcd abc"]
    expected = [fam.sp.EncodeAsIds(text) for text in texts]
    for _ in range(2):
        assert [splitter.encode(text, bpe) for text in texts] == expected
    stats = splitter.id_stats()
    assert stats["bytes"] <= cap
    assert (stats["hits"] > 0) is (cap > 0)
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda text: splitter.encode(text, bpe), texts * 2)) == expected * 2
    given = splitter.encode(texts[0], bpe)
    given.append(-1)  # each call's list is the caller's own
    assert splitter.encode(texts[0], bpe) == expected[0]
    splitter.clear()
    assert splitter.id_stats() == {"hits": 0, "misses": 0, "entries": 0, "bytes": 0}
    assert splitter.encode(texts[0], bpe) == expected[0]


def test_threads_share_a_tokenizer_and_its_bounded_cache(impl: Any) -> None:
    fam = family("gemma2")
    splitter = impl.Splitter(fam.table.pairs, 64 * 1024, 64)  # small: resets happen while threads count
    if hasattr(impl, "SpBpe"):
        t = fam.table
        miss: Any = impl.SpBpe(t.vocab_offsets, t.vocab_blob, t.scores, t.types, t.byte_ids, t.unk_id)
    else:
        miss = lambda chunk: len(fam.sp.EncodeAsIds(chunk))  # noqa: E731
    texts = [f"request {i}: " + " ".join(f"w{i * j}x" for j in range(200)) for i in range(40)]
    expected = [len(fam.sp.EncodeAsIds(text)) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            assert list(pool.map(lambda text: splitter.count(text, miss), texts)) == expected
    assert splitter.stats()["resets"] > 0


def test_a_stored_table_round_trips_and_a_damaged_one_is_rebuilt(tmp_path: Path) -> None:
    table = family("gemma2").table
    assert tables.parse(tables.dump(table)) == table
    builds: list[int] = []

    def build() -> tables.CoreTable:
        builds.append(1)
        return table

    assert load_table(tmp_path, "gemma2", table.source_sha256, build) == table
    assert load_table(tmp_path, "gemma2", table.source_sha256, build) == table
    assert len(builds) == 1
    (stored,) = tmp_path.glob("gemma2-*.vmcore")
    damaged = bytearray(stored.read_bytes())
    damaged[-1] ^= 1
    stored.write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match="hash"):
        tables.parse(bytes(damaged))
    assert load_table(tmp_path, "gemma2", table.source_sha256, build) == table
    assert len(builds) == 2


native_only = pytest.mark.skipif(core_helpers._native is None, reason="the native core is not built here")


@native_only
@pytest.mark.parametrize("name", ["gemma2", "gemma3", "gemma4"])
def test_a_native_encoder_loads_from_its_image_with_identical_ids(name: str) -> None:
    fam = family(name)
    built = make_bpe(fam.table)
    image = built.image()
    borrowed = type(built).from_image(image, *([fam.table.specials] if name == "gemma4" else []))
    text = "Counting <eos> tokens:\t42 😀 — naïve 漢字 <b>bold</b>  " + "".join(map(chr, range(32, 3000, 7)))
    assert borrowed.encode(text) == built.encode(text)
    assert borrowed.image() == image  # the image is the whole state: re-imaging a borrowed one gives it back
    with pytest.raises(ValueError, match="truncated"):
        type(built).from_image(image[: len(image) // 2], *([fam.table.specials] if name == "gemma4" else []))
    other = bytearray(image)
    other[0] ^= 1  # another magic: another kind or version of image
    with pytest.raises(ValueError, match="another kind"):
        type(built).from_image(bytes(other), *([fam.table.specials] if name == "gemma4" else []))


@native_only
def test_a_stored_table_gains_an_encoder_image_once_and_maps_it_afterwards(tmp_path: Path) -> None:
    table = dataclasses.replace(family("gemma2").table, encoder_image=b"")
    builds: list[int] = []

    def build() -> tables.CoreTable:
        builds.append(1)
        return dataclasses.replace(table)

    first = load_table(tmp_path, "gemma2", table.source_sha256, build)
    assert first.encoder_image  # added on first use under the native core, and stored
    (stored,) = tmp_path.glob("gemma2-*.vmcore")
    size = stored.stat().st_size
    second = load_table(tmp_path, "gemma2", table.source_sha256, build)
    assert len(builds) == 1 and stored.stat().st_size == size
    assert isinstance(second.encoder_image, memoryview)  # a view into the mapped file, not a copy
    assert make_bpe(second).encode("a mapped encoder 漢字") == make_bpe(table).encode("a mapped encoder 漢字")
    # an image of another version (here: damaged magic, hash made to match) is rebuilt, not trusted
    stale = dataclasses.replace(table, encoder_image=b"\0" * 64)
    stored.write_bytes(tables.dump(stale))
    third = load_table(tmp_path, "gemma2", table.source_sha256, build)
    assert len(builds) == 1 and bytes(third.encoder_image[:8]) != b"\0" * 8
    assert make_bpe(third).encode("rebuilt") == make_bpe(table).encode("rebuilt")


def test_storing_a_table_removes_older_formats_of_the_family_only(tmp_path: Path) -> None:
    table = family("gemma2").table
    old_v2 = tmp_path / f"gemma2-{table.source_sha256[:16]}.vmcore"  # format 2 had no version in its name
    other_family = tmp_path / "gemma3-0123456789abcdef.vmcore"
    other_source = tmp_path / f"gemma2-0123456789abcdef.v{layout.FORMAT}.vmcore"  # another model file: kept
    newer = tmp_path / f"gemma2-{table.source_sha256[:16]}.v{layout.FORMAT + 1}.vmcore"  # a newer install's: kept
    for path in (old_v2, other_family, other_source, newer):
        path.write_bytes(b"x")
    load_table(tmp_path, "gemma2", table.source_sha256, lambda: table)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        [other_family.name, other_source.name, newer.name, f"gemma2-{table.source_sha256[:16]}.v{layout.FORMAT}.vmcore"]
    )


def test_get_tokenizer_uses_the_core_and_agrees_with_the_engine(isolated_tokenizer_dirs: Path) -> None:
    text = "Counting <eos> tokens:\t42 😀 — naïve 漢字 <b>bold</b>  "
    for name in ("gemma2", "gemma3"):
        tokenizer = get_tokenizer(name)
        assert isinstance(tokenizer, CORE_CLASSES)
        assert tokenizer.encode(text) == family(name).reference(text)
        assert tokenizer.count(text) == len(family(name).reference(text))
        engine = SentencePieceTokenizer(name, packaged_bytes(name))  # today's token bytes are the oracle
        ids = engine.encode("a\n  b\t<0x41> 😀\U0010ffff")
        expected = [engine.token_bytes(i) for i in ids]
        assert [tokenizer.token_bytes(i) for i in ids] == expected
    gemma4 = get_tokenizer("gemma4")
    assert isinstance(gemma4, CoreBpeTokenizer)
    assert gemma4.encode(text) == family("gemma4").reference(text)
    assert [gemma4.token_bytes(i) for i in gemma4.encode("a\n b")] == [b"a", b"\n", b" b"]
    with pytest.raises(ValueError):
        gemma4.token_bytes(10**7)
    # the table is now in the user cache: a new process reads it instead of the 32 MB JSON
    stored = (isolated_tokenizer_dirs / "cache" / "tokenizers" / "core").iterdir()
    assert sorted(p.name.split("-")[0] for p in stored) == ["gemma2", "gemma3", "gemma4"]
    tokenizing.clear_cache()
    assert get_tokenizer("gemma4").encode(text) == family("gemma4").reference(text)


@pytest.mark.parametrize("name", ["gemma2", "gemma3", "gemma4"])
def test_a_lone_surrogate_is_a_google_shaped_error(name: str) -> None:
    tokenizer = get_tokenizer(name)
    with pytest.raises(VertexMeterError) as caught:
        tokenizer.count("ok \ud800 no")
    assert caught.value.status == "INVALID_ARGUMENT" and "surrogate" in caught.value.message


def test_the_engine_only_switch_bypasses_the_core(
    isolated_tokenizer_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERTEXMETER_ENGINE_ONLY", "1")
    assert type(get_tokenizer("gemma2")) is SentencePieceTokenizer


def test_the_pure_python_core_is_selected_by_environment() -> None:
    code = (
        "from vertexmeter.tokenizing import core, get_tokenizer;"
        "t = get_tokenizer('gemma4'); print(core.IMPLEMENTATION, t.count('hello  world <eos>'))"
    )
    env = {**os.environ, "VERTEXMETER_PURE_PYTHON": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["pure", str(len(family("gemma4").reference("hello  world <eos>")))]


def test_counting_imports_no_engine() -> None:
    code = (
        "import sys; from vertexmeter.tokenizing import core, get_tokenizer;"
        "[(get_tokenizer(f).count('hi there'), get_tokenizer(f).encode('hi')) for f in ('gemma2', 'gemma3', 'gemma4')];"
        "print(core.IMPLEMENTATION, sorted(m for m in ('sentencepiece', 'tokenizers') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("VERTEXMETER_PURE_PYTHON", "VERTEXMETER_ENGINE_ONLY")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    implementation, engines = out.stdout.split(" ", 1)
    # the native core needs no engine at all; the pure one keeps sentencepiece for SentencePiece models
    assert engines.strip() == ("[]" if implementation == "native" else "['sentencepiece']")


def test_the_native_core_is_built_when_required() -> None:
    from vertexmeter.tokenizing import core

    if os.environ.get("VERTEXMETER_REQUIRE_NATIVE", "") in ("", "0"):
        pytest.skip("VERTEXMETER_REQUIRE_NATIVE is not set (CI sets it)")
    assert core.IMPLEMENTATION == "native"
