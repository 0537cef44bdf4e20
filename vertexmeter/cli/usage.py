"""`vertexmeter usage`: the usageMetadata generateContent would report — what is billed."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from vertexmeter.cli.common import google_errors, print_json, read_body
from vertexmeter.counting import usage
from vertexmeter.media import MediaOptions


def response_from(value: str | None) -> Any:
    """--response: a file (JSON: a Content, a GenerateContentResponse or a list of streamed chunks;
    anything else: the candidate's text), `-` for stdin, or the candidate's text itself."""
    if value is None:
        return None
    if value == "-" or os.path.isfile(value):
        if value == "-":
            text = sys.stdin.read()
        else:
            with open(value, encoding="utf-8") as handle:
                text = handle.read()
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        return parsed if isinstance(parsed, dict | list) else text
    return value


@click.command("usage")
@click.option("-m", "--model", required=True, help="Model name, e.g. gemini-2.5-flash.")
@click.option("-f", "--file", "file", required=True, help="A generateContent body (JSON); - reads stdin.")
@click.option(
    "--response", default=None,
    help="The response to count as output: a JSON file (Content, GenerateContentResponse, streamed chunks), "
    "a text file, or the candidate's text.",
)
@click.option(
    "--api", type=click.Choice(["vertex", "gemini"]), default="vertex", show_default=True,
    help="Which API bills the request (their accountings differ).",
)
@click.option("--as-of", "as_of", default=None, help="Count with the rules in force on this date (YYYY-MM-DD).")
@click.option("--cached-tokens", type=int, default=None, help="Size of the cachedContent the request names.")
@click.option("--human", is_flag=True, help="A readable table instead of the usageMetadata JSON.")
@click.option(
    "--media-root", envvar="VERTEXMETER_MEDIA_ROOT", type=click.Path(file_okay=False), default=None,
    help="Local mirror for fileData URIs (see `vertexmeter count --help`). [env: VERTEXMETER_MEDIA_ROOT]",
)
@google_errors
def usage_command(
    model: str, file: str, response: str | None, api: str, as_of: str | None, cached_tokens: int | None,
    human: bool, media_root: str | None,
) -> None:
    """What generateContent bills for a request: the usageMetadata JSON (promptTokenCount, ...)."""
    if response == "-" and file == "-":
        raise click.UsageError("only one of --file and --response can read stdin")
    result = usage(
        model, read_body(file), api=api, response=response_from(response), as_of=as_of,
        media_options=MediaOptions(media_root=media_root), cached_content_tokens=cached_tokens,
    )
    if not human:
        print_json(result.to_rest())
        return
    table = Table(title=f"{result.model.id} ({api} generateContent usageMetadata)")
    table.add_column("what")
    table.add_column("tokens", justify="right")
    for modality, tokens in result.prompt_tokens_by_modality.items():
        table.add_row(f"prompt {modality}", f"{tokens:,}")
    if result.cached_content_token_count:
        table.add_row("cached content", f"{result.cached_content_token_count:,}")
    table.add_row("prompt total (billed)", f"{result.prompt_token_count:,}")
    if result.has_response:
        table.add_row("candidates", f"{result.candidates_token_count:,}")
        table.add_row("thoughts", f"{result.thoughts_token_count:,}")
    table.add_row("total", f"{result.total_token_count:,}")
    table.add_row("vocabulary", result.prompt.tokenizer)
    table.add_row("context window", f"{result.model.input_token_limit:,}")
    table.add_row("fits", "yes" if result.fits_context_window else "NO")
    Console().print(table)
