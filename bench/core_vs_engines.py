"""Benchmark: the counting core against bare sentencepiece / tokenizers and google-genai's LocalTokenizer.

Run: python bench/core_vs_engines.py [--mb 2] [--rounds 7] [--small-chars 120]

One process, interleaved rounds: in every round each contender counts the same documents, in a
rotating order, so that a noisy neighbour slows all of them alike. Reported per family and request
size: the median speed ratio (core / anchor) and its spread (min..max over the rounds).

- core warm: the chunk cache already holds the corpus's chunks (a long-running server or batch job);
- core cold: the cache is emptied before each round, so every first sighting of a chunk is a miss;
- anchors: the engine on the whole text (sentencepiece for gemma2/3, tokenizers for gemma4) and,
  for gemma3, google-genai's LocalTokenizer.count_tokens (its cache seeded with the packaged file).
Counts are checked document by document against the engine before any timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from count_corpus import corpus, sdk_local_tokenizer  # noqa: E402

from vertexmeter.tokenizing import core, core_tokenizer  # noqa: E402
from vertexmeter.tokenizing.assets import ASSETS, load_verified  # noqa: E402


def small_requests(docs: list[str], chars: int) -> list[str]:
    """Sentence-sized requests: each document's first `chars` characters."""
    return [doc[:chars] for doc in docs]


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=2.0, help="corpus size in MB (UTF-8)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--small-chars", type=int, default=120, help="length of a small request")
    parser.add_argument("--families", default="gemma2,gemma3,gemma4")
    args = parser.parse_args()
    large = corpus(int(args.mb * 1_000_000))
    small = small_requests(large, args.small_chars)
    size = sum(len(d.encode("utf-8")) for d in large)
    print(f"core: {core.IMPLEMENTATION}; corpus: {len(large)} documents, {size / 1e6:.2f} MB; rounds: {args.rounds}")
    failures = 0
    for family in args.families.split(","):
        kind = ASSETS[family].engine
        data = load_verified(family)[0]
        table = core.derive(kind, data)
        tokenizer = core_tokenizer(family, kind, table, lambda data=data: data)
        if kind == "sentencepiece":
            import sentencepiece

            sp = sentencepiece.SentencePieceProcessor()
            sp.LoadFromSerializedProto(data)
            engine_name, engine = "sentencepiece", sp.EncodeAsIds
        else:
            import tokenizers

            tok = tokenizers.Tokenizer.from_str(data.decode("utf-8"))
            engine_name, engine = "tokenizers", lambda text, tok=tok: tok.encode(text, add_special_tokens=True).ids
        contenders: dict[str, Callable[[str], int]] = {
            "core": tokenizer.count,
            engine_name: lambda text, engine=engine: len(engine(text)),
        }
        if family == "gemma3":
            sdk = sdk_local_tokenizer()
            if sdk is not None:
                contenders["google-genai"] = sdk
        splitter = tokenizer._splitter  # type: ignore[attr-defined]
        for label, docs in (("large", large), ("small", small)):
            mismatches = sum(tokenizer.count(d) != len(engine(d)) for d in docs)
            failures += mismatches
            chars = sum(map(len, docs))
            times: dict[str, list[float]] = {
                "core cold": [],
                "core warm": [],
                **{k: [] for k in contenders if k != "core"},
            }
            order = list(times)
            for round_ in range(args.rounds):
                for name in order[round_ % len(order) :] + order[: round_ % len(order)]:
                    count = contenders["core" if name.startswith("core") else name]
                    if name == "core cold":
                        splitter.clear()
                    elif name == "core warm":
                        for d in docs:  # fill (a no-op after the first round)
                            count(d)
                    start = time.perf_counter()
                    for d in docs:
                        count(d)
                    times[name].append(time.perf_counter() - start)
            stats = splitter.stats()
            print(
                f"\n{family} {label} ({len(docs)} requests, {chars / len(docs):.0f} chars each): "
                f"mismatches vs {engine_name}: {mismatches}; cache {stats['entries']} chunks, "
                f"{stats['bytes'] / 2**20:.1f} MiB"
            )
            for name, seconds in times.items():
                print(f"  {name:14s} {size_of(docs) / 1e6 / statistics.median(seconds):8.2f} MB/s (median)")
            for anchor in (k for k in times if not k.startswith("core")):
                for mode in ("core warm", "core cold"):
                    ratios = [a / c for a, c in zip(times[anchor], times[mode], strict=True)]
                    print(
                        f"  {mode} / {anchor:13s} {statistics.median(ratios):6.2f}x  "
                        f"(spread {min(ratios):.2f}..{max(ratios):.2f})"
                    )
    print(f"\nprocess RSS after all families: {rss_mb():.0f} MB (includes the reference engines and the corpus)")
    return 1 if failures else 0


def size_of(docs: list[str]) -> int:
    return sum(len(d.encode("utf-8")) for d in docs)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
