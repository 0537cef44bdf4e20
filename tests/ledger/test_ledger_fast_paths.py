"""The import's fast paths give exactly what the slow, obviously right ones give.

Prepared pricing (ledger.prices.PriceBook) against the PriceList itself, call by call, over every token-billed model
of the catalogue; call fingerprints against their json.dumps reference; usageMetadata without modality details
against the general per-modality rule. Then the import's bulk insert under real processes: two importers of one
log at once, and an importer killed mid-way (kill -9) then run again, each call stored exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import fields
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

import vertexmeter
from vertexmeter.errors import VertexMeterError
from vertexmeter.ledger import bill, engine_for
from vertexmeter.ledger.fingerprint import call_fingerprint, reference
from vertexmeter.ledger.formats import LoggedRequest, usage_from_metadata
from vertexmeter.ledger.prices import COUNTS, OTHER_COUNTS, PriceBook, Priced, _from_bill, usage_of, usage_vector
from vertexmeter.pricing import (
    Quantities,
    RequestUsage,
    catalogue,
    first_price_day,
    money,
    token_bucket,
    token_request,
)
from vertexmeter.pricing.usage import INTEGER_QUANTITIES
from vertexmeter.vocabulary import MODES


def _priced_models() -> list[tuple[str, str, dt.date]]:
    """(model, api, its first priced day) for every model the catalogue prices on an API."""
    out = []
    for model in sorted(catalogue().entries_by_model):
        for api in ("vertex", "gemini"):
            first = first_price_day(model, api)
            if first is not None:
                out.append((model, api, first))
    return out


PRICED_MODELS = _priced_models()


def stored(priced: Priced) -> tuple[Any, ...]:
    """What the ledger keeps of a bill (amounts as their text); line items a template wrote as JSON are the
    json.dumps of them."""
    if priced.line_items_json is not None:
        assert priced.line_items_json == json.dumps(priced.line_items)
    return (
        priced.priced_model,
        str(priced.total),
        json.dumps(priced.line_items),
        priced.grounding_entry,
        str(priced.grounding_amount),
    )


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, str, dt.date, str, str, list[RequestUsage]]:
    """One kind of call (model, API, day, endpoint, mode, the counts present) and several calls of it."""
    model, api, first = draw(st.sampled_from(PRICED_MODELS))
    day = first + dt.timedelta(days=draw(st.integers(0, 600)))  # price changes, retirements, tiers alike
    endpoint = draw(st.sampled_from(("global", "regional")))
    mode = draw(st.sampled_from(("online", "online", *MODES)))

    def often(in_ten: int) -> bool:
        return draw(st.integers(0, 9)) < in_ten

    present = []
    for tokens in (9, 5, 1, 8):  # input, cached input, cache write, output: text tokens, then audio, image, video
        present += [often(tokens), often(1), often(1), often(1)]  # (media tokens: few models price them all)
    present += [often(5), often(1), often(1), often(1)]  # thinking; grounded requests, search queries, maps
    usages = []
    for _ in range(draw(st.integers(1, 4))):
        vector = tuple(draw(st.integers(1, 3_000_000)) if p else 0 for p in present)
        prompt = draw(st.one_of(st.none(), st.integers(0, 2_000_000)))
        usages.append(usage_of(vector, prompt))
    return model, api, day, endpoint, mode, usages


def outcome(price: Any) -> tuple[Any, ...]:
    try:
        return ("ok", stored(price()))
    except VertexMeterError as exc:
        return ("error", exc.status, exc.message)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls())
def test_prepared_prices_are_the_pricers_own(case: tuple[str, str, dt.date, str, str, list[RequestUsage]]) -> None:
    model, api, day, endpoint, mode, usages = case
    book = PriceBook()
    try:
        pricer = book.pricer(model, day, api, endpoint)
    except VertexMeterError:
        return  # not priced that day (or not by tokens): nothing to compare
    for usage in usages * 2:  # the second round takes the templates the first made
        fast = outcome(lambda usage=usage: book.price(pricer, mode, usage))
        slow = outcome(lambda usage=usage: _from_bill(pricer, usage, mode))
        assert fast == slow


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls(), st.lists(st.integers(0, 2**31 - 1), min_size=20, max_size=20))
def test_prices_on_integer_counts_are_the_pricers_own(
    case: tuple[str, str, dt.date, str, str, list[RequestUsage]], big: list[int]
) -> None:
    """price_tokens (the import's fast path: integer arithmetic, one Decimal per total) stores what the PriceList
    gives, text and all, for the kind's calls and for calls of the same counts present at int32's extremes."""
    model, api, day, endpoint, mode, usages = case
    book = PriceBook()
    try:
        pricer = book.pricer(model, day, api, endpoint)
    except VertexMeterError:
        return
    for usage in usages:
        vector = usage_vector(usage)
        if vector is None:
            continue
        prompt = int(pricer.prompt_tokens(usage))
        extreme = tuple(b if v else 0 for v, b in zip(vector, big, strict=True))
        for counts in (vector, extreme, vector):  # the first makes the template, the others take it
            call = usage_of(counts, prompt)
            want = outcome(lambda call=call: _from_bill(pricer, call, mode))
            if want[0] != "ok":
                break  # the kind is refused: no template
            book.price(pricer, mode, call)  # (makes the kind's template, if it has one)
            got = book.price_tokens(model, day, api, endpoint, mode, counts, prompt)
            if got is None:
                continue  # no template for the kind: the import prices it by the PriceList
            priced_model, total, items, entry, grounding = got
            assert (priced_model, str(total), items, entry, str(grounding)) == want[1]


@pytest.mark.parametrize(
    ("rate", "size", "quantity"),
    [
        ("0.30", 10**6, 10**6),
        ("0", 10**6, 5),
        ("0.00", 1000, 7),
        ("1E+1", 10**6, 3),
        ("2.5", 1, 4),
        ("3.5E-7", 10**6, 1),
    ],
)
def test_integer_pricing_keeps_decimals_exponents(rate: str, size: int, quantity: int) -> None:
    """An amount and total as Decimal's exact division and addition write them (trailing zeros, exponent)."""
    from decimal import localcontext

    from vertexmeter.ledger.prices import PRECISION, _apply_plan, _plan

    items = ((0, D(rate), size, "<", "|", ">", True, "entry"),)
    plan = _plan(items)
    assert plan is not None
    with localcontext() as ctx:
        ctx.prec = PRECISION
        amount = D(quantity) * D(rate) / size
    assert _apply_plan("m", plan, (quantity,)) == (
        "m",
        D(0) + amount,
        f"[<{quantity}|{money(amount)}>]",
        "entry",
        amount,
    )
    got = _apply_plan("m", plan, (quantity,))
    assert got is not None and (str(got[1]), str(got[4])) == (str(D(0) + amount), str(amount))


def test_integer_pricing_leaves_rates_it_cannot_scale_to_decimal() -> None:
    from vertexmeter.ledger.prices import _plan

    assert _plan(((0, D("0.3"), 1000, "<", "|", ">", False, "e"),)) is not None
    assert _plan(((0, D("0.3"), 3600, "<", "|", ">", False, "e"),)) is None  # per hour: not a power of ten
    assert _plan(((0, D("-0.3"), 1000, "<", "|", ">", False, "e"),)) is None


@pytest.mark.parametrize("mode", ["online", "batch"])
def test_prepared_prices_of_every_priced_model(mode: str) -> None:
    """Every model and API the catalogue prices, a month after its first price: text calls of both tiers."""
    compared = 0
    for model, api, first in PRICED_MODELS:
        book = PriceBook()
        try:
            pricer = book.pricer(model, first + dt.timedelta(days=30), api, "global")
        except VertexMeterError:
            continue  # billed per image, second or character: not a usage log's
        for prompt in (1_000, 150_000, 250_000, 1_000, 250_000):  # short and long context, each kind twice
            for cached in (0, prompt // 3):
                usage = usage_of(
                    (prompt - cached, 0, 0, 0, cached, 0, 0, 0, 0, 0, 0, 0, 321, 0, 0, 0, 55, 0, 0, 0), prompt
                )
                fast = outcome(lambda: book.price(pricer, mode, usage))  # noqa: B023 - called at once
                assert fast == outcome(lambda: _from_bill(pricer, usage, mode)), (model, api, prompt)  # noqa: B023
                compared += fast[0] == "ok"
    assert compared > 300  # most models price both modes


def test_a_template_serves_the_kind_and_other_usage_goes_to_the_pricer() -> None:
    book = PriceBook()
    pricer = book.pricer("gemini-2.5-flash", dt.date(2025, 11, 20), "vertex", "global")
    first = usage_of((1000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0, 30, 0, 0, 0), 1000)
    book.price(pricer, "online", first)
    (template,) = book.templates.values()
    assert template is not None and [item.source for item in template.items] == [0, 12, 16]
    second = usage_of((7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0), 7)
    assert stored(book.price(pricer, "online", second)) == stored(_from_bill(pricer, second, "online"))
    assert len(book.templates) == 1  # the same kind
    images = RequestUsage(input=Quantities(tokens=10, images=1))
    assert usage_vector(images) is None  # not a template's: the PriceList prices it (and refuses it alike)
    assert outcome(lambda: book.price(pricer, "online", images)) == outcome(
        lambda: _from_bill(pricer, images, "online")
    )


def test_past_its_template_limit_a_book_prices_with_the_pricer(monkeypatch: pytest.MonkeyPatch) -> None:
    import vertexmeter.ledger.prices as prices

    monkeypatch.setattr(prices, "MAX_TEMPLATES", 1)
    book = PriceBook()
    pricer = book.pricer("gemini-2.5-flash", dt.date(2025, 11, 20), "vertex", "global")
    for thinking in (0, 30, 0, 30):  # two kinds: with and without thinking tokens
        usage = usage_of((1000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0, thinking, 0, 0, 0), 1000)
        assert stored(book.price(pricer, "online", usage)) == stored(_from_bill(pricer, usage, "online"))
    assert len(book.templates) == 1


def test_templates_compute_at_the_engines_precision() -> None:
    import vertexmeter.ledger.prices as prices
    import vertexmeter.pricing.engine as engine

    assert prices.PRECISION == engine.PRECISION


def test_the_usage_vector_covers_every_bucket_field() -> None:
    """A new Quantities field must be either a count the templates carry or one that sends a call to the PriceList."""
    assert sorted(COUNTS + OTHER_COUNTS) == sorted(f.name for f in fields(Quantities))
    for name in OTHER_COUNTS:
        value = D("1.5") if name.endswith("_seconds") else 1
        assert usage_vector(RequestUsage(output=Quantities(**{name: value}))) is None, name


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@st.composite
def logged_requests(draw: st.DrawFn) -> LoggedRequest:
    def bucket() -> Quantities:
        ints = {n: draw(st.integers(0, 2**31 - 1)) for n in ("tokens", "audio_tokens", "image_tokens", "images")}
        seconds = draw(st.one_of(st.integers(0, 99), st.decimals(0, 99, places=2)))
        return Quantities(**ints, video_seconds=seconds)

    usage = RequestUsage(
        input=bucket(),
        cached_input=bucket(),
        output=bucket(),
        thinking_tokens=draw(st.integers(0, 9999)),
        prompt_tokens=draw(st.one_of(st.none(), st.integers(0, 10**9))),
        filtered=draw(st.booleans()),
        mode=draw(st.sampled_from((None, "batch"))),
        video_tier=draw(st.one_of(st.none(), texts)),
    )
    return LoggedRequest(
        key="k",
        response_id=None,
        model=draw(texts),
        created=dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=draw(st.integers(0, 10**14))),
        mode=draw(st.sampled_from(MODES)),
        usage=usage,
        source="x:1",
        project=draw(st.one_of(st.none(), texts)),
        labels=draw(st.dictionaries(texts, texts, max_size=3)),
        api=draw(st.sampled_from((None, "vertex", "gemini"))),
        endpoint=draw(st.sampled_from((None, "global", "regional"))),
        grounding_queries=draw(st.integers(0, 9)),
        grounded=draw(st.booleans()),
        maps_grounded=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(logged_requests(), st.sampled_from(("vertex", "gemini")), st.sampled_from(("global", "regional")))
def test_call_fingerprints_equal_their_reference(logged: LoggedRequest, api: str, endpoint: str) -> None:
    assert call_fingerprint(logged, api, endpoint) == reference(logged, api, endpoint)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 5000), st.integers(0, 5000), st.integers(0, 5000))
