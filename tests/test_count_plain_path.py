"""count_tokens' plain-text path answers exactly what the full path answers, or leaves the request to it."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vertexmeter
from vertexmeter.counting import count
from vertexmeter.errors import VertexMeterError
from vertexmeter.registry import all_models

MODELS = [info.id for info in all_models()]
APIS = ("vertex", "gemini")
count_module = importlib.import_module("vertexmeter.counting.count")


def _full(model: str, request: Any, api: str) -> Any:
    """The full path's answer, or its error as (code, message)."""
    try:
        return count(model, request, api=api).to_rest()
    except VertexMeterError as exc:
        return (exc.code, str(exc))


def _plain(model: str, request: Any, api: str) -> Any:
    try:
        return vertexmeter.count_tokens(model, request, api=api)
    except VertexMeterError as exc:
        return (exc.code, str(exc))


def _body(texts: list[str]) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": t} for t in texts]}]}


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("model", MODELS)
def test_every_model_answers_plain_texts_as_the_full_path_does(model: str, api: str) -> None:
    for request in ["hi", "  \t\n", "Hello, world! 안녕 😀", _body(["a", " b ", "설명서"]), _body(["x" * 3000])]:
        assert _plain(model, request, api) == _full(model, request, api), request


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(MODELS),
    api=st.sampled_from(APIS),
    texts=st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=3),
    bare=st.booleans(),
)
def test_generated_plain_requests_get_the_full_paths_answer(model: str, api: str, texts: list[str], bare: bool) -> None:
    request: Any = texts[0] if bare else _body(texts)
    assert _plain(model, request, api) == _full(model, request, api)


@pytest.mark.parametrize(
    "request_",
    [
        "",  # empty text: refused on Vertex
        _body([""]),
        _body(["ok", "bad \ud800 surrogate"]),
        "lone \udc00",
        {"contents": [{"role": "model", "parts": [{"text": "hi"}]}]},
        {"contents": [{"parts": [{"text": "hi"}]}]},
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {}},
        {"contents": [{"role": "user", "parts": [{"text": 3}]}]},
        {"contents": [{"role": "user", "parts": []}]},
    ],
)
@pytest.mark.parametrize("model", ["gemini-2.5-flash", "gemini-1.5-pro", "gemini-3.5-flash", "text-bison"])
def test_requests_outside_the_plain_shape_or_refused_get_the_full_paths_answer(request_: Any, model: str) -> None:
    for api in APIS:
        assert _plain(model, request_, api) == _full(model, request_, api)


def test_the_plain_path_answers_from_a_plan_and_a_model_it_cannot_plan_takes_the_full_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vertexmeter.count_tokens("gemini-2.5-flash", "hi")
    plans = [plan for plan in count_module._plain_plans.values() if plan and plan.model.id == "gemini-2.5-flash"]
    assert plans and plans[0].overhead >= 0
    # the plan answers without parsing the request again
    monkeypatch.setattr(count_module, "parse_count_request", lambda *a: pytest.fail("the full path ran"))
    assert vertexmeter.count_tokens("gemini-2.5-flash", "hi") == {
        "totalTokens": 1,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1}],
    }
    monkeypatch.undo()
    # a plan whose probes disagree with the full path is none: every request then takes the full path
    monkeypatch.setattr(count_module, "_plain_plans", {})
    monkeypatch.setattr(count_module, "_named", {})
    monkeypatch.setattr(count_module, "_plain_rest", lambda plan, total, characters: {"totalTokens": -1})
    assert vertexmeter.count_tokens("gemini-2.5-flash", "hi")["totalTokens"] == 1
    assert list(count_module._plain_plans.values()) == [None]


