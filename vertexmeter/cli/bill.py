"""`vertexmeter bill [LOG...]`: bills from usage logs, stored in a ledger database; reports from the ledger."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click

from vertexmeter.cli.common import IsoDate, console, google_errors, output_option, print_json, show, table
from vertexmeter.vocabulary import APIS, VERTEX


def _check_by(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    from vertexmeter.errors import VertexMeterError
    from vertexmeter.ledger import parse_breakdowns

    try:
        parse_breakdowns(value)
    except VertexMeterError as exc:
        raise click.BadParameter(exc.message) from None
    return value


def _check_budgets(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    from vertexmeter.errors import VertexMeterError
    from vertexmeter.ledger import parse_budgets

    try:
        parse_budgets(list(value) or None)
    except VertexMeterError as exc:
        raise click.BadParameter(exc.message) from None
    return value


@click.command("bill")
@click.argument("logs", nargs=-1, required=False, type=click.Path(exists=True, dir_okay=False, allow_dash=False))
@click.option(
    "--db",
    default=None,
    help="Ledger database: a SQLite file (default ./vertexmeter-ledger.sqlite) "
    "or postgresql://user@host/db (pip install 'vertexmeter[ledger]'). Without LOG files, the report "
    "comes from this ledger alone.",
)
@click.option("--month", default=None, help="Report this billing month, YYYY-MM (default: every month stored).")
@click.option(
    "--by",
    "by",
    multiple=True,
    metavar="DIM[,DIM]",
    callback=_check_by,
    help="Breakdowns to report (repeatable; default: day, model, project, label). DIM is day, month, "
    "model, project, label, mode or api; DIM,DIM is a cross table (model,day; project,model).",
)
@click.option(
    "--budget",
    "budgets",
    multiple=True,
    metavar="[SCOPE=]USD",
    callback=_check_budgets,
    help="A budget: USD for the billed total, or project:NAME=USD, model:NAME=USD, "
    "label:KEY=VALUE=USD (repeatable). Exit 3 when one is exceeded.",
)
@click.option("--model", default=None, help="Model for lines without one (e.g. Vertex batch output).")
@click.option(
    "--api",
    type=click.Choice(APIS),
    default=VERTEX,
    show_default=True,
    help="Whose price list for lines that do not say: Vertex AI or the Gemini Developer API.",
)
@click.option(
    "--day",
    "day",
    type=IsoDate(),
    default=None,
    help="Day (UTC) for lines without a time of their own (Gemini API, Anthropic, some OTLP spans).",
)
@click.option("--date", "date", type=IsoDate(), default=None, hidden=True)  # the older name of --day
@click.option(
    "--endpoint",
    type=click.Choice(["global", "regional"]),
    default="global",
    show_default=True,
    help="Where calls were served, for lines without `endpoint`/`location` (regional: +10% where published).",
)
@click.option("--strict", is_flag=True, help="Check every line first; store nothing and exit 1 if one is bad.")
@click.option(
    "--quarantine",
    default=None,
    metavar="FILE",
    help="Write every bad line (file, line, reason, text) to FILE as JSONL.",
)
@click.option(
    "--invoice",
    "invoices",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    metavar="EXPORT",
    help="A Cloud Billing export (CSV or JSON lines, repeatable): reconcile Google's charges with the "
    "ledger per day and SKU.",
)
@click.option(
    "--tolerance",
    default="0.01",
    show_default=True,
    metavar="USD",
    help="Differences per day and SKU up to this much count as matching (--invoice).",
)
@output_option
@google_errors
def bill_command(
    logs: tuple[str, ...],
    db: str | None,
    month: str | None,
    by: tuple[str, ...],
    budgets: tuple[str, ...],
    model: str | None,
    api: str,
    day: dt.date | None,
    date: dt.date | None,
    endpoint: str,
    strict: bool,
    quarantine: str | None,
    invoices: tuple[str, ...],
    tolerance: str,
    human: bool,
) -> None:
    """Price LOG files (Gemini, Anthropic, OpenAI, OTLP, batch output, envelopes) and report the ledger's bill.

    Exit 0: every line billed (and within budget); 1: some lines (or export rows) refused, listed in the
    report, or with --strict nothing imported; 3: a budget exceeded.
    """
    from vertexmeter.ledger import BREAKDOWNS, bill

    if not logs and db is None:
        raise click.UsageError("give LOG files to import, or --db LEDGER to report from a ledger alone")
    report = bill(
        list(logs),
        db=db,
        month=month,
        by=by or BREAKDOWNS,
        budget=list(budgets) or None,
        api=api,
        model=model,
        day=day,
        date=date,
        endpoint=endpoint,
        strict=strict,
        quarantine=quarantine,
        invoice=list(invoices) or None,
        tolerance=tolerance,
    )
    data = report.to_json()
    if human:
        _print_human(data)
    else:
        print_json(data)
    sys.exit(report.exit_code)


def _print_human(data: dict[str, Any]) -> None:
    screen = console()
    imported = data["imported"]
    if imported.get("lines"):
        screen.print(
            f"Imported {imported['new']} new request(s), {imported['duplicates']} already in the ledger, "
            f"{imported['rejected']} bad line(s)."
        )
    for name, groups in data["breakdowns"].items():
        dims = name.split(",")
        out = table(
            f"by {' × '.join(dims)}",
            *dims,
            "requests",
            "USD (exact)",
            numeric=("requests", "USD (exact)"),
            keep=tuple(d for d in dims if d in ("day", "month")),
        )
        for keys, group in _flatten(groups, len(dims)):
            out.add_row(*keys, str(group["requests"]), group["total"])
        show(out)
    months = table(
        "billing months",
        "month",
        "requests",
        "total",
        "billed (rounded up to the cent)",
        numeric=("requests", "total", "billed (rounded up to the cent)"),
        keep=("month",),
    )
    for key, m in data["months"].items():
        months.add_row(key, str(m["requests"]), m["total"], m["billed_total"])
    show(months)
    screen.print(f"Total ${data['total']} exact; billed ${data['billed_total']}.")
    for b in data.get("budgets", []):
        mark = "OVER BUDGET" if b["status"] == "exceeded" else "within"
        screen.print(
            f"Budget {b['scope']} ${b['budget']}: {mark} (${b['spent']} spent, {b['used_percent']}% used, "
            f"${b['remaining']} left)."
        )
    bad = data["bad_lines"]
    if bad["count"]:
        out = table(f"bad lines ({bad['count']}, not billed)", "file", "line", "reason", numeric=("line",))
        for entry in bad["lines"]:
            out.add_row(entry["file"], str(entry["line"]), entry["reason"])
        show(out)
        if bad["quarantine"]:
            screen.print(f"Bad lines written to {bad['quarantine']}.")
    if "reconciliation" in data:
        _print_reconciliation(data["reconciliation"])


def _print_reconciliation(rec: dict[str, Any]) -> None:
    money = ("predicted", "charged", "difference")
    out = table(
        "ledger vs invoice, per day and SKU (USD)", "day", "sku", *money, "status", numeric=money, keep=("day",)
    )
    for row in rec["rows"]:
        out.add_row(row["day"], row["sku"], row["predicted"], row["charged"], row["difference"], row["status"])
    show(out)
    screen = console()
    screen.print(
        f"Predicted ${rec['predicted_total']}, charged ${rec['charged_total']}, difference "
        f"${rec['difference']}; {len(rec['differences'])} day/SKU pair(s) differ by more than "
        f"${rec['tolerance']}. Other services' charges: ${rec['other_charges']['total']} "
        f"({rec['other_charges']['rows']} rows)."
    )
    for entry in rec["bad_lines"]["lines"]:
        screen.print(f"Bad export row {entry['file']}:{entry['line']}: {entry['reason']}")


def _flatten(groups: dict[str, Any], depth: int) -> list[tuple[list[str], dict[str, Any]]]:
    if depth == 1:
        return [([key], value) for key, value in groups.items()]
    return [([key, *rest], value) for key, inner in groups.items() for rest, value in _flatten(inner, depth - 1)]