def test_usage_without_details_is_read_as_the_per_modality_rule_reads_it(
    prompt: int, cached: int, tool: int, output: int, thoughts: int
) -> None:
    cached = min(cached, prompt)
    meta: dict[str, Any] = {
        "promptTokenCount": prompt,
        "cachedContentTokenCount": cached,
        "toolUsePromptTokenCount": tool,
        "candidatesTokenCount": output,
        "thoughtsTokenCount": thoughts,
    }
    plain = usage_from_metadata(meta)  # no details: the direct reading
    detailed = usage_from_metadata({**meta, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]})
    assert plain == detailed


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**31 - 1), min_size=6, max_size=6), st.one_of(st.none(), st.integers(0, 10**9)))
def test_token_requests_are_the_dataclasses_own(counts: list[int], prompt: int | None) -> None:
    fresh, cached, written, output, thoughts, _ = counts
    fast = token_request(fresh, cached, output, thinking_tokens=thoughts, prompt_tokens=prompt, cache_write=written)
    slow = RequestUsage(
        input=Quantities(tokens=fresh),
        cached_input=Quantities(tokens=cached),
        cache_write=Quantities(tokens=written),
        output=Quantities(tokens=output),
        thinking_tokens=thoughts,
        prompt_tokens=prompt,
    )
    assert fast == slow and vars(fast) == vars(slow)
    logged = LoggedRequest("k", None, "gemini-2.5-flash", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "online", fast, "x:1")
    assert call_fingerprint(logged, "vertex", "global") == reference(
        logged.__class__(**{**vars(logged), "usage": slow}), "vertex", "global"
    )


