"""The ledger: bills from real usage logs, stored in a database (SQLite by default, PostgreSQL by URL).

bill(logs=(), db=None, month=None, by=..., budget=None, strict=False, quarantine=None) -> BillReport
"""

from vertexmeter.ledger.bill import (
    BREAKDOWNS,
    DIMENSIONS,
    EXIT_BAD_LINES,
    EXIT_OVER_BUDGET,
    BillReport,
    bill,
    parse_breakdowns,
    parse_budgets,
)
from vertexmeter.ledger.formats import FORMATS
from vertexmeter.ledger.logs import BadLine, LoggedRequest, read_log, usage_from_metadata
from vertexmeter.ledger.store import DEFAULT_DB, engine_for

__all__ = [
    "BREAKDOWNS",
    "DEFAULT_DB",
    "DIMENSIONS",
    "EXIT_BAD_LINES",
    "EXIT_OVER_BUDGET",
    "FORMATS",
    "BadLine",
    "BillReport",
    "LoggedRequest",
    "bill",
    "engine_for",
    "parse_breakdowns",
    "parse_budgets",
    "read_log",
    "usage_from_metadata",
]
