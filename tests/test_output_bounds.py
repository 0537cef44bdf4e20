"""Output shapes that bill unlike their reading with nothing in the response to tell (accounting.yaml
`uncertain_seams`, output shapes of a whole response; `streamed_output_bounds` on Vertex 2.0): each recorded miss lies
inside its bounds, and an exact neighbour of another shape carries none (docs/counting.md open rules 2, 6, 12, 14).
A 2.5 stream given joined bills its thought summaries' token off as its chunks would (mirac-0248, -0249)."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

import vertexmeter
from tests.ground_truth import Replay, is_multimodal, load_mined, load_mined_history, replay
from tests.test_parity import MINED_HISTORY_FLOORS

_SETS = {
    "elmr": "ellmer",
    "chat": "chatlas",
    "lite": "litellm",
    "reqllm": "req_llm",
    "pyd": "pydantic_ai_history",
    "pydc": "function_calls",
    "mirac": "function_calls",
    "mirats": "mirascope_ts",
    "mastra": "mastra",
    "sublc": "calls_heldout",
    "jsgenai": "js_genai",
    "adkgc": "calls_heldout2",
    "adkg3": "late_2026c",
    "fnts": "fantasy",
    "mrgn": "maruel_genai",
    "mrgn3": "maruel_genai",
    "mrgnc": "calls_heldout7",
    "reqllmc": "calls_heldout",
}


@cache
def _record(record_id: str) -> dict[str, Any]:
    name = _SETS[record_id.rsplit("-", 1)[0]]
    return next(r for r in load_mined_history(name) if r["id"] == record_id)


def _replay(record_id: str) -> Replay:
    return replay(_record(record_id))


def _output_bounds(result: Replay) -> list[int] | None:
    return (result.bounds or {}).get("candidatesTokenCount")


# (record, recorded candidatesTokenCount, point, bounds, the seam's reason): every one a miss before 2026-12-07.
MISSES = [
    # 3.x texts ending with a full stop, seven repositories (text_ending_full_stop)
    ("elmr-0072", 12, 13, [12, 13], "a 3.x text ending with a full stop"),
    ("lite-0007", 1, 2, [1, 2], "a 3.x text ending with a full stop"),
    ("fnts-0277", 13, 14, [13, 14], "a 3.x text ending with a full stop"),
    ("pyd-1067", 22, 23, [22, 23], "a 3.x text ending with a full stop"),
    ("adkg3-0014", 193, 194, [193, 194], "a 3.x text ending with a full stop"),
    # (chat-0069 also answers a request that declares urlContext: both seams, 2 under at most)
    ("chat-0069", 45, 46, [44, 46], "a 3.x text ending with a full stop"),
    # Vertex 3's undeclared list_files: its name alone (output_call_undeclared)
    ("pydc-0472", 3, 7, [3, 7], "does not declare"),
    ("pydc-0638", 3, 7, [3, 7], "does not declare"),
    # A streamed 3.5 JSON answer billed near its compact JSON (streamed_json_whitespace)
    ("chat-0104", 40, 64, [37, 64], "a streamed 3.x JSON answer"),
    # 3 Flash Preview's three parallel calls without args (parallel_call_without_args)
    ("pydc-0318", 33, 30, [30, 33], "without args among parallel calls"),
    # 1.0 Pro / 1.5 Pro calls of 2024 (output_call_json)
    ("sublc-0003", 15, 5, [5, 22], "a 1.0 Pro / 1.5 Pro response call"),
    ("sublc-0006", 204, 138, [138, 339], "a 1.0 Pro / 1.5 Pro response call"),
    # A prefill left mid-sentence (text_after_open_model_turn)
    ("mirats-0002", 2, 3, [2, 3], "a model turn left mid-sentence"),
    # Vertex 2.0 streamed and given joined (streamed_output_bounds)
    ("jsgenai-0057", 107, 106, [106, 111], "a Vertex 2.0 answer streamed"),
    # maruel/genai's https://perdu.com fetched by 3.5 Flash: 2.5's call text + 8, not + 9 (text_beside_url_context)
    ("mrgn-0328", 135, 136, [135, 136], "a 3.5 Flash text answering a request that declares urlContext"),
    ("mrgn-0335", 161, 162, [161, 162], "a 3.5 Flash text answering a request that declares urlContext"),
    ("mrgn-0401", 137, 138, [137, 138], "a 3.5 Flash text answering a request that declares urlContext"),
    # ... by 3.1 Flash-Lite, streamed and given joined: 17 over the text where the point counts 21 (server_tool_calls)
    ("mrgn-0357", 143, 147, [126, 148], "A 3.1 Flash-Lite URL fetch"),
    # 3.1 Flash-Lite's "Mark Carney" with googleSearch declared, given as text: whether it searched is not in it
    ("mrgn-0359", 17, 2, [2, 70], "whether googleSearch ran"),
    # ... by the 09-2025 previews: 20 or 8 over the text where 2.5's call text is 13 (text_beside_url_context)
    ("mrgn-0285", 138, 131, [120, 140], "a 2.5 09-2025 preview's text answering a request that declares urlContext"),
    ("mrgn-0286", 115, 120, [115, 127], "a 2.5 09-2025 preview's text answering a request that declares urlContext"),
    ("mrgn-0288", 105, 98, [88, 107], "a 2.5 09-2025 preview's text answering a request that declares urlContext"),
    ("mrgn-0289", 106, 99, [94, 106], "a 2.5 09-2025 preview's text answering a request that declares urlContext"),
    # 2.5 Flash 09-2025 preview calls of 2025-12-15 billed as generation 3 reads them (output_call_over_3)
    ("mrgnc-0022", 32, 38, [32, 38], "a 2.5 Flash 09-2025 preview call"),
    ("mrgnc-0023", 16, 19, [16, 19], "a 2.5 Flash 09-2025 preview call"),
    ("mrgnc-0024", 19, 24, [19, 24], "a 2.5 Flash 09-2025 preview call"),
    ("mrgnc-0026", 16, 19, [16, 19], "a 2.5 Flash 09-2025 preview call"),
]


@pytest.mark.parametrize(("record_id", "recorded", "point", "bounds", "reason"), MISSES)
def test_a_recorded_miss_of_an_uncertain_output_shape_is_inside_its_bounds(
    record_id: str, recorded: int, point: int, bounds: list[int], reason: str
) -> None:
    result = _replay(record_id)
    assert (result.expected, result.got, _output_bounds(result)) == (recorded, point, bounds)
    assert result.within_bounds and reason in result.bounds["reason"]  # type: ignore[index]


# (record, recorded candidatesTokenCount): exact answers of a neighbouring shape, which carry no output bounds.
NEIGHBOURS = [
    ("chat-0065", 12),  # a 3.5 text ending with `?`
    ("pydc-0474", 7),  # Vertex 3's declared get_file, the same empty args as the undeclared list_files
    ("pydc-0340", 10),  # the Gemini API's 3 Flash Preview bills the undeclared list_files as any call
    ("pyd-0248", 21),  # a 3 Pro JSON answer written indented, not streamed
    ("adkgc-0075", 48),  # 3 Flash Preview parallel calls with args
    ("mirac-0007", None),  # a 2.5 call without a thought summary
    ("mirac-0248", 16),  # a 2.5 call after a thought summary, streamed: the summary's token off (streamed_chunks_apart)
    ("mirac-0249", 16),
    ("pydc-0012", 14),  # a 1.5 Flash call of 2025
    ("mastra-0036", 12),  # a 2.5 text after a prefill that ends a sentence
    ("pyd-0183", 41),  # 2.5 Flash's fetch: 2.5's call text, exact
    ("mrgnc-0027", 24),  # the Flash-Lite 09-2025 preview's call of the same day: its own reading
    ("reqllmc-0007", 21),  # the Flash 09-2025 preview's call of October: its own reading
    ("mrgn-0324", 6),  # 3.5 Flash's "363.89" streamed: its text (mrgn-0334, the same text synchronous, 5: LEFT)
]


@pytest.mark.parametrize(("record_id", "recorded"), NEIGHBOURS)
def test_an_exact_neighbour_carries_no_output_bounds(record_id: str, recorded: int | None) -> None:
    result = _replay(record_id)
    assert result.exact and _output_bounds(result) is None
    assert recorded is None or result.expected == recorded


def test_a_2_5_stream_given_joined_bills_a_token_less_per_thought_summary() -> None:
    """Mirascope's compute_fib(n=100) after one thought summary, streamed (async_stream.yaml, 2025-10-15): 16 where the
    call reads 17, as charmbracelet/fantasy's call after one summary given as chunks (thst-0009: 15 read, 14 billed;
    streamed_chunks_apart per_thought_part). The same Content not said to be streamed bills the call's reading."""
    record = _record("mirac-0248")
    content = record["request"]["contents"][0]
    body = {"contents": [{"role": "user", "parts": [{"text": "What is the 100th fibonacci number?"}]}]}

    def output(streamed: bool) -> int:
        return vertexmeter.usage(
            record["model"], body, api="gemini", response=content, as_of=record["recorded"], streamed=streamed
        ).candidates_token_count

    assert (output(True), output(False)) == (16, 17)