BAD_AMOUNTS = [
    (-1, "must not be negative, got -1."),
    (True, "must be an int, got True."),
    (1.5, "must be an int, got 1.5."),
    (D("2"), "must be an int, got Decimal('2')."),
    ("3", "must be an int, got '3'."),
    (None, "must be an int, got None."),
]


@pytest.mark.parametrize("name", INTEGER_QUANTITIES)
@pytest.mark.parametrize(("value", "message"), BAD_AMOUNTS)
def test_bad_counts_are_refused_by_name(name: str, value: Any, message: str) -> None:
    """The one-test check of the common case lets no bad count through, and the error names the field."""
    with pytest.raises(VertexMeterError) as caught:
        Quantities(**{name: value})
    assert caught.value.message == f"{name} {message}"
    if name == "tokens":
        with pytest.raises(VertexMeterError) as again:
            token_bucket(value)
        assert again.value.message == caught.value.message


@pytest.mark.parametrize("name", ["video_seconds", "audio_seconds"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (D("-0.5"), "must not be negative, got Decimal('-0.5')."),
        (-2, "must not be negative, got -2."),
        (0.5, "must be an int or Decimal, got 0.5."),
        (False, "must be an int or Decimal, got False."),
    ],
)
def test_bad_seconds_are_refused_by_name(name: str, value: Any, message: str) -> None:
    with pytest.raises(VertexMeterError) as caught:
        Quantities(**{name: value})
    assert caught.value.message == f"{name} {message}"
    assert Quantities(**{name: D("1.5")}).__dict__[name] == D("1.5")
    assert Quantities(**{name: 3}).__dict__[name] == 3


