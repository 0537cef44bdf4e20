"""`bill(logs, ...)`: price usage logs at the rates of each request's day and mode, store them, report the month.

Data flows one way: log line -> RequestUsage -> pricing engine (the same `PriceList` as `estimate`) -> ledger row
-> report; the common line (a bare response of text tokens) takes a fast path to the same row (`ledger/fast.py`),
held equal to this one by differential tests. Free grounding allowances are applied over the stored rows, per
day or month and allowance group, in request order: the first N grounded prompts of a period are free, the rest
pay the list price (pro rata).

A bad line never loses the rest: it is reported (file, line, reason), optionally written to a quarantine file,
and the good lines are billed; `strict=True` checks every line first and stores nothing if one is bad.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, Inexact, localcontext
from itertools import product
from pathlib import Path
from typing import IO, Any, NamedTuple

from vertexmeter.dates import day_or_today
from vertexmeter.errors import VertexMeterError, failed_precondition, invalid_argument
from vertexmeter.ledger import fast
from vertexmeter.ledger.fast import FastCall, FastReader
from vertexmeter.ledger.fingerprint import call_fingerprint
from vertexmeter.ledger.formats import EARLIEST, plausible
from vertexmeter.ledger.invoice import DEFAULT_TOLERANCE, Reconciliation, reconcile
from vertexmeter.ledger.logs import BadLine, LoggedRequest, read_line, read_logs
from vertexmeter.ledger.prices import PriceBook
from vertexmeter.ledger.store import (
    LedgerRow,
    ReportCell,
    ReportRow,
    engine_for,
    insert_values,
    read_report_cells,
    read_report_rows,
    read_rows,
    row_values,
    stored_fingerprints,
    stored_labels,
)
from vertexmeter.pricing import (
    ENDPOINTS,
    UNITS,
    RequestUsage,
    catalogue,
    decimal_number,
    money,
    round_period_total,
)
from vertexmeter.vocabulary import APIS

DIMENSIONS = ("day", "month", "model", "project", "label", "mode", "api")
BREAKDOWNS = ("day", "model", "project", "label")  # the default report
BUDGET_SCOPES = ("project", "model", "label")
CHUNK = 2000  # log lines priced and stored per transaction
CHUNK_BYTES = 16 * 1024 * 1024  # ... or fewer, when quarantine text is held for them
MAX_LISTED = 10_000  # bad lines listed in the report (all are counted; a quarantine file gets them all)
EXIT_BAD_LINES = 1  # as `vertexmeter batch`: some lines were refused
EXIT_OVER_BUDGET = 3  # a budget was exceeded (and every line was billed)
_MONTH_FORMAT = "%Y-%m"


@dataclass
class BillReport:
    """The ledger's view of a period: exact total, the per-month billed (rounded-up) totals, breakdowns."""

    month: str | None
    total: Decimal
    billed_total: Decimal
    requests: int
    months: dict[str, dict[str, Any]]
    breakdowns: dict[str, dict[str, Any]]
    allowance_credit: Decimal
    free_grounded_prompts: int
    imported: dict[str, int]
    budget: Decimal | None = None
    notes: list[str] = field(default_factory=list)
    bad_lines: list[BadLine] = field(default_factory=list)
    quarantine: str | None = None
    budgets: list[dict[str, Any]] = field(default_factory=list)
    scope_totals: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (project|model|label, name)
    reconciliation: Reconciliation | None = None

    def budget_json(self) -> dict[str, Any] | None:
        if self.budget is None:
            return None
        status = _budget_status("total", self.budget, self.billed_total)
        return {
            "budget": status["budget"],
            "billed_total": format(self.billed_total, "f"),
            "remaining": status["remaining"],
            "used_percent": status["used_percent"],
            "status": status["status"],
        }

    @property
    def over_budget(self) -> bool:
        return any(b["status"] == "exceeded" for b in self.budgets)

    @property
    def exit_code(self) -> int:
        """0 all billed and within budget; 1 some lines refused; 3 a budget exceeded (documented in pricing.md)."""
        if self.imported.get("rejected") or (self.reconciliation and self.reconciliation.bad_lines):
            return EXIT_BAD_LINES
        return EXIT_OVER_BUDGET if self.over_budget else 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "currency": "USD",
            "month": self.month,
            "total": money(self.total),
            "billed_total": format(self.billed_total, "f"),
            "requests": self.requests,
            "months": self.months,
            "free_allowances": {
                "credit": money(self.allowance_credit),
                "free_grounded_prompts": self.free_grounded_prompts,
            },
            "breakdowns": self.breakdowns,
            "imported": self.imported,
            "bad_lines": {
                "count": self.imported.get("rejected", 0),
                "lines": [bad.to_json() for bad in self.bad_lines],
                "listed": len(self.bad_lines),
                "quarantine": self.quarantine,
            },
        }
        if self.budget is not None:
            out["budget"] = self.budget_json()
        if self.budgets:
            out["budgets"] = self.budgets
            out["over_budget"] = self.over_budget
        if self.reconciliation is not None:
            out["reconciliation"] = self.reconciliation.to_json()
        if self.notes:
            out["notes"] = self.notes
        return out


