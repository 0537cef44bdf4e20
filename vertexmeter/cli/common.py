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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


def fail_with(error: VertexMeterError, human: bool = False) -> None:
    click.echo(human_error(error) if human else json.dumps(error.to_json(), ensure_ascii=False, indent=2), err=True)
    sys.exit(EXIT_INVALID_REQUEST)


def human_error(error: VertexMeterError) -> str:
    """An error for a person: the message, the fields it is about, and Google's status at the end."""
    lines = [f"error: {error.message.strip()}"]
    fields = list(dict.fromkeys(v.field for v in error.violations if v.field))
    if fields:
        lines.append(f"  at: {', '.join(fields)}")
    lines.append(f"  ({error.status}, HTTP {error.code}; --json prints Google's error JSON)")
    return "\n".join(lines)


def google_errors(func: F) -> F:
    """Run a command; a VertexMeterError becomes Google's error JSON on stderr (with --human, lines for a
    person) and exit 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except VertexMeterError as error:
            fail_with(error, bool(kwargs.get("human")))

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
    # At least as wide as its title, which rich would otherwise wrap to a narrow table's width.
    out = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, min_width=len(title))
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
model_option = click.option("-m", "--model", required=True, help="Model name, e.g. gemini-2.5-flash or text-bison@002.")
api_option = click.option(
    "--api",
    type=click.Choice(APIS),
    default=VERTEX,
    show_default=True,
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
        "-t",
        "--text-file",
        type=click.Path(exists=True, dir_okay=False, allow_dash=True),
        default=None,
        help="Count this file's text as one user turn (any size; - reads stdin).",
    )(func)
    return click.option(
        "-f",
        "--file",
        "file",
        type=click.Path(exists=True, dir_okay=False, allow_dash=True),
        default=None,
        help="A request body (JSON: countTokens, generateContent or Contents); - reads stdin.",
    )(func)


def read_request(texts: tuple[str, ...], file: str | None, text_file: str | None, *, parts: bool = False) -> Any:
    """What to count: the decoded JSON of --file, the text of --text-file, the TEXT arguments, or text on stdin.

    Text given with no source flag is read from stdin when stdin is not a terminal; a JSON request body
    there is read as one (said on stderr). `parts`: other parts (--attach) follow, so no text is needed.
    """
    given = [name for name, value in (("TEXT", texts), ("--file", file), ("--text-file", text_file)) if value]
    if len(given) > 1:
        raise click.UsageError(f"give one of TEXT arguments, --file or --text-file, not {' and '.join(given)}")
    if file:
        return _json_file(file)
    if text_file:
        return _text(_read(text_file, "--text-file"), text_file, "--text-file")
    if texts:
        _hint_file_names(texts)
        return list(texts)
    if parts:
        return []
    if not sys.stdin.isatty():
        text = _text(_read("-", "stdin"), "-", "stdin")
        body = _json_body(text)
        if body is not None:
            return body
        if text:
            return text
    raise click.UsageError(
        "nothing to count: give TEXT, --text-file PATH, --file BODY.json, --attach FILE, or pipe text to stdin"
    )


def note(text: str) -> None:
    """A word for the person at the terminal, on stderr (stdout stays the answer)."""
    click.echo(f"note: {text}", err=True)


def _hint_file_names(texts: tuple[str, ...]) -> None:
    for text in texts:
        if os.path.isfile(text):
            note(
                f"{text!r} is counted as the text {text!r}; to count the file use --text-file {text} (its text), "
                f"--attach {text} (a part: image, PDF, audio, video, text) or --file {text} (a JSON request body)."
            )


def _json_body(text: str) -> Any:
    """A JSON request body piped as text (what `--file -` reads), or None: text to count as it is."""
    if not text.lstrip().startswith("{"):
        return None
    from vertexmeter.errors import VertexMeterError
    from vertexmeter.requests import BODY_KEYS, decode_json

    try:
        body = decode_json(text.encode("utf-8"))
    except VertexMeterError:
        return None
    if not isinstance(body, dict) or not (set(body) & (BODY_KEYS | {"messages"})):
        return None
    note("stdin holds a JSON request body and is read as one; to count it as text, pipe it to --text-file -.")
    return body


@dataclass(frozen=True)
class Extras:
    """--attach FILE… and --system TEXT|@FILE of a command: parts and a system instruction to add."""

    attach: tuple[str, ...] = ()
    system: str | None = None


@dataclass
class Request:
    """What a command counts: the request, the config (--system) and which part paths are which files."""

    request: Any
    config: dict[str, Any] | None = None
    files: dict[str, str] = field(default_factory=dict)

    @contextmanager
    def naming_files(self) -> Iterator[None]:
        """A refusal of an attached part names the file as well as the field path."""
        try:
            yield
        except VertexMeterError as error:
            where = error.field_path or ""
            for path, name in self.files.items():
                if where == path or where.startswith(path + "."):
                    raise VertexMeterError(
                        error.status, f"{error.message} ({path} is --attach {name})", error.violations
                    ) from None
            raise


def extra_options(func: F) -> F:
    """--attach and --system, passed on as one `extras` argument (read by `read_input`)."""

    @wraps(func)
    def wrapper(*args: Any, attach: tuple[str, ...], system: str | None, **kwargs: Any) -> Any:
        return func(*args, extras=Extras(attach, system), **kwargs)

    wrapper = click.option(
        "--system",
        "system",
        default=None,
        metavar="TEXT|@FILE",
        help="A system instruction: the text, or @FILE for a file's text.",
    )(wrapper)
    wrapper = click.option(
        "-a",
        "--attach",
        "attach",
        multiple=True,
        metavar="FILE",
        type=click.Path(exists=True, dir_okay=False),
        help="Add a file as a part (repeatable): image, PDF, audio, video or text; its type is read from its bytes.",
    )(wrapper)
    return wrapper  # type: ignore[return-value]


def read_input(texts: tuple[str, ...], file: str | None, text_file: str | None, extras: Extras) -> Request:
    """`read_request` plus the --attach parts (after the text, in the last user turn) and --system."""
    request = read_request(texts, file, text_file, parts=bool(extras.attach))
    config = None
    if extras.system is not None:
        system = extras.system
        if system.startswith("@"):
            system = _text(_read(system[1:], "--system"), system[1:], "--system")
        config = {"system_instruction": system}
    if not extras.attach:
        return Request(request, config)
    parts = [_attachment(name) for name in extras.attach]
    if isinstance(request, str):
        request = [request]
    if isinstance(request, list) and all(isinstance(item, str) for item in request):
        first = len(request)
        files = {f"contents[0].parts[{first + k}]": name for k, name in enumerate(extras.attach)}
        return Request([{"text": text} for text in request] + parts, config, files)
    contents = request if isinstance(request, list) else request.get("contents") if isinstance(request, dict) else None
    if not isinstance(contents, list) or "instances" in request:
        raise click.UsageError("--attach adds parts to a request's contents; this --file body has no `contents` list")
    contents = list(contents)
    last = contents[-1] if contents else None
    if isinstance(last, dict) and last.get("role", "user") == "user" and isinstance(last.get("parts"), list):
        at, first = len(contents) - 1, len(last["parts"])
        contents[at] = {**last, "parts": [*last["parts"], *parts]}
    else:
        at, first = len(contents), 0
        contents.append({"role": "user", "parts": parts})
    files = {f"contents[{at}].parts[{first + k}]": name for k, name in enumerate(extras.attach)}
    return Request(contents if isinstance(request, list) else {**request, "contents": contents}, config, files)


def _attachment(name: str) -> dict[str, Any]:
    import base64

    from vertexmeter.media import file_mime

    data = _read(name, "--attach")
    mime = file_mime(name, data[:512])
    if mime is None:
        raise click.BadParameter(
            f"{name}: not an image, PDF, audio, video or text file that Gemini takes (its bytes name no such type)",
            param_hint="--attach",
        )
    return {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode("ascii")}}


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
    from vertexmeter.requests import decode_json, require_object

    raw = _read(path, "--file")
    start = raw.lstrip()[:1]
    if start and start not in (b"{", b"["):
        where = "stdin" if path == "-" else path
        flag = "--text-file -" if path == "-" else f"--text-file {path}"
        raise click.BadParameter(
            f"{where} is not a JSON request body; to count it as plain text use {flag}", param_hint="--file"
        )
    try:
        body = decode_json(raw)
        return body if isinstance(body, list) else require_object(body)
    except VertexMeterError as error:  # the message names the file the JSON came from
        where = "stdin" if path == "-" else path
        raise VertexMeterError(error.status, f"{where}: {error.message}", error.violations) from None


def media_options(func: F) -> F:
    """--media-root / --allow-gcs / --allow-https / --https-host, passed on as one `media_options` argument."""

    @wraps(func)
    def wrapper(
        *args: Any,
        media_root: str | None,
        allow_gcs: bool,
        allow_https: bool,
        https_hosts: tuple[str, ...],
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
        "--media-root",
        envvar="VERTEXMETER_MEDIA_ROOT",
        type=click.Path(file_okay=False),
        default=None,
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
