"""`vertexmeter count` and `vertexmeter compute`."""

from __future__ import annotations

import base64
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from vertexmeter.cli.common import google_errors, print_json, read_body
from vertexmeter.counting import compute_tokens, count
from vertexmeter.media import MediaOptions
from vertexmeter.registry import resolve


def request_from(model: str, texts: tuple[str, ...], file: str | None) -> Any:
    """The request body: `--file` (a whole REST body), or the TEXT arguments as one user turn."""
    if file and texts:
        raise click.UsageError("give either TEXT arguments or --file, not both")
    if file:
        return read_body(file)
    if not texts:
        raise click.UsageError("give TEXT arguments or --file PATH (- for stdin)")
    info = resolve(model)
    if info.is_legacy:
        field = {
            "text": "prompt", "code": "prefix", "code_completion": "prefix", "embedding": "content",
            "multimodal_embedding": "text",
        }.get(info.instance_schema or "")
        if field is None:  # chat and codechat: one message per text
            return {"instances": [{"messages": [{"author": "user", "content": t} for t in texts]}]}
        return {"instances": [{field: t} for t in texts]}
    return {"contents": [{"role": "user", "parts": [{"text": t} for t in texts]}]}


model_option = click.option("-m", "--model", required=True, help="Model name, e.g. gemini-2.5-flash or text-bison@002.")
file_option = click.option(
    "-f", "--file", "file", type=str, default=None, help="A whole request body (JSON); - reads stdin."
)
human_option = click.option("--human", is_flag=True, help="A readable table instead of the REST JSON.")


@click.command("count")
@model_option
@file_option
@click.option(
    "--api", type=click.Choice(["vertex", "gemini"]), default="vertex", show_default=True,
    help="Which API's countTokens to reproduce (their answers differ on newer models).",
)
@human_option
@click.option(
    "--media-root", envvar="VERTEXMETER_MEDIA_ROOT", type=click.Path(file_okay=False), default=None,
    help="Local mirror for fileData URIs: gs://bucket/a -> DIR/bucket/a, https://host/a -> DIR/host/a, "
    "file:// inside DIR. [env: VERTEXMETER_MEDIA_ROOT]",
)
@click.option("--allow-gcs", is_flag=True, help="Read gs:// URIs with your Google Cloud credentials (extra: gcs).")
@click.option("--allow-https", is_flag=True, help="Fetch https:// fileData URLs (public addresses, no redirects).")
@click.option("--https-host", "https_hosts", multiple=True, help="Allow-list for --allow-https (repeatable).")
@click.argument("texts", nargs=-1)
@google_errors
def count_command(
    model: str, file: str | None, api: str, human: bool, media_root: str | None, allow_gcs: bool,
    allow_https: bool, https_hosts: tuple[str, ...], texts: tuple[str, ...],
) -> None:
    """Count tokens like countTokens: TEXT arguments form one user turn; --file takes a REST body."""
    options = MediaOptions(
        media_root=media_root, allow_gcs=allow_gcs, allow_https=allow_https, https_hosts=https_hosts
    )
    result = count(model, request_from(model, texts, file), api=api, media_options=options)
    if not human:
        print_json(result.to_rest())
        return
    table = Table(title=f"{result.model.id} ({api} countTokens)")
    table.add_column("what")
    table.add_column("value", justify="right")
    for modality, tokens in result.tokens_by_modality.items():
        table.add_row(f"{modality} tokens", f"{tokens:,}")
    table.add_row("total tokens", f"{result.total_tokens:,}")
    if result.model.billed_by_characters:
        table.add_row("billable characters", f"{result.billable_characters:,}")
    table.add_row("context window", f"{result.model.input_token_limit:,}")
    table.add_row("fits", "yes" if result.fits_context_window else "NO")
    Console().print(table)


@click.command("compute")
@model_option
@file_option
@human_option
@click.argument("texts", nargs=-1)
@google_errors
def compute_command(model: str, file: str | None, human: bool, texts: tuple[str, ...]) -> None:
    """List tokens like computeTokens (Vertex): ids and token bytes of every text."""
    result = compute_tokens(model, request_from(model, texts, file))
    if not human:
        print_json(result)
        return
    table = Table(title=f"{resolve(model).id} computeTokens")
    for column in ("#", "role", "id", "token"):
        table.add_column(column)
    for n, info in enumerate(result["tokensInfo"]):
        for token, token_id in zip(info["tokens"], info["tokenIds"], strict=True):
            raw = base64.b64decode(token)
            shown = raw.decode("utf-8", errors="backslashreplace")
            table.add_row(str(n), info.get("role", ""), token_id, repr(shown))
    Console().print(table)
