"""The ledger database: priced requests, one row each, keyed for de-duplication (SQLAlchemy Core).

SQLite file by default; PostgreSQL with a `postgresql://` URL (the `ledger` extra installs psycopg).
Money is stored as decimal strings and summed as `Decimal` in Python, so no database float ever touches it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import (
    Column,
    Connection,
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
    inspect,
    select,
    text,
)
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from vertexmeter.errors import VertexMeterError, failed_precondition, invalid_argument

DEFAULT_DB = "vertexmeter-ledger.sqlite"
# The schema's Alembic revision (ledger/migrations/versions): the table below is what it creates. A new
# ledger is created from the table and stamped; an older one is upgraded by Alembic, once, when opened.
SCHEMA_REVISION = "0004"
PRE_MIGRATIONS_REVISION = "0001"  # a ledger without alembic_version was written before migrations existed
VERSION_TABLE = "alembic_version"
MIGRATION_LOCK_KEY = 0x766D6C6564676572  # "vmledger": the PostgreSQL advisory lock held while migrating
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
    Column("api", String(20), nullable=False),  # whose price list: vertex | gemini
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
    Column("fingerprint", String(64)),  # sha256 of the call (usage, model, time, mode, api, project, labels)
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
        raise invalid_argument(
            f"Unsupported ledger database URL {db!r}: use a SQLite path or postgresql://.", "db"
        ) from None
    except ArgumentError as exc:
        raise invalid_argument(f"Invalid ledger database URL {db!r}: {exc}.", "db") from None
    except ModuleNotFoundError as exc:
        raise failed_precondition(
            f"The ledger database driver is not installed ({exc.name}): pip install 'vertexmeter[ledger]'.", "db"
        ) from None
    try:
        migrate(engine)
    except OperationalError as exc:
        raise failed_precondition(f"Cannot open the ledger database {db!r}: {_first_line(exc.orig)}.", "db") from None
    except SQLAlchemyError as exc:
        raise database_error(exc, "opening the ledger") from None
    return engine


def schema_revision(engine: Engine | Connection) -> tuple[str | None, bool]:
    """(the ledger's Alembic revision or None, whether the table exists)."""
    names = set(inspect(engine).get_table_names())
    revision = None
    if VERSION_TABLE in names:
        if isinstance(engine, Connection):
            revision = engine.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
        else:
            with engine.connect() as conn:
                revision = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return revision, priced_requests.name in names


def migrate(engine: Engine) -> None:
    """Bring the ledger to SCHEMA_REVISION: create a new one, upgrade an older one, refuse a newer one.

    Processes opening a new or old ledger at once take turns (a lock on the SQLite file, a transaction-scoped
    advisory lock on PostgreSQL) and each looks again under the lock: only the first does the work."""
    if schema_revision(engine) == (SCHEMA_REVISION, True):
        return  # the common case: no lock, no Alembic
    with _sqlite_file_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        revision, has_table = schema_revision(conn)
        if revision == SCHEMA_REVISION and has_table:
            return
        if not has_table:  # a new ledger: the table and its stamp together
            metadata.create_all(conn)
            conn.execute(
                text(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
            )
            conn.execute(text(f"DELETE FROM {VERSION_TABLE}"))
            conn.execute(text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (:v)"), {"v": SCHEMA_REVISION})
            return
        _upgrade(conn, revision or PRE_MIGRATIONS_REVISION)


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """An exclusive flock on the SQLite file while its schema changes (SQLite's own locks are fcntl locks on
    other byte ranges, so they do not interfere; pysqlite runs DDL outside transactions)."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or not Path(path).exists():
        yield
        return
    import fcntl

    with open(path, "rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _upgrade(conn: Connection, revision: str) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    if revision not in known:
        raise failed_precondition(
            f"The ledger's schema revision {revision!r} is unknown to this vertexmeter (written by a newer "
            "release?): upgrade vertexmeter to read it.",
            "db",
        )
    config.attributes["connection"] = conn
    if not inspect(conn).has_table(VERSION_TABLE):
        command.stamp(config, revision)
    command.upgrade(config, SCHEMA_REVISION)


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def database_error(exc: SQLAlchemyError, doing: str) -> VertexMeterError:
    """A database refusal as a Google-shaped error: the driver's first line only. SQLAlchemy's own message
    carries the statement and its parameters (the user's data), which never reach the user or a log."""
    orig = getattr(exc, "orig", None)
    reason = _first_line(orig) if orig is not None else type(exc).__name__
    unavailable = isinstance(exc, OperationalError) or getattr(exc, "unavailable", False)
    status = "UNAVAILABLE" if unavailable else "INTERNAL"
    return VertexMeterError(status, f"The ledger database failed while {doing}: {reason}.")


class DriverError(SQLAlchemyError):
    """A driver's own error from a statement run past SQLAlchemy (COPY): reported as SQLAlchemy's are."""

    def __init__(self, orig: Exception, *, unavailable: bool) -> None:
        super().__init__(_first_line(orig))
        self.orig = orig
        self.unavailable = unavailable  # the driver's OperationalError (the server went away, ...)


@contextmanager
def database_errors(doing: str) -> Iterator[None]:
    try:
        yield
    except SQLAlchemyError as exc:
        raise database_error(exc, doing) from None


@dataclass(frozen=True)
class LedgerRow:
    dedupe_key: str
    response_id: str | None
    source: str
    model: str
    priced_model: str
    api: str  # whose price list: vertex | gemini
    mode: str
    created_at: dt.datetime
    project: str | None
    labels: dict[str, str]
    amount: Decimal
    grounding_entry: str | None
    grounding_amount: Decimal
    line_items: list[dict[str, Any]]
    fingerprint: str | None = None  # the call's (bill.call_fingerprint); None on rows stored before fingerprints
    # json.dumps(line_items) when already written (prepared pricing); how it was written is no part of the row
    line_items_json: str | None = field(default=None, compare=False, repr=False)

    @property
    def day(self) -> dt.date:
        return self.created_at.astimezone(dt.UTC).date()

    @property
    def month(self) -> str:
        return self.day.strftime("%Y-%m")

    def priced_fingerprint(self) -> str:
        """The call as billed (its priced line items): how rows stored before call fingerprints are compared."""
        basis = [
            self.model,
            self.api,
            self.mode,
            self.created_at.astimezone(dt.UTC).isoformat(),
            self.project,
            json.dumps(self.labels, sort_keys=True),
            json.dumps(self.line_items),
        ]
        return hashlib.sha256(json.dumps(basis).encode()).hexdigest()


def stored_fingerprints(engine: Engine, keys: list[str]) -> dict[str, tuple[str, str, str]]:
    """The stored rows among these keys: key -> ("call", fingerprint, source of the first import), or for a row
    stored before call fingerprints ("priced", its priced fingerprint, source)."""
    out: dict[str, tuple[str, str, str]] = {}
    unique = list(dict.fromkeys(keys))
    c = priced_requests.c
    with database_errors("reading known requests"), engine.connect() as conn:
        head = f"SELECT dedupe_key, fingerprint, source FROM {priced_requests.name} WHERE dedupe_key "
        qmark = conn.dialect.paramstyle == "qmark"
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            older: list[str] = []
            # the driver's own statement: SQLAlchemy would compile 500 bound parameters per query
            if qmark:
                found = conn.exec_driver_sql(head + f"IN ({', '.join('?' * len(chunk))})", tuple(chunk))
            else:
                found = conn.exec_driver_sql(head + "= ANY(%s)", (chunk,))
            for key, print_, source in found:
                if print_ is None:
                    older.append(key)
                else:
                    out[key] = ("call", print_, source)
            if older:  # only these need their line items read
                for r in conn.execute(select(*c).where(c.dedupe_key.in_(older))).mappings():
                    row = _row(r, line_items=True)
                    out[row.dedupe_key] = ("priced", row.priced_fingerprint(), row.source)
    return out


# The stored columns in insert order (`id` is the database's).
INSERT_COLUMNS = tuple(c.name for c in priced_requests.c if c.name != "id")
# Their PostgreSQL types for a binary COPY (text is what varchar takes on the wire).
_COPY_TYPES = [
    "timestamptz" if isinstance(t, DateTime) else "date" if isinstance(t, Date) else "text"
    for t in (priced_requests.c[name].type for name in INSERT_COLUMNS)
]


def insert_new(engine: Engine, rows: Iterable[LedgerRow]) -> tuple[int, int]:
    """Store rows whose key is not in the ledger yet, in one transaction; returns (inserted, duplicates).

    The insert skips a key already stored (ON CONFLICT DO NOTHING on the unique key only, so any other
    refusal is still an error): another import running at the same time may have stored it since our check,
    and then nothing is counted twice and nothing is lost. Rows keep their order in the table's ids (the
    order free allowances are applied in, among calls of the same second)."""
    now = dt.datetime.now(dt.UTC)
    return insert_values(engine, [row_values(row, now) for row in rows])


def insert_values(engine: Engine, values: Sequence[Sequence[Any]]) -> tuple[int, int]:
    """`insert_new` of rows given as their values (`row_values`, or the fast path's own), in INSERT_COLUMNS order."""
    if not values:
        return 0, 0
    count = len(values)
    with database_errors("storing requests"), engine.begin() as conn:
        processors = [(i, p) for i, name in enumerate(INSERT_COLUMNS) if (p := _bind(conn, name))]
        if processors:  # SQLite keeps dates and times as text: SQLAlchemy's own format, as it reads them
            values = _processed(values, processors)
        inserted = _copy_new(conn, values) if conn.dialect.name == "postgresql" else _insert_new(conn, values)
    return inserted, count - inserted


def _bind(conn: Connection, name: str) -> Any:
    """SQLAlchemy's own conversion of the column's values for this database (None: the driver takes them)."""
    return priced_requests.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)


def _processed(rows: Sequence[Sequence[Any]], processors: list[tuple[int, Any]]) -> list[tuple[Any, ...]]:
    """The rows with each processed column converted; a value seen before in the chunk (the day, the time
    of storing, calls of the same second) is converted once."""
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))  # by column: only the processed ones are walked
    for i, process in processors:
        done: dict[Any, Any] = {}
        out = []
        last: Any = _MISSING
        converted: Any = None
        for value in columns[i]:
            if value is not last:  # runs of the same object (the time of storing, one createTime) skip the key
                # equal times in other zones are written differently: the zone is part of the key
                key = (type(value), value, getattr(value, "tzinfo", None))
                converted = done.get(key, _MISSING)
                if converted is _MISSING:
                    converted = done[key] = process(value)
                last = value
            out.append(converted)
        columns[i] = out
    return list(zip(*columns, strict=True))  # the driver's executemany takes tuples


_MISSING = object()


def _insert_new(conn: Connection, values: Sequence[Sequence[Any]]) -> int:
    """SQLite: one prepared INSERT run for every row by the driver (executemany)."""
    names = ", ".join(INSERT_COLUMNS)
    marks = ", ".join("?" for _ in INSERT_COLUMNS)
    raw = conn.connection.driver_connection
    assert raw is not None
    before = raw.total_changes  # skipped rows are not changes; executemany's rowcount is not always kept
    conn.exec_driver_sql(
        f"INSERT INTO {priced_requests.name} ({names}) VALUES ({marks}) ON CONFLICT (dedupe_key) DO NOTHING", values
    )
    return int(raw.total_changes - before)


def _copy_new(conn: Connection, values: Sequence[Sequence[Any]]) -> int:
    """PostgreSQL: a binary COPY straight into the table (the chunk's keys were not stored when looked up); if
    another import stored one of them since (a unique violation), the chunk goes again by a temporary table and
    one INSERT ... SELECT ... ON CONFLICT DO NOTHING in the rows' order.

    The temporary table is made once per connection (its rows go at each commit); its identity column numbers
    the rows in the order they were copied."""
    names = ", ".join(INSERT_COLUMNS)
    raw = conn.connection.driver_connection
    assert raw is not None
    dbapi = conn.dialect.loaded_dbapi
    try:
        with raw.cursor() as cursor:
            cursor.execute("SAVEPOINT vm_copy")
            try:
                _copy(cursor, f"COPY {priced_requests.name} ({names}) FROM STDIN (FORMAT BINARY)", values)
            except dbapi.IntegrityError as exc:
                if getattr(exc, "sqlstate", None) != "23505":  # unique_violation; any other refusal is an error
                    raise
                cursor.execute("ROLLBACK TO SAVEPOINT vm_copy")
            else:
                cursor.execute("RELEASE SAVEPOINT vm_copy")
                return len(values)
            # (each time: a chunk rolled back takes the table's creation with it)
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS vm_incoming ON COMMIT DELETE ROWS AS "
                f"SELECT {names} FROM {priced_requests.name} WITH NO DATA"
            )
            cursor.execute("ALTER TABLE vm_incoming ADD COLUMN IF NOT EXISTS n bigint GENERATED ALWAYS AS IDENTITY")
            _copy(cursor, f"COPY vm_incoming ({names}) FROM STDIN (FORMAT BINARY)", values)
            cursor.execute(
                f"INSERT INTO {priced_requests.name} ({names}) SELECT {names} FROM vm_incoming ORDER BY n "
                "ON CONFLICT (dedupe_key) DO NOTHING"
            )
            return int(cursor.rowcount)
    except dbapi.Error as exc:
        raise DriverError(exc, unavailable=isinstance(exc, dbapi.OperationalError)) from None


