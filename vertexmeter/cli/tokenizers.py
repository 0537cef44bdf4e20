"""`vertexmeter tokenizers` (and `tokenizers refresh`)."""

from __future__ import annotations

import click

from vertexmeter.cli.common import google_errors, output_option, print_json, show, table
from vertexmeter.tokenizing import families, refresh, status


@click.group("tokenizers", invoke_without_command=True)
@output_option
@click.pass_context
def tokenizers_group(ctx: click.Context, human: bool) -> None:
    """List tokenizer families, their files, pinned hashes and status."""
    if ctx.invoked_subcommand is not None:
        return
    statuses = [status(family) for family in families()]
    if not human:
        print_json(
            [
                {
                    "family": s.family,
                    "engine": s.engine,
                    "file": s.location or s.filename,
                    "sha256": s.sha256,
                    "source": s.source,
                    "status": s.status,
                }
                for s in statuses
            ]
        )
        return
    out = table(
        "vertexmeter tokenizers",
        "family",
        "engine",
        "file",
        "sha256 (pinned)",
        "from",
        "status",
        keep=("family", "sha256 (pinned)"),
    )
    for s in statuses:
        out.add_row(s.family, s.engine, s.location or s.filename, s.sha256[:16] + "…", s.source or "-", s.status)
    show(out, optional=("file", "from"))


@tokenizers_group.command("refresh")
@click.argument("family", type=click.Choice(families()))
@click.option("--url", default=None, help="Fetch from this URL (a mirror) instead of the pinned upstream.")
@output_option
@google_errors
def refresh_command(family: str, url: str | None, human: bool) -> None:
    """Download FAMILY's file from upstream into the user cache; kept only if its SHA-256 is the pinned one."""
    path = refresh(family, url=url)
    if human:
        click.echo(f"{family}: {path} (sha256 verified)")
    else:
        print_json({"family": family, "path": str(path), "sha256": "verified"})
