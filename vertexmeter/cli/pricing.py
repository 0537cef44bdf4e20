"""`vertexmeter price` and `vertexmeter estimate`."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from vertexmeter.cli.common import google_errors, print_json, read_body
from vertexmeter.pricing import Bill, Estimate, estimate, money, price_scenario, prices
from vertexmeter.pricing.catalogue import MULTIPLIER_CHARGES, UNITS

MODES = ("online", "batch", "flex", "priority")


@click.command("price")
@click.option("-m", "--model", required=True, help="Model name, e.g. gemini-1.5-pro or claude-3-5-haiku.")
@click.option("--date", "date", default=None, help="Prices in force on this ISO date (default: today).")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@google_errors
def price_command(model: str, date: str | None, as_json: bool) -> None:
    """The catalogue rates in force for MODEL (USD)."""
    sheet = prices(model, date)
    if as_json:
        print_json(sheet.to_json())
        return
    table = Table(title=f"{sheet.model} — Vertex AI prices in force on {sheet.date.isoformat()} (USD)")
    for column in ("charge", "modality", "tier", "mode", "price", "unit", "since", "source", "confidence"):
        table.add_column(column, justify="right" if column == "price" else "left")
    for e in sheet.entries:
        if e.charge in MULTIPLIER_CHARGES:
            price = f"x{money(e.price)}" if e.price is not None else "-"
            unit = f"of online {', '.join(e.applies_to or [])}"
        else:
            price = "-" if e.price is None else money(e.price)
            unit = UNITS[e.unit].label
        table.add_row(
            e.charge, e.modality, e.tier or "", e.mode, price, unit, e.effective_from.isoformat(), e.source,
            e.confidence,
        )
    _console().print(table)


@click.command("estimate")
@click.option("-m", "--model", default=None, help="Model name (not needed with --scenario).")
@click.option(
    "-f", "--file", "file", default=None, help="A request body (JSON; countTokens or generateContent); - reads stdin."
)
@click.option("--scenario", default=None, type=click.Path(dir_okay=False), help="A scenario file (.json/.yaml).")
@click.option("--mode", type=click.Choice(MODES), default="online", show_default=True)
@click.option("--output-tokens", type=int, default=None, help="Expected output tokens (else a range up to the cap).")
@click.option("--output-characters", type=int, default=None, help="Expected output characters (1.x / PaLM models).")
@click.option("--thinking-tokens", type=int, default=None, help="Expected thinking tokens (billed at the output rate).")
@click.option("--api", type=click.Choice(["vertex", "gemini"]), default="vertex", show_default=True,
              help="Which countTokens dialect counts the request.")
@click.option("--date", "date", default=None, help="Price with the rates in force on this ISO date (default: today).")
@click.option("--human", is_flag=True, help="A readable table instead of JSON.")
@google_errors
def estimate_command(
    model: str | None, file: str | None, scenario: str | None, mode: str, output_tokens: int | None,
    output_characters: int | None, thinking_tokens: int | None, api: str, date: str | None, human: bool,
) -> None:
    """Estimate the cost of a request (-m MODEL --file BODY) or of a scenario (--scenario FILE)."""
    if scenario:
        request_options = (output_tokens, output_characters, thinking_tokens, date)
        if file or model or mode != "online" or api != "vertex" or any(o is not None for o in request_options):
            raise click.UsageError(
                "--scenario takes its model, date, mode and quantities from the file; "
                "drop -m/--file/--mode/--date/--api/--output-*/--thinking-tokens"
            )
        result = price_scenario(scenario)
        if human:
            _print_bill(result.bill, title=result.name or scenario, billed_total=True)
        else:
            print_json(result.to_json())
        return
    if not model or not file:
        raise click.UsageError("give -m MODEL and --file REQUEST.json, or --scenario FILE")
    est = estimate(
        model, read_body(file), api=api, mode=mode, output_tokens=output_tokens,
        output_characters=output_characters, thinking_tokens=thinking_tokens, date=date,
    )
    if human:
        _print_estimate(est)
    else:
        print_json(est.to_json())


def _print_estimate(est: Estimate) -> None:
    bill = est.high or est.low
    title = f"{bill.model} ({bill.mode}, prices of {bill.date.isoformat()})"
    if est.high is None:
        _print_bill(bill, title=title)
        return
    low, high = est.total_range
    rng = est.output["range"]
    _print_bill(bill, title=f"{title} — output 0 … {rng['max_tokens']:,} tokens ({rng['max_from']})")
    _console().print(f"total: ${money(low)} (no output) … ${money(high)} (output at the cap)")


def _print_bill(bill: Bill, *, title: str, billed_total: bool = False) -> None:
    table = Table(title=title)
    for column in ("item", "quantity", "unit price (USD)", "amount (USD)", "tier"):
        table.add_column(column, justify="left" if column in ("item", "tier") else "right")
    for item in bill.line_items:
        price = f"{money(item.unit_price)} {UNITS[item.price_unit].label}"
        if item.overridden:
            price += " (override)"
        elif item.adjustment:
            price += " (regional uplift)" if "regional_uplift" in item.adjustment else " (mode discount)"
        table.add_row(
            item.description, f"{_group(item.quantity)} {item.quantity_unit}", price, money(item.amount),
            item.tier or "",
        )
    table.add_row("total", "", "", money(bill.total), "", end_section=True)
    if billed_total:
        table.add_row("billed (period total, up to the cent)", "", "", format(bill.billed_total, "f"), "")
    console = _console()
    console.print(table)
    for note in bill.notes:
        console.print(f"note: {note}")


def _console() -> Console:
    # Piped output (files, README samples) gets a fixed, roomy width instead of 80 columns.
    return Console() if sys.stdout.isatty() else Console(width=120)


def _group(value: Any) -> str:
    text = money(value)
    whole, _, frac = text.partition(".")
    return f"{int(whole):,}" + (f".{frac}" if frac else "")
