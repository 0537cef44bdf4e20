"""`bill(logs, ...)`: price usage logs at the rates of each request's day and mode, store them, report the month.

Data flows one way: log line -> RequestUsage -> pricing engine (the same `Pricer` as `estimate`) -> ledger row
-> report. Free grounding allowances are applied over the stored rows, per day or month and allowance group,
in request order: the first N grounded prompts of a period are free, the rest pay the list price (pro rata).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.ledger.logs import LoggedRequest, read_logs
from vertexmeter.ledger.store import LedgerRow, engine_for, insert_new, known_keys, read_rows
from vertexmeter.pricing.catalogue import ENDPOINTS, UNITS, catalogue
from vertexmeter.pricing.engine import Pricer, money, parse_date, round_period_total
from vertexmeter.pricing.usage import RequestUsage, Usage, decimal_number
from vertexmeter.vocabulary import APIS, catalogue_platform

BREAKDOWNS = ("day", "model", "project", "label")
CHUNK = 2000  # log lines priced and stored per transaction
_MONTH_FORMAT = "%Y-%m"


@dataclass
class BillReport:
    """The ledger's view of a period: exact total, the per-month billed (rounded-up) totals, breakdowns."""

    month: str | None
    total: Decimal
    billed_total: Decimal
    requests: int
    months: dict[str, dict[str, Any]]
    breakdowns: dict[str, dict[str, dict[str, Any]]]
    allowance_credit: Decimal
    free_grounded_prompts: int
    imported: dict[str, int]
    budget: Decimal | None = None
    notes: list[str] = field(default_factory=list)

    def budget_json(self) -> dict[str, Any] | None:
        if self.budget is None:
            return None
        remaining = self.budget - self.billed_total
        used = Decimal(0) if not self.budget else (self.billed_total / self.budget * 100).quantize(Decimal("0.01"))
        return {
            "budget": money(self.budget),
            "billed_total": format(self.billed_total, "f"),
            "remaining": money(remaining),
            "used_percent": money(used),
            "status": "exceeded" if self.billed_total > self.budget else "within",
        }

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
        }
        if self.budget is not None:
            out["budget"] = self.budget_json()
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
    endpoint: str = "global",
) -> BillReport:
    """Import the usage LOGS into the ledger DB (idempotent), then report `month` (YYYY-MM; all months if None).

    `model` / `date` fill in lines without modelVersion / createTime; `endpoint` (global | regional) applies
    to lines that do not say where they were served."""
    paths = [logs] if isinstance(logs, str) else list(logs)
    month = _check_month(month)
    breakdowns = (by,) if isinstance(by, str) else tuple(by)
    for name in breakdowns:
        if name not in BREAKDOWNS:
            raise invalid_argument(f"by must be among {', '.join(BREAKDOWNS)}; got {name!r}.", "by")
    budget_value = None if budget is None else decimal_number(budget, "budget")
    if api not in APIS:
        raise invalid_argument(f"api must be one of {', '.join(APIS)}; got {api!r}.", "api")
    platform = catalogue_platform(api)  # the catalogue's own word for the API's price list
    default_date = None if date is None else parse_date(date, "date")
    if endpoint not in ENDPOINTS:
        raise invalid_argument(f"endpoint must be one of {', '.join(ENDPOINTS)}; got {endpoint!r}.", "endpoint")
    engine = engine_for(db)
    counts = {"read": 0, "new": 0, "duplicates": 0, "skipped_provisioned": 0}
    pricers: dict[tuple[str, dt.date, str, str], Pricer] = {}
    chunk: list[LoggedRequest] = []

    def flush() -> None:  # bounded memory: a chunk of lines at a time, known requests not priced again
        known = known_keys(engine, [logged.key for logged in chunk])
        rows = [price_logged(logged, pricers, platform, endpoint) for logged in chunk if logged.key not in known]
        inserted, duplicates = insert_new(engine, rows)
        counts["new"] += inserted
        counts["duplicates"] += duplicates + sum(1 for logged in chunk if logged.key in known)
        chunk.clear()

    for logged in read_logs(paths, model=model, date=default_date):
        counts["read"] += 1
        if logged.mode == "provisioned":
            counts["skipped_provisioned"] += 1  # paid by the Provisioned Throughput subscription, not per request
            continue
        chunk.append(logged)
        if len(chunk) >= CHUNK:
            flush()
    flush()
    imported = counts
    report = summarize(list(read_rows(engine, month)), month, breakdowns, imported)
    report.budget = budget_value
    return report


def _check_month(month: str | None) -> str | None:
    if month is None:
        return None
    try:
        return dt.datetime.strptime(str(month), _MONTH_FORMAT).strftime(_MONTH_FORMAT)
    except ValueError:
        raise invalid_argument(f"month must look like 2025-11, got {month!r}.", "month") from None


