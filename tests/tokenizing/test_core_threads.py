"""The native core encodes with the GIL released: other Python threads (a server's event loop) run while a
long chunk is being encoded, and threads sharing one encoder and splitter get the same answers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.tokenizing.core_helpers import FAMILIES, family
from vertexmeter.tokenizing.core import make_bpe, make_splitter

_native = pytest.importorskip("vertexmeter.tokenizing.core._native")

# One chunk with no cut point, never cached, encoded whole by the heap: hundreds of ms. (A run of one character is
# counted by passes in about 10 ms, too short beside the interpreter's 5 ms switch interval to tell anything.)
RUN = "ab" * 750_000


def _largest_gap_inside(call: Any) -> tuple[float, float]:
    """(largest pause of a busy Python thread while `call` ran in another thread, how long `call` ran)."""
    span: list[float] = []
    started = threading.Event()

    def worker() -> None:
        started.set()
        span.append(time.perf_counter())
        call()
        span.append(time.perf_counter())

    samples: list[float] = []
    thread = threading.Thread(target=worker)
    thread.start()
    started.wait()
    while thread.is_alive():
        samples.append(time.perf_counter())
    thread.join()
    start, end = span
    inside = [start, *(t for t in samples if start < t < end), end]
    return max(b - a for a, b in zip(inside, inside[1:], strict=False)), end - start


@pytest.mark.parametrize("name", sorted(FAMILIES))
@pytest.mark.parametrize("entry", ["encode", "splitter_count", "splitter_encode"])
def test_other_threads_run_while_a_long_chunk_is_encoded(name: str, entry: str) -> None:
    table = family(name).table
    bpe, splitter = make_bpe(table), make_splitter(table)
    calls = {
        "encode": lambda: bpe.encode(RUN),
        "splitter_count": lambda: splitter.count(RUN, bpe),
        "splitter_encode": lambda: splitter.encode(RUN, bpe),
    }
    gap, took = _largest_gap_inside(calls[entry])
    assert took > 0.1, f"the encode took {took:.3f} s: too short to show the GIL released; take a longer RUN"
    # Holding the GIL, the busy thread would stand still for the whole encode (gap == took).
    assert gap < took / 2, (gap, took)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_threads_sharing_an_encoder_and_splitter_agree(name: str) -> None:
    table = family(name).table
    bpe, splitter = make_bpe(table), make_splitter(table)
    # spaces: the streaming heap on gemma4 (its window is per call), user-defined pieces on gemma2/3
    texts = ["b" * 3000, "hello world " * 400, "ab" * 2000, "日本語のテキスト" * 300, "x" * 257, " " * 200_001] * 4
    expected = [len(bpe.encode(text)) for text in texts]  # one thread
    with ThreadPoolExecutor(max_workers=4) as pool:
        counted = list(pool.map(lambda text: splitter.count(text, bpe), texts))
        encoded = list(pool.map(lambda text: len(bpe.encode(text)), texts))
    assert counted == expected
    assert encoded == expected
