"""What every command shares: its flags, reading what to count, printing JSON or a table, exit codes.

Conventions (docs/cli.md): JSON on stdout by default, a table with `--human` (`--json` is the
explicit default); exit 0 on success, 1 for a request Google would refuse (its error JSON on stderr),
2 for bad usage (click's code: unknown flags, bad dates, unreadable files). Heavy modules (rich, the
engine) are imported inside functions so that `vertexmeter count` starts fast.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from vertexmeter.errors import VertexMeterError
from vertexmeter.vocabulary import APIS, VERTEX

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from vertexmeter.media import MediaOptions

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INVALID_REQUEST = 1  # Google's error JSON on stderr
EXIT_USAGE = 2  # click's own code for bad usage
PIPED_WIDTH = 120  # tables written to a pipe or file (README samples) get a roomy fixed width


# ---- output ------------------------------------------------------------------------------------------
def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def fail_with(error: VertexMeterError) -> None:
    click.echo(json.dumps(error.to_json(), ensure_ascii=False, indent=2), err=True)
    sys.exit(EXIT_INVALID_REQUEST)


def google_errors(func: F) -> F:
    """Run a command; a VertexMeterError becomes Google's error JSON on stderr and exit 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except VertexMeterError as error:
            fail_with(error)

    return wrapper  # type: ignore[return-value]


output_option = click.option(
    "--human/--json", "human", default=False, help="A table that fits the terminal, or JSON (the default)."
)


def console() -> Console:
    """A rich console as wide as the terminal; to a pipe, $COLUMNS or PIPED_WIDTH columns."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console()
    columns = os.environ.get("COLUMNS", "")
    return Console(width=int(columns) if columns.isdigit() and int(columns) > 0 else PIPED_WIDTH)


def table(title: str, *columns: str, numeric: tuple[str, ...] = (), keep: tuple[str, ...] = ()) -> Table:
    """A table for `show`: numeric and `keep` columns (ids, dates, numbers) are never broken; the others
    wrap to fit the width."""
    from rich import box
    from rich.table import Table

    # No vertical rules: nine columns keep ~18 more characters for their text at 80 columns.
    out = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for name in columns:
        out.add_column(
            name,
            justify="right" if name in numeric else "left",
            no_wrap=name in numeric or name in keep,
            overflow="fold",
        )
    return out


def show(out: Table, *, optional: tuple[str, ...] = ()) -> None:
    """Print a table that fits the console: unbreakable columns keep their widest cell, words are not cut
    while they fit, and `optional` columns (last first) are left out when the rest would not fit."""
    from rich.measure import Measurement

    screen = console()
    for column in out.columns:
        if column.no_wrap:
            column.min_width = max((len(str(cell)) for cell in column.cells), default=0) or None
    droppable = [column for column in out.columns if column.header in optional]
    unbounded = screen.options.update_width(10**6)  # Measurement.get clamps to the width; we need the real minimum
    while droppable and Measurement.get(screen, unbounded, out).minimum > screen.width:
        out.columns.remove(droppable.pop())
    screen.print(out)


# ---- options -----------------------------------------------------------------------------------------
model_option = click.option(
    "-m", "--model", required=True, help="Model name, e.g. gemini-2.5-flash or text-bison@002."
)
api_option = click.option(
    "--api", type=click.Choice(APIS), default=VERTEX, show_default=True,
    help="Which API's countTokens to reproduce: Vertex AI or the Gemini Developer API (answers differ).",
)


class IsoDate(click.ParamType):
    """An ISO date (2025-06-30); anything else is bad usage (exit 2)."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO date like 2025-06-30", param, ctx)


def date_option(help_text: str) -> Callable[[F], F]:
    return click.option("--date", "date", type=IsoDate(), default=None, help=help_text)


def request_options(func: F) -> F:
    """TEXT arguments, --text-file and --file: what to count (read by `read_request`)."""
    func = click.argument("texts", nargs=-1)(func)
    func = click.option(
        "-t", "--text-file", type=click.Path(exists=True, dir_okay=False, allow_dash=True), default=None,
        help="Count this file's text as one user turn (any size; - reads stdin).",
    )(func)
    return click.option(
        "-f", "--file", "file", type=click.Path(exists=True, dir_okay=False, allow_dash=True), default=None,
        help="A request body (JSON: countTokens, generateContent or Contents); - reads stdin.",
    )(func)


