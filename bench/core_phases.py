"""Benchmark: where the core's time on unseen text goes, misses against hits, per script.

Run: python bench/core_phases.py [--family gemma3] [--script cjk]            (timed rounds)
     valgrind --tool=callgrind --toggle-collect=Splitter_count \\
         python bench/core_phases.py --family gemma3 --script cjk --pass cold   (instruction counts)

Timed rounds, like core_vs_engines.py's: the tables and the chunk cache are first filled by another 420
documents of the script, then each of 7 rounds runs the engine on 60 unseen documents, the core on them
(cold: their new chunks are misses), the engine again, and the core on the same 60 (warm: every chunk
a hit, but the engine has run in between, as in the bench). Cold - warm is what the misses cost.
CPU time, medians.

--pass setup|cold|warm: one pass for an instruction counter: fill the tables and the cache (setup), then
count the 420 unseen documents once (cold), or twice (warm). cold - setup is the unseen pass, warm -
cold the same documents again with every chunk a hit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from core_vs_engines import documents, engine_of  # noqa: E402

from vertexmeter.tokenizing import get_tokenizer  # noqa: E402
from vertexmeter.tokenizing.assets import load_verified  # noqa: E402

DOCS = 420
ROUND = 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="gemma3")
    parser.add_argument("--script", default="cjk", choices=["english", "cjk", "code", "random"])
    parser.add_argument("--pass", dest="which", choices=["setup", "cold", "warm"])
    args = parser.parse_args()
    docs = documents(args.script, 2 * DOCS)
    fill, unseen = docs[DOCS:], docs[:DOCS]
    tokenizer = get_tokenizer(args.family)
    for doc in fill:
        tokenizer.count(doc)
    if args.which:
        for _ in range({"setup": 0, "cold": 1, "warm": 2}[args.which]):
            for doc in unseen:
                tokenizer.count(doc)
        return 0
    name, engine = engine_of(args.family, load_verified(args.family)[0])
    times: dict[str, list[float]] = {"engine": [], "cold": [], "warm": []}
    for round_ in range(DOCS // ROUND):
        batch = unseen[round_ * ROUND : (round_ + 1) * ROUND]
        for label in ("engine", "cold", "engine", "warm"):
            count = engine if label == "engine" else tokenizer.count
            start = time.process_time()
            for doc in batch:
                count(doc)
            times[label].append(time.process_time() - start)
    engine_ms, cold_ms, warm_ms = (statistics.median(times[k]) * 1e3 for k in ("engine", "cold", "warm"))
    print(
        f"{args.family} {args.script}: {name} {engine_ms:.2f} ms a round; core cold {cold_ms:.2f} ms "
        f"({engine_ms / cold_ms:.1f}x), warm {warm_ms:.2f} ms ({engine_ms / warm_ms:.1f}x); "
        f"misses {100 * (cold_ms - warm_ms) / cold_ms:.0f} % of the cold time"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