@pytest.mark.parametrize("family", ["gemma3", "gemma4"])
@pytest.mark.parametrize("texts", [["bad \ud800"], ["ok", "lone \udc00 surrogate"], ["x"] * 40 + ["\ud800"]])
def test_the_reference_engines_refuse_a_lone_surrogate_in_googles_shape(texts: list[str], family: str) -> None:
    from vertexmeter.errors import VertexMeterError
    from vertexmeter.tokenizing import engine_tokenizer
    from vertexmeter.tokenizing.assets import ASSETS, load_verified

    engine = engine_tokenizer(family, ASSETS[family].engine, load_verified(family)[0])
    for call in (lambda: engine.count_many(texts), lambda: engine.encode_many(texts), lambda: engine.count(texts[-1])):
        with pytest.raises(VertexMeterError, match="lone surrogate"):
            call()


def test_a_name_is_resolved_for_the_local_day_and_again_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plain path remembers what a name means until the local day ends: a dated alias then moves on."""
    import datetime as dt
    import time

    from vertexmeter.counting import model_info

    def local(day: dt.date, hour: int, minute: int = 0, second: float = 0.0) -> float:
        return time.mktime((day.year, day.month, day.day, hour, minute, 0, 0, 0, -1)) + second

    last, first = dt.date(2025, 12, 16), dt.date(2025, 12, 17)  # gemini-flash-latest: 2.5 Flash, then 3 Flash
    monkeypatch.setattr(count_module, "_named", {})
    now = [local(last, 12)]
    monkeypatch.setattr(count_module, "_clock", lambda: now[0])
    noon = count_module.todays_model("gemini-flash-latest", "vertex")
    assert noon is model_info("gemini-flash-latest", "vertex", on=last)
    assert noon.id == "gemini-2.5-flash"
    resolve_calls: list[object] = []
    real = count_module.model_info

    def resolving(*args: Any) -> Any:
        resolve_calls.append(args)
        return real(*args)

    monkeypatch.setattr(count_module, "model_info", resolving)
    now[0] = local(last, 23, 59, 59.9)
    assert count_module.todays_model("gemini-flash-latest", "vertex") is noon and not resolve_calls
    now[0] = local(first, 0)
    after = count_module.todays_model("gemini-flash-latest", "vertex")
    assert after is model_info("gemini-flash-latest", "vertex", on=first) and after.id == "gemini-3-flash-preview"
    assert len(resolve_calls) == 1
    now[0] = local(last, 18)  # a clock set back: resolved again, not served the later day's entry
    assert count_module.todays_model("gemini-flash-latest", "vertex") is noon
    # refusals are not kept, and the full path gives them
    assert count_module.todays_model("no-such-model", "vertex") is None
    assert count_module.todays_model("gemini-2.5-flash", "klingon") is None
    assert count_module.todays_model("gemini-2.5-flash", ["vertex"]) is None  # type: ignore[arg-type]
    assert ("no-such-model", "vertex") not in count_module._named
    with pytest.raises(VertexMeterError):
        vertexmeter.count_tokens("gemini-2.5-flash", "hi", api=["vertex"])  # type: ignore[arg-type]


def test_the_full_path_counts_billable_characters_only_where_the_answer_shows_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = {  # a function call: neither a plain request nor a conversation of text parts alone
        "contents": [
            {"role": "user", "parts": [{"text": "Hello there"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "greet", "args": {"who": "you"}}}]},
        ],
    }
    expected = {api: {m: _full(m, body, api) for m in ("gemini-2.5-flash", "gemini-1.5-pro")} for api in APIS}
    assert expected["vertex"]["gemini-1.5-pro"]["totalBillableCharacters"] > 0
    assert "totalBillableCharacters" not in expected["gemini"]["gemini-1.5-pro"]
    counted: list[str] = []
    real = count_module.billable_characters

    def counting(text: str) -> int:
        counted.append(text)
        return int(real(text))

    monkeypatch.setattr(count_module, "billable_characters", counting)
    for api in APIS:
        for model, answer in expected[api].items():
            counted.clear()
            assert vertexmeter.count_tokens(model, body, api=api) == answer
            assert bool(counted) == (api == "vertex" and model == "gemini-1.5-pro"), (model, api)
    # the typed layer keeps them for every model (pricing and usage read them)
    assert count("gemini-2.5-flash", body).billable_characters == count("gemini-1.5-pro", body).billable_characters > 0


@pytest.mark.parametrize(
    ("zone", "days"),
    [
        ("UTC", ["2025-12-16", "2024-02-29"]),
        ("Europe/Berlin", ["2025-03-30", "2025-10-26", "2025-12-31"]),  # DST changes at 02:00 / 03:00
        ("America/Sao_Paulo", ["2018-11-04", "2019-02-16"]),  # DST began at midnight: 00:00 did not exist
        ("Australia/Lord_Howe", ["2025-04-06", "2025-10-05"]),  # half-hour DST changes
        ("Pacific/Apia", ["2011-12-29", "2011-12-31"]),  # 2011-12-30 skipped altogether
    ],
)
def test_a_names_day_is_exactly_the_seconds_whose_local_date_it_is(
    zone: str, days: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The span a name's entry is kept for holds only seconds of its local day (date.today()'s date);
    where midnight cannot be placed it is a minute from the moment asked."""
    import datetime as dt
    import time

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        for iso in days:
            day = dt.date.fromisoformat(iso)
            for hour in (0, 1, 2, 3, 12, 23):
                now = time.mktime((day.year, day.month, day.day, hour, 30, 0, 0, 0, -1))
                today = dt.date.fromtimestamp(now)
                first, end = count_module._local_day(today, now)
                assert first <= now < end
                for second in (first, (first + end) / 2, end - 1e-3, now):
                    assert dt.date.fromtimestamp(second) == today, (zone, iso, hour, second)
                if end - first != 60.0:  # a whole day: the seconds around it are other days
                    assert dt.date.fromtimestamp(first - 1e-3) < today < dt.date.fromtimestamp(end)
                    assert 22 * 3600 <= end - first <= 26 * 3600
    finally:
        monkeypatch.undo()
        time.tzset()