def _copy(cursor: Any, statement: str, values: Sequence[Sequence[Any]]) -> None:
    with cursor.copy(statement) as copy:
        copy.set_types(_COPY_TYPES)
        write = copy.write_row
        for row in values:
            write(row)


def row_values(row: LedgerRow, now: dt.datetime) -> tuple[Any, ...]:
    return (
        row.dedupe_key,
        row.response_id,
        row.source,
        row.model,
        row.priced_model,
        row.api,
        row.mode,
        row.created_at,
        row.day,
        row.month,
        row.project,
        json.dumps(row.labels, sort_keys=True) if row.labels else "{}",
        str(row.amount),
        row.grounding_entry,
        str(row.grounding_amount),
        row.line_items_json if row.line_items_json is not None else json.dumps(row.line_items),
        now,
        row.fingerprint,
    )


def read_rows(engine: Engine, month: str | None = None, *, line_items: bool = False) -> Iterator[LedgerRow]:
    """Stored rows in time order; `line_items` off by default (reports need only the amounts)."""
    columns = [c for c in priced_requests.c if line_items or c.name != "line_items"]
    query = select(*columns).order_by(priced_requests.c.created_at, priced_requests.c.id)
    if month:
        query = query.where(priced_requests.c.month == month)
    with database_errors("reading the ledger"), engine.connect() as conn:
        for r in conn.execution_options(yield_per=2000).execute(query).mappings():
            yield _row(r, line_items=line_items)


