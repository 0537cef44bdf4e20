"""Reconcile the ledger with Google's invoice: a Cloud Billing export against what the ledger predicts.

The export is the BigQuery billing export's rows, as CSV (flattened columns, `service.description` or
`service_description`) or JSON lines (the nested records as BigQuery writes them). Each row is matched to the
catalogue by its SKU (`sku.id` when the catalogue carries it, else `sku.description`); the ledger's stored line
items are summed per (UTC day, SKU) through the same catalogue entries; the answer is, per day and SKU, what the
ledger predicts, what Google charged (cost + credits), and the difference.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.ledger.formats import EARLIEST, LATEST_AHEAD
from vertexmeter.ledger.logs import MAX_LINE_BYTES, BadLine
from vertexmeter.ledger.store import LedgerRow
from vertexmeter.pricing import catalogue, money
from vertexmeter.requests import decode_json

UNMAPPED = "(no SKU in the catalogue)"
DEFAULT_TOLERANCE = Decimal("0.01")  # per day and SKU: Google's export rounds each row's cost
# The export's columns, by their BigQuery path; CSV exports may write the dots as underscores.
COLUMNS = (
    "service.description",
    "sku.id",
    "sku.description",
    "usage.amount",
    "usage.unit",
    "cost",
    "credits",
    "project.id",
    "labels",
    "usage_start_time",
)


@dataclass(frozen=True)
class InvoiceLine:
    day: dt.date
    sku_id: str
    sku_description: str
    service: str
    cost: Decimal
    credits: Decimal
    usage_amount: Decimal | None
    usage_unit: str | None
    project: str | None


@dataclass
class Reconciliation:
    """Per (day, SKU): predicted by the ledger, charged by Google, and the difference (charged - predicted)."""

    rows: list[dict[str, Any]]
    tolerance: Decimal
    predicted_total: Decimal
    charged_total: Decimal
    other_charges: Decimal  # export rows of SKUs the catalogue does not know (other services)
    other_rows: int
    bad_lines: list[BadLine] = field(default_factory=list)

    @property
    def differences(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["status"] == "differs"]

    def to_json(self) -> dict[str, Any]:
        return {
            "tolerance": money(self.tolerance),
            "predicted_total": money(self.predicted_total),
            "charged_total": money(self.charged_total),
            "difference": money(self.charged_total - self.predicted_total),
            "rows": self.rows,
            "differences": [
                {"day": r["day"], "sku": r["sku"], "difference": r["difference"]} for r in self.differences
            ],
            "other_charges": {"rows": self.other_rows, "total": money(self.other_charges)},
            "bad_lines": {"count": len(self.bad_lines), "lines": [b.to_json() for b in self.bad_lines]},
        }


def read_export(path: str) -> Iterator[InvoiceLine | BadLine]:
    """The export's rows in order (CSV with a header, or JSON lines); a bad row is a BadLine, never the end."""
    file = Path(path)
    try:
        handle = file.open("rb")
    except OSError as exc:
        raise invalid_argument(f"Cannot read billing export {path!r}: {exc.strerror}.", "invoice") from None
    with handle:
        head = handle.read(1)
        while head in (b" ", b"\n", b"\r", b"\t", b"\xef", b"\xbb", b"\xbf"):
            head = handle.read(1)
        handle.seek(0)
        if head == b"{":
            for number, raw in enumerate(handle, 1):
                if raw.strip():
                    yield _row(path, number, raw, lambda raw=raw: _json_row(raw))
            return
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.DictReader(text)
        for row in reader:
            number = reader.line_num
            yield _row(path, number, json.dumps(row).encode(), lambda row=row: _unflatten(row))


def _json_row(raw: bytes) -> Any:
    try:
        return decode_json(raw, decimals=True)
    except VertexMeterError as exc:
        raise invalid_argument(f"not valid JSON ({exc.message.rstrip('.')}).") from None


def _row(path: str, number: int, raw: bytes, load: Any) -> InvoiceLine | BadLine:
    if len(raw) > MAX_LINE_BYTES:
        return BadLine(path, number, "INVALID_ARGUMENT", "row too long.", "")
    try:
        try:
            item = load()
        except ValueError:
            raise invalid_argument("not valid JSON.") from None
        return _line(item)
    except VertexMeterError as exc:
        return BadLine(path, number, exc.status, exc.message, raw.decode("utf-8", "replace").rstrip("\r\n"))