def _conversation(turns: list[tuple[str, list[str]]], system: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "contents": [{"role": role, "parts": [{"text": t} for t in texts]} for role, texts in turns]
    }
    if system is not None:
        body["systemInstruction"] = {"parts": [{"text": t} for t in system]}
    return body


CONVERSATIONS = [
    _conversation([("user", ["Hello"]), ("model", ["Hi! How can I help?"])]),
    _conversation([("user", ["Hello"]), ("model", ["Hi!"]), ("user", ["a joke", " about cats 😺"])], ["Be brief."]),
    _conversation([("user", ["설명서를 읽어 주세요"])], ["You are helpful.", "  Answer in Korean.\n"]),
    _conversation([("model", ["I start."]), ("user", ["ok"])]),
    _conversation([("user", ["one"]), ("user", ["two"]), ("model", ["three"]), ("model", ["four"])]),
    _conversation([("user", ["  \t\n"]), ("model", ["x" * 3000])], ["s"]),
]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("model", MODELS)
def test_every_model_answers_conversations_as_the_full_path_does(model: str, api: str) -> None:
    for request in CONVERSATIONS:
        assert _plain(model, request, api) == _full(model, request, api), request


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(["gemini-1.5-pro", "gemini-2.5-flash", "gemini-3.5-flash", "text-bison"]),
    api=st.sampled_from(APIS),
    turns=st.lists(
        st.tuples(st.sampled_from(["user", "model"]), st.lists(st.text(max_size=30), min_size=1, max_size=3)),
        min_size=1,
        max_size=4,
    ),
    system=st.none() | st.lists(st.text(max_size=30), min_size=1, max_size=2),
)
def test_generated_conversations_get_the_full_paths_answer(
    model: str, api: str, turns: list[tuple[str, list[str]]], system: list[str] | None
) -> None:
    request = _conversation(turns, system)
    assert _plain(model, request, api) == _full(model, request, api)


