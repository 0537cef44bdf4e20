"""Plain batch lines (one user turn of text parts) take a shortcut in the workers: their results, byte for byte,
and the job's tally are the full path's (`count_line`), and their counts the library loop's (`usage_metadata`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vertexmeter
from tests.batch.batch_helpers import read_results, write_lines
from vertexmeter.batch import BatchSettings, count_line, estimate_batch
from vertexmeter.batch.inputs import OversizeLine
from vertexmeter.batch.lines import ORJSON_DEPTH, UNDECODED, plain_line, read_line
from vertexmeter.batch.tally import Tally, to_json_line
from vertexmeter.batch.work import LineCosts, count_chunk
from vertexmeter.errors import VertexMeterError
from vertexmeter.registry import all_models
from vertexmeter.requests import decode_json
from vertexmeter.requests.decode import MAX_DEPTH

MODEL = "gemini-2.5-flash"
APIS = ("vertex", "gemini")


def _turn(*texts: str, role: str | None = "user") -> dict[str, Any]:
    turn: dict[str, Any] = {"parts": [{"text": t} for t in texts]}
    if role is not None:
        turn = {"role": role, **turn}
    return turn


def _line(request: dict[str, Any], **fields: Any) -> str:
    return json.dumps({"request": request, **fields}, ensure_ascii=False)


HELLO = {"contents": [_turn("Hello, world!")]}
CAPPED = {"contents": [_turn("Summarise: the quick brown fox.")], "generationConfig": {"maxOutputTokens": 512}}
THINKING = {
    "contents": [_turn("Why is the sky blue?")],
    "generationConfig": {"maxOutputTokens": 2048, "thinkingConfig": {"thinkingBudget": 1024}},
}

TWO_KEYS = _line(CAPPED, custom_id="c-1", key="k-1")  # the key is `key`; custom_id is kept as a field
BARE_WITH_MODEL = json.dumps({"model": "models/gemini-2.0-flash", "contents": [_turn("bare, its own model")]})
# Lines the shortcut reads: every field it keeps or reads, in the shapes it takes.
PLAIN_LINES = [
    _line(HELLO),
    _line(CAPPED),
    _line(THINKING),
    _line({"contents": [_turn("a", "b c", "설명서 😀")], "generationConfig": {"maxOutputTokens": 64}}),
    _line(CAPPED, key="request-1"),
    _line(CAPPED, key=7),
    TWO_KEYS,
    _line(HELLO, labels={"team": "ml", "run": "3"}, priority=True, note=None),
    _line(HELLO, model="gemini-2.0-flash"),  # a field of the line, kept: the request's model counts
    _line({**CAPPED, "systemInstruction": {"parts": [{"text": "Answer briefly."}]}}),
    _line({"contents": [_turn("one"), _turn("two", role="model"), _turn("three")]}),
    _line({"contents": [_turn("answer", role="model")]}),
    _line({"contents": [_turn("a", "b"), _turn("c", "d", "e", role="model"), _turn("f")], **THINKING}),
    _line({"systemInstruction": {"parts": [{"text": "Be"}, {"text": "brief 😀"}]}, "contents": [_turn("a", "b")]}),
    json.dumps({"contents": [_turn("a bare request")], "generationConfig": {"maxOutputTokens": 100}}),
    json.dumps({"contents": [_turn("bare, no config")]}),
    BARE_WITH_MODEL,
    '{"request": {"contents": [{"role": "user", "parts": [{"te\\u0078t": "escaped name"}]}]}}',
    _line({"model": "publishers/google/models/gemini-2.5-pro", **CAPPED}),
    _line({"model": "", **CAPPED}),  # an empty model: the job's
    _line({"contents": [_turn("mime")], "generationConfig": {"responseMimeType": "application/json"}}),
    _line({"contents": [_turn("empty config")], "generationConfig": {}}),
    _line({"model": "gemini-2.0-flash-thinking-exp", **HELLO}),  # counted here; its price's error: the full path's
    _line({"contents": [_turn("negative")], "generationConfig": {"maxOutputTokens": -5}}),
    _line(
        {
            "contents": [_turn("schema")],
            "generationConfig": {"responseMimeType": "application/json", "responseSchema": {"type": "OBJECT"}},
        }
    ),
    _line({"contents": [_turn("  \n\t  ")]}),  # whitespace only
    _line({"contents": [_turn("<start_of_turn>user\n<unk><s></s><pad> [INST]")]}),
    '{"request": {"contents": [{"role": "user", "parts": [{"text": "pair \\ud83d\\ude00 \\u00e9\\n\\"q\\""}]}]}}',
    '{"request": {"contents": [{"role": "user", "parts": [{"text": "dup"}]}]}, "key": "a", "key": "b"}',
    _line({"contents": [_turn("x" * 100_000)]}),  # a long text
    _line({"contents": [_turn("the same line twice")]}, key="same"),
    _line({"contents": [_turn("the same line twice")]}, key="same"),
]

# Plain lines holding a float (or an integer orjson reads as one): decoded again by decode_json, then plain.
FLOAT_LINES = [
    _line({"contents": [_turn("float")], "generationConfig": {"temperature": 0.2, "maxOutputTokens": 64}}),
    _line(HELLO, key=1.5),
    _line(HELLO, key=2**70),
]

# Lines the shortcut leaves to the full path (not plain, or a shape it has no plan for: refused, billed otherwise).
OTHER_LINES = [
    _line({"contents": [_turn("big int")], "generationConfig": {"maxOutputTokens": 100000000000000000000}}),
    '{"request": {"contents": [{"role": "user", "parts": [{"text": "inf"}]}], "generationConfig": {"topP": 1e400}}}',
    '{"request": {"contents": [{"role": "user", "parts": [{"text": "x"}]}], "generationConfig": {"topP": NaN}}}',
    '{"request": {"contents": [{"role": "user", "parts": [{"text": "x"}]}], "generationConfig": {"topP": '
    + "0." * 1
    + "0" * 450
    + "1}}}",  # a literal decode_json finds too long
    _line({"contents": [_turn("stop")], "generationConfig": {"stopSequences": ["\n"]}}),
    _line(
        {
            "contents": [_turn("deep schema")],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseSchema": {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}},
            },
        }
    ),
    _line({"contents": [_turn("unknown")], "generationConfig": {"bogus": 1}}),
    _line({"contents": [_turn("typed")], "generationConfig": {"maxOutputTokens": "many"}}),
    _line({"contents": [_turn("null config")], "generationConfig": None}),
    _line({"model": None, **HELLO}),
    _line({"model": 3, **HELLO}),
    _line({"model": "gemini-9-ultra", **HELLO}),
    _line({"model": "text-bison", **HELLO}),  # a legacy model takes instances
    _line({"model": "gemini-1.5-pro", **CAPPED}),  # billed by characters
    _line({"model": "gemini-embedding-001", **HELLO}),  # serves no generateContent
    _line({"contents": [_turn("")]}),
    _line({"contents": [_turn("ok", "")]}),
    '{"request": {"contents": [{"role": "user", "parts": [{"text": "lone \\ud800"}]}]}}',
    _line({"contents": [_turn("no role", role=None)]}),
    _line({"contents": [_turn("sys", role="system")]}),
    _line({"contents": [_turn("one"), _turn("", role="model"), _turn("three")]}),  # (generate takes it: counts 0)
    _line({"contents": [_turn("one"), {"role": "model", "parts": [{"text": "x", "thoughtSignature": "c2ln"}]}]}),
    _line({"contents": [_turn("one"), {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]}]}),
    _line({"contents": [_turn("sys")], "systemInstruction": {"role": "system", "parts": [{"text": "Be brief."}]}}),
    _line({"contents": [_turn("sys")], "systemInstruction": {"parts": [{"text": ""}]}}),
    _line({"contents": [_turn("sys")], "systemInstruction": {"parts": []}}),
    _line({"contents": [_turn("sys")], "systemInstruction": "Be brief."}),
    _line({"contents": [_turn("sys")], "systemInstruction": None}),
    _line({"contents": [{"role": "user", "parts": [{"text": "x", "thought": True}]}]}),
    _line({"contents": [{"role": "user", "parts": [{"text": 3}]}]}),
    _line({"contents": [{"role": "user", "parts": []}]}),
    _line({"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "bogus": 1}),
    _line({"contents": [_turn("labels")]}, labels={"n": 1}),
    _line({"contents": [_turn("labels")]}, labels={"deep": [[[[]]]]}),
    _line(HELLO, history=[]),
    _line(HELLO, config={"max_output_tokens": 64}),
    '{"labels": ' + "[" * 120 + "]" * 120 + ', "request": {"contents": [{"role": "user", "parts": [{"text": "d"}]}]}}',
    '{"request": {"contents": [ broken',
    "\ufeff" + _line(HELLO),
    '{"request": {"contents": [{"role": "user", "parts": [{"text": "tab\tinside"}]}]}}',
    "[1, 2]",
    '"text"',
    "42",
    '{"request": null}',
    '{"request": "text"}',
    '{"prompt": "a PaLM line with \\"text\\""}',
    '{"text": "no request"}',
    "",
    "   ",
]
BAD_UTF8 = b'{"request": {"contents": [{"role": "user", "parts": [{"text": "\xff\xfe"}]}]}}'


def _raws(lines: list[str]) -> list[bytes | OversizeLine]:
    return [line.encode("utf-8") for line in lines]


def _full_path(settings_: BatchSettings, raws: list[bytes | OversizeLine]) -> tuple[bytes, Tally]:
    """The results and tally every line gets from the full path alone (`count_line`, one line at a time)."""
    costs = LineCosts(settings_)
    tally = Tally()
    out = []
    for number, raw in enumerate(raws, 1):
        if isinstance(raw, bytes) and (not raw or raw.isspace()):
            tally.blank_lines += 1
            continue
        result = count_line(number, raw, settings_, costs)
        tally.add(result)
        out.append(to_json_line(result) + "\n")
    return "".join(out).encode(), tally


def _summary(tally: Tally) -> dict[str, Any]:
    return tally.to_json(mode="batch", date="2026-01-01", output_tokens=None)


def _assert_as_the_full_path(settings_: BatchSettings, raws: list[bytes | OversizeLine]) -> None:
    got = count_chunk(settings_, 1, raws)
    data, tally = _full_path(settings_, raws)
    assert got.data.decode().splitlines() == data.decode().splitlines()
    assert got.data == data
    assert _summary(got.tally) == _summary(tally)
    assert got.tally.blank_lines == tally.blank_lines


@pytest.mark.parametrize("api", APIS)
def test_every_line_shape_gets_the_full_paths_result_and_tally(api: str) -> None:
    raws = _raws(PLAIN_LINES + FLOAT_LINES + OTHER_LINES) + [BAD_UTF8]
    _assert_as_the_full_path(BatchSettings(model=MODEL, api=api), raws)
    _assert_as_the_full_path(BatchSettings(model=MODEL, api=api, output_tokens=300, mode="flex"), raws)
    _assert_as_the_full_path(BatchSettings(model=None, api=api), raws)  # lines without a model are refused


def test_the_shortcut_reads_the_plain_lines_and_only_them() -> None:
    costs = LineCosts(BatchSettings(model=MODEL))
    for line in PLAIN_LINES:
        read = plain_line(line.encode(), MODEL)
        assert read is not None and costs.plan(read) is not None, line
    for line in OTHER_LINES:  # not plain, or of a shape the full path refuses or bills otherwise: no plan
        read = plain_line(line.encode(), MODEL)
        assert read is None or costs.plan(read) is None, line
    assert [plain_line(line.encode(), MODEL) is not None for line in FLOAT_LINES] == [True, True, True]
    assert plain_line(BAD_UTF8, MODEL) is None
    first = plain_line(TWO_KEYS.encode(), MODEL)
    assert first is not None and first.key == ("key", "k-1") and first.kept == {"custom_id": "c-1"}
    bare = plain_line(BARE_WITH_MODEL.encode(), MODEL)
    assert bare is not None and bare.model == "models/gemini-2.0-flash" and bare.key is None and not bare.kept


def test_plans_are_made_for_token_billed_gemini_models_and_not_for_the_others() -> None:
    settings_ = BatchSettings(model=MODEL)
    costs = LineCosts(settings_)
    for model, planned in [
        (MODEL, True),
        ("gemini-2.0-flash", True),
        ("gemini-1.5-pro", False),  # billed by characters
        ("text-bison", False),
        ("gemini-embedding-001", False),
        ("gemini-9-ultra", False),
    ]:
        line = plain_line(_line({"model": model, **CAPPED}).encode(), None)
        assert line is not None
        plan = costs.plan(line)
        assert (plan is not None) is planned, model
        if plan is not None:
            assert plan.max_output_tokens == 512 and plan.overhead >= 0


@pytest.mark.parametrize("api", APIS)
def test_counts_are_the_library_loops(api: str) -> None:
    """Each counted line's promptTokenCount is what `vertexmeter.usage_metadata` says for its request."""
    settings_ = BatchSettings(model=MODEL, api=api)
    chunk = count_chunk(settings_, 1, _raws(PLAIN_LINES))
    results = [json.loads(line) for line in chunk.data.decode().splitlines()]
    assert len(results) == len(PLAIN_LINES)
    for line, result in zip(PLAIN_LINES, results, strict=True):
        obj = json.loads(line)
        request = dict(obj.get("request", obj))
        model = request.pop("model", None) or MODEL
        expected = vertexmeter.usage_metadata(model, request, api=api)
        assert result["promptTokenCount"] == expected["promptTokenCount"], line[:80]
        assert result["promptTokensDetails"] == expected["promptTokensDetails"]