def _unflatten(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:
            raise invalid_argument("a CSV row has more fields than the header.")
        name = key.strip()
        dotted = next((c for c in COLUMNS if name in (c, c.replace(".", "_"))), name)
        slot = out
        parts = dotted.split(".")
        for part in parts[:-1]:
            slot = slot.setdefault(part, {})
        slot[parts[-1]] = value
    for name in ("credits", "labels"):
        if isinstance(out.get(name), str) and out[name].strip()[:1] in ("[", "{"):
            try:
                out[name] = decode_json(out[name], decimals=True)
            except VertexMeterError:
                raise invalid_argument(f"{name} is not JSON.", name) from None
    return out


def _record(item: dict[str, Any], name: str) -> dict[str, Any]:
    value = item.get(name)
    return value if isinstance(value, dict) else {}


def _decimal(value: Any, name: str, *, optional: bool = False) -> Decimal | None:
    if value in (None, "") and optional:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise invalid_argument(f"{name} must be a number, got {str(value)[:40]!r}.", name) from None
    if not number.is_finite() or abs(number) > Decimal(10) ** 12:
        raise invalid_argument(f"{name} must be a finite amount, got {str(value)[:40]!r}.", name)
    return number


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise invalid_argument(f"{name} is missing.", name)
    return str(value).strip()[:500]


def _line(item: Any) -> InvoiceLine:
    if not isinstance(item, dict):
        raise invalid_argument("an export row must be an object.")
    service, sku, usage, project = (_record(item, name) for name in ("service", "sku", "usage", "project"))
    credits = item.get("credits")
    if isinstance(credits, list):
        total_credits = sum(
            (_decimal(c.get("amount") if isinstance(c, dict) else c, "credits.amount") or Decimal(0) for c in credits),
            Decimal(0),
        )
    else:
        total_credits = _decimal(credits, "credits", optional=True) or Decimal(0)
    return InvoiceLine(
        day=_day(item.get("usage_start_time")),
        sku_id=str(sku.get("id") or ""),
        sku_description=_text(sku.get("description"), "sku.description"),
        service=str(service.get("description") or ""),
        cost=_decimal(item.get("cost"), "cost") or Decimal(0),
        credits=total_credits,
        usage_amount=_decimal(usage.get("amount"), "usage.amount", optional=True),
        usage_unit=str(usage["unit"]) if usage.get("unit") else None,
        project=str(project["id"]) if project.get("id") else None,
    )


def _day(value: Any) -> dt.date:
    """usage_start_time as BigQuery writes it ('2026-11-03 10:00:00 UTC') or RFC 3339, as a UTC day."""
    if not isinstance(value, str) or not value.strip():
        raise invalid_argument("usage_start_time is missing.", "usage_start_time")
    text = value.strip().replace(" UTC", "+00:00").replace("Z", "+00:00")
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise invalid_argument(f"usage_start_time {value[:40]!r} is not a timestamp.", "usage_start_time") from None
    when = when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    if not EARLIEST <= when <= dt.datetime.now(dt.UTC) + LATEST_AHEAD:
        raise invalid_argument(f"usage_start_time {value[:40]!r} is outside the plausible range.", "usage_start_time")
    return when.date()


def _sku_index() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """entry id -> SKU name; SKU id -> name; lower-cased description -> name (the name is the description)."""
    by_entry: dict[str, str] = {}
    by_id: dict[str, str] = {}
    by_description: dict[str, str] = {}
    for entry in catalogue().entries_by_id.values():
        if entry.sku is None:
            continue
        by_entry[entry.id] = entry.sku.description
        by_description[entry.sku.description.casefold()] = entry.sku.description
        if entry.sku.id:
            by_id[entry.sku.id] = entry.sku.description
    return by_entry, by_id, by_description


def reconcile(
    export: str | list[str],
    rows: list[LedgerRow],
    *,
    month: str | None = None,
    project: str | None = None,
    tolerance: Decimal = DEFAULT_TOLERANCE,
) -> Reconciliation:
    """Google's export rows against the ledger's rows (already read, with their line items)."""
    paths = [export] if isinstance(export, str) else list(export)
    by_entry, by_id, by_description = _sku_index()
    predicted: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    predicted_usage: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        if project is not None and row.project != project:
            continue
        day = row.day.isoformat()
        for item in row.line_items:
            sku = by_entry.get(item.get("entry_id", ""), UNMAPPED)
            predicted[(day, sku)] += Decimal(item["amount"])
            if item.get("quantity_unit") == "tokens":
                predicted_usage[(day, sku)] += Decimal(item["quantity"])
    charged: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    cost: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    credits: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    usage: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    other, other_rows = Decimal(0), 0
    bad: list[BadLine] = []
    for path in paths:
        for line in read_export(path):
            if isinstance(line, BadLine):
                bad.append(line)
                continue
            if month and line.day.strftime("%Y-%m") != month:
                continue
            if project is not None and line.project != project:
                continue
            found = by_id.get(line.sku_id) or by_description.get(line.sku_description.casefold())
            if found is None:
                other += line.cost + line.credits
                other_rows += 1
                continue
            key = (line.day.isoformat(), found)
            cost[key] += line.cost
            credits[key] += line.credits
            charged[key] += line.cost + line.credits
            if line.usage_amount is not None:
                usage[key] += line.usage_amount
    out = []
    for key in sorted(set(predicted) | set(charged)):
        difference = charged.get(key, Decimal(0)) - predicted.get(key, Decimal(0))
        out.append(
            {
                "day": key[0],
                "sku": key[1],
                "predicted": money(predicted.get(key, Decimal(0))),
                "predicted_usage": money(predicted_usage[key]) if key in predicted_usage else None,
                "charged": money(charged.get(key, Decimal(0))),
                "cost": money(cost.get(key, Decimal(0))),
                "credits": money(credits.get(key, Decimal(0))),
                "usage": money(usage[key]) if key in usage else None,
                "difference": money(difference),
                "status": "unmapped" if key[1] == UNMAPPED else "differs" if abs(difference) > tolerance else "matches",
            }
        )
    return Reconciliation(
        out,
        tolerance,
        sum(predicted.values(), Decimal(0)),
        sum(charged.values(), Decimal(0)),
        other,
        other_rows,
        bad,
    )