def bill(
    logs: str | Iterable[str] = (),
    *,
    db: str | None = None,
    month: str | None = None,
    by: str | Iterable[str] = BREAKDOWNS,
    budget: Any = None,
    api: str = "vertex",
    model: str | None = None,
    date: Any = None,
    day: Any = None,
    endpoint: str = "global",
    strict: bool = False,
    quarantine: str | None = None,
    invoice: str | Iterable[str] | None = None,
    tolerance: Any = DEFAULT_TOLERANCE,
) -> BillReport:
    """Import the usage LOGS into the ledger DB (idempotent), then report `month` (YYYY-MM; all months if None).

    With no logs, the report comes from the ledger alone (which must exist). `model` / `day` fill in lines
    without a model / time of their own (`date` is the older name of `day`); `endpoint` (global | regional)
    applies to lines that do not say where they were served. Bad lines are reported in the result (and written
    to `quarantine` as JSONL); `strict` refuses the whole import instead. `by` takes dimensions and cross
    tables ("model,day"); `budget` an amount in USD, or scoped budgets ("project:p1=100", "label:team=a=5").
    `invoice` (Cloud Billing export files) adds the reconciliation per day and SKU, differences beyond
    `tolerance` USD flagged."""
    paths = [logs] if isinstance(logs, str) else list(logs)
    month = _check_month(month)
    breakdowns = parse_breakdowns(by)
    overall, scoped = parse_budgets(budget)
    if api not in APIS:
        raise invalid_argument(f"api must be one of {', '.join(APIS)}; got {api!r}.", "api")
    if day is not None and date is not None and day_or_today(day, "day") != day_or_today(date, "date"):
        raise invalid_argument("give the day once (day and date differ).", "day")
    given = day if day is not None else date
    default_day = None if given is None else day_or_today(given, "day")
    if default_day is not None:
        plausible(dt.datetime(default_day.year, default_day.month, default_day.day, tzinfo=dt.UTC), "day")
    if endpoint not in ENDPOINTS:
        raise invalid_argument(f"endpoint must be one of {', '.join(ENDPOINTS)}; got {endpoint!r}.", "endpoint")
    if not paths and db is not None and "://" not in db and not Path(db).exists():
        raise invalid_argument(
            f"The ledger {db!r} does not exist: give LOG files to import, or an existing --db.", "db"
        )
    engine = engine_for(db)
    importer = _Importer(engine, api, endpoint, quarantine)
    try:
        if strict and paths:
            importer.run(paths, model, default_day, store=False)
            if importer.bad_count:
                importer.close()
                raise _strict_error(importer)
            importer = _Importer(engine, api, endpoint, None)
        importer.run(paths, model, default_day, store=True)
    finally:
        importer.close()
    report = report_of(engine, month, breakdowns, importer.counts)
    report.bad_lines = importer.bad
    report.quarantine = quarantine if importer.bad_count else None
    report.budget = overall
    report.budgets = _budgets(report, overall, scoped)
    if invoice is not None:
        exports = [invoice] if isinstance(invoice, str) else list(invoice)
        report.reconciliation = reconcile(
            exports,
            list(read_rows(engine, month, line_items=True)),
            month=month,
            tolerance=decimal_number(tolerance, "tolerance"),
        )
    return report


