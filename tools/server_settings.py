"""The settings table of docs/server.md, generated from the server's settings (vertexmeter/server/config.py:
`ServerConfig`'s fields, defaults and value types) and the flags of `vertexmeter serve` (their help text).

    python tools/server_settings.py            # print the table
    python tools/server_settings.py --write    # rewrite the generated block of docs/server.md

tests/test_docs_generated.py fails when the block in the docs is not what this prints.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from typing import Any

import click

from vertexmeter.cli.serve import serve_command
from vertexmeter.server import config

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "server.md"
BEGIN, END = "<!-- BEGIN generated: tools/server_settings.py -->", "<!-- END generated: tools/server_settings.py -->"
# A default computed when the server starts, as the docs say it.
COMPUTED_DEFAULTS = {"workers": "CPU count"}
_DEFAULT_IN_HELP = re.compile(r"\s*\[default: [^\]]*\]\s*$")


def _size(value: int) -> str:
    for unit, power in (("GiB", 3), ("MiB", 2), ("KiB", 1)):
        if value and value % 1024**power == 0:
            return f"{value // 1024**power}{unit}"
    return str(value)


def default_text(item: dataclasses.Field[Any]) -> str:
    """The field's default as a person would write it in a flag or the TOML file."""
    if item.default is dataclasses.MISSING:
        if item.name not in COMPUTED_DEFAULTS:
            raise SystemExit(f"{item.name}: a computed default; say it in COMPUTED_DEFAULTS")
        return COMPUTED_DEFAULTS[item.name]
    value = item.default
    if value is None or value == ():
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if config._CONVERTERS[item.name] is config.parse_size:
        return _size(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _option(name: str) -> click.Option:
    for param in serve_command.params:
        if isinstance(param, click.Option) and param.name == name:
            return param
    raise SystemExit(f"{name}: a setting of ServerConfig with no flag of `vertexmeter serve`")


def rows() -> list[tuple[str, str, str, str]]:
    out = []
    for item in dataclasses.fields(config.ServerConfig):
        option = _option(item.name)
        flag = "/".join(f"`{opt}`" for opt in (*option.opts, *option.secondary_opts))
        if option.multiple:
            flag += " (repeatable)"
        env = f"`{config.env_name(item.name)}`"
        if config._CONVERTERS[item.name] is config._keys:
            env += " (comma-separated)"
        what = _DEFAULT_IN_HELP.sub("", option.help or "").strip()
        if isinstance(option.type, click.Choice):
            what = (what + " " if what else "") + "One of: " + ", ".join(map(str, option.type.choices)) + "."
        out.append((flag, env, default_text(item), what.replace("|", "\\|")))
    return out


def help_defaults() -> dict[str, tuple[str, str]]:
    """setting -> (the default its flag's help states, the default config.py has), where the help states one."""
    out = {}
    for item in dataclasses.fields(config.ServerConfig):
        stated = re.search(r"\[default: ([^\]]*)\]", _option(item.name).help or "")
        if stated:
            out[item.name] = (stated.group(1), default_text(item))
    return out


def table() -> str:
    lines = ["| flag | env | default | |", "|---|---|---|---|"]
    lines += [f"| {flag} | {env} | {default} | {what} |" for flag, env, default, what in rows()]
    return "\n".join(lines)


def block() -> str:
    return f"{BEGIN}\n{table()}\n{END}"


def current_block(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def main() -> None:
    if "--write" in sys.argv:
        text = DOC.read_text("utf-8")
        DOC.write_text(text.replace(current_block(text), block()), "utf-8")
    else:
        print(table())


if __name__ == "__main__":
    main()