def test_the_same_hello_bills_2_and_1_on_vertex_3_1_pro() -> None:
    """req_llm's and litellm's "Hello." from Vertex 3.1 Pro: one text, two bills, so the text cannot say which; both
    lie in the same bounds, whose point is the text."""
    twice = [_replay("reqllm-0281"), _replay("lite-0007")]
    assert [r.expected for r in twice] == [2, 1]
    assert all(r.got == 2 and _output_bounds(r) == [1, 2] and r.within_bounds for r in twice)


def test_full_stop_bounds_take_only_a_3_x_text_ending_with_one() -> None:
    prompt = {"contents": [{"role": "user", "parts": [{"text": "What day is it?"}]}]}

    def bounds(model: str, text: str, api: str = "gemini") -> Any:
        answer = vertexmeter.usage(model, prompt, api=api, response={"role": "model", "parts": [{"text": text}]})
        return (answer.bounds or {}).get("candidatesTokenCount"), answer.candidates_token_count

    assert bounds("gemini-3.5-flash", "Today is May 19, 2024.") == ([12, 13], 13)
    assert bounds("gemini-3.1-pro-preview", "Today is May 19, 2024.", api="vertex") == ([12, 13], 13)
    # past its edge whitespace (3.x bills an edge newline: output_newlines)
    assert bounds("gemini-3.5-flash", "Today is May 19, 2024. \n") == ([13, 14], 14)
    assert bounds("gemini-3.5-flash", "Is it May 19, 2024?")[0] is None
    assert bounds("gemini-3.5-flash", "Today is May 19, 2024")[0] is None
    assert bounds("gemini-2.5-flash", "Today is May 19, 2024.")[0] is None


