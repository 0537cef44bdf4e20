"""Benchmark: count a multi-MB mixed corpus with vertexmeter and with google-genai's LocalTokenizer method.

Run: python bench/count_corpus.py [--mb 8]

The corpus is built from text every machine here has: Python's standard library (code, English
docs), the machine's gettext catalogues (/usr/share/locale: CJK, Cyrillic, Arabic, Indic, …
translations), the Korean seed pages in ../shared when present, and whitespace-heavy variants
(tab tables, deep indentation). It is cut into ~2,000-character documents, one request each.

Anchors, measured in the same run on the same documents:
- google-genai's `LocalTokenizer.count_tokens` itself (gemma3; its cache seeded with the packaged
  file, so no network), when google-genai is installed;
- its method without the SDK around it: bare sentencepiece (or tokenizers, for gemma4) encoding
  the text, same model file (vertexmeter itself counts with its own core, docs/tokenizing.md).
Counts must agree document by document; the script prints MB/s and vertexmeter/anchor ratios.
"""

from __future__ import annotations

import argparse
import gettext
import glob
import hashlib
import os
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import vertexmeter
from vertexmeter.tokenizing import engine_tokenizer
from vertexmeter.tokenizing.assets import ASSETS, load_verified

DOC_CHARS = 2000


def stdlib_code() -> Iterator[str]:
    for path in sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "*.py"))):
        yield Path(path).read_text("utf-8", errors="replace")


def stdlib_english() -> Iterator[str]:
    for path in sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "idlelib", "*.txt"))):
        yield Path(path).read_text("utf-8", errors="replace")


def translations() -> Iterator[str]:
    for path in sorted(glob.glob("/usr/share/locale/*/LC_MESSAGES/*.mo")):
        try:
            with open(path, "rb") as handle:
                catalogue = gettext.GNUTranslations(handle)
        except (OSError, ValueError, LookupError):  # a catalogue Python cannot parse is skipped
            continue
        messages = [v for v in catalogue._catalog.values() if isinstance(v, str) and v.strip()]  # type: ignore[attr-defined]
        if messages:
            yield "\n".join(messages)


def korean_seeds() -> Iterator[str]:
    for here in (Path(__file__).resolve().parents[2] / "shared" / "spec" / "seeds",):
        if here.is_dir():
            for path in sorted(here.glob("*.txt")):
                yield path.read_text("utf-8")
            return


def whitespace_heavy(sources: list[str]) -> Iterator[str]:
    for text in sources[:200]:
        yield "\n".join("\t\t" + "    " * (i % 6) + line.replace(" ", "  ") for i, line in enumerate(text.splitlines()))


def corpus(target_bytes: int) -> list[str]:
    streams: dict[str, list[str]] = {
        "code": list(stdlib_code()),
        "english": list(stdlib_english()),
        "translations": list(translations()),
        "korean": list(korean_seeds()),
    }
    streams["whitespace"] = list(whitespace_heavy(streams["code"]))
    share = target_bytes // len(streams)
    docs: list[str] = []
    for name, texts in streams.items():
        taken = 0
        blob = "\n".join(texts)
        if not blob:
            print(f"  (no {name} text on this machine)")
            continue
        while taken < share:
            for start in range(0, len(blob), DOC_CHARS):
                doc = blob[start : start + DOC_CHARS]
                if doc.strip():
                    docs.append(doc)
                    taken += len(doc.encode("utf-8"))
                if taken >= share:
                    break
    return docs


def timed(label: str, count: Callable[[str], int], docs: list[str]) -> tuple[float, list[int]]:
    count(docs[0])  # warm: load the tokenizer outside the timing
    start = time.perf_counter()
    counts = [count(doc) for doc in docs]
    return time.perf_counter() - start, counts


def sdk_local_tokenizer() -> Callable[[str], int] | None:
    try:
        from google.genai import _local_tokenizer_loader as loader
        from google.genai import local_tokenizer
    except ImportError:
        return None
    base = tempfile.mkdtemp(prefix="vertexmeter-bench-")
    model_dir = Path(base) / "vertexai_tokenizer_model"
    model_dir.mkdir()
    url = loader._TOKENIZERS["gemma3"].model_url
    (model_dir / hashlib.sha1(url.encode()).hexdigest()).write_bytes(load_verified("gemma3")[0])
    tempfile.tempdir = base
    import warnings

    warnings.filterwarnings("ignore")
    tokenizer = local_tokenizer.LocalTokenizer("gemini-2.5-flash")
    return lambda doc: tokenizer.count_tokens(doc).total_tokens


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=8.0, help="corpus size in MB (UTF-8)")
    args = parser.parse_args()
    docs = corpus(int(args.mb * 1_000_000))
    size = sum(len(d.encode("utf-8")) for d in docs)
    print(f"corpus: {len(docs)} documents, {size / 1e6:.2f} MB UTF-8, {sum(map(len, docs)) / 1e6:.2f} M chars")
    failures = 0
    cases = [("gemini-1.5-pro", "gemma2"), ("gemini-2.5-flash", "gemma3"), ("gemini-3.5-flash", "gemma4")]
    for model, family in cases:
        raw = engine_tokenizer(family, ASSETS[family].engine, load_verified(family)[0])  # the bare engine

        def through_vertexmeter(doc: str, model: str = model) -> int:
            return vertexmeter.count(model, {"contents": [{"role": "user", "parts": [{"text": doc}]}]}).total_tokens

        bare = (f"bare {ASSETS[family].engine}", lambda d, r=raw: len(r.encode(d)))
        anchors: list[tuple[str, Callable[[str], int]]] = [bare]
        if family == "gemma3":
            sdk = sdk_local_tokenizer()
            if sdk is not None:
                anchors.insert(0, ("google-genai LocalTokenizer", sdk))
        seconds, counts = timed("vertexmeter", through_vertexmeter, docs)
        print(
            f"\n{model} ({family}): vertexmeter.count  {size / 1e6 / seconds:8.2f} MB/s  "
            f"{len(docs) / seconds:9.0f} req/s  tokens={sum(counts):,}"
        )
        for label, anchor in anchors:
            anchor_seconds, anchor_counts = timed(label, anchor, docs)
            agree = anchor_counts == counts
            failures += not agree
            print(
                f"  anchor {label:28s} {size / 1e6 / anchor_seconds:8.2f} MB/s  "
                f"ratio vertexmeter/anchor speed = {anchor_seconds / seconds:5.2f}x  counts agree: {agree}"
            )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