@pytest.mark.parametrize("api", APIS)
def test_every_registry_model_named_by_plain_lines(api: str) -> None:
    lines = []
    for info in all_models():
        lines.append(_line({"model": info.id, **CAPPED}, key=info.id))
        lines.append(json.dumps({"model": info.id, "contents": [_turn("two", "parts 가")]}))
        conversation = [_turn("q"), _turn("a", "b", role="model"), _turn("q2 가")]
        system = {"parts": [{"text": "Be brief."}]}
        lines.append(_line({"model": info.id, "contents": conversation, "systemInstruction": system}))
    _assert_as_the_full_path(BatchSettings(model=MODEL, api=api), _raws(lines))


def test_over_the_context_window_the_full_path_writes_why() -> None:
    lines = [_line({"contents": [_turn("word " * 40_000)]}), _line(HELLO)]
    settings_ = BatchSettings(model="gemini-2.5-flash-image")
    _assert_as_the_full_path(settings_, _raws(lines))
    first = json.loads(count_chunk(settings_, 1, _raws(lines)).data.splitlines()[0])
    assert first["error"]["details"][-1]["reason"] == "OVER_CONTEXT_WINDOW"


CONFIGS = [
    None,
    {},
    {"maxOutputTokens": 256},
    {"maxOutputTokens": 8192, "thinkingConfig": {"thinkingBudget": 0}},
    {"thinkingConfig": {"thinkingBudget": -1, "includeThoughts": True}},
    {"candidateCount": 1, "responseMimeType": "text/plain", "seed": 3},
    {"temperature": 0.7, "topK": 40},
    {"maxOutputTokens": 0},
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(st.text(min_size=0, max_size=60), min_size=1, max_size=3),
    config=st.sampled_from(CONFIGS),
    key=st.sampled_from([None, ("key", "k"), ("custom_id", 12), ("labels", {"a": "b"})]),
    ascii_only=st.booleans(),
    api=st.sampled_from(APIS),
    bare=st.booleans(),
    system=st.lists(st.text(min_size=0, max_size=30), max_size=2),
    history=st.lists(st.tuples(st.sampled_from(["user", "model"]), st.text(min_size=1, max_size=20)), max_size=3),
)
def test_generated_plain_lines_get_the_full_paths_results(
    texts: list[str],
    config: dict[str, Any] | None,
    key: Any,
    ascii_only: bool,
    api: str,
    bare: bool,
    system: list[str],
    history: list[tuple[str, str]],
) -> None:
    request: dict[str, Any] = {"contents": [*(_turn(text, role=role) for role, text in history), _turn(*texts)]}
    if system:
        request["systemInstruction"] = {"parts": [{"text": t} for t in system]}
    if config is not None:
        request["generationConfig"] = config
    obj: dict[str, Any] = request if bare else {"request": request}
    if key is not None and not bare:
        obj[key[0]] = key[1]
    raw = json.dumps(obj, ensure_ascii=ascii_only).encode()
    _assert_as_the_full_path(BatchSettings(model=MODEL, api=api), [raw, raw])