class ReportRow(NamedTuple):
    """What a report reads of a stored row (its day and month as stored, no time, key or line items)."""

    day: str  # YYYY-MM-DD, UTC
    month: str  # YYYY-MM
    priced_model: str
    project: str | None
    mode: str
    api: str
    labels: str  # as stored: JSON with sorted keys (a report groups by the text, parses it once per group)
    amount: Decimal
    grounding_entry: str | None
    grounding_amount: Decimal


def read_report_rows(engine: Engine, month: str | None = None, *, grounded: bool = False) -> Iterator[ReportRow]:
    """Stored rows in time order (then insert order), as reports read them: a plain tuple per row, only the
    columns a report sums, the time not parsed (the driver's own values: no SQLAlchemy types in between).
    `grounded`: only the rows with a grounding line item that has a free allowance."""
    sql = f"SELECT {', '.join(ReportRow._fields)} FROM {priced_requests.name}"
    with database_errors("reading the ledger"), engine.connect() as conn:
        where = ["grounding_entry IS NOT NULL"] if grounded else []
        if month:
            where.append("month = " + ("?" if conn.dialect.paramstyle == "qmark" else "%s"))
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, id"
        result = conn.execution_options(yield_per=2000).exec_driver_sql(sql, (month,) if month else ())
        zero = Decimal(0)
        for day, month_, model, project, mode, api, labels, amount, entry, grounding in result:
            yield ReportRow(
                day if type(day) is str else day.isoformat(),  # SQLite keeps the day as its ISO text
                month_,
                model,
                project,
                mode,
                api,
                labels,
                Decimal(amount),
                entry,
                Decimal(grounding) if entry is not None or grounding != "0" else zero,
            )