@pytest.mark.parametrize(
    "request_",
    [
        _conversation([("user", ["ok"]), ("model", ["bad \ud800"])]),
        _conversation([("user", ["ok"]), ("model", [""])]),
        _conversation([("user", ["ok"])], ["lone \udc00"]),
        _conversation([("user", ["ok"])], []),
        _conversation([("user", ["ok"]), ("system", ["no"])]),
        {**_conversation([("user", ["ok"]), ("model", ["hi"])]), "generationConfig": {}},
        {**_conversation([("user", ["ok"]), ("model", ["hi"])]), "systemInstruction": {"role": "x", "parts": []}},
        {
            "contents": [
                {"role": "user", "parts": [{"text": "ok"}]},
                {"role": "model", "parts": [{"text": "a", "thought": True}]},
            ]
        },
        {"contents": []},
    ],
)
@pytest.mark.parametrize("model", ["gemini-2.5-flash", "gemini-1.5-pro", "gemini-3.5-flash", "text-bison"])
def test_conversations_outside_the_shape_or_refused_get_the_full_paths_answer(request_: Any, model: str) -> None:
    for api in APIS:
        assert _plain(model, request_, api) == _full(model, request_, api)


def test_a_conversation_is_answered_from_its_shapes_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    first = _conversation([("user", ["Hello"]), ("model", ["Hi!"]), ("user", ["More?"])], ["Be brief."])
    other = _conversation([("user", ["Other words"]), ("model", ["entirely, 가나다"]), ("user", ["!"])], ["No."])
    expected = {name: _full("gemini-2.5-flash", body, "vertex") for name, body in (("first", first), ("other", other))}
    assert vertexmeter.count_tokens("gemini-2.5-flash", first) == expected["first"]
    monkeypatch.setattr(count_module, "parse_count_request", lambda *a: pytest.fail("the full path ran"))
    assert vertexmeter.count_tokens("gemini-2.5-flash", other) == expected["other"]
    # the Gemini API's countTokens refuses a systemInstruction: that shape has no plan, the full path refuses
    monkeypatch.undo()
    with pytest.raises(VertexMeterError, match="systemInstruction"):
        vertexmeter.count_tokens("gemini-2.5-flash", first, api="gemini")
    plans = {key[1]: plan for key, (info, plan) in count_module._shape_plans.items() if info.id == "gemini-2.5-flash"}
    assert plans["vertex"] is not None and plans["gemini"] is None


def test_a_conversation_of_more_than_128_turns_takes_the_full_path(monkeypatch: pytest.MonkeyPatch) -> None:
    long = _conversation([("user" if i % 2 == 0 else "model", [f"turn {i}"]) for i in range(129)])
    expected = _full("gemini-2.5-flash", long, "vertex")
    assert count_module.conversation_texts(long) is None
    assert count_module.conversation_texts({"contents": long["contents"][:128]}) is not None
    assert vertexmeter.count_tokens("gemini-2.5-flash", long) == expected


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("model", ["gemini-1.5-pro", "gemini-2.5-flash", "gemini-3.5-flash", "text-bison"])
def test_requests_made_into_bodies_take_the_plain_paths_with_the_full_paths_answer(
    model: str, api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list of texts or google-genai types becomes a body first (requests.request_body); a plain body or a
    conversation of text parts is then answered by the plain paths, as the full path answers that body."""
    types = pytest.importorskip("google.genai.types")
    requests: list[Any] = [
        ["Hello there", "second text 가"],
        [types.Content(role="user", parts=[types.Part(text="typed"), types.Part(text=" parts")])],
        [
            types.Content(role="user", parts=[types.Part(text="Hi")]),
            types.Content(role="model", parts=[types.Part(text="Hello! 😀")]),
        ],
        ["ok", "bad \ud800"],
        [types.Content(role="user", parts=[types.Part(text="")])],
    ]
    expected = [_full(model, request, api) for request in requests]
    assert [_plain(model, request, api) for request in requests] == expected
    # the plain paths answered: the full path's parser is not needed for the plain shapes
    monkeypatch.setattr(count_module, "parse_count_request", lambda *a: pytest.fail("the full path ran"))
    for request, answer in zip(requests[:3], expected[:3], strict=True):
        if isinstance(answer, dict) and model != "text-bison":
            assert _plain(model, request, api) == answer