@pytest.mark.parametrize("workers", [1, 2])
def test_a_job_over_every_line_shape_writes_the_full_paths_results(tmp_path: Path, workers: int) -> None:
    lines = PLAIN_LINES + FLOAT_LINES + OTHER_LINES
    source = write_lines(tmp_path / "shapes.jsonl", lines * 3)
    out = tmp_path / "results.jsonl"
    result = estimate_batch(str(source), MODEL, output=str(out), workers=workers, chunk_lines=16)
    data, tally = _full_path(BatchSettings(model=MODEL), _raws(lines * 3))
    assert read_results(out) == [json.loads(line) for line in data.decode().splitlines()]
    assert out.read_bytes().split(b"\n", 1)[1] == data
    summary = result.summary()
    del summary["run"]
    assert summary == tally.to_json(mode="batch", date=result.settings.price_date, output_tokens=None)


def _exactly(value: Any) -> str:
    """A JSON value spelled out, so that 1, 1.0 and true differ (== holds them equal)."""
    return json.dumps(value, ensure_ascii=False)


def _assert_read_as_decode_json_reads(raw: bytes) -> None:
    try:
        expected = decode_json(raw)
    except VertexMeterError:
        expected = UNDECODED
    _, value = read_line(raw, MODEL)
    if value is not UNDECODED:
        assert expected is not UNDECODED and _exactly(value) == _exactly(expected), raw[:120]


