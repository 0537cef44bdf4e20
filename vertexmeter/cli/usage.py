"""`vertexmeter usage`: the usageMetadata generateContent would report — what is billed."""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from vertexmeter.cli.common import (
    Extras,
    IsoDate,
    api_option,
    extra_options,
    google_errors,
    media_options,
    model_option,
    note,
    output_option,
    print_json,
    read_input,
    request_options,
    show,
    table,
)
from vertexmeter.cli.counting import EXPLAIN_HELP

if TYPE_CHECKING:
    from vertexmeter.media import MediaOptions


def response_from(value: str | None) -> Any:
    """--response: a file (JSON: a Content, a GenerateContentResponse or a list of streamed chunks;
    anything else: the candidate's text), `-` for stdin, or the candidate's text itself."""
    if value is None:
        return None
    if value != "-" and not os.path.isfile(value):
        return value
    from vertexmeter.errors import VertexMeterError
    from vertexmeter.requests import decode_json

    raw = sys.stdin.buffer.read() if value == "-" else open(value, "rb").read()  # noqa: SIM115
    try:
        parsed = decode_json(raw)
    except VertexMeterError:
        parsed = None
    if isinstance(parsed, dict | list) and raw.strip():
        return parsed
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise click.BadParameter(f"{value} is neither JSON nor UTF-8 text", param_hint="--response") from None


def history_from(path: str | None) -> Any:
    """--history: a file of the conversation's earlier generateContent responses, as a JSON array or as JSON
    lines (one response, or one list of a streamed response's chunks, per line); `-` for stdin."""
    if path is None:
        return None
    from vertexmeter.errors import VertexMeterError
    from vertexmeter.requests import decode_json

    try:
        raw = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()  # noqa: SIM115
    except OSError as error:
        raise click.BadParameter(f"{path}: {error.strerror}", param_hint="--history") from None
    try:
        whole = decode_json(raw)
        if isinstance(whole, list):
            return whole
        if isinstance(whole, dict):
            return [whole]
    except VertexMeterError:
        pass
    responses = []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            responses.append(decode_json(line))
        except VertexMeterError as error:
            raise click.BadParameter(f"{path} line {number}: {error.message}", param_hint="--history") from None
    return responses


@click.command("usage")
@model_option
@request_options
@extra_options
@click.option(
    "--response",
    default=None,
    help="The response to count as output: a JSON file (Content, GenerateContentResponse, streamed chunks), "
    "a text file, or the candidate's text.",
)
@api_option
@click.option("--as-of", "as_of", type=IsoDate(), default=None, help="Count with the rules in force on this date.")
@click.option("--cached-tokens", type=int, default=None, help="Size of the cachedContent the request names.")
@click.option(
    "--history",
    default=None,
    metavar="FILE",
    help="The conversation's earlier generateContent responses (JSON array or JSON lines): replayed thought "
    "signatures then bill their thoughts exactly.",
)
@click.option(
    "--streamed/--not-streamed",
    default=None,
    help="The conversation's answers came from streamGenerateContent (or not): a --response given joined then "
    "carries a stream's bounds, it decides which replayed 2.5 thought signatures bill, and without --history "
    "it picks the readings of the signatures' size (a streamed 3.x signature carries more bytes per thought). "
    "Not given: the signatures tell.",
)
@click.option("--explain", is_flag=True, help=EXPLAIN_HELP)
@click.option(
    "--interactions",
    is_flag=True,
    help="The request is a Gemini Interactions API body (POST /v1beta/interactions; TEXT is its input) and "
    "--response / --history are interactions' answers: prints the Interactions usage JSON.",
)
@output_option
@media_options
@google_errors
def usage_command(
    model: str,
    texts: tuple[str, ...],
    file: str | None,
    text_file: str | None,
    extras: Extras,
    response: str | None,
    api: str,
    as_of: dt.date | None,
    cached_tokens: int | None,
    history: str | None,
    streamed: bool | None,
    explain: bool,
    interactions: bool,
    human: bool,
    media_options: MediaOptions,
) -> None:
    """What generateContent bills for a request: the usageMetadata JSON (promptTokenCount, ...)."""
    from vertexmeter.counting import usage

    if interactions:
        unused = {
            "--attach": bool(extras.attach),
            "--system": extras.system is not None,
            "--cached-tokens": cached_tokens is not None,
            "--streamed/--not-streamed": streamed is not None,
            "--explain": explain,
            "--api vertex": api != "gemini" and _api_given(),
        }
        named = [flag for flag, given in unused.items() if given]
        if named:
            raise click.UsageError(f"--interactions does not take {', '.join(named)}: the Interactions body says it")
    reads_stdin = file == "-" or text_file == "-" or not (texts or file or text_file or extras.attach)
    stdin_users = [response == "-", history == "-", reads_stdin]
    if sum(stdin_users) > 1:
        raise click.UsageError("only one of the request, --response and --history can read stdin")
    given = read_input(texts, file, text_file, extras)
    if as_of is not None:
        _note_before_first_day(model, api, as_of)
    if interactions:
        _interactions(model, given.request, response_from(response), history_from(history), as_of, human, media_options)
        return
    with given.naming_files():
        result = usage(
            model,
            given.request,
            api=api,
            response=response_from(response),
            as_of=as_of,
            media_options=media_options,
            cached_content_tokens=cached_tokens,
            history=history_from(history),
            config=given.config,
            streamed=streamed,
        )
    if not human:
        print_json(result.to_rest(explain=explain))
        if result.model.confidence_note:  # on stderr: the JSON keeps Google's shape
            click.echo(result.model.confidence_note, err=True)
        return
    out = table(f"{result.model.id} ({api} generateContent usageMetadata)", "what", "tokens", numeric=("tokens",))
    for modality, tokens in result.prompt_tokens_by_modality.items():
        out.add_row(f"prompt {modality}", f"{tokens:,}")
    if result.cached_content_token_count:
        out.add_row("cached content", f"{result.cached_content_token_count:,}")
    if result.replayed_thoughts_token_count:
        out.add_row("replayed thoughts (in the prompt)", f"{result.replayed_thoughts_token_count:,}")
    out.add_row("prompt total (billed)", f"{result.prompt_token_count:,}")
    bounds = result.bounds or {}
    if "promptTokenCount" in bounds:
        low, high = bounds["promptTokenCount"]
        out.add_row("prompt total: bounds (not exact)", f"{low:,} - {high:,}")
    if result.has_response:
        out.add_row("candidates", f"{result.candidates_token_count:,}")
        if "candidatesTokenCount" in bounds:
            low, high = bounds["candidatesTokenCount"]
            out.add_row("candidates: bounds (not exact)", f"{low:,} - {high:,}")
        out.add_row("thoughts", f"{result.thoughts_token_count:,}")
        if "thoughtsTokenCount" in bounds:
            low, high = bounds["thoughtsTokenCount"]
            out.add_row("thoughts: bounds (not exact)", f"{low:,} - {high:,}")
    out.add_row("total", f"{result.total_token_count:,}")
    out.add_row("vocabulary", result.prompt.tokenizer)
    out.add_row("context window", f"{result.model.input_token_limit:,}")
    out.add_row("fits", "yes" if result.fits_context_window else "NO")
    for rule in result.rules if explain else ():
        out.add_row(f"rule: {rule['rule']}", rule["confidence"])
    out.add_row("confidence", result.confidence + (" (not exact)" if result.inferred else ""))
    show(out)


