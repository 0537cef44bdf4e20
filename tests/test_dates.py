"""One reader of a day (`as_of`, `date`, `day`): one meaning of "no day" (today), one error."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import vertexmeter
from vertexmeter.dates import day_or_today, parse_day, today
from vertexmeter.errors import VertexMeterError
from vertexmeter.vocabulary import APIS, check_api

DAY = dt.date(2025, 10, 1)


@pytest.mark.parametrize(
    "value",
    [
        DAY,
        dt.datetime(2025, 10, 1, 23, 59),
        "2025-10-01",
        " 2025-10-01 ",
        "20251001",
        "2025-10-01T08:00:00Z",
        "2025-10-01T08:00:00+02:00",
        "2025-10-01 08:00",
    ],
)
def test_a_day_in_any_of_its_spellings(value: Any) -> None:
    assert parse_day(value) == DAY
    assert day_or_today(value) == DAY


@pytest.mark.parametrize("value", [None, "", "  ", "today", "TODAY", " Today "])
def test_no_day_is_today(value: Any) -> None:
    assert parse_day(value) is None
    assert day_or_today(value) == today() == dt.datetime.now(dt.UTC).date()


@pytest.mark.parametrize(
    "value", ["2025-13-01", "2025-10-011", "yesterday", "1 Oct 2025", 20251001, 2025.5, True, ["2025-10-01"], {}]
)
def test_anything_else_is_refused_by_its_field_name(value: Any) -> None:
    for read in (parse_day, day_or_today):
        with pytest.raises(VertexMeterError) as caught:
            read(value, "as_of")
        error = caught.value
        assert error.status == "INVALID_ARGUMENT"
        assert error.message == f"as_of must be an ISO date like 2025-10-01, got {value!r}."
        assert "as_of" in str(error.to_json())


@given(st.dates())
def test_every_date_round_trips_through_its_iso_string(day: dt.date) -> None:
    assert parse_day(day.isoformat()) == day
    assert parse_day(dt.datetime.combine(day, dt.time(12), dt.UTC).isoformat()) == day


def test_the_library_reads_as_of_and_date_the_same_way() -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    stamped = vertexmeter.usage_metadata("gemini-2.5-flash", body, as_of="2025-10-01T08:00:00Z")
    assert stamped == vertexmeter.usage_metadata("gemini-2.5-flash", body, as_of=DAY)
    assert vertexmeter.prices("gemini-2.5-flash", "today").date == today()
    assert vertexmeter.prices("gemini-2.5-flash", "2026-01-15T10:00:00Z").date == dt.date(2026, 1, 15)
    for call in (
        lambda: vertexmeter.usage_metadata("gemini-2.5-flash", body, as_of="soon"),
        lambda: vertexmeter.prices("gemini-2.5-flash", "soon"),
    ):
        with pytest.raises(VertexMeterError, match="must be an ISO date like 2025-10-01, got 'soon'"):
            call()


def test_check_api() -> None:
    for api in APIS:
        check_api(api)
    with pytest.raises(VertexMeterError) as caught:
        check_api("openai")
    assert caught.value.message == "Unknown API dialect 'openai'; expected one of: vertex, gemini."