def _strict_error(importer: _Importer) -> VertexMeterError:
    shown = "; ".join(f"{b.file}:{b.line}: {b.reason.rstrip('.')}" for b in importer.bad[:20])
    more = f" (and {importer.bad_count - 20} more)" if importer.bad_count > 20 else ""
    return invalid_argument(f"{importer.bad_count} bad line(s), nothing imported (strict): {shown}{more}.", "logs")


class _Importer:
    """Reads, prices, de-duplicates and stores lines a chunk at a time; keeps the bad ones."""

    def __init__(self, engine: Any, api: str, endpoint: str, quarantine: str | None) -> None:
        self.engine, self.api, self.endpoint = engine, api, endpoint
        self.book = PriceBook()
        self.counts = {
            "lines": 0,
            "read": 0,
            "new": 0,
            "duplicates": 0,
            "conflicts": 0,
            "skipped_provisioned": 0,
            "rejected": 0,
        }
        self.bad: list[BadLine] = []
        self.bad_count = 0
        self.seen: dict[str, tuple[str, str, str]] = {}  # keys of this run not stored yet: kind, fingerprint, source
        # each call with its line's (file, number, text if kept); None for a fast call (its own)
        self.pending: list[tuple[LoggedRequest | FastCall, tuple[str, int, bytes] | None]] = []
        self.pending_bytes = 0
        self.quarantine_path = quarantine
        self._quarantine: IO[str] | None = None
        self.model: str | None = None
        self.day: dt.date | None = None

    def close(self) -> None:
        if self._quarantine is not None:
            self._quarantine.close()
            self._quarantine = None

    def reject(self, bad: BadLine) -> None:
        self.bad_count += 1
        self.counts["rejected"] += 1
        if len(self.bad) < MAX_LISTED:
            self.bad.append(bad)
        if self.quarantine_path:
            if self._quarantine is None:
                try:
                    self._quarantine = open(self.quarantine_path, "w", encoding="utf-8")  # noqa: SIM115 - kept open
                except OSError as exc:
                    raise invalid_argument(
                        f"Cannot write the quarantine file {self.quarantine_path!r}: {exc.strerror}.", "quarantine"
                    ) from None
            self._quarantine.write(json.dumps(bad.to_json(with_text=True), ensure_ascii=False) + "\n")

    def run(self, paths: list[str], model: str | None, day: dt.date | None, *, store: bool) -> None:
        self.model, self.day = model, day
        reader = FastReader(self.api, self.endpoint, model, day) if fast.ENABLED else None
        counts, pending = self.counts, self.pending
        keep = bool(self.quarantine_path)  # the lines' text is held only for a quarantine file
        for line in read_logs(paths, model=model, day=day, fast=reader):
            counts["lines"] += 1
            if type(line) is FastCall:  # one call, billed per call (the fast path takes no other)
                counts["read"] += 1
                pending.append((line, None))  # its origin is its own file, line and text (`_origin`)
                if keep:
                    self.pending_bytes += len(line.raw)
            else:
                assert not isinstance(line, FastCall)
                if line.error is not None:
                    self.reject(line.bad())
                    continue
                counts["read"] += len(line.requests)
                origin = (line.file, line.line, line.raw if self.quarantine_path else b"")
                for logged in line.requests:
                    if logged.mode == "provisioned":
                        counts["skipped_provisioned"] += 1  # paid by the Provisioned Throughput subscription
                        continue
                    pending.append((logged, origin))
                self.pending_bytes += len(origin[2])
            if len(pending) >= CHUNK or self.pending_bytes >= CHUNK_BYTES:
                self.flush(store)
        self.flush(store)

    def price(self, logged: LoggedRequest, origin: tuple[str, int, bytes], print_: str) -> LedgerRow | None:
        try:
            return price_logged(logged, self.book, self.api, self.endpoint, fingerprint=print_)
        except VertexMeterError as exc:
            message = exc.message.removeprefix(f"{logged.source}: ")
            self.reject(BadLine(origin[0], origin[1], exc.status, message, _text(origin[2])))
            return None

    def price_either(
        self, logged: LoggedRequest | FastCall, origin: tuple[str, int, bytes], print_: str
    ) -> LedgerRow | None:
        """`price` for a line of either reader: a fast call is read again by the checked path first."""
        if type(logged) is FastCall:
            checked = self.checked(logged, origin)
            if checked is None:
                return None
            logged = checked
        assert isinstance(logged, LoggedRequest)
        return self.price(logged, origin, print_)

    def checked(self, call: FastCall, origin: tuple[str, int, bytes]) -> LoggedRequest | None:
        """A fast call read again by the checked path (to be priced by it): the same one call."""
        line = read_line(call.file, call.line, call.raw, self.model, self.day)
        if line.error is not None or len(line.requests) != 1:  # never, as the differential tests hold
            self.reject(line.bad(line.error or failed_precondition("the fast and checked readers disagree.")))
            return None
        return line.requests[0]

    def flush(self, store: bool) -> None:
        """A known key with the same call is a duplicate (not priced again); with another call, a conflict (the
        first is kept). Rows stored before calls had fingerprints are compared by their priced line items."""
        if not self.pending:
            return
        stored = stored_fingerprints(self.engine, [logged.key for logged, _ in self.pending])
        fresh: list[tuple[Any, ...]] = []
        now = dt.datetime.now(dt.UTC)
        book, api, endpoint, seen = self.book, self.api, self.endpoint, self.seen
        price_values = fast.price_values
        keep = bool(self.quarantine_path)
        for logged, known in self.pending:
            call = None
            if type(logged) is FastCall:
                call, print_ = logged, logged.fingerprint
            else:
                assert isinstance(logged, LoggedRequest)
                print_ = call_fingerprint(logged, api, endpoint)
            earlier = stored.get(logged.key) or seen.get(logged.key)
            if earlier is None and call is not None:
                values = price_values(call, book, api, endpoint, now)
                if values is None and book.make_pricer(call.model, call.day, api, endpoint):
                    values = price_values(call, book, api, endpoint, now)  # a new day of a known kind
                if values is not None:
                    seen[call.key] = ("call", print_, call.source)
                    fresh.append(values)
                    continue
            if earlier is None:
                row = self.price_either(logged, known or _own_origin(logged, keep), print_)
                if row is not None:
                    seen[row.dedupe_key] = ("call", print_, row.source)
                    fresh.append(row_values(row, now))
                continue
            kind, value, source = earlier
            if kind == "priced":  # a row from before fingerprints: compare what it was billed
                row = self.price_either(logged, known or _own_origin(logged, keep), print_)
                if row is None:
                    continue
                same = row.priced_fingerprint() == value
            else:
                same = print_ == value
            if same:
                self.counts["duplicates"] += 1
                continue
            self.counts["conflicts"] += 1
            origin = known or _own_origin(logged, keep)
            self.reject(
                BadLine(
                    origin[0],
                    origin[1],
                    "ALREADY_EXISTS",
                    f"{logged.key!r} was already billed from {source} with other usage, model, time or labels; "
                    "the first one is kept.",
                    _text(origin[2]),
                )
            )
        if store:
            inserted, duplicates = insert_values(self.engine, fresh)
            self.counts["new"] += inserted
            self.counts["duplicates"] += duplicates  # stored meanwhile by a concurrent import
            self.seen.clear()  # stored now: the database answers for them
        self.pending.clear()
        self.pending_bytes = 0


