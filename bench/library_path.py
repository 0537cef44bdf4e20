"""Benchmark: what the library adds to the core per request, on text nobody has counted yet.

Run: python bench/library_path.py [--rounds 7] [--docs 60] [--families gemma2,gemma3,gemma4]
     python bench/library_path.py --trees A,B [--runs 4]   # two checkouts, alternating processes

Per family and script (bench/core_vs_engines.py's unseen documents, ~2,000 characters each), in one
process, interleaved in a rotating order within each round:
- count_tokens: `vertexmeter.count_tokens(model, {"contents": [...]})` end to end;
- conversation: the same document as three turns (user, model, user: its thirds), count_tokens end to end;
- core count: the C core's entry alone (`Splitter.count(text, encoder)`) over its own stored table;
- compute_tokens: `vertexmeter.compute_tokens(model, body)` end to end (ids, token bytes in base64, id strings);
- core encode: the core's `Splitter.encode(text, encoder)` alone.
Every contender's chunk caches are emptied before its turn in a round (the library's contenders share
one tokenizer), so each counts the round's documents as unseen. Other documents (--warm) are counted
and computed first, untimed, as by a process that has been serving a while (the per-id memos
of computeTokens are then warm).
Reported: microseconds per document (process CPU time, median of the rounds) and the library's overhead
beyond the core (median and spread of the per-round differences).

--trees A,B runs this in fresh processes, alternately under PYTHONPATH=A and PYTHONPATH=B (`--runs` each),
and prints each tree's overheads: median and spread over its runs' medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

MODELS = {"gemma2": "gemini-1.5-pro", "gemma3": "gemini-2.5-flash", "gemma4": "gemini-3.5-flash"}


def measure(args: argparse.Namespace) -> list[dict[str, object]]:
    from core_vs_engines import documents

    import vertexmeter
    from vertexmeter.tokenizing import get_tokenizer, mapped_counter, stored_table_file

    rows: list[dict[str, object]] = []
    for family in args.families.split(","):
        model = MODELS[family]  # gemini-1.5-pro bills characters on Vertex: its answers count them too
        get_tokenizer(family).count("hi")  # the library's tokenizer, mapped from its stored table
        path = stored_table_file(family) or ""
        parts = mapped_counter(path) if path else None
        if parts is None:
            raise SystemExit(f"no stored core table for {family}: count something with it first")
        for script in args.scripts.split(","):
            docs = documents(script, args.rounds * args.docs + args.warm)
            alone_count, count_bpe = mapped_counter(path) or parts
            alone_encode, encode_bpe = mapped_counter(path) or parts
            vertexmeter.count_tokens(model, "hi")
            vertexmeter.compute_tokens(model, "hi")

            contenders: dict[str, Callable[[str], object]] = {
                "count_tokens": _through(vertexmeter.count_tokens, model, _body),
                "conversation": _through(vertexmeter.count_tokens, model, _conversation),
                "core count": _core(alone_count.count, count_bpe),
                "compute_tokens": _through(vertexmeter.compute_tokens, model, _body),
                "core encode": _core(alone_encode.encode, encode_bpe),
            }
            # the caches each contender counts through, emptied before its turn: count_tokens, the conversation
            # and compute_tokens share the library's tokenizer, and none may find what another just counted
            library = get_tokenizer(family)._splitter  # type: ignore[attr-defined]
            caches = {"core count": alone_count, "core encode": alone_encode}
            warm = docs[args.rounds * args.docs :]
            for call in contenders.values():
                for d in warm:
                    call(d)
            times: dict[str, list[float]] = {name: [] for name in contenders}
            order = list(contenders)
            for round_ in range(args.rounds):
                batch = docs[round_ * args.docs : (round_ + 1) * args.docs]
                shift = round_ % len(order)
                for name in order[shift:] + order[:shift]:
                    call = contenders[name]
                    caches.get(name, library).clear()
                    start = time.process_time()
                    for d in batch:
                        call(d)
                    times[name].append((time.process_time() - start) / len(batch) * 1e6)
            rows.append({"family": family, "model": model, "script": script, "times": times})
    return rows


def _body(doc: str) -> dict[str, object]:
    return {"contents": [{"role": "user", "parts": [{"text": doc}]}]}


def _conversation(doc: str) -> dict[str, object]:
    third = len(doc) // 3
    texts = (doc[:third], doc[third : 2 * third], doc[2 * third :])
    roles = ("user", "model", "user")
    return {"contents": [{"role": r, "parts": [{"text": t}]} for r, t in zip(roles, texts, strict=True)]}


def _through(
    call: Callable[[str, object], object], model: str, shape: Callable[[str], object]
) -> Callable[[str], object]:
    return lambda doc: call(model, shape(doc))


def _core(call: Callable[[str, object], object], encoder: object) -> Callable[[str], object]:
    return lambda doc: call(doc, encoder)


def summary(times: dict[str, list[float]]) -> dict[str, float]:
    out = {name: statistics.median(v) for name, v in times.items()}
    pairs = (("count_tokens", "core count"), ("conversation", "core count"), ("compute_tokens", "core encode"))
    for lib, core in pairs:
        out[f"{lib} overhead"] = statistics.median(a - b for a, b in zip(times[lib], times[core], strict=True))
    return out


def show(rows: list[dict[str, object]]) -> None:
    for row in rows:
        times: dict[str, list[float]] = row["times"]  # type: ignore[assignment]
        s = summary(times)
        print(
            f"  {row['family']} {row['model']:20s} {row['script']:8s}"
            f" | core count {s['core count']:6.1f} us, count_tokens {s['count_tokens']:6.1f} us,"
            f" overhead {s['count_tokens overhead']:5.1f} us"
            f" | conversation {s['conversation']:6.1f} us, overhead {s['conversation overhead']:5.1f} us"
            f" | core encode {s['core encode']:6.1f} us, compute_tokens {s['compute_tokens']:6.1f} us,"
            f" overhead {s['compute_tokens overhead']:5.1f} us"
        )


def trees(args: argparse.Namespace) -> int:
    names = args.trees.split(",")
    runs: dict[str, list[list[dict[str, object]]]] = {name: [] for name in names}
    own = [
        "--rounds",
        str(args.rounds),
        "--docs",
        str(args.docs),
        "--warm",
        str(args.warm),
        "--families",
        args.families,
        "--scripts",
        args.scripts,
    ]
    for run in range(args.runs):
        for tree in names if run % 2 == 0 else names[::-1]:
            env = {**os.environ, "PYTHONPATH": tree, "PYTHONHASHSEED": "0"}
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--json", *own],
                capture_output=True,
                text=True,
                check=True,
                env=env,
                cwd=os.path.dirname(os.path.abspath(__file__)),
            ).stdout
            runs[tree].append(json.loads(out))
    print(f"{args.runs} runs per tree, alternating processes; per run the median of {args.rounds} rounds")
    keys = [
        "count_tokens overhead",
        "conversation overhead",
        "compute_tokens overhead",
        "core count",
        "count_tokens",
        "core encode",
        "compute_tokens",
    ]
    for i, row in enumerate(runs[names[0]][0]):
        print(f"\n{row['family']} {row['model']} {row['script']}")
        for tree in names:
            per_run = [summary(r[i]["times"]) for r in runs[tree]]  # type: ignore[arg-type]
            cells = []
            for key in keys:
                values = [s[key] for s in per_run]
                cells.append(f"{key} {statistics.median(values):6.1f} ({min(values):.1f}..{max(values):.1f})")
            print(f"  {os.path.basename(tree.rstrip('/')):16s} " + " | ".join(cells))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--docs", type=int, default=60, help="unseen documents per script and round")
    parser.add_argument("--families", default="gemma2,gemma3,gemma4")
    parser.add_argument("--scripts", default="english,cjk,code,random")
    parser.add_argument("--warm", type=int, default=20, help="documents counted and computed first, untimed")
    parser.add_argument("--trees", help="two checkouts A,B: alternate processes under each")
    parser.add_argument("--runs", type=int, default=4, help="--trees: processes per tree")
    parser.add_argument("--json", action="store_true", help="print the raw times as JSON (for --trees)")
    args = parser.parse_args()
    if args.trees:
        return trees(args)
    rows = measure(args)
    if args.json:
        print(json.dumps(rows))
    else:
        import vertexmeter

        print(f"vertexmeter from {os.path.dirname(vertexmeter.__file__)}; us per document, unseen text")
        show(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
