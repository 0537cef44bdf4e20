"""`vertexmeter batch`: count and price whole batch-prediction JSONL files."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from vertexmeter.cli.common import IsoDate, api_option, google_errors, media_options, output_option, print_json
from vertexmeter.vocabulary import MODES

if TYPE_CHECKING:
    import datetime as dt

    from rich.console import Console

    from vertexmeter.media import MediaOptions


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


@click.command("batch")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-m", "--model", default=None, help="The job's model (lines may name their own in request.model).")
@click.option("-o", "--output", default=None, help="Per-line results (JSONL, input order); - for stdout.")
@api_option
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes [default: all cores].")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--ray-address", default=None, help="Join this Ray cluster (else --engine ray starts a local one).")
@click.option(
    "--output-tokens",
    type=click.IntRange(min=0),
    default=None,
    help="Expected output tokens per line (else a range up to each line's cap).",
)
@click.option(
    "--as-of", type=IsoDate(), default=None, help="Prices and counting rules in force on this date (default: today)."
)
@click.option("--mode", type=click.Choice(MODES), default="batch", show_default=True)
@click.option("--fail-fast", is_flag=True, help="Stop at the first refused line.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its -o results file.")
@media_options
@output_option
@google_errors
def batch_command(
    inputs: tuple[str, ...],
    model: str | None,
    output: str | None,
    api: str,
    workers: int | None,
    engine: str,
    ray_address: str | None,
    output_tokens: int | None,
    as_of: dt.date | None,
    mode: str,
    fail_fast: bool,
    resume: bool,
    media_options: MediaOptions,
    human: bool,
) -> None:
    """Count and price batch JSONL files (INPUT: paths, globs, gs:// URIs, - for stdin).

    The summary goes to stdout (to stderr when -o -). Exit 0: every line counted; 1: some refused.
    """
    # Imported here: the CLI starts without the batch engine, pricing or rich loaded.
    from rich.console import Console

    from vertexmeter.batch import estimate_batch

    if resume and (output is None or output == "-"):
        raise click.UsageError("--resume needs -o RESULTS.jsonl (the file to continue)")
    try:
        result = estimate_batch(
            list(inputs),
            model,
            output=output,
            api=api,
            mode=mode,
            workers=workers,
            engine=engine,
            ray_address=ray_address,
            output_tokens=output_tokens,
            as_of=as_of.isoformat() if as_of else None,
            media_options=media_options,
            fail_fast=fail_fast,
            resume=resume,
            progress=True,
        )
    except KeyboardInterrupt:  # the workers are stopped; the results file holds every checkpointed chunk
        where = f" {output}: continue with the same command and --resume" if output and output != "-" else ""
        click.echo(
            f"vertexmeter batch: interrupted; the results written so far are in{where or ' the output'}.", err=True
        )
        sys.exit(EXIT_INTERRUPTED)
    summary = result.summary()
    to_stderr = output == "-"
    if human:
        _print_summary(
            summary, Console(stderr=to_stderr) if sys.stdout.isatty() else Console(stderr=to_stderr, width=120)
        )
    elif to_stderr:
        click.echo(_dumps(summary), err=True)
    else:
        print_json(summary)
    sys.exit(result.exit_code)


def _dumps(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, indent=2)


def _print_summary(summary: dict[str, Any], console: Console) -> None:
    from rich.table import Table

    table = Table(title=f"batch: {', '.join(summary['run']['inputs'])}")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("lines", f"{summary['lines']:,}")
    table.add_row("counted", f"{summary['counted']:,}")
    table.add_row("refused", f"{summary['errors']['lines']:,}")
    for reason, errors in summary["errors"]["by_reason"].items():
        first = ", ".join(str(n) for n in errors["first_lines"])
        table.add_row(f"  {reason}", f"{errors['lines']:,} (lines {first}{', …' if errors['lines'] > 10 else ''})")
    table.add_row("prompt tokens", f"{summary['prompt_tokens']:,}")
    for modality, tokens in summary["tokens_by_modality"].items():
        table.add_row(f"  {modality}", f"{tokens:,}")
    output = summary["output"]
    if "range" in output:
        table.add_row("output tokens", f"0 … {output['range']['max_tokens']:,}")
    else:
        table.add_row("output tokens", f"{output['tokens']:,}")
    cost = summary["cost"]
    total = cost["total"]
    table.add_row(
        f"cost ({cost['mode']}, {cost['date']}, USD)",
        total["max"] if total["min"] == total["max"] else f"{total['min']} … {total['max']}",
    )
    run = summary["run"]
    table.add_row(
        "speed",
        f"{run['lines_per_second']:,} lines/s, {run['mb_per_second']} MB/s ({run['engine']}, {run['workers']} workers)",
    )
    console.print(table)
    items = Table(title="cost by model (USD)")
    for column in ("model", "item", "quantity", "unit price", "amount"):
        items.add_column(column, justify="left" if column in ("model", "item") else "right")
    for model in cost["models"]:
        for item in model["lineItems"]:
            bound = " (at the output cap)" if item.get("bound") else ""
            items.add_row(
                model["model"],
                item["description"] + bound,
                item["quantity"],
                f"{item['unitPrice']} {item['priceUnit']}",
                item["amount"],
            )
    console.print(items)
