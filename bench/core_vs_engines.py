"""Benchmark: counting text nobody has counted yet, per script, against bare sentencepiece / tokenizers.

Run: python bench/core_vs_engines.py [--rounds 5] [--docs 60] [--families gemma2,gemma3,gemma4]
     python bench/core_vs_engines.py --no-cut [--mb 10] [--char a]

The headline is **unseen** text: every round takes a fresh slice of documents (~2,000 characters each)
that the process has never counted, per script: English (Python's reference docs, licences), CJK
(Korean, Japanese and Chinese message catalogues of the machine, the Korean seed pages in ../shared
when present), code (the standard library) and random Unicode (seeded code points from every plane
that has assigned characters, a space every ~8). The chunk cache keeps what earlier rounds saw, as a
long-running process would; nothing is cleared or pre-filled.

Contenders, interleaved in a rotating order within each round (so a noisy neighbour slows them alike):
- count_tokens: `vertexmeter.count_tokens(model, {"contents": [...]})` end to end (request parsing,
  the model's rules, the REST answer), on the round's unseen slice;
- core: the family's core tokenizer's `count` alone (its own chunk cache), on the same unseen slice;
- engine: bare sentencepiece `EncodeAsIds` (gemma2/3) or `tokenizers` `encode` (gemma4) on the whole text.
After them, beside the headline: warm = count_tokens re-counting the slice it has just counted.
Ratios are engine time / contender time per round, in the process's CPU time (a shared machine's other
jobs then cost the waits, not the figures): median and spread (min..max). Counts are checked document
by document against the engine.

--no-cut: one run of a single repeated character (--char, "a" by default) with no cut point (1, 2.5, 5
and --mb MB of UTF-8), each counted in a fresh process: seconds, MB/s and peak RSS growth over the
process before counting.
"""

from __future__ import annotations

import argparse
import gettext
import glob
import os
import random
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import vertexmeter
from vertexmeter.tokenizing import core, core_tokenizer, get_tokenizer
from vertexmeter.tokenizing.assets import ASSETS, load_verified

DOC_CHARS = 2000
MODELS = {"gemma2": "gemini-1.5-pro", "gemma3": "gemini-2.5-flash", "gemma4": "gemini-3.5-flash"}
SCRIPTS = ("english", "cjk", "code", "random")


def _english() -> Iterator[str]:
    from pydoc_data.topics import topics

    yield from topics.values()
    stdlib = sysconfig.get_paths()["stdlib"]
    for path in sorted(glob.glob(os.path.join(stdlib, "idlelib", "*.txt")) + glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(path):
            yield Path(path).read_text("utf-8", errors="replace")


def _cjk() -> Iterator[str]:
    seeds = Path(__file__).resolve().parents[2] / "shared" / "spec" / "seeds"
    if seeds.is_dir():
        for path in sorted(seeds.glob("*.txt")):
            yield path.read_text("utf-8")
    for lang in ("ko", "ja", "zh_CN", "zh_TW"):
        for path in sorted(glob.glob(f"/usr/share/locale/{lang}/LC_MESSAGES/*.mo")):
            try:
                with open(path, "rb") as handle:
                    catalogue = gettext.GNUTranslations(handle)
            except (OSError, ValueError, LookupError):
                continue
            yield "\n".join(v for v in catalogue._catalog.values() if isinstance(v, str))  # type: ignore[attr-defined]


def _code() -> Iterator[str]:
    for path in sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "*.py"))):
        yield Path(path).read_text("utf-8", errors="replace")


def _random(total: int) -> Iterator[str]:
    rng = random.Random(21)
    # assigned, non-surrogate, non-private ranges: BMP scripts, CJK extensions, emoji, supplementary symbols
    ranges = [(0x20, 0x7E), (0xA0, 0x2FFF), (0x3000, 0x9FFF), (0xAC00, 0xD7A3), (0xF900, 0xFFFD),
              (0x10000, 0x1FAFF), (0x20000, 0x2A6DF)]  # fmt: skip
    chars = []
    for _ in range(total):
        lo, hi = ranges[rng.randrange(len(ranges))]
        chars.append(" " if rng.random() < 0.12 else chr(rng.randint(lo, hi)))
    yield "".join(chars)


def documents(script: str, count: int) -> list[str]:
    """`count` distinct documents of ~DOC_CHARS characters of one script, in a fixed shuffled order."""
    if script == "random":
        blob = next(_random(count * DOC_CHARS))
    else:
        blob = "\n".join({"english": _english, "cjk": _cjk, "code": _code}[script]())
    docs = [blob[i : i + DOC_CHARS] for i in range(0, len(blob) - DOC_CHARS + 1, DOC_CHARS)]
    docs = [d for d in dict.fromkeys(docs) if d.strip()]
    random.Random(7).shuffle(docs)
    if len(docs) < count:
        raise SystemExit(f"only {len(docs)} {script} documents on this machine (asked for {count})")
    return docs[:count]


