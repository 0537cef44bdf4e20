"""The counting core against the reference engines, id for id, on all three families and both cores.

sentencepiece (gemma2, gemma3) and tokenizers (gemma4) are the oracles; the core's count must equal
len(reference ids) and, for gemma4 where the core encodes, its ids must equal the reference ids.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tokenizing.core_helpers import Family
from vertexmeter.tokenizing.core import MAX_CACHED_CHUNK

pytestmark = pytest.mark.slow  # megabyte inputs on every core and engine

_made: dict[tuple[str, str], tuple[Any, Any]] = {}


def core(fam: Family, impl: Any) -> tuple[Any, Any]:
    """(splitter, miss) for a family: misses go to sentencepiece, or to the core's own BPE for gemma4."""
    key = (fam.name, impl.__name__)
    if key not in _made:
        splitter = impl.Splitter(fam.table.pairs, 8 * 1024 * 1024, MAX_CACHED_CHUNK)
        t = fam.table
        if fam.kind == "sentencepiece" and hasattr(impl, "SpBpe"):
            _made[key] = (splitter, impl.SpBpe(t.vocab_offsets, t.vocab_blob, t.scores, t.types, t.byte_ids, t.unk_id))
        elif fam.kind == "sentencepiece":  # the pure core counts misses with sentencepiece
            encode = fam.sp.EncodeAsIds
            _made[key] = (splitter, lambda chunk: len(encode(chunk)))
        else:
            t = fam.table
            _made[key] = (splitter, impl.Bpe(t.chars, t.merges, t.byte_ids, t.unk_id, t.specials))
    return _made[key]


def check(fam: Family, impl: Any, text: str) -> None:
    splitter, miss = core(fam, impl)
    expected = fam.reference(text)
    assert splitter.count(text, miss) == len(expected)
    assert splitter.count(text, miss) == len(expected)  # again, now from the cache
    if hasattr(miss, "encode"):  # the core's own BPE: ids, chunk by chunk and uncut
        assert splitter.encode(text, miss) == expected
        assert splitter.encode(text, miss) == expected  # again, now from the ids cache
        assert miss.encode(text) == expected


FRAGMENTS = [
    " ",
    "  ",
    "    ",
    "\t",
    "\t\t",
    "\n",
    "\n\n",
    "\r\n",
    "\u3000",
    "\u00a0",
    "\u2581",
    "\u2581\u2581",
    "the",
    " the",
    "Hello",
    "world",
    "don't",
    "naïve",
    "straße",
    "Ünïcödé",
    "0",
    "7",
    "12",
    "2024",
    "3.14159",
    "1,000,000",
    "0x1F",
    "😀",
    "👍🏽",
    "👨‍👩‍👧",
    "🇩🇪",
    "\u200d",
    "\ufe0f",
    "漢字",
    "日本語のテキスト",
    "한국어",
    "中文",
    "Русский",
    "العربية",
    "עברית",
    "हिन्दी",
    "ไทย",
    "Ελληνικά",
    "<div>",
    "</div>",
    "<b>",
    '<p class="x">',
    "&nbsp;",
    "<br/>",
    "<table><tr><td>",
    "<start_of_turn>",
    "<end_of_turn>",
    "<eos>",
    "<bos>",
    "<pad>",
    "<mask>",
    "<unused7>",
    "<|turn>",
    "<turn|>",
    "<|image|>",
    "<0x41>",
    "[@BOS@]",
    "[multimodal]",
    "\x00",
    "\x01",
    "\x7f",
    "\ue000",
    "\U0010ffff",
    "\U0001f9ff",
    "\u0301",
    "e\u0301",
    "\ufffd",
    "𝔘𝔫𝔦",
    "\n" * 33,
    "\t" * 35,
    " " * 33,
    "\u2581" * 32,
    " \t\n",
    "<unused12",
    "<unused99999>",
    "<start_of_turn",
    "<end_of_turn>\n",
    "<|tool_call>",
    '<|"|>',
    "[@BOS@",
    "<2mass>",
    "def f(x):\n    return x",
    '{"a": [1, 2]}',
    "a=b&c=d",
    "http://example.com/path?q=1",
]
texts = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join),
    st.text(max_size=80),
    st.text(alphabet=st.sampled_from(" \t\n\u2581a0<>/|_-."), max_size=120),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=30).map("".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts)
def test_core_matches_the_engine(fam: Family, impl: Any, text: str) -> None:
    check(fam, impl, text)


# CJK and mixed scripts: syllables and ideographs that join into pieces, with the spaces, punctuation
# and newlines of real text between them, and a sprinkle of characters from the other planes
CJK = st.one_of(
    st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),  # Hangul syllables
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK ideographs
    st.characters(min_codepoint=0x3040, max_codepoint=0x30FF),  # kana
    st.sampled_from(list(" 、。，！？「」（）\n\t\u3000") + ["한국어", "日本語", "中文", "です", "입니다"]),
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),  # CJK extension B (4-byte strs)
    st.sampled_from(["a", "the", " x", "1", "😀", "▁", "<b>"]),
)
cjk_texts = st.lists(CJK, max_size=120).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=cjk_texts)
def test_cjk_and_mixed_scripts_match_the_engine(fam: Family, impl: Any, text: str) -> None:
    check(fam, impl, text)


def test_the_splitter_cuts_no_pair_of_the_table(fam: Family, impl: Any) -> None:
    # every character pair inside some piece must stay joined (a fingerprint set may join more, never
    # less): each pair as a text of its own is one chunk, in 1-, 2- and 4-byte strs alike
    splitter, _ = core(fam, impl)
    pairs = memoryview(fam.table.pairs).cast("Q")
    step = 1 if impl.__name__.endswith("_native") else 7  # the pure core gets a sample
    checked = 0
    for key in pairs[::step]:
        a, b = key >> 32, key & 0xFFFFFFFF
        if max(a, b) > 0x10FFFF or any(0xD800 <= c <= 0xDFFF for c in (a, b)):
            continue  # no str holds it
        assert splitter.bounds(chr(a) + chr(b)) == [2], (hex(a), hex(b))
        checked += 1
    assert checked > 1000


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        " " * 1000,
        "\t" * 300 + "x",
        "\n" * 500,
        " \t \n" * 200,
        "9" * 2000,
        "a" * 3000,
        "😀" * 500,
        "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n",
        "<|turn>user\nhi<turn|>",
        "<<<eos>>><eos<eos>",
        "\U0010ffff\ue000\x00",
        "▁" * 50 + " " * 50,
    ],
)
def test_core_matches_the_engine_on_edge_cases(fam: Family, impl: Any, text: str) -> None:
    check(fam, impl, text)


def mixed_line(size: int, seed: int) -> str:
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        part = rng.choice(FRAGMENTS) + rng.choice(["", " ", "", "  "])
        parts.append(part)
        total += len(part)
    return "".join(parts).replace("\n", " ")


def test_a_one_megabyte_line(fam: Family, impl: Any) -> None:
    # the pure BPE is the slow one; 1 MB of it would take the test budget, so it gets 100 kB
    size = 100_000 if impl.__name__.endswith("pure") else 1_000_000
    check(fam, impl, mixed_line(size, seed=zlib.crc32(fam.name.encode())))


def test_a_one_megabyte_chunk_without_boundaries(fam: Family, impl: Any) -> None:
    size = 50_000 if impl.__name__.endswith("pure") else 1_000_000
    check(fam, impl, " " * size)