def _own_origin(call: LoggedRequest | FastCall, keep: bool) -> tuple[str, int, bytes]:
    """A fast call's origin: its file, line number and (for a quarantine file) text."""
    assert type(call) is FastCall
    return call.file, call.line, call.raw if keep else b""


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r\n")


def _check_month(month: str | None) -> str | None:
    if month is None:
        return None
    try:
        parsed = dt.datetime.strptime(str(month), _MONTH_FORMAT)
    except ValueError:
        raise invalid_argument(f"month must look like 2025-11, got {month!r}.", "month") from None
    if parsed.year < EARLIEST.year:
        raise invalid_argument(f"month {month!r} is before any Vertex AI bill.", "month")
    return parsed.strftime(_MONTH_FORMAT)


def parse_breakdowns(by: str | Iterable[str]) -> tuple[tuple[str, ...], ...]:
    names = (by,) if isinstance(by, str) else tuple(by)
    out: list[tuple[str, ...]] = []
    for name in names:
        dims = tuple(part.strip() for part in str(name).split(","))
        if not dims or len(dims) > 3 or any(d not in DIMENSIONS for d in dims) or len(set(dims)) != len(dims):
            raise invalid_argument(
                f"by must be among {', '.join(DIMENSIONS)}, or up to three of them joined by commas for a cross "
                f"table (model,day); got {name!r}.",
                "by",
            )
        out.append(dims)
    return tuple(out)


