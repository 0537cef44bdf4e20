"""`vertexmeter bill LOG...`: bills from usageMetadata logs, stored in a ledger database."""

from __future__ import annotations

import datetime as dt

import click

from vertexmeter.cli.common import IsoDate, console, google_errors, output_option, print_json, show, table
from vertexmeter.vocabulary import APIS, VERTEX


@click.command("bill")
@click.argument("logs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--db", default=None, help="Ledger database: a SQLite file (default ./vertexmeter-ledger.sqlite) "
              "or postgresql://user@host/db (pip install 'vertexmeter[ledger]').")
@click.option("--month", default=None, help="Report this billing month, YYYY-MM (default: every month stored).")
@click.option("--by", "by", type=click.Choice(["day", "model", "project", "label"]), multiple=True,
              help="Breakdowns to report (repeatable; default: all).")
@click.option("--budget", default=None, help="A budget in USD: the report says whether the billed total exceeds it.")
@click.option("--model", default=None, help="Model for lines without modelVersion (e.g. Vertex batch output).")
@click.option("--api", type=click.Choice(APIS), default=VERTEX, show_default=True,
              help="Whose price list for lines that do not say: Vertex AI or the Gemini Developer API.")
@click.option("--date", "date", type=IsoDate(), default=None,
              help="Day for lines without createTime (Gemini API logs).")
@click.option("--endpoint", type=click.Choice(["global", "regional"]), default="global", show_default=True,
              help="Where calls were served, for lines without `endpoint`/`location` (regional: +10% where published).")
@output_option
@google_errors
def bill_command(logs: tuple[str, ...], db: str | None, month: str | None, by: tuple[str, ...], budget: str | None,
                 model: str | None, api: str, date: dt.date | None, endpoint: str, human: bool) -> None:
    """Price LOG files (generateContent responses, batch output lines) and report the bill from the ledger."""
    from vertexmeter.ledger import BREAKDOWNS, bill

    report = bill(list(logs), db=db, month=month, by=by or BREAKDOWNS, budget=budget,
                  api=api, model=model, date=date,
                  endpoint=endpoint)
    data = report.to_json()
    if not human:
        print_json(data)
        return
    screen = console()
    imported = data["imported"]
    screen.print(f"Imported {imported['new']} new request(s), {imported['duplicates']} already in the ledger.")
    for name, groups in data["breakdowns"].items():
        out = table(f"by {name}", name, "requests", "USD (exact)", numeric=("requests", "USD (exact)"))
        for key, group in groups.items():
            out.add_row(key, str(group["requests"]), group["total"])
        show(out)
    months = table(
        "billing months", "month", "requests", "total", "billed (rounded up to the cent)",
        numeric=("requests", "total", "billed (rounded up to the cent)"), keep=("month",),
    )
    for key, m in data["months"].items():
        months.add_row(key, str(m["requests"]), m["total"], m["billed_total"])
    show(months)
    screen.print(f"Total ${data['total']} exact; billed ${data['billed_total']}.")
    if "budget" in data:
        b = data["budget"]
        screen.print(f"Budget ${b['budget']}: {b['status']} ({b['used_percent']}% used, ${b['remaining']} left).")
