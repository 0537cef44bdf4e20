"""The parity table of docs/counting.md, generated from the recorded answers (tests/data).

    python tools/parity_table.py            # print the table and the list of misses
    python tools/parity_table.py --write    # rewrite the generated blocks of docs/counting.md

Three blocks: the exact rates per set; every miss of the two ground-truth files (ground_truth.jsonl,
ground_truth_2026 with each conversation's earlier responses) with the open rule of docs/counting.md it belongs to
(OPEN_RULES: the first whose test holds), then the 2026 agent turns replayed alone whose bounds miss or are wider than
30 %; and the recorded answers whose request declares a built-in tool (tool_runs_table: counted against billed,
whether the tool ran, the bounds).
tests/test_docs_generated.py fails when a block in the docs is not what this prints.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests package: its ground-truth replay

from tests.ground_truth import (  # noqa: E402
    Replay,
    api_of,
    call_of,
    is_multimodal,
    load_2026,
    load_mined,
    load_mined_history,
    load_records,
    mined_history_names,
    replay,
    replay_2026,
    whole_response,
)
from vertexmeter.registry import resolve  # noqa: E402

DOC = ROOT / "docs" / "counting.md"
BEGIN, END = "<!-- BEGIN generated: tools/parity_table.py -->", "<!-- END generated: tools/parity_table.py -->"
MISSES_BEGIN = "<!-- BEGIN generated: tools/parity_table.py misses -->"
MISSES_END = "<!-- END generated: tools/parity_table.py misses -->"
TOOLS_BEGIN = "<!-- BEGIN generated: tools/parity_table.py tool_runs -->"
TOOLS_END = "<!-- END generated: tools/parity_table.py tool_runs -->"
MINED = {
    "llm_gemini": "simonw/llm-gemini, every cassette version",
    "ruby_llm": "crmne/ruby_llm, every cassette version",
    "pydantic_ai_history": "pydantic/pydantic-ai, every cassette version",
    "mirascope": "Mirascope/mirascope, every cassette version",
    "ellmer": "tidyverse/ellmer (unseen check)",
    "chatlas": "posit-dev/chatlas (unseen check)",
    "crewai": "crewAIInc/crewAI (unseen check)",
    "openinference": "Arize-ai/openinference (unseen check)",
    "otel_contrib": "open-telemetry/opentelemetry-python-contrib (unseen check)",
    "openllmetry": "traceloop/openllmetry (unseen check)",
    "lmnr": "lmnr-ai/lmnr-python (unseen check)",
    "logfire": "pydantic/logfire (unseen check)",
    "braintrust": "braintrustdata/braintrust-sdk (unseen check)",
    "oscar": "golang/oscar, httprr traces (unseen check)",
    "req_llm": "agentjido/req_llm, JSON fixtures (unseen check)",
    "sublayer": "sublayerapp/sublayer, 2024 (unseen check)",
    "fantasy": "charmbracelet/fantasy, go-vcr agent turns (unseen check)",
    "ruby_llm_mcp": "patvice/ruby_llm-mcp (unseen check)",
    "calls_heldout": "function-call outputs of four repositories (unseen check of function_call_outputs)",
    "function_calls": "function-call outputs of thirteen repositories (the evidence of function_call_outputs)",
    "dspy_rb": "vicentereig/dspy.rb (unseen check)",
    "llm_rb": "llmrb/llm (unseen check)",
    "req_llm_2026": "agentjido/req_llm, fixtures of May - Jun 2026 (unseen check)",
    "langchaingo_vxcontrol": "vxcontrol/langchaingo, the fork's own httprr traces (unseen check)",
    "adk_go_history": "google/adk-go, trace versions the 2026 file does not hold (unseen check)",
    "calls_heldout2": "function-call outputs of nine more repositories (unseen check of function_call_outputs)",
    "rig": "0xPlaygrounds/rig, httpmock agent loops (unseen check)",
    "newrelic": "newrelic/newrelic-python-agent, 3.5 Flash agent turns, both APIs (unseen check)",
    "family_assistant": "werdnum/family-assistant, 2.5 agent turns (unseen check)",
    "llm_rb_2026": "0x1eef/llm.rb, cassettes of 2026 (unseen check)",
    "mirascope_ts": "Mirascope/mirascope's TypeScript HAR recordings (unseen check)",
    "ogx": "ogx-ai/ogx, google-genai calls on Vertex 2.0 Flash, bodies rebuilt by the SDK (unseen check)",
    "js_genai": "googleapis/js-genai, the JS SDK's own test recordings, both APIs (unseen check)",
    "dotnet_genai": "googleapis/dotnet-genai, the .NET SDK's own test recordings, both APIs (unseen check)",
    "mastra": "mastra-ai/mastra, stored index versions of its agent recordings (unseen check)",
    "weave": "wandb/weave, stored index versions of its Google GenAI cassettes (unseen check)",
    "litellm": "BerriAI/litellm, stored index versions of its translation cases, both APIs (unseen check)",
    "calls_heldout3": "function-call outputs of js-genai, dotnet-genai, mastra (unseen check of function_call_outputs)",
    "late_2026": "index versions recorded Sep - Oct 2026: newrelic's ADK agents, mastra, ruby_llm (unseen check)",
    "calls_heldout4": "function-call outputs of newrelic's ADK agents, Sep 2026 (unseen check)",
    "late_2026b": "index versions of family-assistant: Gemini API 3.6, 3.7, 3.8 Flash, Jul - Sep 2026 (unseen check)",
    "calls_heldout5": "function-call outputs of the same 3.6, 3.7, 3.8 Flash recordings (unseen check)",
    "late_2026c": "index version of adk-go's tail-retention agent: Gemini API 3.5 Flash, Aug 2026 (unseen check)",
    "late_2026d": "index versions of lmnr-python's ADK agents: Gemini API 3.5 Flash-Lite, Aug 2026 (unseen check)",
    "calls_heldout6": "function-call outputs of the same 3.5 Flash-Lite recordings (unseen check)",
    "late_2026e": "index versions of dotnet-genai's recordings: 3.5 Flash response schemas, Aug 2026 (unseen check)",
    "maruel_genai": "maruel/genai's go-vcr recordings: Gemini API 2.0 ... 3.7 Flash, 2025-05 - 2026-08 (unseen check)",
    "calls_heldout7": "function-call outputs of the same maruel/genai recordings (unseen check)",
    "media": "media prompts with their real bytes, every mirrored repository (unseen check; docs/media.md)",
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
    alone = given = bounded = given_bounded = outputs = outputs_exact = outputs_bounded = 0
    records = load_2026()
    for record in records:
        one, two = replay_2026(record)
        alone += one.exact
        bounded += one.within_bounds
        given += two.exact
        given_bounded += two.within_bounds
        if record["kind"] == "output":
            outputs += 1
            outputs_exact += two.exact
            outputs_bounded += two.within_bounds
    where = "tests/data/ground_truth_2026.jsonl"
    out.append(
        (where, "with each conversation's earlier responses (history) and whole responses", _rate(given, len(records)))
    )
    out.append((where, "the same: exact, or says `bounds` that hold the answer", _rate(given_bounded, len(records))))
    out.append((where, "outputs, whole responses (streams as chunks): exact", _rate(outputs_exact, outputs)))
    out.append((where, "outputs, the same: exact, or bounded (streams)", _rate(outputs_bounded, outputs)))
    out.append((where, "the record alone: exact", _rate(alone, len(records))))
    out.append((where, "the record alone: exact, or says `bounds` that hold the answer", _rate(bounded, len(records))))
    out += evidence_rows()
    return out


def evidence_rows() -> list[tuple[str, str, str]]:
    """The whole recorded answers of tests/evidence (outputs the mined sets keep only as text): code execution's parts,
    each replayed as recorded."""
    import json

    import vertexmeter

    folder = ROOT / "tests" / "evidence"
    code = json.loads((folder / "code_execution.json").read_text("utf-8"))
    exact = sum(
        vertexmeter.usage(
            a["model"], a["request"], api=a["api"], response=a["response"], as_of=a["recorded"]
        ).candidates_token_count
        == a["usage"]["candidatesTokenCount"]
        for a in code
    )
    return [("tests/evidence/code_execution.json", "outputs with code execution's parts", _rate(exact, len(code)))]


def _parts(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for c in record["request"].get("contents") or [] for p in c.get("parts", [])]


def _function_parts(record: dict[str, Any]) -> bool:
    return any("functionCall" in p or "functionResponse" in p for p in _parts(record))


def _streamed(record: dict[str, Any]) -> bool:
    return isinstance(whole_response(record), list)


# (open rule of docs/counting.md "Open rules", test on a missed record); the first that holds names the miss.
# Records of the shared file that no general test tells apart are named by id, as "Open rules" lists them.
OPEN_RULES: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
    ("Vertex doc artifact (accounting.yaml role_overhead)", lambda r: r["id"] == "gt-0030"),
    ("1: replayed thoughts on Vertex 3 (history not kept)", lambda r: r["id"] == "nt-0154"),
    ("4: numbers in a Vertex 2.5 functionResponse", lambda r: r["id"] == "nt-0157"),
    ("12: a stream's last chunk reports a larger prompt", lambda r: "varied across stream chunks" in r["notes"]),
    ("12: streamed 2.5 outputs with thought summaries (bounded)", lambda r: r["kind"] == "output" and _streamed(r)),
    ("6: non-canonical generation", lambda r: r["kind"] == "output"),
    ("3b: function-history serialization", _function_parts),
    ("3: tool templates, seams", lambda r: bool(r["request"].get("tools"))),
]


def _open_rule(record: dict[str, Any]) -> str:
    return next((name for name, holds in OPEN_RULES if holds(record)), "unclassified")


def _miss_row(result: Replay, where: str) -> str:
    record = result.record
    delta = "refused" if result.got is None else f"{result.got - result.expected:+d}"
    bounds = "—"
    if result.bounds is not None:
        low, high = result.bounds[result.field]
        bounds = f"[{low}, {high}]" + ("" if result.within_bounds else " (miss)")
    return (
        f"| {record['id']} | {where} | {record['model']} | {record['kind']} | {result.expected} | "
        f"{result.got if result.got is not None else '—'} | {delta} | {bounds} | {_open_rule(record)} |"
    )


def misses() -> str:
    """Every miss of the two ground-truth files (the 2026 one with each conversation's earlier responses), with the
    bounds the answer carries, then the 2026 agent turns replayed alone whose bounds miss or are wider than 30 %."""
    lines = [
        "| record | file | model | kind | recorded | vertexmeter | difference | bounds | open rule |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for record in load_records():
        if is_multimodal(record):
            continue  # tests/media replays them with regenerated media
        result = replay(record)
        if not result.exact:
            lines.append(_miss_row(result, "ground_truth.jsonl"))
    wide = []
    for record in load_2026():
        alone, given = replay_2026(record)
        if not given.exact:
            lines.append(_miss_row(given, "ground_truth_2026.jsonl"))
        # The 30 % is the agent turns' (prompts'); a short output's bounds of a token or two are wider than that.
        turn = record["kind"] == "input"
        if turn and alone.bounds is not None and (not alone.within_bounds or alone.bounds_width > 0.3):
            wide.append(alone)
    lines += [
        "",
        "2026 agent turns replayed without their history, bounds that miss or are wider than 30 % (open rule 1):",
        "",
    ]
    if not wide:
        lines.append("none: every agent turn replayed alone is exact or inside bounds at most 30 % wide.")
        return "\n".join(lines)
    lines += ["| record | model | recorded | vertexmeter | bounds | width |", "|---|---|---|---|---|---|"]
    for result in wide:
        low, high = result.bounds[result.field] if result.bounds else (0, 0)
        lines.append(
            f"| {result.record['id']} | {result.record['model']} | {result.expected} | {result.got} | "
            f"[{low}, {high}] | {result.bounds_width:.1%} |"
        )
    return "\n".join(lines)


def misses_block() -> str:
    return f"{MISSES_BEGIN}\n{misses()}\n{MISSES_END}"


# The built-in tools that run server-side, by their Tool field in either casing.
BUILT_IN = {
    "codeExecution": "codeExecution",
    "code_execution": "codeExecution",
    "googleSearch": "googleSearch",
    "google_search": "googleSearch",
    "urlContext": "urlContext",
    "url_context": "urlContext",
    "fileSearch": "fileSearch",
    "file_search": "fileSearch",
    "googleMaps": "googleMaps",
    "google_maps": "googleMaps",
}
# Answers of the table outside their bounds, and the open rule of docs/counting.md each belongs to.
TOOL_RUN_EXCEPTIONS = {
    # 0xPlaygrounds/rig (held out, mined after the rules): its 2.5 declarations beside codeExecution
    "rig-0054": "4: a replayed code run 2 above its bounds",
}
_SOURCE_KEY = re.compile(r"^([^:]+:\S+) .*?(?:interaction|record) (\d+)")


def _source_key(record: dict[str, Any]) -> tuple[str, str, str] | None:
    match = _SOURCE_KEY.match(str(record.get("source") or ""))
    return (match[1], match[2], str(record.get("recorded"))) if match else None


def _built_in(record: dict[str, Any]) -> list[str]:
    body = record.get("request") or {}
    body = body.get("generateContentRequest", body)
    tools = body.get("tools") if isinstance(body, dict) else None
    return sorted(
        {BUILT_IN[name] for tool in tools or [] if isinstance(tool, dict) for name in tool if name in BUILT_IN}
    )


def _runs_shown() -> dict[tuple[str, str, str], str]:
    """What the recorded responses say ran, by the exchange's source (path, interaction, day): a server-side tool's
    queries or URLs (tests/data/server_tool_runs.json, keyed by output record) and code execution's parts
    (tests/evidence/code_execution.json)."""
    stated = json.loads((ROOT / "tests" / "data" / "server_tool_runs.json").read_text("utf-8"))
    outputs = {r["id"]: r for name in mined_history_names() for r in load_mined_history(name) if r["kind"] == "output"}
    out: dict[tuple[str, str, str], str] = {}
    for record_id, runs in stated.items():
        key = _source_key(outputs.get(record_id, {}))
        if key is not None and any(runs.values()):
            out[key] = f"{' and '.join(name for name, items in runs.items() if items)} stated ({record_id})"
    for exchange in json.loads((ROOT / "tests" / "evidence" / "code_execution.json").read_text("utf-8")):
        key = _source_key(exchange)
        if key is not None:
            ran = "executableCode" in json.dumps(exchange.get("response"))
            out[key] = "executableCode in the response" if ran else "no code part in the response"
    return out


def tool_run_answers() -> list[dict[str, Any]]:
    """Every recorded generateContent prompt whose request declares a built-in tool (mined sets, the two ground-truth
    files), one row per distinct answer (mined.jsonl repeats pydantic-ai's): its point value, billed count, bounds and
    whether the answer ran the tool."""
    shown = _runs_shown()
    sets = [load_mined(), *(load_mined_history(n) for n in mined_history_names()), load_records(), load_2026()]
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for records in sets:
        for record in records:
            tools = _built_in(record)
            if record["kind"] == "output" or not tools or call_of(record) != "generateContent":
                continue
            request = json.dumps(record["request"], sort_keys=True)
            key = (api_of(record), record["model"], record.get("recorded"), request, record["expected"]["totalTokens"])
            if key in rows:
                rows[key]["ids"].append(record["id"])
                continue
            result = replay(record)
            usage = record.get("raw_usage") or {}
            ran = (
                f"toolUsePromptTokenCount {usage['toolUsePromptTokenCount']}"
                if usage.get("toolUsePromptTokenCount")
                else shown.get(_source_key(record) or ("", "", ""), "")
            )
            rows[key] = {
                "ids": [record["id"]],
                "api": api_of(record),
                "generation": resolve(record["model"], api=api_of(record)).generation,
                "tools": tools,
                "result": result,
                "ran": ran,
            }
    return sorted(rows.values(), key=lambda r: (r["api"], r["generation"], r["tools"], r["ids"][0]))


def _tool_group(row: dict[str, Any]) -> str:
    generation = {"3": "3.x"}.get(row["generation"], row["generation"])
    return f"{'Gemini API' if row['api'] == 'gemini' else 'Vertex'} {generation} {', '.join(row['tools'])}"


def tool_runs_table() -> str:
    """The recorded answers of tool_run_answers: per (API, generation, tools) how many, how many exact and inside
    their bounds, what the run added; then each Gemini API 3.x answer (where runs bill in the prompt)."""
    answers = tool_run_answers()
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in answers:
        groups.setdefault(_tool_group(row), []).append(row)
    lines = [
        "| API, generation, tools | answers | exact | exact or inside bounds | billed − counted | run stated |",
        "|---|---|---|---|---|---|",
    ]
    for group, rows in groups.items():
        results = [row["result"] for row in rows]
        gaps = [r.expected - r.got for r in results if r.got is not None]
        lines.append(
            f"| {group} | {len(rows)} | {sum(r.exact for r in results)} | {sum(r.within_bounds for r in results)} | "
            f"{min(gaps):+d} … {max(gaps):+d} | {sum(bool(row['ran']) for row in rows)} |"
        )
    lines += [
        "",
        "| record (same answer) | model | tools | counted | billed | billed − counted | run stated | bounds | inside |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in answers:
        result: Replay = row["result"]
        if row["api"] != "gemini" or row["generation"] != "3":
            continue
        bounds = "—"
        if result.bounds is not None:
            low, high = result.bounds[result.field]
            bounds = f"[{low}, {high}]"
        inside = (
            "yes" if result.within_bounds else f"no (open rule {TOOL_RUN_EXCEPTIONS.get(result.record['id'], '?')})"
        )
        lines.append(
            f"| {' = '.join(row['ids'])} | {result.record['model']} | {', '.join(row['tools'])} | {result.got} | "
            f"{result.expected} | {result.expected - (result.got or 0):+d} | {row['ran'] or '—'} | {bounds} | "
            f"{inside} |"
        )
    return "\n".join(lines)


def tool_runs_block() -> str:
    return f"{TOOLS_BEGIN}\n{tool_runs_table()}\n{TOOLS_END}"


def table() -> str:
    lines = ["| recorded answers | group | exact |", "|---|---|---|"]
    lines += [f"| `{where}` | {group} | {rate} |" for where, group, rate in rows()]
    return "\n".join(lines)


def block() -> str:
    return f"{BEGIN}\n{table()}\n{END}"


def current_block(text: str, begin: str = BEGIN, end: str = END) -> str:
    start, stop = text.index(begin), text.index(end) + len(end)
    return text[start:stop]


def main() -> None:
    if "--write" in sys.argv:
        text = DOC.read_text("utf-8")
        text = text.replace(current_block(text), block())
        text = text.replace(current_block(text, MISSES_BEGIN, MISSES_END), misses_block())
        text = text.replace(current_block(text, TOOLS_BEGIN, TOOLS_END), tool_runs_block())
        DOC.write_text(text, "utf-8")
    else:
        print(table())
        print(misses())
        print(tool_runs_table())


if __name__ == "__main__":
    main()