def price_logged(
    logged: LoggedRequest, pricers: dict[tuple[str, dt.date, str, str], Pricer], platform: str,
    endpoint: str = "global",
) -> LedgerRow:
    """Price one logged request at the rates in force on its (UTC) day, in its mode."""
    try:
        return _price_logged(logged, pricers, platform, endpoint)
    except VertexMeterError as exc:
        if exc.message.startswith(logged.source):
            raise
        raise VertexMeterError(exc.status, f"{logged.source}: {exc.message}", exc.violations) from None


def _price_logged(
    logged: LoggedRequest, pricers: dict[tuple[str, dt.date, str, str], Pricer], platform: str, endpoint: str
) -> LedgerRow:
    day = logged.created.astimezone(dt.UTC).date()
    platform = logged.platform or platform
    endpoint = logged.endpoint or endpoint
    key = (logged.model, day, platform, endpoint)
    pricer = pricers.get(key)
    if pricer is None:
        pricer = pricers[key] = Pricer(logged.model, date=day, platform=platform, endpoint=endpoint)
    if pricer.model.billing != "tokens":
        raise invalid_argument(
            f"{pricer.model.id} bills per {pricer.model.billing.replace('_', ' ')}, and a "
            "usageMetadata log has only tokens; price it with a scenario instead.", "modelVersion",
        )
    usage = logged.usage
    grounding = next((e for e in pricer.entries if e.charge == "grounding"), None)
    extra: dict[str, int] = {}
    if logged.grounded or logged.grounding_queries:
        per_query = grounding is not None and UNITS[grounding.unit].measure == "search_queries"
        if per_query:
            extra["search_queries"] = max(logged.grounding_queries, 1)
        else:
            extra["grounded_requests"] = 1  # one API call is one billable grounded prompt (2.x)
    if logged.maps_grounded:
        extra["maps_requests"] = 1
    if extra:
        usage = RequestUsage(**{**vars(usage), **extra})
    priced = pricer.price(Usage(requests=(usage,)), logged.mode)
    allowance_entry = None
    grounding_amount = Decimal(0)
    for item in priced.line_items:
        entry = catalogue().entries_by_id[item.entry_id]
        if entry.charge == "grounding" and entry.free_allowance is not None:
            allowance_entry, grounding_amount = entry.id, item.amount
    return LedgerRow(
        dedupe_key=logged.key, response_id=logged.response_id, source=logged.source, model=logged.model,
        priced_model=pricer.model.id, platform=platform, mode=logged.mode, created_at=logged.created,
        project=logged.project, labels=logged.labels, amount=priced.total, grounding_entry=allowance_entry,
        grounding_amount=grounding_amount, line_items=[item.to_json() for item in priced.line_items],
    )


def summarize(
    rows: list[LedgerRow], month: str | None, breakdowns: tuple[str, ...], imported: dict[str, int]
) -> BillReport:
    """Totals over stored rows: allowances applied in time order, each month rounded up once."""
    used: dict[tuple[str, str], int] = defaultdict(int)
    credit_total = Decimal(0)
    free = 0
    per_month: dict[str, dict[str, Any]] = {}
    groups: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in breakdowns}
    for row in rows:  # ordered by created_at
        net = row.amount
        if row.grounding_entry:
            allowance = catalogue().entries_by_id[row.grounding_entry].free_allowance
            assert allowance is not None
            period = row.day.isoformat() if allowance.period == "day" else row.month
            used[(allowance.group, period)] += 1
            if used[(allowance.group, period)] <= allowance.count:
                net -= row.grounding_amount
                credit_total += row.grounding_amount
                free += 1
        slot = per_month.setdefault(row.month, {"requests": 0, "total": Decimal(0)})
        slot["requests"] += 1
        slot["total"] += net
        for name in breakdowns:
            for key in _keys(row, name):
                group = groups[name].setdefault(key, {"requests": 0, "total": Decimal(0)})
                group["requests"] += 1
                group["total"] += net
    total = sum((m["total"] for m in per_month.values()), Decimal(0))
    billed = sum((round_period_total(m["total"]) for m in per_month.values()), Decimal(0))
    months_json = {
        key: {"requests": m["requests"], "total": money(m["total"]),
              "billed_total": format(round_period_total(m["total"]), "f")}
        for key, m in sorted(per_month.items())
    }
    breakdowns_json = {
        name: {key: {"requests": g["requests"], "total": money(g["total"])} for key, g in sorted(group.items())}
        for name, group in groups.items()
    }
    return BillReport(month, total, billed, len(rows), months_json, breakdowns_json, credit_total, free, imported)


def _keys(row: LedgerRow, name: str) -> list[str]:
    if name == "day":
        return [row.day.isoformat()]
    if name == "model":
        return [row.priced_model]
    if name == "project":
        return [row.project or "(none)"]
    return [f"{k}={v}" for k, v in sorted(row.labels.items())] or ["(none)"]
