"""The ledger database: priced requests, one row each, keyed for de-duplication (SQLAlchemy Core).

SQLite file by default; PostgreSQL with a `postgresql://` URL (the `ledger` extra installs psycopg).
Money is stored as decimal strings and summed as `Decimal` in Python, so no database float ever touches it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    select,
)
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError

from vertexmeter.errors import failed_precondition, invalid_argument

DEFAULT_DB = "vertexmeter-ledger.sqlite"
metadata = MetaData()
priced_requests = Table(
    "priced_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(200), nullable=False, unique=True),  # responseId, else sha256 of the line
    Column("response_id", String(200)),
    Column("source", Text, nullable=False),  # file:line of the first import
    Column("model", String(200), nullable=False),  # as logged (modelVersion)
    Column("priced_model", String(200), nullable=False),  # the catalogue model that priced it
    Column("platform", String(20), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("day", Date, nullable=False),
    Column("month", String(7), nullable=False),
    Column("project", String(200)),
    Column("labels", Text, nullable=False),  # JSON object
    Column("amount", String(80), nullable=False),  # exact Decimal as text, before free allowances
    Column("grounding_entry", String(200)),  # a grounding line with a free allowance, if any
    Column("grounding_amount", String(80), nullable=False),
    Column("line_items", Text, nullable=False),  # JSON list, amounts as decimal strings
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Index("ix_priced_requests_month_created", "month", "created_at"),  # a month's report, in time order
)


def engine_for(db: str | None) -> Engine:
    """A SQLAlchemy engine for a URL or a SQLite file path (the default: ./vertexmeter-ledger.sqlite)."""
    db = db or DEFAULT_DB
    if "://" not in db:
        path = Path(db)
        if path.parent and not path.parent.exists():
            raise invalid_argument(f"The ledger directory {str(path.parent)!r} does not exist.", "db")
        url = f"sqlite:///{path}"
    elif db.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + db.split("://", 1)[1]
    else:
        url = db
    try:
        engine = create_engine(url, future=True)
    except NoSuchModuleError:
        raise invalid_argument(f"Unsupported ledger database URL {db!r}: use a SQLite path or postgresql://.",
                               "db") from None
    except ArgumentError as exc:
        raise invalid_argument(f"Invalid ledger database URL {db!r}: {exc}.", "db") from None
    except ModuleNotFoundError as exc:
        raise failed_precondition(
            f"The ledger database driver is not installed ({exc.name}): pip install 'vertexmeter[ledger]'.", "db"
        ) from None
    try:
        metadata.create_all(engine)
    except OperationalError as exc:
        raise failed_precondition(f"Cannot open the ledger database {db!r}: {exc.orig}.", "db") from None
    return engine


@dataclass(frozen=True)
class LedgerRow:
    dedupe_key: str
    response_id: str | None
    source: str
    model: str
    priced_model: str
    platform: str
    mode: str
    created_at: dt.datetime
    project: str | None
    labels: dict[str, str]
    amount: Decimal
    grounding_entry: str | None
    grounding_amount: Decimal
    line_items: list[dict[str, Any]]

    @property
    def day(self) -> dt.date:
        return self.created_at.astimezone(dt.UTC).date()

    @property
    def month(self) -> str:
        return self.day.strftime("%Y-%m")


def known_keys(engine: Engine, keys: list[str]) -> set[str]:
    """The keys already in the ledger (so known requests are not even priced again)."""
    known: set[str] = set()
    with engine.connect() as conn:
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            known |= set(conn.execute(
                select(priced_requests.c.dedupe_key).where(priced_requests.c.dedupe_key.in_(chunk))
            ).scalars())
    return known


def insert_new(engine: Engine, rows: Iterable[LedgerRow]) -> tuple[int, int]:
    """Store rows whose key is not in the ledger yet; returns (inserted, duplicates).

    Another import running at the same time may store a key between our check and our insert: the unique
    key then refuses the batch, and the batch is retried row by row with the database's own
    insert-or-ignore, so nothing is counted twice and nothing is lost."""
    rows = list(rows)
    now = dt.datetime.now(dt.UTC)
    known = known_keys(engine, [r.dedupe_key for r in rows])
    fresh: list[dict[str, Any]] = []
    for row in rows:
        if row.dedupe_key in known:
            continue
        known.add(row.dedupe_key)
        fresh.append(_values(row, now))
    try:
        with engine.begin() as conn:
            for start in range(0, len(fresh), 1000):  # executemany in batches, one transaction
                conn.execute(priced_requests.insert(), fresh[start:start + 1000])
        inserted = len(fresh)
    except IntegrityError:
        inserted = _insert_ignoring_conflicts(engine, fresh)
    return inserted, len(rows) - inserted


def _values(row: LedgerRow, now: dt.datetime) -> dict[str, Any]:
    return dict(
        dedupe_key=row.dedupe_key, response_id=row.response_id, source=row.source, model=row.model,
        priced_model=row.priced_model, platform=row.platform, mode=row.mode, created_at=row.created_at,
        day=row.day, month=row.month, project=row.project, labels=json.dumps(row.labels, sort_keys=True),
        amount=str(row.amount), grounding_entry=row.grounding_entry, grounding_amount=str(row.grounding_amount),
        line_items=json.dumps(row.line_items), imported_at=now,
    )


def _insert_ignoring_conflicts(engine: Engine, values: list[dict[str, Any]]) -> int:
    dialect = engine.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise failed_precondition(f"Unsupported ledger database {dialect!r}.", "db")
    inserted = 0
    with engine.begin() as conn:
        for value in values:
            statement = dialect_insert(priced_requests).values(**value).on_conflict_do_nothing(
                index_elements=["dedupe_key"]
            ).returning(priced_requests.c.id)  # rowcount is not reliable for a skipped insert; RETURNING is
            inserted += len(conn.execute(statement).all())
    return inserted


def read_rows(engine: Engine, month: str | None = None, *, line_items: bool = False) -> Iterator[LedgerRow]:
    """Stored rows in time order; `line_items` off by default (reports need only the amounts)."""
    columns = [c for c in priced_requests.c if line_items or c.name != "line_items"]
    query = select(*columns).order_by(priced_requests.c.created_at, priced_requests.c.id)
    if month:
        query = query.where(priced_requests.c.month == month)
    with engine.connect() as conn:
        for r in conn.execution_options(yield_per=2000).execute(query).mappings():
            created = r["created_at"]
            if created.tzinfo is None:  # SQLite keeps no zone; we only ever store UTC
                created = created.replace(tzinfo=dt.UTC)
            yield LedgerRow(
                dedupe_key=r["dedupe_key"], response_id=r["response_id"], source=r["source"], model=r["model"],
                priced_model=r["priced_model"], platform=r["platform"], mode=r["mode"], created_at=created,
                project=r["project"], labels=json.loads(r["labels"]), amount=Decimal(r["amount"]),
                grounding_entry=r["grounding_entry"], grounding_amount=Decimal(r["grounding_amount"]),
                line_items=json.loads(r["line_items"]) if line_items else [],
            )