def parse_budgets(budget: Any) -> tuple[Decimal | None, list[tuple[str, str, Decimal]]]:
    """None | an amount | "SCOPE=AMOUNT" strings (or a {scope: amount} dict) -> (overall, [(kind, value, amount)]).

    SCOPE is project:NAME, model:NAME or label:KEY=VALUE; the amount follows the last `=`."""
    if budget is None:
        return None, []
    if isinstance(budget, dict):
        items = [f"{scope}={amount}" if scope else str(amount) for scope, amount in budget.items()]
    elif isinstance(budget, str | int | Decimal) and not isinstance(budget, bool):
        items = [str(budget)]
    elif isinstance(budget, Iterable):
        items = [str(b) for b in budget]
    else:
        raise invalid_argument(f"budget must be an amount or scoped budgets, got {budget!r}.", "budget")
    overall: Decimal | None = None
    scoped: list[tuple[str, str, Decimal]] = []
    for item in items:
        scope, sep, amount = item.rpartition("=")
        if not sep:
            if overall is not None:
                raise invalid_argument("give the overall budget once.", "budget")
            overall = decimal_number(item, "budget")
            continue
        kind, colon, value = scope.partition(":")
        if not colon or kind not in BUDGET_SCOPES or not value:
            raise invalid_argument(
                f"a scoped budget looks like project:NAME=USD, model:NAME=USD or label:KEY=VALUE=USD; got {item!r}.",
                "budget",
            )
        if kind == "label" and "=" not in value:
            raise invalid_argument(f"a label budget names KEY=VALUE (label:team=search=50); got {item!r}.", "budget")
        scoped.append((kind, value, decimal_number(amount, "budget")))
    return overall, scoped


def _budget_status(scope: str, budget: Decimal, spent: Decimal) -> dict[str, Any]:
    used = Decimal(0) if not budget else (spent / budget * 100).quantize(Decimal("0.01"))
    return {
        "scope": scope,
        "budget": money(budget),
        "spent": money(spent),
        "remaining": money(budget - spent),
        "used_percent": money(used),
        "status": "exceeded" if spent > budget else "within",
    }


def _budgets(
    report: BillReport, overall: Decimal | None, scoped: list[tuple[str, str, Decimal]]
) -> list[dict[str, Any]]:
    out = []
    if overall is not None:
        out.append(_budget_status("total", overall, report.billed_total))
    for kind, value, amount in scoped:
        spent = report.scope_totals.get((kind, value), Decimal(0))
        out.append(_budget_status(f"{kind}:{value}", amount, spent))
    return out


