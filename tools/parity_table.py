"""The parity table of docs/counting.md, generated from the recorded answers (tests/data).

    python tools/parity_table.py            # print the table
    python tools/parity_table.py --write    # rewrite the generated block of docs/counting.md

tests/test_docs_generated.py fails when the block in the docs is not what this prints.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests package: its ground-truth replay

from tests.ground_truth import (  # noqa: E402
    call_of,
    is_multimodal,
    load_2026,
    load_mined,
    load_mined_history,
    load_records,
    replay,
    replay_2026,
)

DOC = ROOT / "docs" / "counting.md"
BEGIN, END = "<!-- BEGIN generated: tools/parity_table.py -->", "<!-- END generated: tools/parity_table.py -->"
MINED = {
    "llm_gemini": "simonw/llm-gemini, every cassette version",
    "ruby_llm": "crmne/ruby_llm, every cassette version",
    "pydantic_ai_history": "pydantic/pydantic-ai, every cassette version",
    "mirascope": "Mirascope/mirascope, every cassette version",
    "ellmer": "tidyverse/ellmer (unseen check)",
    "chatlas": "posit-dev/chatlas (unseen check)",
    "crewai": "crewAIInc/crewAI (unseen check)",
}


def _rate(exact: int, total: int) -> str:
    return f"{exact}/{total} ({exact / total:.1%})" if total else "0/0"


def rows() -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    shared = [r for r in load_records() if not is_multimodal(r)]
    groups: Counter[str] = Counter()
    exact: Counter[str] = Counter()
    for record in shared:
        result = replay(record)
        call = call_of(record)
        name = (
            "outputs (candidatesTokenCount)"
            if record["kind"] == "output"
            else "embeddings (embedContent, :predict)"
            if call in ("embedContent", "predict")
            else f"text prompts, {call}"
        )
        groups[name] += 1
        exact[name] += result.exact
    for name in sorted(groups):
        out.append(("tests/data/ground_truth.jsonl", name, _rate(exact[name], groups[name])))
    mined = [replay(r) for r in load_mined()]
    out.append(
        ("tests/data/mined.jsonl", "pydantic/pydantic-ai at one commit", _rate(sum(r.exact for r in mined), len(mined)))
    )
    for name, what in MINED.items():
        results = [replay(r) for r in load_mined_history(name)]
        out.append((f"tests/data/mined_{name}", what, _rate(sum(r.exact for r in results), len(results))))
    alone = given = bounded = 0
    records = load_2026()
    for record in records:
        one, two = replay_2026(record)
        alone += one.exact
        bounded += one.within_bounds
        given += two.exact
    where = "tests/data/ground_truth_2026.jsonl"
    out.append(
        (where, "with each conversation's earlier responses (history) and whole responses", _rate(given, len(records)))
    )
    out.append((where, "the record alone: exact", _rate(alone, len(records))))
    out.append((where, "the record alone: exact, or says `bounds` that hold the answer", _rate(bounded, len(records))))
    return out


def table() -> str:
    lines = ["| recorded answers | group | exact |", "|---|---|---|"]
    lines += [f"| `{where}` | {group} | {rate} |" for where, group, rate in rows()]
    return "\n".join(lines)


def block() -> str:
    return f"{BEGIN}\n{table()}\n{END}"


def current_block(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def main() -> None:
    if "--write" in sys.argv:
        text = DOC.read_text("utf-8")
        DOC.write_text(text.replace(current_block(text), block()), "utf-8")
    else:
        print(table())


if __name__ == "__main__":
    main()