@pytest.mark.parametrize(
    "name", ["thinking_tokens", "grounded_requests", "search_queries", "maps_requests", "prompt_tokens"]
)
@pytest.mark.parametrize(("value", "message"), BAD_AMOUNTS)
def test_bad_request_counts_are_refused_by_name(name: str, value: Any, message: str) -> None:
    if name == "prompt_tokens" and value is None:
        assert RequestUsage(prompt_tokens=None).prompt_tokens is None  # no prompt size: allowed
        return
    with pytest.raises(VertexMeterError) as caught:
        RequestUsage(**{name: value})
    assert caught.value.message == f"{name} {message}"
    if name in ("thinking_tokens", "prompt_tokens"):
        with pytest.raises(VertexMeterError) as again:
            token_request(1, 0, 1, **{"thinking_tokens": 0, "prompt_tokens": 1, name: value})
        assert again.value.message == caught.value.message


@pytest.mark.parametrize("repeat", [0, -1, True, 1.0, D(2), "2"])
def test_bad_repeats_are_refused(repeat: Any) -> None:
    with pytest.raises(VertexMeterError) as caught:
        RequestUsage(repeat=repeat)
    assert caught.value.message == f"repeat must be a whole number of at least 1, got {repeat!r}."


def test_bulk_inserted_rows_are_stored_as_sqlalchemy_stores_them(db: str, tmp_path: Path) -> None:
    """The same row through the bulk insert and through a plain SQLAlchemy insert: the same stored values (SQLite
    keeps times as text, and the report orders by that text)."""
    from vertexmeter.ledger.store import insert_new, priced_requests, read_rows, row_values

    log = tmp_path / "log.jsonl"
    line = {
        "responseId": "r1",
        "modelVersion": "gemini-2.5-flash",
        "createTime": "2025-11-03T10:00:00.123456789Z",
        "labels": {"team": "ü"},
        "usageMetadata": {"promptTokenCount": 1000, "candidatesTokenCount": 7},
    }
    log.write_text(json.dumps(line) + "\n")
    bill(str(log), db=db)
    engine = engine_for(db)
    (row,) = read_rows(engine, line_items=True)
    assert row.created_at == dt.datetime(2025, 11, 3, 10, 0, 0, 123456, tzinfo=dt.UTC)
    names = [c.name for c in priced_requests.c if c.name != "id"]
    with engine.begin() as conn:
        conn.execute(
            priced_requests.insert(),
            dict(zip(names, row_values(row, row.created_at), strict=True)) | {"dedupe_key": "copy"},
        )
        conn.execute(text("DELETE FROM priced_requests WHERE dedupe_key = 'r1'"))
    assert insert_new(engine, [row]) == (1, 0)
    columns = ", ".join(n for n in names if n not in ("dedupe_key", "imported_at"))
    with engine.connect() as conn:
        stored = conn.execute(text(f"SELECT dedupe_key, {columns} FROM priced_requests ORDER BY dedupe_key")).all()
    engine.dispose()
    assert [tuple(r[1:]) for r in stored][0] == tuple(stored[1][1:]) and len(stored) == 2