def test_a_value_read_by_orjson_is_decode_jsons() -> None:
    """A line's value is taken from orjson only where decode_json gives the same; else decode_json reads it."""
    assert ORJSON_DEPTH <= MAX_DEPTH
    lines = [line.encode() for line in PLAIN_LINES + FLOAT_LINES + OTHER_LINES if line.strip()] + [BAD_UTF8]
    lines += [
        b"[" * ORJSON_DEPTH + b"]" * ORJSON_DEPTH,
        b"[" * (ORJSON_DEPTH + 1) + b"]" * (ORJSON_DEPTH + 1),
        b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
        b'{"a": 18446744073709551616}',
        b'{"a": -9223372036854775809}',
        b'{"a": 1.0, "b": [1, true, null]}',
        b'{"a": "\\ud800"}',
        b'{"a": 1e400}',
        b'{"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "AAAA"}}]}]}',
    ]
    for raw in lines:
        _assert_read_as_decode_json_reads(raw)
    assert read_line(b"[" * ORJSON_DEPTH + b"]" * ORJSON_DEPTH, MODEL)[1] is not UNDECODED
    for deep in (ORJSON_DEPTH + 1, MAX_DEPTH + 1):
        assert read_line(b"[" * deep + b"]" * deep, MODEL)[1] is UNDECODED
    assert read_line(b'{"a": [1, {"b": 2.5}]}', MODEL)[1] is UNDECODED
    many = b'{"a": [' + b",".join([b"[1]"] * 70)  # more brackets than ORJSON_DEPTH, nested 3 deep
    assert read_line(many + b"]}", MODEL)[1] == {"a": [[1]] * 70}
    assert read_line(many + b", [2.5]]}", MODEL)[1] is UNDECODED
    assert read_line(b'{"request": {"contents": [], "generationConfig": {"topK": 1.0}}}', MODEL)[1] is UNDECODED


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JSON_VALUES, ascii_only=st.booleans(), indent=st.sampled_from([None, 1]))
def test_generated_json_values_are_read_as_decode_json_reads_them(value: Any, ascii_only: bool, indent: Any) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only, indent=indent).replace("\n", " ").encode()
    _assert_read_as_decode_json_reads(raw)
    _assert_read_as_decode_json_reads(json.dumps({"request": value}).encode())