def engine_of(family: str, data: bytes) -> tuple[str, Callable[[str], int]]:
    if ASSETS[family].engine == "sentencepiece":
        import sentencepiece

        sp = sentencepiece.SentencePieceProcessor()
        sp.LoadFromSerializedProto(data)
        return "sentencepiece", lambda text: len(sp.EncodeAsIds(text))
    import tokenizers

    tok = tokenizers.Tokenizer.from_str(data.decode("utf-8"))
    return "tokenizers", lambda text: len(tok.encode(text, add_special_tokens=True).ids)


def run(args: argparse.Namespace) -> int:
    print(f"core: {core.IMPLEMENTATION}; {args.rounds} rounds of {args.docs} unseen documents per script")
    failures = 0
    for family in args.families.split(","):
        model = MODELS[family]
        data = load_verified(family)[0]
        engine_name, engine = engine_of(family, data)
        own = get_tokenizer(family)  # count_tokens' tokenizer; `core` gets another with its own cache
        table = core.derive(ASSETS[family].engine, data)
        alone = core_tokenizer(family, ASSETS[family].engine, table, lambda data=data: data)
        vertexmeter.count_tokens(model, "hi")  # load the request path outside the timing

        def through(doc: str, model: str = model) -> int:
            body = {"contents": [{"role": "user", "parts": [{"text": doc}]}]}
            return int(vertexmeter.count_tokens(model, body)["totalTokens"])

        contenders: dict[str, Callable[[str], int]] = {
            "count_tokens": through,
            "core": alone.count,
            engine_name: engine,
        }
        print(f"\n{family} ({model}); anchor {engine_name}")
        for script in args.scripts.split(","):
            docs = documents(script, args.rounds * args.docs)
            size = sum(len(d.encode("utf-8")) for d in docs) / len(docs) * args.docs
            times: dict[str, list[float]] = {name: [] for name in [*contenders, "warm"]}
            order = list(contenders)
            mismatches = 0
            for round_ in range(args.rounds):
                batch = docs[round_ * args.docs : (round_ + 1) * args.docs]
                counts: dict[str, list[int]] = {}
                for name in order[round_ % 3 :] + order[: round_ % 3]:
                    count = contenders[name]
                    start = time.process_time()
                    counts[name] = [count(d) for d in batch]
                    times[name].append(time.process_time() - start)
                start = time.process_time()
                counts["warm"] = [through(d) for d in batch]
                times["warm"].append(time.process_time() - start)
                mismatches += sum(counts[name] != counts[engine_name] for name in counts)
            failures += mismatches
            rate = size / 1e6 / statistics.median(times[engine_name])
            line = f"  {script:8s} {size / 1e3:5.0f} KB/round  {engine_name} {rate:5.2f} MB/s"
            for name in ("count_tokens", "core", "warm"):
                ratios = [a / c for a, c in zip(times[engine_name], times[name], strict=True)]
                label = "warm (re-count)" if name == "warm" else f"unseen {name}"
                line += f" | {label} {statistics.median(ratios):5.1f}x ({min(ratios):.1f}..{max(ratios):.1f})"
            print(line + ("" if not mismatches else f"  MISMATCHES: {mismatches}"))
        stats = own._splitter.stats()  # type: ignore[attr-defined]
        print(f"  count_tokens' cache: {stats}")
    return 1 if failures else 0


NO_CUT_CHILD = """
import resource, sys, time
from vertexmeter.tokenizing import get_tokenizer
tok = get_tokenizer(sys.argv[1]); tok.count("warm")
text = sys.argv[2] * int(sys.argv[3])
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before = peak(); start = time.process_time()
n = tok.count(text)
print(time.process_time() - start, peak() - before, n)
"""


def no_cut(args: argparse.Namespace) -> int:
    char = args.char
    print(f"one run of {char!r} (no cut point), counted in a fresh process; cpu seconds, peak RSS growth")
    # the child imports the vertexmeter this process imported (`-c` would put the working directory first)
    root = os.path.dirname(os.path.dirname(os.path.abspath(vertexmeter.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    for family in args.families.split(","):
        for mb in sorted({1.0, 2.5, 5.0, args.mb}):
            n = int(mb * 1_000_000 / len(char.encode("utf-8")))
            out = subprocess.run(
                [sys.executable, "-c", NO_CUT_CHILD, family, char, str(n)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout.split()
            seconds, grown, tokens = float(out[0]), int(out[1]), int(out[2])
            print(
                f"  {family} {mb:5.1f} MB: {seconds:6.2f} s  {mb / seconds:6.1f} MB/s  "
                f"peak +{grown / 1e6:6.1f} MB = {grown / (mb * 1e6):4.2f}x its bytes  ({tokens:,} tokens)"
            )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--docs", type=int, default=60, help="unseen documents per script and round")
    parser.add_argument("--families", default="gemma2,gemma3,gemma4")
    parser.add_argument("--scripts", default=",".join(SCRIPTS))
    parser.add_argument("--no-cut", action="store_true", help="time one long chunk with no cut point instead")
    parser.add_argument("--mb", type=float, default=10.0, help="--no-cut: the longest run, in MB")
    parser.add_argument("--char", default="a", help="--no-cut: the repeated character")
    args = parser.parse_args()
    return no_cut(args) if args.no_cut else run(args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