def test_streamed_json_bounds_need_a_stream_and_a_json_request() -> None:
    """chat-0104's request and text: bounded only when the answer streamed and the request asked for JSON."""
    record = _record("chat-0104")
    origin, content = record["origin_request"], record["request"]["contents"][0]

    def output(body: dict[str, Any], streamed: bool) -> Any:
        answer = vertexmeter.usage(
            record["model"], body, api="gemini", response=content, as_of=record["recorded"], streamed=streamed
        )
        return answer.candidates_token_count, (answer.bounds or {}).get("candidatesTokenCount")

    assert output(origin, streamed=True) == (64, [37, 64])
    assert output(origin, streamed=False) == (64, None)
    plain = {**origin, "generationConfig": {}}
    assert output(plain, streamed=True) == (64, None)


def test_an_undeclared_call_needs_declarations_to_be_told() -> None:
    """A request that declares no function (a placeholder prompt) cannot make a call undeclared: no bounds."""
    record = _record("pydc-0472")
    content = record["request"]["contents"][0]
    bare = {"contents": [{"role": "user", "parts": [{"text": "List the files."}]}]}
    answer = vertexmeter.usage(record["model"], bare, api="vertex", response=content, as_of=record["recorded"])
    assert answer.candidates_token_count == 7 and "candidatesTokenCount" not in (answer.bounds or {})


# The mined outputs neither exact nor inside bounds, each documented in docs/counting.md open rules 4, 6 and 14: one
# shape of one repository or one answer, no shape that tells them from the exact answers beside them.
LEFT = {
    "otel-0049",  # Vertex 2.5 haiku, 2 over (its 56 neighbours with inner newlines exact)
    "llmrb-0118",  # 2.5 fenced command outputs, 2 over (22 fenced answers exact)
    "pydc-0272",  # pydantic-ai's one summary, 1 over
    "oinfc-0004",  # openinference's 2.0 cassette of 2025-12-10, 9 over
    "nrpy-0002",  # newrelic's "There are 6 letters …": the same text billed 11, 12 and 13
    "nrpy-0004",
    "nrpy-0009",
    "nrpy-0010",
    "nrpy-0012",
    "mrgn-0334",  # maruel's 3.5 Flash "363.89": 5, where the same text bills 6 three times (mrgn-0324, -0353, -0376)
    "mrgn-0387",  # maruel's 2.5 Flash file search given as text: 19 over one sentence, above one chunk's 18
    "mrgn3-0002",  # maruel's streamed 3.8 JSON states 2 for the text its synchronous twin bills 19 (mrgn2-0018)
}