class ReportCell(NamedTuple):
    """Stored rows without a free-allowance grounding item, alike in every dimension a report groups by."""

    day: str
    month: str
    priced_model: str
    project: str | None
    mode: str
    api: str
    labels: str  # as stored
    requests: int
    amounts: str  # their amounts as stored, joined by commas (summed by the report, as Decimal)


_CELL_COLUMNS = "day, month, priced_model, project, mode, api, labels"


def read_report_cells(engine: Engine, month: str | None = None) -> Iterator[ReportCell]:
    """The rows `read_report_rows(grounded=True)` leaves out, grouped by the database: a report sums their
    amounts per cell whatever their order, so only the grounded rows, whose free allowances go in time order,
    are read one by one. Amounts are joined as text, never summed by the database (no float touches money)."""
    with database_errors("reading the ledger"), engine.connect() as conn:
        qmark = conn.dialect.paramstyle == "qmark"
        joined = "group_concat(amount, ',')" if qmark else "string_agg(amount, ',')"
        sql = f"SELECT {_CELL_COLUMNS}, COUNT(*), {joined} FROM {priced_requests.name} WHERE grounding_entry IS NULL"
        if month:
            sql += " AND month = " + ("?" if qmark else "%s")
        sql += f" GROUP BY {_CELL_COLUMNS}"
        for day, month_, model, project, mode, api, labels, count, amounts in conn.exec_driver_sql(
            sql, (month,) if month else ()
        ):
            yield ReportCell(
                day if type(day) is str else day.isoformat(), month_, model, project, mode, api, labels, count, amounts
            )


def stored_labels(text: str) -> dict[str, str]:
    """A row's labels from their stored JSON (written by this module)."""
    return json.loads(text) if text != "{}" else {}


def _row(r: Any, *, line_items: bool) -> LedgerRow:
    created = r["created_at"]
    if created.tzinfo is None:  # SQLite keeps no zone; we only ever store UTC
        created = created.replace(tzinfo=dt.UTC)
    return LedgerRow(
        dedupe_key=r["dedupe_key"],
        response_id=r["response_id"],
        source=r["source"],
        model=r["model"],
        priced_model=r["priced_model"],
        api=r["api"],
        mode=r["mode"],
        created_at=created,
        project=r["project"],
        labels=stored_labels(r["labels"]),
        amount=Decimal(r["amount"]),
        grounding_entry=r["grounding_entry"],
        grounding_amount=Decimal(r["grounding_amount"]),
        line_items=json.loads(r["line_items"]) if line_items else [],
        fingerprint=r.get("fingerprint"),
    )