def read_request(texts: tuple[str, ...], file: str | None, text_file: str | None) -> Any:
    """What to count: the decoded JSON of --file, the text of --text-file, the TEXT arguments, or text on stdin.

    Text given with no source flag is read from stdin when stdin is not a terminal.
    """
    given = [name for name, value in (("TEXT", texts), ("--file", file), ("--text-file", text_file)) if value]
    if len(given) > 1:
        raise click.UsageError(f"give one of TEXT arguments, --file or --text-file, not {' and '.join(given)}")
    if file:
        return _json_file(file)
    if text_file:
        return _text(_read(text_file, "--text-file"), text_file, "--text-file")
    if texts:
        return list(texts)
    if not sys.stdin.isatty():
        text = _text(_read("-", "stdin"), "-", "stdin")
        if text:
            return text
    raise click.UsageError("nothing to count: give TEXT, --text-file PATH, --file BODY.json, or pipe text to stdin")


def _read(path: str, flag: str) -> bytes:
    try:
        if path == "-":
            return sys.stdin.buffer.read()
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint=flag) from None


def _text(raw: bytes, path: str, flag: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise click.BadParameter(
            f"{path} is not UTF-8 text (invalid byte at offset {exc.start})", param_hint=flag
        ) from None


def _json_file(path: str) -> Any:
    from vertexmeter.requests.decode import decode_json, require_object

    raw = _read(path, "--file")
    start = raw.lstrip()[:1]
    if start and start not in (b"{", b"["):
        where = "stdin" if path == "-" else path
        flag = "--text-file -" if path == "-" else f"--text-file {path}"
        raise click.BadParameter(
            f"{where} is not a JSON request body; to count it as plain text use {flag}", param_hint="--file"
        )
    body = decode_json(raw)
    return body if isinstance(body, list) else require_object(body)


def media_options(func: F) -> F:
    """--media-root / --allow-gcs / --allow-https / --https-host, passed on as one `media_options` argument."""

    @wraps(func)
    def wrapper(
        *args: Any, media_root: str | None, allow_gcs: bool, allow_https: bool, https_hosts: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        return func(*args, media_options=_media(media_root, allow_gcs, allow_https, https_hosts), **kwargs)

    for decorate in reversed(_MEDIA_FLAGS):
        wrapper = decorate(wrapper)
    return wrapper  # type: ignore[return-value]


def _media(media_root: str | None, allow_gcs: bool, allow_https: bool, https_hosts: tuple[str, ...]) -> MediaOptions:
    from vertexmeter.media import MediaOptions

    return MediaOptions(media_root=media_root, allow_gcs=allow_gcs, allow_https=allow_https, https_hosts=https_hosts)


_MEDIA_FLAGS = (
    click.option(
        "--media-root", envvar="VERTEXMETER_MEDIA_ROOT", type=click.Path(file_okay=False), default=None,
        help="Local mirror for fileData URIs: gs://bucket/a -> DIR/bucket/a, https://host/a -> DIR/host/a, "
        "file:// inside DIR. [env: VERTEXMETER_MEDIA_ROOT]",
    ),
    click.option("--allow-gcs", is_flag=True, help="Read gs:// URIs with your Google Cloud credentials (extra: gcs)."),
    click.option("--allow-https", is_flag=True, help="Fetch https:// fileData URLs (public addresses, no redirects)."),
    click.option("--https-host", "https_hosts", multiple=True, help="Allow-list for --allow-https (repeatable)."),
)


# ---- the command group -------------------------------------------------------------------------------
class CommandGroup(click.Group):
    """Commands listed in the order they were registered (the order a user needs them), each imported
    only when it runs (or when --help lists it), so that one command never pays for the others."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy: dict[str, str] = {}

    def lazy(self, name: str, target: str) -> None:
        """Register `name` as the click command at `target` ("package.module:attribute")."""
        self._lazy[name] = target

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self._lazy, *(name for name in self.commands if name not in self._lazy)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self._lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        if cmd_name not in self.commands:
            from importlib import import_module

            module, _, attribute = target.partition(":")
            command = getattr(import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{target} is not a click command")
            self.commands[cmd_name] = command
        return self.commands[cmd_name]
