"""Parity with real recorded answers (tests/data/ground_truth.jsonl), text items and outputs.

Each record is replayed through the call it was recorded from (countTokens, generateContent's
usageMetadata, embedContent, :predict) on its recorded date. Prints the exact rate per
(API, call, generation, modality) group; the floors below only ever go up. Multimodal records:
tests/media/test_media_ground_truth.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

import vertexmeter
from tests.ground_truth import (
    Replay,
    api_of,
    call_of,
    earlier_responses,
    is_multimodal,
    load_2026,
    load_mined,
    load_mined_history,
    load_records,
    mined_history_names,
    replay,
    replay_2026,
    streamed_call,
    whole_response,
)

RECORDS = [r for r in load_records() if not is_multimodal(r)]

# Floors of exact matches (the target is >= 95 % on text prompts and on outputs). Measured
# 2026-12-01: countTokens 23/24, generateContent 79/82, prompts 102/106 (96.2 %), outputs 30/31; 2026-12-07:
# generateContent 80/82, prompts 103/106 (gt-0090, by the 1.x dated role weight)
# (96.8 %), embeddings 6/6. The misses are the open rules of docs/counting.md ("Open").
FLOORS = {"countTokens": 0.95, "generateContent": 0.98, "prompts": 0.97, "output": 0.96, "embedding": 1.0}


def replays() -> list[Replay]:
    return [replay(record) for record in RECORDS]


def summary(results: list[Replay]) -> dict[str, list[Replay]]:
    """The floor groups: countTokens / generateContent prompts, both together, outputs, embeddings."""
    out: dict[str, list[Replay]] = defaultdict(list)
    for r in results:
        call = call_of(r.record)
        if r.record["kind"] == "output":
            out["output"].append(r)
        elif call in ("embedContent", "predict"):
            out["embedding"].append(r)
        else:
            out[call].append(r)
            out["prompts"].append(r)
    return out


def test_parity_on_recorded_text_answers(capsys: pytest.CaptureFixture[str]) -> None:
    results = replays()
    by_group: dict[str, list[Replay]] = defaultdict(list)
    for r in results:
        by_group[r.group].append(r)
    floors = summary(results)
    with capsys.disabled():
        print()
        for group, items in sorted(by_group.items()):
            exact = sum(r.exact for r in items)
            print(f"parity {group}: {exact}/{len(items)} exact")
            for r in items:
                if not r.exact:
                    print(f"  miss {r.record['id']} {r.record['model']}: expected {r.expected}, got {r.got}")
        for name, items in sorted(floors.items()):
            exact = sum(r.exact for r in items)
            print(f"parity TOTAL {name}: {exact}/{len(items)} exact ({exact / len(items):.1%})")
    for name, floor in FLOORS.items():
        items = floors[name]
        assert items, name
        assert sum(r.exact for r in items) / len(items) >= floor, name


# tests/data/mined.jsonl: 247 text requests of pydantic-ai's cassettes (replayed thoughts, server-side tools and
# nested tool schemas are the open rules that keep this low). Measured 2026-12-01: 167/247; with the tool
# features of the 2026 traffic (accounting.yaml tool_templates) and nested payload objects on 2.5: 170/247; with
# Vertex 3's + 8 per described declaration (tool_templates): 172/247; with 2.5's declaration descriptions written
# with their lines indented (tool_templates): 171/247, the floor lowered once: the answer lost, mined-0232 (pydantic-
# ai's pyd-1014), was exact only because its history's 9 over made up for its declarations' 9 under (its first turn
# mined-0231, the same declarations, shows them), which the new reading brings to 5.
MINED_FLOOR = 0.692


def _mined_rate(name: str, records: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> float:
    """Replay mined records, print the exact count per group (tools apart), return the exact rate."""
    by_group: dict[str, list[Replay]] = defaultdict(list)
    for record in records:
        result = replay(record)
        tools = " tools" if record["request"].get("tools") else ""
        by_group[result.group + tools].append(result)
    results = [r for items in by_group.values() for r in items]
    exact = sum(r.exact for r in results)
    with capsys.disabled():
        print()
        for group, items in sorted(by_group.items()):
            print(f"{name} {group}: {sum(r.exact for r in items)}/{len(items)} exact")
        print(f"{name} TOTAL: {exact}/{len(results)} exact ({exact / len(results):.1%})")
    return exact / len(results)


def test_parity_on_mined_answers(capsys: pytest.CaptureFixture[str]) -> None:
    assert _mined_rate("mined", load_mined(), capsys) >= MINED_FLOOR


# Answers mined from every version of a repository's cassettes (tests/data/mine_vcr_history.py), dated by their
# HTTP Date headers or responseIds, prompts and outputs. Measured 2026-12-01: llm-gemini 47/57 (Nov 2024 -
# Aug 2026), ruby_llm 850/985 (2025 - Aug 2026), pydantic-ai's history 802/1097 (2024 - Aug 2026; replayed
# thoughts and server-side tools on 3.x keep it lower), Mirascope 364/456 (Sep 2025 - 2026).
# Unseen checks, mined 2026-12-01 after every rule above was fitted and measured before any new rule:
# ellmer 51/88 (Jul 2025 - Jul 2026), chatlas 72/107 (Dec 2025 - Jul 2026), crewAI 85/121 (Apr 2025 - May 2026);
# the misses are the open rules of docs/counting.md (3.x tool template, server-side tools, replayed thoughts).
# Then the 2.0 number rule (accounting.yaml function_history): crewAI 90/121, Mirascope 366/456; and countTokens
# of a generateContentRequest on the Gemini API 3 as generateContent: ellmer 56/88, ruby_llm 852/985. Then the tool
# features fitted on the 2026 traffic and nested payload objects on 2.5: llm-gemini 49/57, pydantic-ai's history
# 821/1097, Mirascope 376/456, crewAI 91/121. Then a streamed signature's size read without its extra segments
# (accounting.yaml signature_size; point values of thoughts replayed without history): llm-gemini 51/57, ruby_llm
# 859/985, Mirascope 377/456, chatlas 74/107. Then 2.5's trailing whitespace not billed: Mirascope 379/456. Then
# 3.x function payloads written as Gemma 4's tool-call format (accounting.yaml function_history): pydantic-ai's history
# 832/1097, mined 171/247; chatlas 73/107, its floor lowered once: the answer lost (chat-0090, 3.5) replays a thought
# signature without its history, a point value estimated from the signature's size inside bounds [156, 209] that
# hold it still, exact by chance before and one under now; no chatlas answer whose count is determined changed.
# Then a urlContext call billed in a 2.5 output (accounting.yaml server_tool_calls) and the typed nodes and payload
# numbers the Gemini API's 1.5 / 2.0 did not bill until 2025-04-28 (accounting.yaml dated_weights): ruby_llm 867/985,
# pydantic-ai's history 853/1097, ellmer 58/88, chatlas 75/107. Then 2.0's stopped outputs billed as their text
# (accounting.yaml stop_sequences): crewAI 105/121; 3.5 Flash's urlContext fetch in the output (server_tool_calls):
# ellmer 63/88, chatlas 76/107; ruby_llm's cassette placeholder put back (errata.json placeholders): ruby_llm 871/985;
# an empty user turn billed 1 on 1.5 / 2.0 (accounting.yaml role_overhead): pydantic-ai's history 854/1097, Mirascope
# 380/456. Then a 2.5 googleSearch answer given as text counts a typical call on a first question (server_tool_calls
# estimate_query_tokens) and a 2.5 request's replayed code turn is not billed (code_execution_parts): pydantic-ai's
# history 862/1097, ruby_llm 874/985.
# Unseen checks mined 2026-12-07 (tracing libraries' cassettes, every version), measured before any new rule:
# Arize-ai/openinference 80/97 (Oct 2024 - Jul 2026; 80/94 without the three answers errata.json not_evidence names),
# open-telemetry/opentelemetry-python-contrib 46/49 (Jan - Oct 2025, Vertex AI), traceloop/openllmetry 11/11,
# lmnr-ai/lmnr-python 37/38, pydantic/logfire 5/5, braintrustdata/braintrust-sdk 32/35 (Gemini API 2.0, Aug 2025 -
# Jan 2026), golang/oscar 10/16 (httprr traces, Gemini API 1.0, 1.5, 2.5, Oct 2024 - Oct 2025); and the outputs that
# call functions, which no set held before (ten repositories, 1,377 answers): 229/1377, exact on Vertex 2.5 (170/170)
# and the Gemini API's 2.0 (50/56), under on every Gemini API 2.5 / 3.x one (-7 with empty args, -10 / -11 with one
# string) and on Vertex 3 (-4). tests/data/PROVENANCE.md clusters the misses. Then the function calls in the output
# (accounting.yaml function_call_outputs, fitted on other records: tests/evidence) and 2.0's string tool defaults
# (tool_templates schema_strings): function_calls 1196/1377, openinference 82/94, braintrust 34/35. Then the 1.x user
# turn billed in Oct - Nov 2024 (dated_weights role_overhead): oscar 14/16, openinference 83/94, llm_gemini 52/57.
# Then function_calls took in the 28 answers only tests/evidence's copy held (1,405) and became the rule's evidence:
# 1219/1405 with 2.5's call written apart, 1363/1405 as one text (accounting.yaml function_call_outputs written_as),
# 1368/1405 with 2.0's top-level numbers (function_call_outputs per_number).
# Then Vertex 3's declarations read as + 8 per description and no typed node (tool_templates): ruby_llm 876/985,
# pydantic-ai's history 863/1097.
# Then the Gemini API's 1.5 outputs of 2024-10-09 … 2024-11-17 billed without their trailing whitespace
# (accounting.yaml trailing_whitespace_not_billed): openinference 84/94, oscar 15/16. Then 2.5's call written with
# its args' `{` apart (function_call_outputs args_brace_apart): function_calls 1373/1405. Then 2.5's calls of several
# args and lists of strings in the history (function_history per_call_with_several_args, per_string_list): ruby_llm
# 891/985, crewAI 107/121.
# Unseen check mined 2026-12-07 (agentjido/req_llm's JSON fixtures, every version; Gemini API and Vertex AI, 1.5 to
# 3.1, Sep 2025 - Apr 2026), measured before any new rule: 249/282 (the 3 errata.json not_evidence names left
# out); then the Vertex name gemini-3.1-pro-preview-customtools registered as 3.1 Pro (models.yaml): 251/282.
# sublayerapp/sublayer (Ruby VCR, Gemini API 1.0 / 1.5, May - Sep 2024), measured before any new rule: 3/40; its
# misses date three rules earlier than the answers they were fitted on (tests/data/PROVENANCE.md).
# charmbracelet/fantasy (go-vcr, agent turns with tools, function history and replayed thought signatures; 2.5 and
# 3 / 3.1 Pro, both APIs, Sep 2025 - Mar 2026), measured before any new rule: 204/309. The outputs that call
# functions of these three repositories (calls_heldout, unseen by function_call_outputs): 124/160. patvice/ruby_llm-mcp
# (Ruby VCR, Gemini API 2.0 Flash with MCP tools and function history, Jun 2025 - Feb 2026): 250/250, and its 7
# function-call outputs added to calls_heldout: 131/167.
# Then sublayer's dated spans: the 1.x user turn's +1 from 2024-08-26 to 2024-12-02, 1.5's trailing whitespace
# unbilled from 2024-08-26 and 1.5's responseSchema unbilled 2024-08-26 … 2024-12-02 (dated_weights response_schema):
# sublayer 31/40, oscar 16/16 (oscr-0007). Then the rules two repositories showed (Vertex 2.5 leaves a
# responseJsonSchema unbilled; Vertex 2.x bills a number of a function payload or a call's args 1; prompt_second_pass
# bounds 3.1 Pro's first requests of 2026-03-11 … 03-17): req_llm 258/282, fantasy 220/309, pydantic_ai_history
# 864/1093, calls_heldout 159/167.
# Then a 2.5 googleSearch follow-up given as text, answered in 16 tokens or more, counts a typical call
# (server_tool_calls estimate_follow_up_min_tokens): pydantic_ai_history 869/1093, req_llm 259/282.
# Unseen checks mined 2026-12-07 (Ruby VCR, every version), measured before any new rule: vicentereig/dspy.rb 102/113
# (Gemini API 1.5, 2.0, 2.5, Aug - Oct 2025; the misses are 1.5's response schemas), llmrb/llm 116/135 (Gemini API
# 1.5, 2.0, 2.5, Mar - Nov 2025; 1.5's response schemas, 2.5 calls answered in text parts). agentjido/req_llm's fixtures
# of May - Jun 2026 (3, 3.1, 3.5 and 2.5, Gemini API; the history after the req_llm set's, from a fork) 66/72: the
# misses are one declaration set, over by 8 on every 3.x model and under by 3 on 2.5 Flash-Lite. vxcontrol/langchaingo's
# own httprr traces (Gemini API 1.5, 2.0, 2.5, Jun - Jul 2025) 22/27, every miss a 2.0 stream inside its bounds.
# Then 2.5's declaration descriptions written with their lines after the first indented and without their final
# newlines, an edge underscore in a declaration's name a weight and the optional described properties weighed once
# per declaration (accounting.yaml tool_templates): Mirascope 417/456, crewAI 109/121, openinference 87/94;
# pydantic-ai's history 868/1093, its floor lowered once: the answer lost (pyd-1014) carries the same declarations as
# its first turn pyd-1013, which the new reading brings 4 closer (9 -> 5 under), so it was exact only because its
# history's 9 over made up for them (docs/counting.md open rule 3b). Then 2.0's nested payload numbers and its
# responseSchema's numeric bounds (function_history per_nested_number, response_schema per_bounded_node):
# openinference 89/94, braintrust 35/35. Then 2.5's call/response pair split 6 + 4 (function_history). Then 2.5 enums,
# numeric response properties and described OpenAPI integers weighed at the one repository's fit, bounded by the
# other reading (tool_templates, uncertain_seams): fantasy 248/309, req_llm 275/282, req_llm_2026 67/72; and on an
# unseen set, llmrb/llm's calls answered in text parts by the 6 + 4 split: 126/135.
# Then the Gemini API's 3.x declarations read as Gemma 4's tool-declaration text (tool_templates written_as):
# req_llm_2026 71/72, ellmer 68/88.
# Then a 3.x property its object does not require bounded (uncertain_seams optional_property, one repository):
# req_llm_2026 66/72 exact, its five 3.x misses inside their bounds (tests/test_seams_3x.py).
# google/adk-go's trace versions that ground_truth_2026.jsonl does not hold (agent turns, Sep 2025 - Mar 2026) 22/27,
# the rest 2.5 signature prompts under by 1 inside bounds at most 30 % wide. Their outputs that call functions
# (calls_heldout2: llm.rb, req_llm 2026, vxcontrol/langchaingo, adk-go; 2.0 to 3.5) 155/163, the misses adk-go's 2.5
# Flash calls of three string args, over by 1-2. 0xPlaygrounds/rig's httpmock cassettes (agent loops on 2.5 Flash and 3
# Flash, May - Aug 2026; 50 prompts replay signatures) 46/98 exact, 91/98 exact or inside bounds (the signature
# prompts 7 exact, 50 inside bounds at most 30 % wide); its 37 function-call outputs, appended to calls_heldout2: 37/37.
# newrelic/newrelic-python-agent's cassettes and google-genai replays (3.5 Flash agent turns through Google ADK and
# LangChain, Gemini API and Vertex AI, Mar - Aug 2026) 54/116 exact, 79/116 exact or inside bounds: Vertex 3.5's
# replayed signatures get a point value without bounds, 12 to 238 under; its 48 function-call outputs: 48/48. With
# Vertex 3.5's rules (every replayed turn's thoughts billed, text parts joined, a declared property 4, an enum 1, a
# function call and response 4 each): 63/116, every Vertex 3.5 signature turn exact or inside its bounds.
# werdnum/family-assistant's vcrpy cassettes (2.5 Flash / Flash-Lite agent turns, Jun 2025 - Feb 2026) 143/189, the
# misses 2.5 declarations over by 2 and outputs inside bounds; its 58 function-call outputs in calls_heldout2: 54/58.
# llm.rb's cassettes after the llm_rb set (0x1eef/llm.rb, Jan - Jul 2026, 3.1 Flash-Lite and 2.5 Flash) 37/38, and its
# 26 function-call outputs: 26/26.
# Mirascope/mirascope's TypeScript tests (Polly.js HAR recordings, 2.5 Flash through google-genai's JS SDK, Jan - Feb
# 2026), which the mirascope set does not read: 69/84 exact, 81/84 exact or inside bounds; its 9 function-call outputs
# in calls_heldout2: 9/9.
# Then 2.5's described OpenAPI NUMBERs weighed as its described INTEGERs (tool_templates
# per_declaration_with_described_numbers): rig 66/98; family-assistant's one optional described property bounded
# (uncertain_seams one_optional_described_property): 146/189 exact, its 29 misses inside bounds.
# ogx-ai/ogx's recorded google-genai calls (Vertex 2.0 Flash, Apr 2026; bodies rebuilt by the SDK version the project
# locked) 157/175: the misses are Vertex 2.0's parametersJsonSchema, billed nothing, and responseSchema, billed more.
# googleapis/js-genai's own test recordings (both APIs, 1.5 to 3 Pro preview, Aug 2025 - Feb 2026) 155/200: Vertex
# bills no parametersJsonSchema / responseJsonSchema (1.5, 2.0, 2.5) and no replayed thoughts (2.5, 2025).
# googleapis/dotnet-genai's test recordings (2.0 Flash, both APIs, Aug 2025) 37/40: schemas with titles billed more.
# Copies of stored index versions of two repositories too large to mirror: mastra-ai/mastra (2.5 Flash agent turns of
# Jul 2026, 3.1 Pro preview, 3.6 Flash of Sep 2026) 52/62, declarations with anyOf / nullable billed 10 to 18 more;
# wandb/weave 6/7.
# Their outputs that call functions (calls_heldout3: js-genai, dotnet-genai, mastra) 49/57: Vertex 3 Pro preview's and
# streamed-argument calls (partialArgs, willContinue) miss.
# With those rules (accounting.yaml tool_templates and response_schema json_schemas_counted, Vertex 2.5's dated
# replayed_thoughts, Vertex 3's declarations of 2025-12-01 in dated_weights) and Vertex 2.0's responseSchema
# (propertyOrdering, bounded nodes, closed objects): js-genai 185/200, ogx 175/175, dspy.rb 114/115, fantasy 252/309,
# req_llm 276/282.
# More of their index versions copied (mastra's other agent-gemini test files, 2.0 Flash of Mar 2026, a
# googleSearch answer of May 2026; weave's other Gemini API cassettes), measured before any new rule: mastra
# 135/149 (the 87 new 83 exact: the same anyOf / nullable cluster, 16 to 20 under), weave 8/9, calls_heldout3 52/60.
# With 2.5's anyOf weights (accounting.yaml tool_templates), a call's later arguments and objects beside other keys
# and control characters weighed (function_history), 2.5's declaration seams (uncertain_seams) and 2.0's
# responseSchema typed nodes unbilled until 2025-04-28 (dated_weights): mastra 140/149, weave 9/9, crewAI 111/121,
# js-genai 190/200, llm-gemini 53/57.
# Then the mined outputs of streams replayed as the chunks their streams returned (tests/evidence/streamed_outputs.json,
# 152 records; accounting.yaml streamed_chunks_apart): Mirascope 428/456, fantasy 266/309, Mirascope TypeScript 74/84,
# ruby_llm 897/985, lmnr 38/38.
# With calls streamed in pieces joined and weighed (accounting.yaml streamed_call_arguments: partialArgs outputs
# exact, replayed ones bounded) and 2.0 responseSchema titles (Vertex) and defaults (both APIs): calls_heldout3
# 57/60, dotnet-genai 40/40, js-genai 191/200.
# With 3.x declarations written as JSON Schema read as their Schema message (a JSON Schema enum given `format: enum`
# on both APIs; Vertex 3's titles, formats, response schemas and open objects weighed: accounting.yaml tool_templates,
# bounded by uncertain_seams): newrelic 73/116.
# With 2.5's formats read as nothing (tool_templates reads_formats; rig's int32 formats, bounded by uncertain_seams
# format): rig 68/98. With a lone optional described property beside a required one 2 less and a string default
# read as text on 2.5 (tool_templates per_lone_optional_described_property, schema_strings; bounded): family-assistant
# 176/189.
# With a 2.5 call's top-level string ending a sentence (`.`, `!`) before another key 1 under the text
# (function_call_outputs per_string_ending_before_key; adk-go and Mirascope): function_calls 1376/1404, calls_heldout2
# 335/341; and an object of one string before another key 1 under (per_lone_string_object_before_key; mastra and
# pydantic-ai): function_calls 1377/1404, calls_heldout3 59/60.
MINED_HISTORY_FLOORS = {
    "llm_gemini": 0.929,
    "ruby_llm": 0.913,  # 900/985: Vertex 3's response schema read as indented JSON (rllm-0897, -0899, -0901)
    # 869/1088: the hand-written test_google_combined_tools_gemini_3 left out, and pyd-0041 / pyd-0211 (answers under
    # bodies edited after recording: errata.json not_evidence)
    "pydantic_ai_history": 0.798,
    "mirascope": 0.938,
    "ellmer": 0.77,
    "chatlas": 0.719,
    "crewai": 0.95,  # 115/121: a ' in a 2.5 payload's string written \' (crew-0080 … -0083; function_history)
    "openinference": 0.94,
    "otel_contrib": 0.97,  # 48/49 with Vertex 1.5's typed nodes unbilled before 2025-04-28 (dated_weights)
    "openllmetry": 1.0,
    "lmnr": 1.0,
    "logfire": 1.0,
    "braintrust": 1.0,
    "oscar": 1.0,
    "req_llm": 0.978,
    "sublayer": 0.77,
    "fantasy": 0.86,
    "calls_heldout": 0.964,  # 161/167: the 09-2025 previews' calls + 4 (reqllmc-0007, -0016; models.yaml snapshots)
    "ruby_llm_mcp": 1.0,
    # 1377/1404: a string arg ending with ')' 1 under (ddtrc-0004); a sentence's `.` / `!` before another key 1 under,
    # and an object of one string before another key (pydc-0691). 1379/1404: Mirascope's compute_fib after a thought
    # summary, a stream read joined, 1 less per summary (mirac-0248, -0249)
    "function_calls": 0.982,
    "dspy_rb": 1.0,  # 115/115: 1.5's responseSchema + 1 per typed node from 2025-04-29 (dsrb-0013; response_schema)
    "llm_rb": 0.985,  # 133/135: 1.5's responseSchema + 1 per typed node from 2025-04-29 (llmrb-0006 … -0040)
    "req_llm_2026": 0.98,
    "langchaingo_vxcontrol": 0.81,
    "adk_go_history": 0.81,
    # 335/341: family-assistant's print(1 + 1) calls (famac-0016 …), 1 under; adk-go's rationale "… operation."
    # before another key, 1 under (adkgc-0025, -0056; function_call_outputs per_string_ending_before_key)
    "calls_heldout2": 0.982,
    "rig": 0.69,
    "newrelic": 0.629,
    "family_assistant": 0.93,
    "llm_rb_2026": 0.97,
    # 72/84: mirats-0067, -0068 were exact by two seams cancelling (the name_after_space seam their first turn
    # mirats-0066 shows 1 over, and the ' their payloads now bill, as crewAI's and Mirascope Python's): inside bounds
    "mirascope_ts": 0.857,
    "ogx": 1.0,
    "js_genai": 0.955,
    "dotnet_genai": 1.0,
    "mastra": 0.939,
    "weave": 1.0,
    "calls_heldout3": 0.983,  # 59/60: mastra's objects of one string before another key (mastrac-0006, -0007)
    "litellm": 0.9,  # 9/10: Vertex 3.1 Pro preview billed "Hello." 1 (lite-0007; PROVENANCE.md)
    # 7/35 when mined, every one exact or inside its bounds: ADK declarations with titles and enums, and turns
    # replaying signatures without their history (PROVENANCE.md mined_late_2026); mastra's 3.6 Flash answers 3/3.
    # 17/35 with 3.x's JSON Schema declarations (tool_templates), fitted on newrelic's earlier cassettes.
    "late_2026": 0.48,
    "calls_heldout4": 1.0,  # 21/21: Vertex and Gemini API 3.5 Flash calls of Google ADK agents, 2026-09
    # 52/59 when mined, before any rule (PROVENANCE.md mined_late_2026b): werdnum/family-assistant's Gemini API 3.6,
    # 3.7 and 3.8 Flash answers of 2026-07 ... 09; prompts 29/36 (the 7 misses: turns replaying signatures without
    # their history, every one inside its bounds), outputs 23/23. 51/59 with the streamed responses' signature-size
    # readings (accounting.yaml signature_size by_generation streamed), which these streamed turns check unseen: the
    # eight size-read turns' point errors 14, 29, -2, 0, 1, 17, 42, 11 -> 7, 3, -9, -6, -7, 11, 8, 5 (mean |error|
    # 14.5 -> 7.0), all still inside bounds at most 18 % wide; fama2-0039 had been exact by chance (0 -> -6).
    # 51/62 with fama3-0001 ... -0003 (mine19: the same repository's reproduces_bug[postgres] replay of 3.6 Flash,
    # unseen): three turns replaying signatures without their history, each inside its bounds and exact given it;
    # the floor follows the added records, no record that was exact is lost.
    # 53/69 with mine20's fama4-0001 ... -0007 (the same repository's with_tool_calls[postgres] replay on 3.8 Flash,
    # index version 12b666a7fe, unseen): both outputs exact, its 5 prompts 13 over each (its execute_script
    # declaration, an ARRAY of open OBJECTs beside two open OBJECT properties, read 13 heavier than billed; exact
    # but for that given their history): restated lower (0.822 -> 0.768), no record that was exact is lost. 54/71 with
    # fama5-0001, -0002 (its 3.6 Flash non_streaming[postgres] replay at 6ad45c07e3, unseen: the output exact, the
    # signature turn inside narrow bounds and exact given its history): 0.760. 58/77 with fama6-0001 ... -0006 (its
    # 3.7 Flash non_streaming[sqlite] replay at b0f27863c1, unseen: 4/6 exact, the two signature turns inside narrow
    # bounds and exact given their history): 0.753. 60/81 with fama7-0001 ... -0004 (its 3.7 non_streaming[postgres]
    # replay at 422352a2bf, unseen: both outputs exact, both signature turns inside narrow bounds): 0.740. 62/86 with
    # fama8-0001 ... -0005 (its 3.7 with_tool_calls[postgres] replay at 422352a2bf, unseen: the output and fama8-0001
    # exact, the other three signature turns inside narrow bounds, all exact given their history): 0.720. 64/92 with
    # mine21's fama9-0001 ... -0006 (its 3.8 reproduces_bug[postgres] replay at 12b666a7fe, unseen: both outputs
    # exact; the first prompt of the second turn, fama9-0004, 13 over at its bounds' lower edge, the three signature
    # turns inside bounds and 13 over given their history: fama4's declaration gap again): 0.695. 68/100 with
    # fama10-0001 ... -0008 (its 3.8 with_tool_calls[sqlite] replay at 32f157b23d, unseen: both first prompts, with
    # the declaration without `script_bindings`, and both outputs exact; the four signature turns inside narrow bounds,
    # exact given their history): 0.680. 72/106 with fama11-0001 ... -0006 (its 3.7 reproduces_bug[sqlite] replay at
    # 422352a2bf, unseen: 4/6 exact, fama11-0002 by the size reading's point; -0001 and -0005 inside narrow bounds,
    # exact given their history): 0.679. 72/108 with fama12-0001, -0002 (its 3.6 with_tool_calls[sqlite] replay at
    # 55e30f1c97, unseen: both signature turns inside narrow bounds and exact given their history): 0.666. 72/111 with
    # fama13-0001 ... -0003 (its 3.6 reproduces_bug[sqlite] replay at 55e30f1c97, unseen: the three signature turns
    # inside narrow bounds, exact given their history): 0.648. 75/120 with fama14-0001 ... -0009 (its 3.8
    # reproduces_bug[sqlite] replay at 32f157b23d, unseen: 3/9 exact, the other six inside their bounds, fama14-0004 at
    # 31 % wide, all exact given their history): 0.625. 77/124 with fama15-0001 ... -0004 (its 3.8
    # non_streaming[sqlite] replay at 5b68c4f045, unseen: both outputs exact, both signature turns inside narrow bounds
    # and exact given their history): 0.620. 77/118 with fama4's five prompts and fama9's four moved to errata.json
    # (bodies edited after recording, none of them exact) and fama16-0001 ... -0003 (the same exchanges' bodies as sent,
    # at 32f157b23d: inside narrow bounds, exact given their history): 0.652. 78/122 with mine22's fama17-0001 ... -0004
    # (fama9's exchanges under the bodies sent, stored at 5b68c4f045, unseen: the second turn's first prompt exact
    # with the declaration without `script_bindings`, the three signature turns inside narrow bounds, exact given
    # their history): 0.639, no record that was exact is lost. 81/129 with fama18-0001 ... -0007 (its 3.7
    # reproduces_bug[postgres] replay at b0f27863c1, unseen: the second turn's first prompt and both outputs exact, the
    # four signature turns inside narrow bounds, exact given their history): 0.627. 83/131 with fama19-0001, -0002
    # (its vcrpy cassette test_shipped_default_retry_pair_completes_a_turn at 5b68c4f045, 3.8 Flash, unseen: prompt
    # and output exact): 0.633. 85/133 with fama20-0001, -0002 (its vcrpy cassette test_google_structured_output_with_
    # strict_schema at 87852279c6: Gemini API 2.5 Flash-Lite of 2026-08-28 with a strict responseJsonSchema, unseen:
    # prompt and output exact): 0.639. 87/135 with fama21-0001, -0002 (its 3.8 Flash pydantic_validation_reproducer
    # replay at 12b666a7fe: a call and result replayed with the documented dummy signature, unseen: both exact): 0.644.
    "late_2026b": 0.644,
    # 15/15: the same recordings' calls (3.6, 3.7, 3.8 Flash), with mine19's fama3c-0001, -0002; 18/18 with mine20's
    # fama4c-0001 ... -0003 (3.8 Flash), fama5c-0001 (3.6 Flash), fama6c-0001, -0002, fama7c-0001, -0002 and
    # fama8c-0001 ... -0004 (3.7 Flash): 27/27; 30/30 with mine21's fama9c-0001 ... -0003 (3.8 Flash), 34/34 with
    # fama10c-0001 ... -0004 (3.8 Flash), 37/37 with fama11c-0001 ... -0003 (3.7 Flash),
    # 39/39 with fama12c-0001, -0002 and 41/41 with fama13c-0001, -0002 (3.6 Flash);
    # 47/47 with fama14c-0001 ... -0006 and 49/49 with fama15c-0001, -0002 (3.8 Flash); 53/53 with mine22's
    # fama18c-0001 ... -0004 (3.7 Flash)
    "calls_heldout5": 1.0,
    # 341/434 when mined, before any rule (PROVENANCE.md mined_maruel_genai): maruel/genai's Go recordings of the
    # Gemini API, 2025-05 ... 2026-08 (2.0 ... 3.7 Flash): text prompts exact; the misses are 2.5 declarations with a
    # `response` schema billed 1 over (36), 2.5 Flash-Lite preview 09-2025's declarations billed 7 to 14 under (4),
    # replayed signatures without their history, built-in tools' runs and 2.5 / 3.x streamed outputs. 359/456 with its
    # index copies past the mirror (mrgn2: 3.8 Flash, 3.5 Flash-Lite, 3.1 Pro preview, 2026-09 / 10, unseen: 18/22, the
    # 4 misses signature turns inside their bounds); 359/458 with its streamed 3.8 copies (mrgn3: the signature turn
    # inside its bounds, exact given its history; a responseSchema answer whose stream states 2 candidates tokens for
    # 19 of text): 0.783; 359/460 with mrgn4 (3.5 Flash-Lite and 3.1 Pro preview streamed signature turns, neither
    # exact, exact given their history): 0.780; 360/462 with mrgn5 (3.8 streamed OutOfOrder-2: the output exact, the
    # signature turn 1 over, inside narrow bounds, exact given its history): 0.779; 362/462 with 3.1 Flash-Lite's fetch
    # (server_tool_calls: mrgn-0363, -0418 exact, out40): 0.783. Its 2.5 `response` declarations (45 prompts, 1 over)
    # and Flash-Lite preview 09-2025's (4, 7 to 14 under) bounded since (uncertain_seams openapi_response_object,
    # declaration), not made exact: one repository shows each.
    "maruel_genai": 0.783,
    # 42/46: the same recordings' calls, 2.5 Flash preview 09-2025's four said 3 to 6 over (inside their bounds since
    # out40: uncertain_seams output_call_over_3); 48/52 with mrgn2c (6/6)
    "calls_heldout7": 0.923,  # 49/53 with mrgn3c-0001, 51/55 with mrgn4c, 52/56 with mrgn5c
    # 20/28 when mined, before any rule (PROVENANCE.md mined_late_2026c): google/adk-go's Gemini API 3.5 Flash agent of
    # 2026-08-31 (TestTailRetentionE2E); text prompts 7/7, outputs 13/14; its 7 turns replaying a text part's
    # signature 0/7 (4/7 inside bounds, 7/7 exact given their history): the signature-size reading's open rule.
    "late_2026c": 0.714,
    # 8/19 when mined, before any rule (PROVENANCE.md mined_late_2026d): lmnr-ai/lmnr-python's Google ADK agents on
    # Gemini API 3.5 Flash-Lite, 2026-08-25 (the first recorded answers of that model here); first prompts 3/3 and
    # outputs 5/5 exact; the 11 turns replaying a call's 96-byte signature 0/11, none inside its bounds (9 over, the
    # producing answers stated no thoughts: 11/11 exact given their history). An open rule (docs/counting.md); since
    # a signature of up to 96 bytes reads down to none (signature_size thoughtless_up_to_bytes) all 11 lie inside
    # narrow bounds, the point still 9 over.
    "late_2026d": 0.421,
    "calls_heldout6": 1.0,  # 11/11: the same agents' calls, 3.5 Flash-Lite, when mined
    # 3/5 when mined, before any rule (PROVENANCE.md mined_late_2026e): googleapis/dotnet-genai's own test recordings
    # of 2026-08-05, 3.5 Flash with a response schema and propertyOrdering: the Gemini API's prompt (48) and both
    # outputs exact; Vertex's two prompts billed 181 where the schema's typed nodes are read as 56 (inside bounds
    # [56, 224]: the Vertex 3 response-schema seam, open). 5/5 with Vertex 3's response schema read as indented JSON
    # (accounting.yaml response_schema written_as indented_json, fitted with ruby_llm's rllm-0897 …).
    "late_2026e": 1.0,
    # 247/318, media prompts with their bytes (212 before its rules; docs/media.md); 262/318 with an object below a
    # list item of a 2.5 payload billed nothing more (accounting.yaml function_history per_nested_object_in_list);
    # 277/349 with crewAI's 31 (15 exact: Gemini API 2.0's audio, video and mixed image misses; docs/media.md);
    # 278/349 with a silent video's sound lasting its frames (rules.yaml silent_sound); 322/349 with a text document
    # beside an image read as text, 25/s audio on the Gemini API's 1.5 / 2.0 generateContent and its 2.0 video frame
    # at 258 from 2025-09-19 (docs/media.md); 322/348 with pydm-0007 left out (errata.json: the bytes kept are not
    # those answered); 435/469 with maruel/genai's 121 held out (112 exact: its 2.5 silent MP4 of a whole 4 s billed
    # 5 frames and sound 129, docs/counting.md open rule 16); 438/469 with 2.0's frames of May - June 2025 at 260 (two
    # repositories: pydantic-ai, maruel/genai; rules.yaml's dated call overrides)
    "media": 0.933,
}


def test_every_mined_set_has_a_floor() -> None:
    """A set added to tests/data is measured here (and listed by tools/parity_table.py) from its first commit."""
    assert sorted(MINED_HISTORY_FLOORS) == mined_history_names()


def test_replayed_thought_bounds_hold_on_the_mined_sets() -> None:
    """The signature-size readings (accounting.yaml signature_size) were fitted on tests/data/conversations_2026 only;
    the mined sets' agent turns that replay signatures, without their history, are their held-out check: of the
    384 that carry bounds, 358 hold the recorded prompt (2026-12-06; 324 with the readings before); with Vertex 2.5's
    reach (accounting.yaml replayed_thoughts_reach) 370 of 386; with a server-side tool's signatures read as not
    thoughts (mined-0241) and the caller saying which conversations streamed (crew-0121 held; mira-0342 no longer
    bounded: a whole response's signature, billed nothing) 373 of 385; with the payload and declaration seams of 2.5
    (accounting.yaml function_history, uncertain_seams) 394 of 414; with the runs of built-in tools bounded
    (accounting.yaml tool_runs_in_prompt: mined-0238, -0244 and the code-execution replays) 408 of 422. The rest miss
    by other open rules (tool schemas, replayed thoughts). Of those held, 328 are at most 30 % wide ((high - low) /
    low), with Vertex 2.5 signatures read by a reading of their own (accounting.yaml signature_size by_generation;
    320 without). With charmbracelet/fantasy's agent turns (an unseen check mined 2026-12-07, measured before any
    new rule: 45 of its 52 bounded held, 18 of them at most 30 % wide): 453 of 474, 346 narrow. With Vertex 2.x's
    numbers billed (accounting.yaml function_history per_number) pyd-0913 is exact, no longer bounded: 452 of 473,
    347 narrow, and the exact ones 354. With 2.5's declaration descriptions written with their lines indented and
    the edge-underscore name a weight (accounting.yaml tool_templates), Mirascope's formatted-output turns are exact,
    no longer bounded by those seams: 430 of 445, 325 narrow, 370 exact; exact or held 776 (778 before: pyd-1014 =
    mined-0232, exact before only because its declarations' miss, which its first turn pyd-1013 shows, made up for
    its function history's, is now 4 over outside its number seam's bounds). With 2.5's enums, numeric response
    properties and described OpenAPI integers at one repository's fit (tool_templates): 374 exact. With the Gemini
    API's 3.x declarations read as their written text (tool_templates written_as) ellmer's parameterless
    declarations count 8 less each: its signature turns elmr-0042 and -0076 are then exact given the producing
    response's thoughts (100 + 164 = 264, 100 + 155 = 255; 16 over before), and their size-read bounds, as many
    tokens wide over a point 16 lower, 30.5 % and 30.6 % wide: 346 narrow. With both: 431 of 446, 324 narrow, 380
    exact. With the unseen checks mined 2026-12-07 after these (dspy.rb, llm.rb, req_llm
    2026, vxcontrol/langchaingo, adk-go's other trace versions, rig, newrelic; measured before any new rule): 526 of
    554 held, 417 narrow, 382 exact; the 7 new misses are newrelic's Gemini API 3.5 LangChain turns, whose
    signature-size estimate is over the top of its bounds (tests/data/PROVENANCE.md). With every rule above: 503 of 526
    held, 405 narrow, 427 exact. With Vertex 3.5's replayed thoughts billed (all turns) and Vertex 3's function history
    (4 per call and response): 531 bounded, 508 held, 406 narrow, 429 exact. Measured again with 3.x's JSON Schema
    declarations and response schemas bounded (accounting.yaml uncertain_seams): 540 bounded, 517 held, 411 narrow,
    452 exact. With the unseen checks mined after these (ogx-ai/ogx, googleapis/js-genai, mastra-ai/mastra's index
    copies; measured before any new rule, 2026-12-07): 550 bounded, 520 held, 413 narrow, 452 exact; the new misses
    are Vertex 2.5's replayed signatures of 2025 (jsgenai-0006, -0007, -0132, -0182), which Vertex did not bill, and
    mastra-0041, -0042, -0049, under their bounds by the declarations' gap, 18 to 20 tokens (tests/data/PROVENANCE.md).
    With Vertex 2.5's replayed thoughts dated (accounting.yaml replayed_thoughts: none up to 2025-08-16, a whole
    response's none through 2025-11-19) those four and fantasy's whole-response turns of 2025-11-19 (fnts-0217, -0219,
    -0221, -0226) are exact, no longer bounded:
    542 bounded, 520 held, 413 narrow, 460 exact. More of mastra's index versions (measured before any new rule,
    2026-12-07) add two 2.5 Flash generateContent turns replaying signatures (mastra-0064, -0065), neither exact nor
    bounded (under by 17 and 16, the declarations' gap): the counts above stand. With 2.5's anyOf weights, a nested
    declaration object, a response property named as a parameter and a type list bounded (tool_templates,
    uncertain_seams), and a call's later arguments, objects beside other keys and control characters weighed
    (function_history): mastra-0042, -0046 and pyd-1014 held, mastra-0064, -0065 and js-genai's jsgenai-0128, -0143,
    -0179 exact (the last three bounded by the control character's seam): 548 bounded, 529 held, 422 narrow, 465
    exact. Measured again after 3.x's JSON Schema declarations and with 2.5's formats read as nothing, a recursive
    definition expanded 5 times and a JSON Schema enum bounded (tool_templates, uncertain_seams): rig-0078 exact,
    549 bounded, 530 held, 423 narrow, 467 exact. With a lone optional described property beside a required one 2
    less and a string default read (tool_templates, bounded): fama-0177 exact, 468 exact. With the nested objects'
    seam counted as the template reads the declaration (a definition reached only through additionalProperties
    bounds nothing), pyd-0273 and pyd-0402, exact, carry no bounds: 547 bounded, 528 held, 421 narrow, 468 exact.
    With the unseen check mined_late_2026 (3.5 Flash agent turns of September 2026, both APIs; its 16 signature
    turns all held, 8 narrow): 563 bounded, 544 held, 429 narrow, 468 exact. With streamed responses' readings of their
    own where the record says the call streamed (accounting.yaml signature_size by_generation `streamed`: the Gemini
    API's 3.x in place of the general readings, its 2.5 beside them): 555 held, 439 narrow; with a streamed 3.x
    signature's point value at their median k (4.5) three more land on the recorded count by chance: 471 exact.
    Measured on main before mine19's sets: 573 bounded, 565 held, 449 narrow, 474 exact. With family-assistant's
    fama3-0001 ... -0003 (3.6 Flash, held, narrow) and adk-go's 3.5 Flash tail-retention turns of 2026-08-31
    (mined_late_2026c, unseen, before any rule: 4 of 7 held, all narrow): 583 bounded, 572 held, 456 narrow, 474
    exact. The three not held, adkg3-0007, -0011 and -0023, are billed under their bounds' lower edge: a text part's
    unstreamed 3.5 signature carrying more bytes per thought than the readings allow, one repository, open
    (docs/counting.md "Open rules" 11). With lmnr-ai/lmnr-python's Gemini API 3.5 Flash-Lite agents of 2026-08-25
    (mined_late_2026d, unseen, before any rule): 594 bounded, 572 held, 456 narrow, 474 exact; none of its 11 turns
    replaying a call's 96-byte signature is held: each is billed 9 under the point value and 3 under the lower edge,
    the producing answers having stated no thoughts (exact given their history; "Open rules" 11). With
    family-assistant's 3.8 Flash with_tool_calls[postgres] replay (fama4, mine20, unseen): 597 bounded, 574 held,
    458 narrow, 474 exact; of its 3 turns 2 held and narrow, fama4-0002 billed 549, 3 under its bounds' lower edge
    (552): every one of its prompts is 13 over by its declaration (an array of open objects, "Open rules"
    11), the replayed thoughts exact given their history. With its 3.6 Flash non_streaming[postgres] replay (fama5-0001,
    unseen: held and narrow, exact given its history): 598 bounded, 575 held, 459 narrow, 474 exact; with its 3.7
    Flash non_streaming[sqlite] replay (fama6-0002, -0003: held and narrow, exact given history): 600, 577, 461, 474;
    with its 3.7 non_streaming[postgres] replay (fama7-0001, -0002: held, narrow, exact given history): 602, 579,
    463; with its 3.7 with_tool_calls[postgres] replay (fama8, 4 turns: all held and narrow, fama8-0001 exact, all
    exact given history): 606 bounded, 583 held, 467 narrow, 475 exact. With a signature of up to 96 bytes read down
    to none (accounting.yaml signature_size thoughtless_up_to_bytes: lmnr's 11 turns held and narrow) and 3.x's arrays
    of objects without properties bounded 13 under (a seam since withdrawn: fama4-0002 held): 606 bounded,
    595 held, 479 narrow, 475 exact. With mine21's fama9-0001, -0002, -0005 (family-assistant's 3.8 Flash
    reproduces_bug[postgres] replay at 12b666a7fe, unseen, before any rule: all held and narrow, none exact, each 13
    over given its history, the declaration's gap): 609 bounded, 598 held, 482 narrow, 475 exact. With its 3.8
    with_tool_calls[sqlite] replay at 32f157b23d (fama10-0002, -0003, -0006, -0007, unseen: all held and narrow, exact
    given their history): 613 bounded, 602 held, 486 narrow, 475 exact. With its 3.7 reproduces_bug[sqlite] replay at
    422352a2bf (fama11-0001, -0002, -0005, unseen: all held and narrow, -0002 exact by the size reading's point, all
    exact given their history): 616 bounded, 605 held, 489 narrow, 476 exact. With its 3.6 with_tool_calls[sqlite]
    replay at 55e30f1c97 (fama12-0001, -0002, unseen: held and narrow, exact given their history): 618 bounded, 607
    held, 491 narrow, 476 exact. With its 3.6 reproduces_bug[sqlite] replay at 55e30f1c97 (fama13-0001 ... -0003,
    unseen: held and narrow, exact given their history): 621 bounded, 610 held, 494 narrow, 476 exact. With its 3.8
    reproduces_bug[sqlite] replay at 32f157b23d (fama14-0001 ... -0004, -0007, -0008, unseen: all held, 5 narrow,
    fama14-0004 31 % wide, all exact given their history): 627 bounded, 616 held, 499 narrow, 476 exact. With its 3.8
    non_streaming[sqlite] replay at 5b68c4f045 (fama15-0001, -0002, unseen: held and narrow, exact given their
    history): 629 bounded, 618 held, 501 narrow, 476 exact. Restated lower with fama4's and fama9's prompts moved to
    tests/data/errata.json (their request bodies were edited after recording: the same exchanges are stored at
    32f157b23d under the bodies sent, mined as fama16-0001 ... -0003, held and narrow, exact given their history):
    626 bounded, 615 held, 498 narrow, 476 exact. With such a signature read as none at the point too
    (thoughtless_up_to_bytes: lmnr's 11 turns exact) and bare_object_items withdrawn (its evidence was fama4's edited
    bodies): 626 bounded, 615 held, 498 narrow, 487 exact. With Vertex 2.5 Pro's streamed parallel calls bounded down to
    none (accounting.yaml replayed_thoughts_reach may_bill_none: fnts-0223, -0288 held) and Vertex's bare 3.x signatures
    read by a reading of their own (signature_size by_generation framing: 13 of newrelic's and pydantic-ai's Vertex 3.5
    / 3 Flash turns narrow): 626 bounded, 617 held, 511 narrow, 487 exact. With mine22's fama17-0001, -0002, -0004
    (fama9's exchanges under the bodies sent, stored at 5b68c4f045, unseen: held and narrow, exact given their history):
    629 bounded, 618 held, 501 narrow, 487 exact. With fama18-0001 ... -0003, -0006 (its 3.7 reproduces_bug[postgres]
    replay at b0f27863c1, unseen: held and narrow, exact given their history): 633 bounded, 622 held, 505 narrow, 487
    exact. With fama21-0001 (its 3.8 pydantic_validation_reproducer replay, the dummy signature: exact, at the upper
    edge of the `replayed_function_response` seam): 634 bounded, 623 held, 506 narrow, 488 exact. With maruel/genai's
    Gemini API agent turns (mined_maruel_genai, mine22, unseen, before any rule: 24 bounded, 16 held and narrow, 3
    exact): 658 bounded, 639 held, 522 narrow, 491 exact; the 8 not held (mrgn-0123, -0125, -0136, -0143, -0145, -0203,
    -0255, -0307: 2.5 Flash, Flash-Lite and Pro, 2025-07 ... 2026-05) are each billed 1 over the upper edge of the
    number seam's bounds, with declarations carrying a `response` schema that its first turns show billed 1 over as well
    (docs/counting.md "Open rules" 11): restated, not fitted. With its index copies past the mirror (mrgn2, 3.8 Flash,
    3.5 Flash-Lite and 3.1 Pro preview of 2026-09 / 10, unseen: 5 turns, all held, 4 narrow, 1 exact): 663 bounded, 644
    held, 526 narrow, 492 exact; with its streamed 3.8 copy (mrgn3-0001: held, 33 % wide) 664 bounded, 645 held; with
    its 3.5 Flash-Lite and 3.1 Pro preview streamed turns (mrgn4-0001 held; -0002, 3.1 Pro, billed 209, 1 under its
    lower edge 210, exact given its history): 666 bounded, 646 held (20 not held); with its streamed 3.8 OutOfOrder-2
    turn (mrgn5-0001: held and narrow, exact given its history): 667 bounded, 647 held, 527 narrow. Measured again after
    merging main (c52e17a: Vertex 2.5 Pro's parallel calls and Vertex's bare 3.x signatures), with every record above:
    670 bounded, 652 held, 543 narrow, 493 exact. With an OpenAPI `response` object on 2.5 bounded 0 … + 1
    (accounting.yaml uncertain_seams openapi_response_object: maruel/genai's eight turns above now held and narrow):
    670 bounded, 660 held, 551 narrow, 493 exact."""
    held = bounded = narrow = exact = 0
    for records in [load_mined(), *(load_mined_history(name) for name in MINED_HISTORY_FLOORS)]:
        for record in records:
            request = json.dumps(record["request"])
            if record["kind"] != "input" or "thoughtSignature" not in request or is_multimodal(record):
                continue
            result = replay(record)
            exact += result.exact
            if result.bounds is not None:
                bounded += 1
                held += result.within_bounds
                narrow += result.within_bounds and result.bounds_width <= 0.3
    assert bounded >= 670 and held >= 660 and bounded - held <= 10 and narrow >= 551 and exact >= 493


def test_built_in_tool_outputs_on_2_5_are_exact_or_held() -> None:
    """The mined sets' Gemini API 2.5 outputs whose request declares googleSearch, fileSearch or googleMaps, each
    replayed as the candidate its record keeps: an answer is exact or carries bounds that hold (accounting.yaml
    server_tool_calls), never a point value presented as exact that misses. 54 answers, 23 exact, 54 held
    (2026-12-07; 45 held before 2.5's file and Maps searches were bounded and the search's text-only bounds widened
    per answer segment: llmrb-0124, llmrb2-0013, reqllm-0195 above their bounds, pyd-0257, -0259, -0296, -0298,
    -0865, -0867 presented as exact). With maruel/genai's (mined_maruel_genai, mine22, unseen): 64 answers, 24 exact, 63
    held; mrgn-0387 (2.5 Flash, a file search of 2026-05-30) is billed 28, 10 over its bounds [9, 18] (one chunk
    retrieved, 19 past the text where the seam allows 14 to 18): restated, not fitted."""
    total = held = exact = 0
    for name in MINED_HISTORY_FLOORS:
        for record in load_mined_history(name):
            model = record.get("model") or ""
            if record["kind"] != "output" or api_of(record) != "gemini" or not model.startswith("gemini-2.5"):
                continue
            tools = json.dumps((record.get("origin_request") or {}).get("tools", [])).replace("_", "").lower()
            if is_multimodal(record) or not any(t in tools for t in ("googlesearch", "filesearch", "googlemaps")):
                continue
            result = replay(record)
            total += 1
            exact += result.exact
            held += result.exact or (result.bounds is not None and result.within_bounds)
    assert total >= 64 and held >= total - 1 and exact >= 24


@pytest.mark.parametrize("name", sorted(MINED_HISTORY_FLOORS))
def test_parity_on_mined_cassette_histories(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _mined_rate(name, load_mined_history(name), capsys) >= MINED_HISTORY_FLOORS[name]


def test_every_text_record_is_answered() -> None:
    """Refusals are misses too, but a refusal of a recorded request is a parser bug: none is allowed."""
    refused = [(r.record["id"], r.note) for r in replays() if r.got is None]
    assert refused == []


def test_billable_characters_match_where_recorded() -> None:
    checked = 0
    for record in RECORDS:
        expected = record["expected"].get("totalBillableCharacters")
        if expected is None or record["endpoint"] != "vertex":
            continue
        request = record["request"]
        if record["kind"] == "output":
            request = {"instances": [{"prompt": record["text"]}]}
        assert vertexmeter.count(record["model"], request).billable_characters == expected, record["id"]
        checked += 1
    assert checked >= 3


def test_google_local_tokenizer_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    """The same countTokens items through google-genai's LocalTokenizer method, for comparison.

    Its method is the raw sum of the texts (checked equal to vertexmeter's Vertex 2.5 count in
    test_differential); it knows only the model names in its loader and no API dialect.
    """
    loader = pytest.importorskip("google.genai._local_tokenizer_loader")
    from vertexmeter.counting.texts import prompt_texts
    from vertexmeter.registry import resolve
    from vertexmeter.requests import parse_count_request
    from vertexmeter.tokenizing import get_tokenizer

    items = [r for r in RECORDS if r["api"] == "countTokens"]
    exact = answered = 0
    for record in items:
        try:
            family = loader.get_tokenizer_name(record["model"])
        except ValueError:
            continue  # the SDK refuses the model name: no answer
        body = dict(record["request"])
        body = body.get("generateContentRequest", body)
        body = {k: v for k, v in body.items() if k != "model"}
        prompt = parse_count_request(resolve(record["model"]), body, "vertex")
        tokenizer = get_tokenizer(family)
        total = sum(len(tokenizer.encode(text)) for text, _ in prompt_texts(prompt))
        answered += 1
        exact += total == record["expected"]["totalTokens"]
    vertexmeter_exact = sum(r.exact for r in summary(replays())["countTokens"])
    with capsys.disabled():
        print(
            f"\nbaseline google-genai LocalTokenizer countTokens: {exact}/{len(items)} exact "
            f"(it answers {answered}, refuses the other model names); "
            f"vertexmeter: {vertexmeter_exact}/{len(items)}"
        )
    assert vertexmeter_exact > exact


# tests/data/ground_truth_2026.jsonl: 338 answers of 2025-03 … 2026-08, mostly agent turns with tools, function
# history and replayed thought signatures. Each input record is replayed twice: with its conversation's earlier
# responses (`history=`, from tests/data/conversations_2026.jsonl.gz) and without them, where an agent turn whose
# replayed thoughts cannot be known must carry `bounds` that hold the recorded value. The floors are the measured
# rates (docs/counting.md lists every miss with its open rule): 2026-12-06, with the 2.5 payload keys sorted and the
# uncertain seams, 305/338 with history and 312/338 exact or bounded alone; with a key named as its function on 2.5
# (accounting.yaml function_history, tool_templates) 311/338 and 314/338; with 2.5's trailing whitespace not billed
# (accounting.yaml output_newlines) 312/338 and 315/338; with 3.x function payloads written as Gemma 4's tool-call
# format and BOOLEAN-typed declaration nodes (accounting.yaml function_history, tool_templates) 317/338 and 316/338;
# 2026-12-07, with streamed answers given joined bounded where the record names streamGenerateContent
# (accounting.yaml streamed_output_bounds, usage(streamed=)) and a record's elided media sent as recorded, 317/338
# and 333/338; with 2.5's calls of several args and lists of strings (function_history) and the declaration seams
# (uncertain_seams: blank lines in a description, numeric response properties) 319/338 and 336/338; with the first
# requests of 3.1 Pro's days of a second pass bounded (prompt_second_pass: t3-0541) 319/338 and 337/338; with 2.5's
# declaration descriptions written with their lines indented (tool_templates: t3-0516, -0517) 321/338 and 337/338;
# with 2.5's numeric response properties weighed at adk-go's fit, bounded by the other reading (tool_templates,
# uncertain_seams: t3-0513, -0514) 323/338 and 337/338; with 2.5's streams billed chunk by chunk, each chunk's edge
# whitespace left out, 1 less per thought summary (streamed_chunks_apart) 336/338 and 337/338.
FLOORS_2026 = {"with history": 0.994, "exact or bounded": 0.997}


def _2026_results() -> list[tuple[Replay, Replay]]:
    """(replayed from the record alone, replayed with what the conversation gives: the earlier responses for a
    prompt, the whole response — a stream's chunks apart — for an output)."""
    return [replay_2026(record) for record in load_2026()]


def test_parity_on_2026_agent_traffic(capsys: pytest.CaptureFixture[str]) -> None:
    results = _2026_results()
    groups: dict[str, list[tuple[Replay, Replay]]] = defaultdict(list)
    for alone, given in results:
        groups[alone.group].append((alone, given))
    with capsys.disabled():
        print()
        for group, items in sorted(groups.items()):
            print(
                f"2026 {group}: with the conversation {sum(g.exact for _, g in items)}/{len(items)} exact "
                f"({sum(g.within_bounds for _, g in items)} exact or bounded); alone: "
                f"{sum(a.exact for a, _ in items)} exact, {sum(a.within_bounds for a, _ in items)} exact or bounded"
            )
    total = len(results)
    with_history = sum(given.exact for _, given in results) / total
    bounded = sum(alone.within_bounds for alone, _ in results) / total
    with capsys.disabled():
        print(f"2026 TOTAL: with the conversation {with_history:.1%} exact; alone {bounded:.1%} exact or bounded")
    assert with_history >= FLOORS_2026["with history"]
    assert bounded >= FLOORS_2026["exact or bounded"]


def test_an_answer_with_bounds_is_never_a_silent_point_value() -> None:
    """Every 2026 agent turn that replays signatures, replayed without its history, is exact or says it is not."""
    for alone, given in _2026_results():
        request = alone.record["request"]
        signatures = any("thoughtSignature" in p for c in request.get("contents") or [] for p in c.get("parts", []))
        if alone.record["kind"] == "input" and signatures and not alone.exact and given.exact:
            assert alone.bounds is not None, alone.record["id"]


def _agent_turn(record: dict[str, Any]) -> bool:
    """A prompt that replays function calls / responses or thought signatures."""
    parts = [p for c in record["request"].get("contents") or [] for p in c.get("parts", [])]
    keys = ("functionCall", "functionResponse", "thoughtSignature")
    return record["kind"] == "input" and any(key in p for p in parts for key in keys)


def test_every_2026_agent_turn_is_exact_or_bounded() -> None:
    """Replayed alone (no earlier responses) and with them, every agent turn is exact or carries bounds that hold the
    recorded answer, at most 30 % wide (the widest: t3-0665, 26.4 %)."""
    turns = [(alone, given) for alone, given in _2026_results() if _agent_turn(alone.record)]
    assert len(turns) >= 89
    assert [a.record["id"] for a, _ in turns if not a.within_bounds] == []
    assert [g.record["id"] for _, g in turns if not g.within_bounds] == []
    wide = [a.record["id"] for a, _ in turns if not a.exact and a.bounds_width > 0.3]
    assert wide == []
    assert max(a.bounds_width for a, _ in turns) > 0.25  # not vacuous: the widest is near the limit


def test_every_answer_with_bounds_holds_the_recorded_value() -> None:
    """Over both ground-truth files (the 2026 one alone and with each conversation's earlier responses): an answer
    that says `bounds` is never outside them."""
    results = [replay(record) for record in RECORDS]
    results += [r for pair in _2026_results() for r in pair]
    bounded = [r for r in results if r.bounds is not None]
    # 109 since the 2.5 streams given as chunks are exact (accounting.yaml streamed_chunks_apart): fewer bounds
    assert len(bounded) >= 109
    assert [r.record["id"] for r in bounded if not r.within_bounds] == []


def test_every_recorded_output_given_whole_is_exact_or_inside_its_bounds() -> None:
    """2026 outputs given their whole responses: the Gemini API 2.5 streams bill chunk by chunk (accounting.yaml
    streamed_chunks_apart), so every stream is exact. Measured 2026-12-07: 125/126 exact (the one left: t3-0593, a
    whole answer); 112/126 exact before the chunks were billed apart, with 21 streams bounded. The only output
    bounds are a 3.x text's full stop (uncertain_seams text_ending_full_stop, fitted on the mined sets): 27 answers
    here, 26 exact, and t3-0593 ("… was 42.", 10 for 11) 1 under, inside them."""
    outputs = [given for _, given in _2026_results() if given.record["kind"] == "output"]
    bounded = [r for r in outputs if r.bounds is not None and "candidatesTokenCount" in r.bounds]
    assert all("a 3.x text ending with a full stop" in r.bounds["reason"] for r in bounded)  # type: ignore[index]
    assert all(r.record["model"].startswith("gemini-3") and r.record["text"].rstrip().endswith(".") for r in bounded)
    assert len(bounded) >= 27 and all(r.within_bounds for r in outputs if r.bounds is not None)
    assert [r.record["id"] for r in outputs if not r.exact] == ["t3-0593"]
    streams = [r for r in outputs if isinstance(whole_response(r.record), list)]
    assert len(streams) >= 21 and all(r.exact for r in streams)


def test_a_2026_output_replayed_alone_is_exact_or_bounded() -> None:
    """An output record keeps its text joined; its call (streamGenerateContent) says it streamed (usage(streamed=True)):
    the Gemini API's 2.0 and 2.5 streams are bounded as their chunks would be (t3-0394, -0398, -0401: 2 under
    joined, exact as chunks; the 13 2.5 streams off their text), the rest exact. Measured 2026-12-07: 109/126
    exact, 125/126 exact or bounded (316/338 alone before, these 16 carrying no bounds); the one left was t3-0593, a
    whole answer (open rule 6), inside since 2026-12-07 (126/126): a 3.x text ending with a full stop, bounded 1
    under."""
    outputs = [alone for alone, _ in _2026_results() if alone.record["kind"] == "output"]
    # t3-0593 inside since 2026-12-07: its full stop (uncertain_seams text_ending_full_stop).
    assert [r.record["id"] for r in outputs if not r.within_bounds] == []
    assert sum(r.exact for r in outputs) >= 109
    bounded = [
        r for r in outputs if r.bounds is not None and "a 3.x text ending with a full stop" not in r.bounds["reason"]
    ]
    assert all(streamed_call(r.record) for r in bounded)
    assert {r.record["model"][:10] for r in bounded} == {"gemini-2.0", "gemini-2.5"}
    assert {"t3-0394", "t3-0398", "t3-0401", "t3-0418", "t3-0510"} <= {r.record["id"] for r in bounded}


def test_every_2026_body_google_answered_is_answered() -> None:
    """0 refusals; the only records left out are those whose media bytes the record elides (`<omitted: …>`)."""
    refused = [
        (alone.record["id"], alone.note)
        for alone, _ in _2026_results()
        if alone.got is None and "<omitted:" not in json.dumps(alone.record["request"])
    ]
    assert refused == []


_ENUM_NUMBERS: dict[tuple[str, Any], str] = {("trafficType", 1): "ON_DEMAND"}


def test_usage_fields_match_every_recorded_answer() -> None:
    """trafficType (Vertex) and serviceTier (Gemini API) as the recorded usageMetadata carries them, by date."""
    sets = [load_2026(), load_records(), *(load_mined_history(name) for name in MINED_HISTORY_FLOORS)]
    checked, wrong = 0, []
    for record in (r for records in sets for r in records):
        raw = record.get("raw_usage") or {}
        if record["kind"] != "input" or call_of(record) != "generateContent" or not raw or is_multimodal(record):
            continue
        api = "gemini" if record["endpoint"] == "gemini-api" else "vertex"
        try:
            answer = vertexmeter.usage_metadata(record["model"], record["request"], api=api, as_of=record["recorded"])
        except vertexmeter.VertexMeterError:
            continue
        for name in ("trafficType", "serviceTier"):
            if raw.get(name) == "ON_DEMAND_FLEX":
                continue  # chosen by request headers (accounting.yaml usage_fields)
            if raw.get(name) == "PROVISIONED_THROUGHPUT":
                # the caller's project holds Provisioned Throughput (googleapis/dotnet-genai's test project,
                # dotnetgenai-0001, -0003): a property of the project, not of the body
                continue
            checked += 1
            # The vertexai SDK's REST transport records enums as their proto numbers (1 is ON_DEMAND)
            recorded = _ENUM_NUMBERS.get((name, raw.get(name)), raw.get(name))
            if answer.get(name) != recorded:
                wrong.append((record["id"], name, answer.get(name), raw.get(name)))
    assert checked > 1000 and wrong == []


@pytest.mark.parametrize(
    "record_id",
    [
        "t3-0548",
        "t3-0554",
        "t3-0590",
        "t3-0583",
        "t3-0620",
        "t3-0646",
        "t3-0633",
        "t3-0605",
        "t3-0640",
        "t3-0578",
        "t3-0589",
        "t3-0653",
    ],
)
def test_3x_function_history_scalars_and_nested_objects_on_recorded_turns(record_id: str) -> None:
    """accounting.yaml function_history (3): -2 per number, -1 per boolean, -1 per nested object, a response
    without payload for nothing, and on 3.5 +2 per list, with the conversation's earlier responses for the replayed
    thoughts."""
    record = next(r for r in load_2026() if r["id"] == record_id)
    result = replay(record, history=earlier_responses(record))
    assert result.got == result.expected


@pytest.mark.parametrize("record_id", ["t3-0537", "t3-0538", "t3-0559", "t3-0560", "t3-0562", "t3-0563"])
def test_a_key_named_as_its_function_on_recorded_2_5_turns(record_id: str) -> None:
    """accounting.yaml tool_templates (2.5) per_response_property_named_as_function: google/adk-go's `sum` answering
    {"sum": n}, two recordings (fitted on t3-0537 / -0538, checked on t3-0559 … -0563); their history's sum(a, b)
    calls by function_history's per_call_with_several_args."""
    record = next(r for r in load_2026() if r["id"] == record_id)
    result = replay(record, history=earlier_responses(record))
    assert result.got == result.expected


# function_history (2.5) per_call_with_several_args and per_string_list: fitted on crmne/ruby_llm's weather(latitude,
# longitude) and google/adk-go's t3-0328, checked on the rest (t3-0319 / -0321 hold both).
SEVERAL_ARGS_AND_STRING_LISTS = [
    ("ruby_llm", "rllm-0623"),  # 2025-09, no signature
    ("ruby_llm", "rllm-0672"),  # a whole response's signature, which bills nothing
    ("ruby_llm", "rllm-0705"),  # args in another order
    ("ruby_llm", "rllm-0976"),
    ("crewai", "crew-0117"),
    ("2026", "t3-0325"),
    ("2026", "t3-0328"),
    ("2026", "t3-0319"),
    ("2026", "t3-0321"),
]


@pytest.mark.parametrize(("name", "record_id"), SEVERAL_ARGS_AND_STRING_LISTS)
def test_calls_of_several_args_and_lists_of_strings_on_recorded_2_5_turns(name: str, record_id: str) -> None:
    records = load_2026() if name == "2026" else load_mined_history(name)
    record = next(r for r in records if r["id"] == record_id)
    history = earlier_responses(record) if name == "2026" else None
    result = replay(record, history=history)
    assert result.got == result.expected


def test_a_call_of_several_args_costs_one_less_and_a_list_of_strings_one_more() -> None:
    """The weights apply per call whose args hold two or more keys (not per response, not per argument) and per
    top-level non-empty list of strings only (not numbers, objects, nested lists), on the Gemini API's 2.5 alone."""

    def pair(args: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
        return {
            "contents": [
                {"role": "user", "parts": [{"text": "Go."}]},
                {"role": "model", "parts": [{"functionCall": {"name": "f", "args": args}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": response}}]},
            ]
        }

    def billed(body: dict[str, Any], model: str = "gemini-2.5-flash", api: str = "gemini") -> int:
        return vertexmeter.usage(model, body, api=api, as_of="2026-03-17").prompt_token_count

    def text(value: Any, model: str = "gemini-2.5-flash") -> int:
        return int(vertexmeter.count_tokens(model, json.dumps(value, sort_keys=True))["totalTokens"])

    one, two = {"a": "x"}, {"a": "x", "b": "y"}
    # the JSON texts' difference, one less for the second argument's call
    assert billed(pair(two, {"r": "z"})) - billed(pair(one, {"r": "z"})) == text(two) - text(one) - 1
    # a response of two keys costs its text
    assert billed(pair(one, two)) - billed(pair(one, {"r": "z"})) == text(two) - text({"r": "z"})
    many = {k: "x" for k in "abcdef"}
    # and one less for each argument after the second (function_history per_argument_beyond_two)
    assert billed(pair(many, {"r": "z"})) - billed(pair(one, {"r": "z"})) == text(many) - text(one) - 1 - 4
    for response, more in (
        ({"r": ["z"]}, 1),
        ({"r": ["z", "w"]}, 1),
        ({"r": [1, 2]}, 0),
        ({"r": [{"t": "z"}]}, 0),
        ({"r": []}, 0),
        ({"r": {"s": ["z"]}}, 1),  # nested: the nested object's + 1, no list weight
    ):
        assert billed(pair(one, response)) - billed(pair(one, {"r": "z"})) == text(response) - text({"r": "z"}) + more
    # Vertex 2.5 and the Gemini API's 3.x read payloads by their own rules (no such weight): the second argument
    # costs its key and value texts on Vertex ("b", "y"), and `,b:` `y` and two escape tokens on 3.x
    for model, api, second in (("gemini-2.5-flash", "vertex", 2), ("gemini-3-flash-preview", "gemini", 6)):
        assert billed(pair(two, {"r": "z"}), model, api) - billed(pair(one, {"r": "z"}), model, api) == second


def test_raw_prompt_token_count_where_recorded() -> None:
    """accounting.yaml raw_prompt_tokens: every recorded rawPromptTokenCount (google/adk-go's compaction test on 3.5,
    two recordings; the rule's weights come from the first alone), with the conversation's earlier responses."""
    checked = 0
    for record in load_2026():
        recorded = (record.get("raw_usage") or {}).get("rawPromptTokenCount")
        if record["kind"] != "input" or recorded is None:
            continue
        answer = vertexmeter.usage_metadata(
            record["model"],
            record["request"],
            api="gemini",
            as_of=record["recorded"],
            history=earlier_responses(record),
        )
        assert answer["rawPromptTokenCount"] == recorded, record["id"]
        checked += 1
    assert checked == 11
    # Before the first day answers carry it, and on models that do not report it, the field is absent.
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    assert "rawPromptTokenCount" not in vertexmeter.usage_metadata(
        "gemini-3.5-flash", body, api="gemini", as_of="2026-07-01"
    )
    assert "rawPromptTokenCount" not in vertexmeter.usage_metadata("gemini-2.5-flash", body, api="gemini")
    assert "rawPromptTokenCount" not in vertexmeter.usage_metadata("gemini-3.5-flash", body, api="vertex")
    today = vertexmeter.usage_metadata("gemini-3.5-flash", body, api="gemini")
    assert today["rawPromptTokenCount"] == today["promptTokenCount"] + 27 + 4


@pytest.mark.parametrize(
    ("name", "record_id"), [("ruby_llm", "rllm-0893"), ("ruby_llm", "rllm-0894"), ("pydantic_ai_history", "pyd-1042")]
)
def test_vertex_3_described_declarations_on_recorded_answers(name: str, record_id: str) -> None:
    """accounting.yaml tool_templates (Vertex 3): + 8 per description, no typed node; fitted on ruby_llm's two,
    checked on pydantic-ai's pyd-1042 (held out), each 7 or 8 under without it."""
    record = next(r for r in load_mined_history(name) if r["id"] == record_id)
    result = replay(record)
    assert result.got == result.expected


# accounting.yaml tool_templates (Gemini API 2.5) per_any_of_variant / per_any_of_null_variant, fitted on mastra's
# resumeData and checked on crewAI's filtered_search; function_history (2.5) per_control_character on js-genai's
# colour codes; dated_weights' 2.0 responseSchema typed nodes on weave.
ANY_OF_CONTROL_AND_DATED = [
    ("mastra", "mastra-0039"),
    ("mastra", "mastra-0040"),
    ("crewai", "crew-0113"),
    ("crewai", "crew-0114"),
    ("js_genai", "jsgenai-0128"),
    ("js_genai", "jsgenai-0143"),
    ("js_genai", "jsgenai-0179"),
    ("weave", "weave-0006"),
    # function_history (2.5) per_argument_beyond_two, per_nested_object_beside_keys: fitted on js-genai and mastra,
    # checked on llm-gemini
    ("js_genai", "jsgenai-0198"),
    ("js_genai", "jsgenai-0199"),
    ("mastra", "mastra-0064"),
    ("mastra", "mastra-0065"),
    ("llm_gemini", "llmg-0025"),
]


@pytest.mark.parametrize(("name", "record_id"), ANY_OF_CONTROL_AND_DATED)
def test_any_of_control_characters_and_2_0_response_schemas_on_recorded_answers(name: str, record_id: str) -> None:
    record = next(r for r in load_mined_history(name) if r["id"] == record_id)
    result = replay(record)
    assert result.got == result.expected


# accounting.yaml uncertain_seams (Gemini API 2.5): answers the point misses, each held by the bounds of the shape
# named (a nested declaration object, a null schema in an anyOf, a response property named as a parameter, a type
# list of several types).
BOUNDED_2_5_DECLARATIONS = [
    ("mastra", "mastra-0044", "an object nested"),
    ("mastra", "mastra-0045", "an object nested"),
    ("mastra", "mastra-0048", "an object nested"),
    ("mirascope", "mira-0115", "an object nested"),
    ("mirascope", "mira-0205", "an object nested"),
    ("ruby_llm", "rllm-0492", "an object nested"),
    ("pydantic_ai_history", "pyd-1013", "a null schema in an anyOf"),
    ("js_genai", "jsgenai-0145", "a response schema property named as a parameter"),
    ("js_genai", "jsgenai-0146", "a response schema property named as a parameter"),
    ("js_genai", "jsgenai-0147", "a response schema property named as a parameter"),
    ("js_genai", "jsgenai-0108", "a JSON Schema type list of several types"),
]


@pytest.mark.parametrize(("name", "record_id", "shape"), BOUNDED_2_5_DECLARATIONS)
def test_2_5_declaration_seams_hold_the_recorded_answers(name: str, record_id: str, shape: str) -> None:
    record = next(r for r in load_mined_history(name) if r["id"] == record_id)
    result = replay(record)
    assert not result.exact and result.bounds is not None and result.within_bounds
    assert shape in result.bounds["reason"]
