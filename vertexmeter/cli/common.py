"""What every command shares: reading a request, printing JSON, turning errors into exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from vertexmeter.errors import VertexMeterError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INVALID_REQUEST = 1  # Google's error JSON on stderr
EXIT_USAGE = 2  # click's own code for bad usage


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


def read_body(path: str) -> Any:
    """A JSON request body from a file, or stdin for `-`. Malformed JSON is INVALID_ARGUMENT."""
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="--file") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise VertexMeterError("INVALID_ARGUMENT", f"Invalid JSON payload received. {exc}.") from exc
