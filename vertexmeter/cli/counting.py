"""`vertexmeter count` and `vertexmeter compute`."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import click

from vertexmeter.cli.common import (
    Extras,
    IsoDate,
    api_option,
    extra_options,
    google_errors,
    media_options,
    model_option,
    output_option,
    print_json,
    read_input,
    read_request,
    request_options,
    show,
    table,
)

if TYPE_CHECKING:
    import datetime as dt

    from vertexmeter.media import MediaOptions


EXPLAIN_HELP = "Add `rules`: the counting rules applied, with their confidence and evidence ids."


@click.command("count")
@model_option
@request_options
@extra_options
@api_option
@click.option(
    "--as-of",
    "as_of",
    type=IsoDate(),
    default=None,
    help="Count as the service did on this date: a dated alias's model then, that day's vocabulary.",
)
@click.option("--explain", is_flag=True, help=EXPLAIN_HELP)
@output_option
@media_options
@google_errors
def count_command(
    model: str,
    texts: tuple[str, ...],
    file: str | None,
    text_file: str | None,
    extras: Extras,
    api: str,
    as_of: dt.date | None,
    explain: bool,
    human: bool,
    media_options: MediaOptions,
) -> None:
    """Count tokens like countTokens.

    TEXT arguments (or --text-file, or text piped to stdin) are one user turn, with the --attach files
    after them; --file takes a JSON request body (countTokens, or Contents); --system a system instruction.
    """
    from vertexmeter.counting import count

    given = read_input(texts, file, text_file, extras)
    with given.naming_files():
        result = count(model, given.request, api=api, media_options=media_options, config=given.config, as_of=as_of)
    if not human:
        print_json(result.to_rest(explain=explain))
        if result.model.confidence_note:  # on stderr: the JSON keeps Google's shape (cli/quick.py says it too)
            click.echo(result.model.confidence_note, err=True)
        return
    out = table(f"{result.model.id} ({api} countTokens)", "what", "value", numeric=("value",))
    for modality, tokens in result.tokens_by_modality.items():
        out.add_row(f"{modality} tokens", f"{tokens:,}")
    out.add_row("total tokens", f"{result.total_tokens:,}")
    if result.model.billed_by_characters:
        out.add_row("billable characters", f"{result.billable_characters:,}")
    out.add_row("context window", f"{result.model.input_token_limit:,}")
    out.add_row("fits", "yes" if result.fits_context_window else "NO")
    for rule in result.rules if explain else ():
        out.add_row(f"rule: {rule['rule']}", rule["confidence"])
    out.add_row("confidence", result.confidence + (" (not exact)" if result.inferred else ""))
    show(out)


@click.command("compute")
@model_option
@request_options
@output_option
@google_errors
def compute_command(model: str, texts: tuple[str, ...], file: str | None, text_file: str | None, human: bool) -> None:
    """List tokens like computeTokens (Vertex): the ids and bytes of every text's tokens."""
    from vertexmeter.counting import compute_tokens
    from vertexmeter.registry import resolve

    info = resolve(model)  # once: the count and the table's title share it
    result = compute_tokens(info, read_request(texts, file, text_file))
    if not human:
        print_json(result)
        return
    out = table(f"{info.id} computeTokens", "#", "role", "id", "token", numeric=("#", "id"), keep=("role",))
    for n, info in enumerate(result["tokensInfo"]):
        for token, token_id in zip(info["tokens"], info["tokenIds"], strict=True):
            shown = base64.b64decode(token).decode("utf-8", errors="backslashreplace")
            out.add_row(str(n), info.get("role", ""), token_id, repr(shown))
    show(out)