def test_every_mined_output_is_exact_or_inside_its_bounds_but_the_documented_ones() -> None:
    """Measured 2026-12-07 over the mined sets (outputs, multimodal ones aside): 4,095 exact of 4,213 and 4,180 exact
    or inside bounds before these bounds, 4,097 and 4,204 after; with maruel/genai's (mrgn*): 4,307 exact of 4,452 and
    4,425 exact or inside before its bounds, 4,309 and 4,440 after; the twelve left are LEFT."""
    outside = set()
    total = held = 0
    for records in [load_mined(), *(load_mined_history(name) for name in MINED_HISTORY_FLOORS)]:
        for record in records:
            if record["kind"] != "output" or is_multimodal(record):
                continue
            result = replay(record)
            total += 1
            inside = result.exact or (result.bounds is not None and result.within_bounds)
            held += inside
            if not inside:
                outside.add(record["id"])
    assert outside <= LEFT and total >= 4450 and held >= total - len(LEFT)


def test_a_3_1_flash_lite_fetch_bills_the_2_5_call_text_and_8() -> None:
    """maruel/genai's https://perdu.com fetched by 3.1 Flash-Lite (server_tool_calls, one repository): generateContent
    and a stream with thoughts bill the answer's text + 21 (2.5's call text, 13, + 8), inside [text, call + 9]."""
    for record_id, text_tokens in (("mrgn-0363", 112), ("mrgn-0418", 144)):
        result = _replay(record_id)
        assert result.exact and result.got == text_tokens + 21
        assert _output_bounds(result) == [text_tokens - 1, text_tokens + 22]  # its own full stop: 1 under

    ask = {"contents": [{"role": "user", "parts": [{"text": "Tell me what is written on https://perdu.com"}]}]}
    answer = {"role": "model", "parts": [{"text": "It says you are lost"}]}

    def output(body: dict[str, Any]) -> Any:
        usage = vertexmeter.usage("gemini-3.1-flash-lite", body, api="gemini", response=answer, as_of="2026-05-29")
        return usage.candidates_token_count, (usage.bounds or {}).get("candidatesTokenCount")

    assert output({**ask, "tools": [{"urlContext": {}}]}) == (26, [5, 27])
    assert output(ask) == (5, None)


def test_url_context_text_bounds_take_a_3_5_answer_to_a_url_context_request() -> None:
    """text_beside_url_context: 3.5 Flash's answers to a request that declares urlContext bill up to 1 under; the same
    text without urlContext, or from 3.1 Flash-Lite (bounded by its fetch), carries no such seam."""
    ask = {"contents": [{"role": "user", "parts": [{"text": "Tell me what is written on https://perdu.com"}]}]}
    answer = {"role": "model", "parts": [{"text": "It says you are lost"}]}

    def reason(model: str, body: dict[str, Any]) -> str:
        usage = vertexmeter.usage(model, body, api="gemini", response=answer, as_of="2026-05-29")
        return str((usage.bounds or {}).get("reason", ""))

    seam = "a 3.5 Flash text answering a request that declares urlContext"
    assert seam in reason("gemini-3.5-flash", {**ask, "tools": [{"urlContext": {}}]})
    assert seam not in reason("gemini-3.5-flash", ask)
    assert seam not in reason("gemini-3.1-flash-lite", {**ask, "tools": [{"urlContext": {}}]})


def test_preview_call_bounds_hold_from_their_day_on_the_flash_preview_only() -> None:
    """output_call_over_3: mrgnc-0024's square_root(132413), 24 as the 09-2025 preview reads it, 19 as generation 3
    does, bounded [19, 24] from 2025-12-15 on the Flash preview; the day before, and the Flash-Lite preview, none."""
    record = _record("mrgnc-0024")
    origin, content = record["origin_request"], record["request"]["contents"][0]

    def output(model: str, day: str) -> Any:
        usage = vertexmeter.usage(model, origin, api="gemini", response=content, as_of=day)
        return usage.candidates_token_count, (usage.bounds or {}).get("candidatesTokenCount")

    assert output("gemini-2.5-flash-preview-09-2025", "2025-12-15") == (24, [19, 24])
    assert output("gemini-2.5-flash-preview-09-2025", "2025-12-14") == (24, None)
    assert output("gemini-2.5-flash-lite-preview-09-2025", "2025-12-15") == (24, None)
