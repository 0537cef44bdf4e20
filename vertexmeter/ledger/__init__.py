"""The ledger: bills from real usage logs, stored in a database (SQLite by default, PostgreSQL by URL).

    bill(logs, db=None, month=None, by=..., budget=None) -> BillReport
"""

from vertexmeter.ledger.bill import BREAKDOWNS, BillReport, bill
from vertexmeter.ledger.logs import LoggedRequest, read_log, usage_from_metadata
from vertexmeter.ledger.store import DEFAULT_DB, engine_for

__all__ = ["BREAKDOWNS", "DEFAULT_DB", "BillReport", "LoggedRequest", "bill", "engine_for", "read_log",
           "usage_from_metadata"]
