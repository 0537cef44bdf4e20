"""`vertexmeter bill LOG...`: bills from usageMetadata logs, stored in a ledger database."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from vertexmeter.cli.common import google_errors, print_json


@click.command("bill")
@click.argument("logs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--db", default=None, help="Ledger database: a SQLite file (default ./vertexmeter-ledger.sqlite) "
              "or postgresql://user@host/db (pip install 'vertexmeter[ledger]').")
@click.option("--month", default=None, help="Report this billing month, YYYY-MM (default: every month stored).")
@click.option("--by", "by", type=click.Choice(["day", "model", "project", "label"]), multiple=True,
              help="Breakdowns to report (repeatable; default: all).")
@click.option("--budget", default=None, help="A budget in USD: the report says whether the billed total exceeds it.")
@click.option("--model", default=None, help="Model for lines without modelVersion (e.g. Vertex batch output).")
@click.option("--platform", type=click.Choice(["vertex", "gemini_api"]), default="vertex", show_default=True)
@click.option("--date", "date", default=None, help="Day (YYYY-MM-DD) for lines without createTime (Gemini API logs).")
@click.option("--endpoint", type=click.Choice(["global", "regional"]), default="global", show_default=True,
              help="Where calls were served, for lines without `endpoint`/`location` (regional: +10% where published).")
@click.option("--human", is_flag=True, help="A readable table instead of JSON.")
@google_errors
def bill_command(logs: tuple[str, ...], db: str | None, month: str | None, by: tuple[str, ...], budget: str | None,
                 model: str | None, platform: str, date: str | None, endpoint: str, human: bool) -> None:
    """Price LOG files (generateContent responses, batch output lines) and report the bill from the ledger."""
    from vertexmeter.ledger import BREAKDOWNS, bill

    report = bill(list(logs), db=db, month=month, by=by or BREAKDOWNS, budget=budget, platform=platform,
                  model=model, date=date, endpoint=endpoint)
    data = report.to_json()
    if not human:
        print_json(data)
        return
    console = Console()
    imported = data["imported"]
    console.print(f"Imported {imported['new']} new request(s), {imported['duplicates']} already in the ledger.")
    for name, groups in data["breakdowns"].items():
        table = Table(title=f"by {name}")
        table.add_column(name)
        table.add_column("requests", justify="right")
        table.add_column("USD (exact)", justify="right")
        for key, group in groups.items():
            table.add_row(key, str(group["requests"]), group["total"])
        console.print(table)
    months = Table(title="billing months")
    for column in ("month", "requests", "total", "billed (rounded up to the cent)"):
        months.add_column(column, justify="left" if column == "month" else "right")
    for key, m in data["months"].items():
        months.add_row(key, str(m["requests"]), m["total"], m["billed_total"])
    console.print(months)
    console.print(f"Total ${data['total']} exact; billed ${data['billed_total']}.")
    if "budget" in data:
        b = data["budget"]
        console.print(f"Budget ${b['budget']}: {b['status']} ({b['used_percent']}% used, ${b['remaining']} left).")