def _api_given() -> bool:
    """--api was written on the command line (not its default)."""
    source = click.get_current_context().get_parameter_source("api")
    return source is not None and source.name == "COMMANDLINE"


def _interactions(
    model: str,
    request: Any,
    response: Any,
    history: Any,
    as_of: dt.date | None,
    human: bool,
    media_options: MediaOptions,
) -> None:
    """--interactions: an Interactions API body (or TEXT as its input), answered in its usage shape."""
    from vertexmeter.counting import interactions_rest, interactions_result

    if isinstance(request, list) and all(isinstance(item, str) for item in request):
        request = [{"type": "text", "text": text} for text in request]  # TEXT arguments: one text item each
    if isinstance(request, str | list):
        request = {"model": model, "input": request}
    if not isinstance(request, dict):
        raise click.UsageError("--interactions reads a JSON object: an Interactions request body")
    named = request.get("model")
    if named is None:
        request = {**request, "model": model}
    elif named != model:
        raise click.UsageError(f"the body names model {named!r} and -m names {model!r}; give the same model")
    result = interactions_result(request, response=response, history=history, as_of=as_of, media_options=media_options)
    usage = interactions_rest(result)
    if not human:
        print_json(usage)
        if result.model.confidence_note:
            click.echo(result.model.confidence_note, err=True)
        return
    out = table(f"{result.model.id} (Interactions API usage)", "what", "tokens", numeric=("tokens",))
    for name in ("total_input_tokens", "total_output_tokens", "total_thought_tokens", "total_tokens"):
        out.add_row(name, f"{usage[name]:,}")
        if name in usage.get("bounds", {}):
            low, high = usage["bounds"][name]
            out.add_row(f"{name}: bounds (not exact)", f"{low:,} - {high:,}")
    out.add_row("confidence", result.confidence + (" (not exact)" if result.inferred else ""))
    show(out)


def _note_before_first_day(model: str, api: str, as_of: dt.date) -> None:
    """A date before the model existed is answered with the earliest rules; say so rather than nothing."""
    from vertexmeter.pricing import first_price_day

    first = first_price_day(model, api) or first_price_day(model)
    if first is not None and as_of < first:
        note(
            f"--as-of {as_of.isoformat()} is before {model} was first priced ({first.isoformat()}); "
            "it is counted with the earliest rules known."
        )
