"""Benchmark: CPU instructions per line (callgrind) of a batch worker's chunk function against the library loop's,
on the throughput bench's ~2 KB lines, warm. Instructions do not depend on other load on the machine, unlike times.

Run: python bench/batch_instructions.py [--lines 2000] [--shape plain|conversation|tools] [--python PYTHON]

--shape conversation: the same texts as three turns (user, model, user) with a system instruction and a
temperature (a float: such lines are decoded by decode_json); --shape tools: the same with a function
declaration, a line the workers' plain-line shortcut does not take (the full path counts it).

Three runs under `valgrind --tool=callgrind`, each in a fresh interpreter: the warm-up alone (imports, the
tokenizer, prices, one pass of the loop and one of the chunk function over every line), the warm-up then the
library loop once more (json.loads + vertexmeter.usage_metadata per line), the warm-up then `count_chunk` once
more over the file's spans of 200 lines (what a pool worker runs: it reads its span from the file, counts, prices
and serialises the results). A variant's instructions per line: (its run - the warm-up run) / lines.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def child(mode: str, source: str) -> None:
    """The measured process: warm up, then run the variant `mode` once more (nothing more for "warm")."""
    sys.path.insert(0, HERE)
    from batch_throughput import MODEL, library_loop

    from vertexmeter.batch.inputs import file_spans
    from vertexmeter.batch.work import BatchSettings, count_chunk

    settings = BatchSettings(model=MODEL)
    spans = list(file_spans([source], skip=0, chunk_lines=200, chunk_bytes=4 << 20))

    def chunks() -> int:
        return sum(count_chunk(settings, first, span).tally.prompt_tokens for first, span in spans)

    expected = library_loop(source)
    if chunks() != expected:
        raise SystemExit("count_chunk and the library loop disagree")
    if mode == "loop":
        library_loop(source)
    elif mode == "chunk":
        chunks()


TOOL = {
    "name": "lookup",
    "description": "Look a name up in the standard library's documentation.",
    "parameters": {"type": "OBJECT", "properties": {"name": {"type": "STRING"}}, "required": ["name"]},
}


def conversation(line: str, *, tools: bool = False) -> str:
    """A plain line's text as a conversation of three turns, with a system instruction and a temperature (and
    a function declaration)."""
    request = json.loads(line)["request"]
    text = request["contents"][0]["parts"][0]["text"]
    third = len(text) // 3
    turns = [text[:third], text[third : 2 * third], text[2 * third :]]
    request["contents"] = [
        {"role": role, "parts": [{"text": turn}]} for role, turn in zip(("user", "model", "user"), turns, strict=True)
    ]
    request["systemInstruction"] = {"parts": [{"text": "Answer briefly."}]}
    request["generationConfig"]["temperature"] = 0.2
    if tools:
        request["tools"] = [{"functionDeclarations": [TOOL]}]
    return json.dumps({"request": request})


def instructions(mode: str, source: str, python: str) -> int:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}/cg.out",
                python,
                __file__,
                "--child",
                mode,
                source,
            ],
            check=True,
            capture_output=True,
        )
        with open(f"{out}/cg.out", encoding="utf-8") as data:
            match = re.search(r"^summary:\s+(\d+)", data.read(), re.MULTILINE)
        if match is None:
            raise SystemExit("no summary in callgrind's output")
        return int(match.group(1))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--shape", choices=("plain", "conversation", "tools"), default="plain")
    parser.add_argument("--python", default=sys.executable, help="the interpreter (with its PYTHONPATH) to measure")
    args = parser.parse_args()
    sys.path.insert(0, HERE)
    from batch_throughput import corpus_lines

    lines = corpus_lines(args.lines)
    if args.shape != "plain":
        lines = [conversation(line, tools=args.shape == "tools") for line in lines]
    with tempfile.TemporaryDirectory() as work:
        source = os.path.join(work, "batch.jsonl")
        with open(source, "w", encoding="utf-8") as handle:
            handle.writelines(line + "\n" for line in lines)
        size = os.path.getsize(source)
        warm = instructions("warm", source, args.python)
        loop = instructions("loop", source, args.python)
        chunk = instructions("chunk", source, args.python)
    per_loop = (loop - warm) / len(lines)
    per_chunk = (chunk - warm) / len(lines)
    print(
        f"{len(lines):,} {args.shape} lines, {size / len(lines):.0f} bytes/line, warm; python {sys.version.split()[0]}"
    )
    print(f"library loop:          {per_loop:>10,.0f} instructions/line")
    print(f"worker (count_chunk):  {per_chunk:>10,.0f} instructions/line  ({per_chunk / per_loop:.2f}x the loop's)")


if __name__ == "__main__":
    main()
