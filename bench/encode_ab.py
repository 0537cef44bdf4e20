"""Tokenizer.encode (computeTokens' ids) beside Tokenizer.count, two source trees side by side.

    python bench/encode_ab.py A_TREE B_TREE [--rounds 9]

Each tree (a checkout with its C core built in place) runs in its own process, the trees taking turns
round by round (A B, B A, ...), so both see the same machine load. Per family (gemma3, gemma4) and
script (English, CJK, from bench/core_vs_engines.py's corpus): CPU time per ~2,000-character document
of `encode` on 60 documents the process has not seen (caches emptied first), of `encode` and `count`
on one document again and again (warm), and of `count` on 60 other unseen documents. Prints the
median (min..max) over the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

FAMILIES = ("gemma3", "gemma4")
SCRIPTS = ("english", "cjk")
WARM_CALLS = 300
CONF = json.dumps({"families": FAMILIES, "scripts": SCRIPTS, "warm": WARM_CALLS})

CHILD = """
import importlib.util, json, sys, time
tree, bench, conf = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
warm = conf["warm"]
import vertexmeter
from vertexmeter.tokenizing import get_tokenizer
assert vertexmeter.__file__.startswith(tree), vertexmeter.__file__
spec = importlib.util.spec_from_file_location("cve", bench)
cve = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cve)
out = {}
for fam in conf["families"]:
    t = get_tokenizer(fam)
    for d in cve.documents("code", 20):  # the tables' pages, touched before timing
        t.encode(d)
        t.count(d)
    for script in conf["scripts"]:
        docs = cve.documents(script, 120)
        t._splitter.clear()
        a = time.process_time()
        for d in docs[:60]:
            t.encode(d)
        out[f"{fam} {script} unseen encode"] = (time.process_time() - a) / 60 * 1e6
        d = docs[0]
        t.encode(d)
        a = time.process_time()
        for _ in range(warm):
            t.encode(d)
        out[f"{fam} {script} warm encode"] = (time.process_time() - a) / warm * 1e6
        a = time.process_time()
        for _ in range(warm):
            t.count(d)
        out[f"{fam} {script} warm count"] = (time.process_time() - a) / warm * 1e6
        t._splitter.clear()
        a = time.process_time()
        for d in docs[60:]:
            t.count(d)
        out[f"{fam} {script} unseen count"] = (time.process_time() - a) / 60 * 1e6
print(json.dumps(out))
"""


def run_tree(tree: Path) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(tree)}
    bench = Path(__file__).resolve().with_name("core_vs_engines.py")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), str(bench), CONF], capture_output=True, text=True, env=env, cwd="/"
    )
    if done.returncode:
        raise SystemExit(f"{tree}: {done.stderr.strip()}")
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    trees = (args.a.resolve(), args.b.resolve())
    results: dict[Path, list[dict[str, float]]] = {tree: [] for tree in trees}
    for r in range(args.rounds):
        for tree in trees if r % 2 == 0 else trees[::-1]:
            results[tree].append(run_tree(tree))
    print(f"A = {trees[0]}\nB = {trees[1]}\n{args.rounds} rounds, turns alternating; us of CPU per document")
    for key in results[trees[0]][0]:
        a, b = ([x[key] for x in results[tree]] for tree in trees)
        print(
            f"  {key:28s} A {statistics.median(a):7.1f} ({min(a):.1f}..{max(a):.1f})"
            f"  B {statistics.median(b):7.1f} ({min(b):.1f}..{max(b):.1f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
