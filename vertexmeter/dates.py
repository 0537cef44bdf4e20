"""A day, read one way everywhere: the day whose models, rules and prices apply (`as_of`, `date`, `day`).

No day named (None, "" or "today") is None: today. Counting passes None on (today's service); a price
lookup, which needs a calendar day, takes `day_or_today`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from vertexmeter.errors import invalid_argument

TODAY_WORDS = ("", "today")


def parse_day(value: Any, path: str = "date") -> dt.date | None:
    """The day `value` names (a date, a datetime, an ISO date or timestamp string), or None for today."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in TODAY_WORDS:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return dt.datetime.fromisoformat(text).date()  # a timestamp's day (2025-10-01T08:00:00Z)
        except ValueError:
            pass
    raise invalid_argument(f"{path} must be an ISO date like 2025-10-01, got {value!r}.", path)


def today() -> dt.date:
    """Today's date in UTC: the day Google's price and model changes are dated by."""
    return dt.datetime.now(dt.UTC).date()


def day_or_today(value: Any, path: str = "date") -> dt.date:
    """`parse_day`, with no day named read as today's date."""
    day = parse_day(value, path)
    return today() if day is None else day
