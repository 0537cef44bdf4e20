"""`vertexmeter price` and `vertexmeter estimate`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import click

from vertexmeter.cli.common import (
    Extras,
    api_option,
    console,
    date_option,
    extra_options,
    google_errors,
    media_options,
    output_option,
    print_json,
    read_input,
    request_options,
    show,
    table,
)
from vertexmeter.vocabulary import APIS, GEMINI, MODES, VERTEX

if TYPE_CHECKING:
    from vertexmeter.media import MediaOptions
    from vertexmeter.pricing import Bill, Estimate


@click.command("price")
@click.option("-m", "--model", required=True, help="Model name, e.g. gemini-1.5-pro or claude-3-5-haiku.")
@date_option("Prices in force on this date (default: today).")
@click.option(
    "--api",
    type=click.Choice(APIS),
    default=VERTEX,
    show_default=True,
    help="Whose price list: Vertex AI or the Gemini Developer API.",
)
@output_option
@google_errors
def price_command(model: str, date: dt.date | None, api: str, human: bool) -> None:
    """The catalogue rates in force for MODEL (USD)."""
    from vertexmeter.pricing import MULTIPLIER_CHARGES, UNITS, money, prices

    sheet = prices(model, date, api=api)
    if not human:
        print_json(sheet.to_json())
        return
    out = table(
        f"{sheet.model} — {'Gemini API' if api == GEMINI else 'Vertex AI'} prices in force on "
        f"{sheet.date.isoformat()} (USD)",
        "charge",
        "modality",
        "tier",
        "mode",
        "price",
        "unit",
        "since",
        "source",
        "confidence",
        numeric=("price",),
        keep=("since",),
    )
    for e in sheet.entries:
        if e.charge in MULTIPLIER_CHARGES:
            price = f"x{money(e.price)}" if e.price is not None else "-"
            unit = f"of online {', '.join(e.applies_to or [])}"
        else:
            price = "-" if e.price is None else money(e.price)
            unit = UNITS[e.unit].label
        out.add_row(
            e.charge,
            e.modality,
            e.tier or "",
            e.mode,
            price,
            unit,
            e.effective_from.isoformat(),
            e.source,
            e.confidence,
        )
    show(out, optional=("source", "confidence", "tier"))


@click.command("estimate")
@click.option("-m", "--model", default=None, help="Model name (not needed with --scenario).")
@request_options
@extra_options
@click.option(
    "--scenario", default=None, type=click.Path(exists=True, dir_okay=False), help="A scenario file (.json/.yaml)."
)
@click.option("--mode", type=click.Choice(MODES), default="online", show_default=True)
@click.option("--output-tokens", type=int, default=None, help="Expected output tokens (else a range up to the cap).")
@click.option("--output-characters", type=int, default=None, help="Expected output characters (1.x / PaLM models).")
@click.option("--thinking-tokens", type=int, default=None, help="Expected thinking tokens (billed at the output rate).")
@api_option
@date_option("Price with the rates in force on this date (default: today).")
@output_option
@media_options
@google_errors
def estimate_command(
    model: str | None,
    texts: tuple[str, ...],
    file: str | None,
    text_file: str | None,
    extras: Extras,
    scenario: str | None,
    mode: str,
    output_tokens: int | None,
    output_characters: int | None,
    thinking_tokens: int | None,
    api: str,
    date: dt.date | None,
    human: bool,
    media_options: MediaOptions,
) -> None:
    """Estimate the cost of a request (-m MODEL with TEXT, --text-file or --file BODY) or of a scenario
    (--scenario FILE)."""
    from vertexmeter.pricing import estimate, price_scenario

    if scenario:
        quantities = (output_tokens, output_characters, thinking_tokens, date)
        if (
            texts
            or file
            or text_file
            or extras.attach
            or extras.system is not None
            or model
            or mode != "online"
            or api != "vertex"
            or any(o is not None for o in quantities)
        ):
            raise click.UsageError(
                "--scenario takes its model, date, mode and quantities from the file; "
                "drop -m/TEXT/--file/--text-file/--attach/--system/--mode/--date/--api/--output-*/--thinking-tokens"
            )
        result = price_scenario(scenario)
        if human:
            _print_bill(result.bill, title=result.name or scenario, billed_total=True)
        else:
            print_json(result.to_json())
        return
    if not model:
        raise click.UsageError("give -m MODEL with TEXT, --text-file or --file REQUEST.json; or --scenario FILE")
    given = read_input(texts, file, text_file, extras)
    with given.naming_files():
        est = estimate(
            model,
            given.request,
            api=api,
            mode=mode,
            output_tokens=output_tokens,
            output_characters=output_characters,
            thinking_tokens=thinking_tokens,
            date=date,
            media_options=media_options,
            config=given.config,
        )
    if human:
        _print_estimate(est)
    else:
        print_json(est.to_json())


def _print_estimate(est: Estimate) -> None:
    from vertexmeter.pricing import money

    bill = est.high or est.low
    title = f"{bill.model} ({bill.mode}, prices of {bill.date.isoformat()})"
    if est.high is None:
        _print_bill(bill, title=title)
        return
    low, high = est.total_range
    rng = est.output["range"]
    _print_bill(bill, title=f"{title} — output 0 … {rng['max_tokens']:,} tokens ({rng['max_from']})")
    console().print(f"total: ${money(low)} (no output) … ${money(high)} (output at the cap)")


def _print_bill(bill: Bill, *, title: str, billed_total: bool = False) -> None:
    from vertexmeter.pricing import UNITS, money

    out = table(
        title,
        "item",
        "quantity",
        "unit price (USD)",
        "amount (USD)",
        "tier",
        numeric=("quantity", "amount (USD)"),
    )
    for item in bill.line_items:
        price = f"{money(item.unit_price)} {UNITS[item.price_unit].label}"
        if item.overridden:
            price += " (override)"
        elif item.adjustment:
            price += " (regional uplift)" if "regional_uplift" in item.adjustment else " (mode discount)"
        out.add_row(
            item.description,
            f"{_group(item.quantity)} {item.quantity_unit}",
            price,
            money(item.amount),
            item.tier or "",
        )
    out.add_row("total", "", "", money(bill.total), "", end_section=True)
    if billed_total:
        out.add_row("billed (period total, up to the cent)", "", "", format(bill.billed_total, "f"), "")
    show(out)
    for note in bill.notes:
        console().print(f"note: {note}")


def _group(value: Any) -> str:
    from vertexmeter.pricing import money

    text = money(value)
    whole, _, frac = text.partition(".")
    return f"{int(whole):,}" + (f".{frac}" if frac else "")