def price_logged(
    logged: LoggedRequest, book: PriceBook, api: str, endpoint: str = "global", *, fingerprint: str | None = None
) -> LedgerRow:
    """Price one logged request at the rates in force on its (UTC) day, in its mode."""
    try:
        return _price_logged(logged, book, api, endpoint, fingerprint)
    except VertexMeterError as exc:
        if exc.message.startswith(logged.source):
            raise
        raise VertexMeterError(exc.status, f"{logged.source}: {exc.message}", exc.violations) from None


def _price_logged(
    logged: LoggedRequest, book: PriceBook, api: str, endpoint: str, fingerprint: str | None
) -> LedgerRow:
    day = logged.created.astimezone(dt.UTC).date()
    api = logged.api or api
    pricer = book.pricer(logged.model, day, api, logged.endpoint or endpoint)
    usage = logged.usage
    extra: dict[str, int] = {}
    if logged.grounded or logged.grounding_queries:
        grounding = next((e for e in pricer.entries if e.charge == "grounding"), None)
        per_query = grounding is not None and UNITS[grounding.unit].measure == "search_queries"
        if per_query:
            extra["search_queries"] = max(logged.grounding_queries, 1)
        else:
            extra["grounded_requests"] = 1  # one API call is one billable grounded prompt (2.x)
    if logged.maps_grounded:
        extra["maps_requests"] = 1
    if extra:
        usage = RequestUsage(**{**vars(usage), **extra})
    priced = book.price(pricer, logged.mode, usage)
    return LedgerRow(
        dedupe_key=logged.key,
        response_id=logged.response_id,
        source=logged.source,
        model=logged.model,
        priced_model=priced.priced_model,
        api=api,
        mode=logged.mode,
        created_at=logged.created,
        project=logged.project,
        labels=logged.labels,
        amount=priced.total,
        grounding_entry=priced.grounding_entry,
        grounding_amount=priced.grounding_amount,
        line_items=priced.line_items,
        fingerprint=fingerprint,
        line_items_json=priced.line_items_json,
    )


class _Cell(NamedTuple):
    """Rows alike in every dimension a report groups by: summed once, then spread over the breakdowns."""

    day: str
    month: str
    priced_model: str
    project: str | None
    mode: str
    api: str
    labels: dict[str, str]


def report_of(
    engine: Any, month: str | None, breakdowns: tuple[tuple[str, ...], ...], imported: dict[str, int]
) -> BillReport:
    """`summarize` of the stored rows: the grounded ones row by row, the others as the database groups them.
    Sums in another order are the same sums while every addition is exact (amounts are never negative, so no
    partial sum is longer than the total); if one is not, the report is made again from every row in order."""
    try:
        return summarize(
            read_report_rows(engine, month, grounded=True),
            month,
            breakdowns,
            imported,
            read_report_cells(engine, month),
        )
    except Inexact:
        return summarize(read_report_rows(engine, month), month, breakdowns, imported)


def summarize(
    rows: Iterable[ReportRow],
    month: str | None,
    breakdowns: tuple[tuple[str, ...], ...],
    imported: dict[str, int],
    cells: Iterable[ReportCell] | None = None,
) -> BillReport:
    """Totals over stored rows: allowances applied in time order, each month rounded up once. With `cells`
    (rows without a free allowance, grouped), every addition is checked exact (Inexact raised otherwise)."""
    with localcontext() as ctx:
        if cells is not None:
            ctx.traps[Inexact] = True
        sums, credit_total, free, requests = _sums(rows, cells)
        per_month, groups, scopes, total = _totals(sums, breakdowns)
    billed = sum((round_period_total(m["total"]) for m in per_month.values()), Decimal(0))  # (rounds: no trap)
    months_json = {
        key: {
            "requests": m["requests"],
            "total": money(m["total"]),
            "billed_total": format(round_period_total(m["total"]), "f"),
        }
        for key, m in sorted(per_month.items())
    }
    breakdowns_json: dict[str, dict[str, Any]] = {}
    for dims, cells_ in groups.items():
        nested: dict[str, Any] = {}
        for cell_key, g in sorted(cells_.items()):
            place = nested
            for part in cell_key[:-1]:
                place = place.setdefault(part, {})
            place[cell_key[-1]] = {"requests": g["requests"], "total": money(g["total"])}
        breakdowns_json[",".join(dims)] = nested
    report = BillReport(month, total, billed, requests, months_json, breakdowns_json, credit_total, free, imported)
    report.scope_totals = dict(scopes)
    return report


