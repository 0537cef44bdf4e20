"""The import's fast path (ledger.fast) gives exactly what the checked path gives, or hands the line to it.

Line by line: whatever line the fast reader takes, the checked reader reads as one call with the same key,
place, model, time, mode, usage and fingerprint. Whole imports: a log of good, odd and bad lines imported with
the fast path and without it stores the same rows in the same order, counts the same, reports the same bad
lines (number, status, reason, text) and the same bill, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from vertexmeter.errors import VertexMeterError
from vertexmeter.ledger import bill, engine_for, fast
from vertexmeter.ledger.fast import USAGE_COUNTS, FastCall, FastReader
from vertexmeter.ledger.fingerprint import call_fingerprint, reference
from vertexmeter.ledger.logs import read_line
from vertexmeter.ledger.prices import usage_vector
from vertexmeter.ledger.store import priced_requests
from vertexmeter.requests import decode

MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash-001", "claude-sonnet-4-5@20250929", "no-such-model")
odd_values: st.SearchStrategy[Any] = st.sampled_from(
    (None, -1, 2**31 - 1, 2**31, 2**64, 10**30, 1.0, 2.5, "12", "x", True, [], {}, "", 0)
)  # fmt: skip
counts = st.one_of(st.integers(0, 300_000), st.integers(0, 300_000), odd_values)


@st.composite
def details(draw: st.DrawFn) -> Any:
    modality = st.sampled_from(("TEXT", "TEXT", "text", "IMAGE", "AUDIO", "VIDEO", "DOCUMENT", 7, None))
    entry = st.fixed_dictionaries({"modality": modality, "tokenCount": counts})
    return draw(st.one_of(st.none(), st.just([]), st.lists(st.one_of(entry, st.just("x")), max_size=3)))


@st.composite
def usage_metadata(draw: st.DrawFn) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for name in USAGE_COUNTS:
        if draw(st.integers(0, 3)):
            meta[name] = draw(counts)
    if draw(st.integers(0, 3)) == 0:
        meta["cachedContentTokenCount"] = draw(st.integers(0, 1000))
    for name in ("promptTokensDetails", "cacheTokensDetails", "toolUsePromptTokensDetails", "candidatesTokensDetails"):
        if draw(st.integers(0, 4)) == 0:
            meta[name] = draw(details())
    if draw(st.integers(0, 4)) == 0:
        meta["trafficType"] = draw(
            st.sampled_from(("ON_DEMAND", "FLEX", "PRIORITY", "PROVISIONED_THROUGHPUT", "OTHER", None, 3))
        )
    if draw(st.integers(0, 9)) == 0:
        meta["other"] = 1
    return meta


ids = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=8),
    st.sampled_from(("r" * 200, "r" * 201, "a\x00b", "a\x7f", "id")),
    st.integers(0, 99),
    st.none(),
)
times = st.sampled_from(
    (
        "2025-11-03T10:00:00Z",
        "2025-11-03T10:00:00.123456789Z",
        "2025-11-03T23:30:00-05:00",
        "2026-07-01T00:00:00+00:00",
        "2025-11-03",
        "9999-01-01T00:00:00Z",
        "1999-01-01T00:00:00Z",
        "yesterday",
        1762164000,
        "",
        None,
    )
)
candidates = st.sampled_from(
    (
        [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP", "avgLogprobs": -0.25}],
        [{"groundingMetadata": {"webSearchQueries": ["q1", "q2"]}}],
        [{"groundingMetadata": {"groundingChunks": [{"maps": {}}]}}],
        [{"groundingMetadata": {}}],
        [],
        "x",
    )
)


@st.composite
def lines(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if draw(st.integers(0, 5)):
        item["responseId"] = draw(ids)
    if draw(st.integers(0, 5)):
        item["modelVersion"] = draw(st.sampled_from(MODELS))
    if draw(st.integers(0, 5)):
        item["createTime"] = draw(times)
    if draw(st.integers(0, 9)):
        item["usageMetadata"] = draw(usage_metadata())
    elif draw(st.booleans()):
        item["usageMetadata"] = draw(st.sampled_from(([], "x", None)))
    if draw(st.integers(0, 3)) == 0:
        item["candidates"] = draw(candidates)
    if draw(st.integers(0, 4)) == 0:  # what the SDK adds to a dumped response
        item["sdkHttpResponse"] = {"headers": {"content-type": "application/json"}}
        item[draw(st.sampled_from(("parsed", "automaticFunctionCallingHistory")))] = draw(
            st.sampled_from((None, [], {"score": 0.5}, [1e-300, -0.0, 12345678901234567890]))
        )
    if draw(st.integers(0, 5)) == 0:  # our own fields, and the keys of other recognisers
        extra = draw(st.sampled_from(("project", "labels", "model", "endpoint", "location", "object", "response")))
        item[extra] = draw(st.sampled_from(("p1", {"team": "a"}, "gemini-2.5-pro", "regional", "us-central1")))
    return item


def encodings(item: dict[str, Any]) -> list[bytes]:
    """The line as written, and spellings the one JSON decoder refuses or reads differently."""
    text = json.dumps(item)
    out = [text.encode() + b"\n", json.dumps(item, ensure_ascii=False).encode() + b"\r\n"]
    out.append(b"\xef\xbb\xbf" + text.encode())  # a byte order mark
    out.append(text.replace('"id"', '"\\ud800"').encode())  # a lone surrogate, where the id was "id"
    out.append(text[:-1].encode() + b', "promptFeedback": ' + b"[" * 101 + b"]" * 101 + b"}")  # too deep
    out.append(text[:-1].encode() + b', "promptFeedback": 0.' + b"0" * 420 + b"1}")  # a number too long
    out.append(text[:-1].encode() + b', "promptFeedback": NaN}')
    out.append(text[:-1].encode() + b', "promptFeedback": 1e400}')
    return out


def compare_line(raw: bytes, model: str | None, day: dt.date | None, api: str, endpoint: str) -> bool:
    """The fast reader's call is the checked reader's; returns whether the fast reader took the line."""
    call = FastReader(api, endpoint, model, day)(raw, "log.jsonl", 7)
    if call is None:
        return False
    assert isinstance(call, FastCall)
    checked = read_line("log.jsonl", 7, raw, model, day)
    assert checked.error is None, (raw, checked.error)
    (logged,) = checked.requests
    assert (call.key, call.source, call.model, call.created, call.mode) == (
        logged.key,
        logged.source,
        logged.model,
        logged.created,
        logged.mode,
    )
    assert call.created.tzinfo is not None and call.day == logged.created.astimezone(dt.UTC).date()
    assert call.month == call.day.strftime("%Y-%m") and call.present == tuple(map(bool, call.vector))
    assert logged.response_id == call.key and not logged.labels and logged.project is None
    assert (logged.api, logged.endpoint, logged.grounded, logged.maps_grounded, logged.grounding_queries) == (
        None,
        None,
        False,
        False,
        0,
    )
    assert usage_vector(logged.usage) == call.vector and logged.usage.prompt_tokens == call.prompt
    assert call.fingerprint == call_fingerprint(logged, api, endpoint) == reference(logged, api, endpoint)
    assert call.raw == raw and (call.file, call.line) == ("log.jsonl", 7)
    return True


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines(),
    st.sampled_from((None, "gemini-2.5-flash")),
    st.sampled_from((None, dt.date(2025, 11, 4))),
    st.sampled_from(("vertex", "gemini")),
    st.sampled_from(("global", "regional")),
)
def test_a_line_the_fast_reader_takes_is_the_checked_readers_call(
    item: dict[str, Any], model: str | None, day: dt.date | None, api: str, endpoint: str
) -> None:
    for raw in encodings(item):
        compare_line(raw, model, day, api, endpoint)


def test_the_fast_reader_takes_the_common_lines_and_leaves_the_rest() -> None:
    def taken(item: Any, raw: bytes | None = None) -> bool:
        return compare_line(raw or json.dumps(item).encode(), None, None, "vertex", "global")

    plain: dict[str, Any] = {
        "responseId": "r1",
        "modelVersion": "gemini-2.5-flash",
        "createTime": "2025-11-03T10:00:00Z",
        "usageMetadata": {"promptTokenCount": 1000, "cachedContentTokenCount": 200, "candidatesTokenCount": 50},
    }
    assert taken(plain)
    text_details = {"promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1000}], "trafficType": "ON_DEMAND"}
    assert taken({**plain, "usageMetadata": {**plain["usageMetadata"], **text_details}})
    assert taken({**plain, "candidates": [{"content": {"parts": [{"text": "hi"}]}, "avgLogprobs": -0.5}]})
    assert taken({**plain, "sdkHttpResponse": {"headers": {"x": "y"}}, "automaticFunctionCallingHistory": []})
    image = {"promptTokenCount": 1000, "promptTokensDetails": [{"modality": "IMAGE", "tokenCount": 1000}]}
    assert not taken({**plain, "usageMetadata": image})  # not all text
    assert not taken({**plain, "labels": {"team": "a"}})  # our own fields: the checked path reads them
    assert not taken({**plain, "responseId": ""})  # keyed by a hash of the line
    assert not taken({**plain, "usageMetadata": {"promptTokenCount": "1000"}})  # a string count
    assert not taken({**plain, "usageMetadata": {"promptTokenCount": 2**31}})  # beyond int32: refused there
    assert not taken({**plain, "usageMetadata": {"trafficType": "PROVISIONED_THROUGHPUT"}})
    assert not taken(None, json.dumps(plain).encode()[:-1] + b', "promptFeedback": NaN}')
    grounded = [{"groundingMetadata": {"webSearchQueries": ["q"]}}]
    assert not taken({**plain, "candidates": grounded})


def test_the_fast_reader_bounds_are_the_decoders_own() -> None:
    assert fast.MAX_BRACKETS == decode.MAX_DEPTH
    assert fast._LONG_NUMBER.pattern.endswith(b"{%d}" % (decode._MAX_NUMBER_CHARS + 1))


def _log(path: Path, seed: int) -> list[bytes]:
    """Good lines of several models, days and kinds (repeated: duplicates), with odd and bad lines among them."""
    import random

    rng = random.Random(seed)
    out: list[bytes] = []
    for _i in range(700):
        prompt = rng.randint(1, 300_000)
        meta: dict[str, Any] = {
            "promptTokenCount": prompt,
            "cachedContentTokenCount": rng.choice((0, prompt // 3)),
            "candidatesTokenCount": rng.randint(0, 4000),
        }
        if rng.random() < 0.5:
            meta["thoughtsTokenCount"] = rng.randint(0, 2000)
        if rng.random() < 0.1:
            meta["trafficType"] = rng.choice(("FLEX", "PRIORITY", "PROVISIONED_THROUGHPUT", "ON_DEMAND"))
        if rng.random() < 0.05:
            meta["promptTokensDetails"] = [{"modality": rng.choice(("TEXT", "IMAGE")), "tokenCount": prompt}]
        item: dict[str, Any] = {
            "responseId": f"id{rng.randint(0, 600)}",  # some ids twice: duplicates, and conflicts
            "modelVersion": rng.choice(MODELS[:4]),
            "createTime": f"2025-{rng.randint(7, 11):02d}-{rng.randint(10, 12)}T{rng.randint(0, 23):02d}:00:00Z",
            "usageMetadata": meta,
        }
        if rng.random() < 0.05:
            item["labels"] = {"team": rng.choice(("a", "b"))}
        if rng.random() < 0.03:
            item["candidates"] = [{"groundingMetadata": {"webSearchQueries": ["q"]}}]
        out.append(json.dumps(item).encode() + b"\n")
        if rng.random() < 0.2:
            out.append(out[rng.randrange(len(out))])  # the same line again
    for bad in (gemini_line(prompt=2**31), gemini_line(prompt="x"), b"{nope\n", gemini_line(model="no-such-model")):
        out.insert(rng.randrange(len(out)), bad)
    out.insert(rng.randrange(len(out)), b"\n")
    path.write_bytes(b"".join(out))
    return out


def gemini_line(*, prompt: Any = 10, model: str = "gemini-2.5-flash") -> bytes:
    meta = {"promptTokenCount": prompt, "candidatesTokenCount": 5}
    item = {"responseId": "bad-" + str(prompt), "modelVersion": model, "createTime": "2025-11-03T10:00:00Z"}
    return json.dumps({**item, "usageMetadata": meta}).encode() + b"\n"


def _stored(db: str) -> list[tuple[Any, ...]]:
    c = priced_requests.c
    columns = [col for col in priced_requests.c if col.name not in ("id", "imported_at")]
    with engine_for(db).connect() as conn:
        return [tuple(row) for row in conn.execute(select(*columns).order_by(c.id))]


def _import(
    monkeypatch: pytest.MonkeyPatch, enabled: bool, logs: list[str], db: str, quarantine: Path
) -> tuple[Any, ...]:
    monkeypatch.setattr(fast, "ENABLED", enabled)
    report = bill(logs, db=db, by=["model", "day"], quarantine=str(quarantine))
    quarantined = quarantine.read_text()
    again = bill(logs, db=db, by="model", quarantine=str(quarantine))  # every call known: duplicates, conflicts
    return report.to_json(), quarantined, again.to_json(), quarantine.read_text()


def test_an_import_by_the_fast_path_stores_and_reports_what_the_checked_path_does(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    for seed, path in enumerate(logs):
        _log(path, seed)
    names = [str(p) for p in logs]
    if "://" in db:  # one PostgreSQL server: the checked import into a second database on it
        from tests.ledger.conftest import drop_ledger

        checked = _import(monkeypatch, False, names, db, tmp_path / "q.jsonl")
        checked_rows = _stored(db)
        drop_ledger(db)
    else:
        checked_db = str(tmp_path / "checked.sqlite")
        checked = _import(monkeypatch, False, names, checked_db, tmp_path / "q.jsonl")
        checked_rows = _stored(checked_db)
    taken: list[int] = []
    monkeypatch.setattr(fast, "price_values", _counting(fast.price_values, taken))
    fast_result = _import(monkeypatch, True, names, db, tmp_path / "q.jsonl")
    for got, expected in zip(fast_result, checked, strict=True):
        assert got == expected
    assert _stored(db) == checked_rows
    assert len(taken) > 300  # most new calls went the fast way (a first call of its kind goes the checked way)
    first = checked[0]
    assert first["imported"]["rejected"] > 4 and first["imported"]["duplicates"] > 50
    assert first["imported"]["conflicts"] > 5 and first["imported"]["skipped_provisioned"] > 0


def test_strict_refuses_the_same_lines_by_either_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "a.jsonl"
    _log(log, 3)
    refusals = []
    for enabled in (False, True):
        monkeypatch.setattr(fast, "ENABLED", enabled)
        with pytest.raises(VertexMeterError) as caught:
            bill(str(log), db=str(tmp_path / f"strict{enabled}.sqlite"), strict=True)
        refusals.append((caught.value.status, caught.value.message))
        with engine_for(str(tmp_path / f"strict{enabled}.sqlite")).connect() as conn:
            assert conn.execute(select(priced_requests.c.id)).first() is None  # nothing stored
    assert refusals[0] == refusals[1] and "bad line(s), nothing imported (strict)" in refusals[0][1]


def _counting(function: Any, calls: list[int]) -> Any:
    def counted(*args: Any, **kwargs: Any) -> Any:
        out = function(*args, **kwargs)
        if out is not None:
            calls.append(1)
        return out

    return counted