def test_a_chunk_with_keys_stored_meanwhile_stores_the_rest_in_its_order(db: str, tmp_path: Path) -> None:
    """Keys another import stored after the look-up are skipped and counted (PostgreSQL: the straight COPY is
    refused and the chunk goes again through the temporary table); the new rows keep the chunk's order."""
    from dataclasses import replace

    from vertexmeter.ledger.store import insert_new, priced_requests, read_rows

    log = tmp_path / "log.jsonl"
    usage = {"promptTokenCount": 1000, "candidatesTokenCount": 7}
    lines = [
        {"responseId": rid, "modelVersion": "gemini-2.5-flash", "createTime": f"2025-11-0{i + 1}T10:00:00Z"}
        for i, rid in enumerate("abc")
    ]
    log.write_text("".join(json.dumps({**line, "usageMetadata": usage}) + "\n" for line in lines))
    bill(str(log), db=db)
    engine = engine_for(db)
    a, b, c = read_rows(engine, line_items=True)
    chunk = [replace(a, dedupe_key="z"), b, replace(a, dedupe_key="y"), c, replace(c, dedupe_key="x")]
    assert insert_new(engine, chunk) == (3, 2)
    assert insert_new(engine, [replace(b, dedupe_key="w")]) == (1, 0)  # the connection's next chunk, straight
    with engine.connect() as conn:
        keys = list(conn.execute(select(priced_requests.c.dedupe_key).order_by(priced_requests.c.id)).scalars())
    engine.dispose()
    assert keys == ["a", "b", "c", "z", "y", "x", "w"]


# ---- real processes -----------------------------------------------------------------------------
LINES = 10_000  # five transactions' worth: an importer killed after its first still has work left


def write_log(path: Path) -> str:
    models = ("gemini-2.5-flash", "gemini-2.5-pro", "claude-sonnet-4-5@20250929")
    with path.open("w") as out:
        for i in range(LINES):
            usage = {"promptTokenCount": 1000 + i, "candidatesTokenCount": i % 700, "thoughtsTokenCount": i % 30}
            line = {
                "responseId": f"id{i}",
                "modelVersion": models[i % 3],
                "createTime": f"2025-11-{1 + i % 28:02d}T12:00:00Z",
                "usageMetadata": usage,
            }
            out.write(json.dumps(line) + "\n")
    return str(path)


def importer(log: str, db: str) -> subprocess.Popen[bytes]:
    root = str(Path(vertexmeter.__file__).parent.parent)
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = (
        "import json, sys; from vertexmeter.ledger import bill; "
        "print(json.dumps(bill(sys.argv[1], db=sys.argv[2], by='model').imported))"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, log, db], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


@pytest.mark.slow
def test_two_importers_of_one_log_at_once_store_each_call_once(db: str, tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl")
    expected = bill(log, db=str(tmp_path / "alone.sqlite")).total
    engine_for(db).dispose()  # an existing, empty ledger: the importers only add rows
    processes = [importer(log, db) for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err.decode()[-2000:] for _, err in outputs]
    counts = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]
    assert sum(c["new"] for c in counts) == LINES
    assert all(c["new"] + c["duplicates"] == LINES and c["conflicts"] == 0 for c in counts)
    report = bill([], db=db)
    assert (report.requests, report.total) == (LINES, expected)


@pytest.mark.slow
def test_an_importer_killed_mid_way_loses_and_doubles_nothing(db: str, tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl")
    expected = bill(log, db=str(tmp_path / "alone.sqlite")).total
    engine = engine_for(db)
    process = importer(log, db)
    deadline = time.monotonic() + 300
    stored = 0
    while time.monotonic() < deadline and process.poll() is None and stored == 0:  # kill it once it stored some
        time.sleep(0.01)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM priced_requests")).scalar_one()
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    engine.dispose()
    partial = bill([], db=db).requests
    assert 0 < partial < LINES  # killed between two transactions' worth of lines, or within one
    again = bill(log, db=db)
    assert again.imported["new"] == LINES - partial and again.imported["duplicates"] == partial
    assert (again.requests, again.total) == (LINES, expected)