_Sums = dict[tuple[str, str, str, str | None, str, str, str], list[Any]]


def _sums(rows: Iterable[ReportRow], cells: Iterable[ReportCell] | None) -> tuple[_Sums, Decimal, int, int]:
    used: dict[tuple[str, str], int] = defaultdict(int)
    credit_total = Decimal(0)
    free = 0
    requests = 0
    # (day, month, model, project, mode, api, labels text) -> [requests, net total]: a month's rows fall in few
    # such cells, so the breakdowns below cost per cell, not per row
    sums: _Sums = {}
    for row in rows:  # ordered by created_at
        requests += 1
        net = row.amount
        if row.grounding_entry:
            allowance = catalogue().entries_by_id[row.grounding_entry].free_allowance
            if allowance is None:
                raise failed_precondition(f"The catalogue entry {row.grounding_entry!r} lost its free allowance.")
            period = row.day if allowance.period == "day" else row.month
            used[(allowance.group, period)] += 1
            if used[(allowance.group, period)] <= allowance.count:
                net -= row.grounding_amount
                credit_total += row.grounding_amount
                free += 1
        key = (row.day, row.month, row.priced_model, row.project, row.mode, row.api, row.labels)
        slot = sums.get(key)
        if slot is None:
            sums[key] = [1, net]
        else:
            slot[0] += 1
            slot[1] += net
    for cell in cells or ():
        requests += cell.requests
        net = sum(map(Decimal, cell.amounts.split(",")), Decimal(0))
        key = (cell.day, cell.month, cell.priced_model, cell.project, cell.mode, cell.api, cell.labels)
        slot = sums.get(key)
        if slot is None:
            sums[key] = [cell.requests, net]
        else:
            slot[0] += cell.requests
            slot[1] += net
    return sums, credit_total, free, requests


def _totals(sums: _Sums, breakdowns: tuple[tuple[str, ...], ...]) -> tuple[Any, Any, Any, Decimal]:
    """The cells' sums per month, per breakdown group and per budget scope, and the overall total."""
    per_month: dict[str, dict[str, Any]] = {}
    groups: dict[tuple[str, ...], dict[tuple[str, ...], dict[str, Any]]] = {dims: {} for dims in breakdowns}
    scopes: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (day, month_, model, project, mode, api, labels), (count, net) in sums.items():
        cell = _Cell(day, month_, model, project, mode, api, stored_labels(labels))
        per = per_month.setdefault(month_, {"requests": 0, "total": Decimal(0)})
        per["requests"] += count
        per["total"] += net
        for dims in breakdowns:
            for key_ in product(*(_keys(cell, dim) for dim in dims)):
                group = groups[dims].setdefault(key_, {"requests": 0, "total": Decimal(0)})
                group["requests"] += count
                group["total"] += net
        if project:
            scopes[("project", project)] += net
        scopes[("model", model)] += net
        for k, v in cell.labels.items():
            scopes[("label", f"{k}={v}")] += net
    total = sum((m["total"] for m in per_month.values()), Decimal(0))
    return per_month, groups, scopes, total


def _keys(row: _Cell, name: str) -> list[str]:
    if name == "day":
        return [row.day]
    if name == "month":
        return [row.month]
    if name == "model":
        return [row.priced_model]
    if name == "project":
        return [row.project or "(none)"]
    if name == "mode":
        return [row.mode]
    if name == "api":
        return [row.api]
    return [f"{k}={v}" for k, v in sorted(row.labels.items())] or ["(none)"]
