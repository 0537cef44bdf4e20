"""`vertexmeter models` and `vertexmeter tokenizers`."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from vertexmeter.cli.common import google_errors, print_json
from vertexmeter.registry import all_models
from vertexmeter.tokenizing import families, refresh, status


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def models_command(as_json: bool) -> None:
    """List the model registry: tokenizer, limits, modalities, billing unit, aliases."""
    models = all_models()
    if as_json:
        print_json([
            {
                "id": m.id, "generation": m.generation, "tokenizer": m.tokenizer,
                "inputTokenLimit": m.input_token_limit, "outputTokenLimit": m.output_token_limit,
                "modalities": list(m.modalities), "billedBy": m.billed_by, "aliases": list(m.aliases),
                "format": "instances" if m.is_legacy else "contents", "confidence": m.confidence,
            }
            for m in models
        ])
        return
    table = Table(title="vertexmeter models")
    for column in ("model", "tokenizer", "input", "output", "billed by", "format", "aliases"):
        table.add_column(column)
    for m in models:
        table.add_row(
            m.id, m.tokenizer, f"{m.input_token_limit:,}", f"{m.output_token_limit:,}", m.billed_by,
            m.instance_schema or "contents", ", ".join(m.aliases),
        )
    Console(width=200).print(table)


@click.group("tokenizers", invoke_without_command=True)
@click.pass_context
def tokenizers_group(ctx: click.Context) -> None:
    """List tokenizer families, their files, pinned hashes and status."""
    if ctx.invoked_subcommand is not None:
        return
    table = Table(title="vertexmeter tokenizers")
    for column in ("family", "engine", "file", "sha256 (pinned)", "from", "status"):
        table.add_column(column)
    for family in families():
        s = status(family)
        table.add_row(s.family, s.engine, s.location or s.filename, s.sha256[:16] + "…", s.source or "-", s.status)
    Console(width=200).print(table)


@tokenizers_group.command("refresh")
@click.argument("family", type=click.Choice(families()))
@click.option("--url", default=None, help="Fetch from this URL (a mirror) instead of the pinned upstream.")
@google_errors
def refresh_command(family: str, url: str | None) -> None:
    """Download FAMILY's file from upstream into the user cache; kept only if its SHA-256 is the pinned one."""
    path = refresh(family, url=url)
    click.echo(f"{family}: {path} (sha256 verified)")
