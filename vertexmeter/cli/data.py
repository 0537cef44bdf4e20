"""`vertexmeter data status | update FILE|URL | remove | export FILE`: the data set (models, counting rules,
prices) in force, and newer ones installed without a release."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from vertexmeter.cli.common import IsoDate, google_errors, output_option, print_json, show, table
from vertexmeter.datafiles import (
    dataset_in_force,
    export_bundle,
    install_bundle,
    load_yaml_text,
    read_bundle,
    remove_installed,
)
from vertexmeter.errors import invalid_argument

DOWNLOAD_LIMIT = 64 * 1024 * 1024  # a data set is a few MB; more is not one


@click.group("data", invoke_without_command=True)
@output_option
@click.pass_context
def data_group(ctx: click.Context, human: bool) -> None:
    """The data set in force: its version, date, age and where it was loaded from (same as `data status`)."""
    if ctx.invoked_subcommand is None:
        _show(dataset_in_force(), human)


@data_group.command("status")
@output_option
def status_command(human: bool) -> None:
    """The data set in force: version, date, age and where it was loaded from."""
    _show(dataset_in_force(), human)


@data_group.command("update")
@click.argument("source")
@click.option("--sha256", "expected", default=None, help="The bundle's expected SHA-256 (as published beside it).")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds to wait for a URL.")
@output_option
@google_errors
def update_command(source: str, expected: str | None, timeout: float, human: bool) -> None:
    """Install a newer data set from FILE or an http(s) URL: hash-verified, validated, refused if not newer."""
    raw = _fetch(source, timeout)
    bundle = read_bundle(raw, expected)
    validate(bundle)
    _show(install_bundle(bundle, source), human)


@data_group.command("remove")
@output_option
def remove_command(human: bool) -> None:
    """Remove the installed data set: the packaged one is used again."""
    removed = remove_installed()
    status = dataset_in_force()
    status["removed"] = removed
    _show(status, human)


@data_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--version", "version", required=True, help="The version to label the bundle with.")
@click.option("--date", "date", type=IsoDate(), required=True, help="The date to label the bundle with.")
@click.option("--description", default="", help="What changed.")
def export_command(path: str, version: str, date: dt.date, description: str) -> None:
    """Write the data set in force as a bundle (edit its files, then publish it for `data update`)."""
    with open(path, "wb") as handle:
        handle.write(export_bundle(version, date, description))
    click.echo(path)


def _fetch(source: str, timeout: float) -> bytes:
    if source.startswith(("http://", "https://")):
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(source, timeout=timeout) as response:  # noqa: S310 - http(s) only
                raw: bytes = response.read(DOWNLOAD_LIMIT + 1)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise invalid_argument(f"Could not download the data set from {source}: {exc}.", "source") from None
        if len(raw) > DOWNLOAD_LIMIT:
            raise invalid_argument(f"{source} is larger than {DOWNLOAD_LIMIT} bytes: not a data set.", "source")
        return raw
    try:
        with open(source, "rb") as handle:
            return handle.read(DOWNLOAD_LIMIT + 1)
    except OSError as exc:
        raise invalid_argument(f"Could not read the data set {source}: {exc.strerror or exc}.", "source") from None


def validate(bundle: dict[str, Any]) -> None:
    """The bundle's files load as the package's would: the registry builds, the catalogue validates, and every
    model the catalogue prices as a registry model is in the new registry."""
    from vertexmeter.pricing import load_catalogue_text
    from vertexmeter.registry import build_registry

    files = bundle["files"]
    try:
        models = load_yaml_text(files["registry/models.yaml"]["text"])
        rules = load_yaml_text(files["registry/accounting.yaml"]["text"])
        registry = build_registry(models, rules)
    except Exception as exc:  # noqa: BLE001 - any failure of the new files is a reason to refuse them
        raise invalid_argument(
            f"Not a usable vertexmeter data set: its models or counting rules do not load: {type(exc).__name__}: {exc}",
            "data_set",
        ) from None
    try:
        catalogue = load_catalogue_text(files["pricing/catalogue.yaml"]["text"])
    except Exception as exc:  # noqa: BLE001 - as above
        raise invalid_argument(
            f"Not a usable vertexmeter data set: its price catalogue does not load: {exc}", "data_set"
        ) from None
    missing = sorted(
        name
        for model in catalogue.models.values()
        for name in ([model.id] if model.registry else [model.counted_with] if model.counted_with else [])
        if name not in registry.by_name
    )
    if missing:
        raise invalid_argument(
            f"Not a usable vertexmeter data set: the catalogue prices registry models the "
            f"registry does not list: {', '.join(missing)}.",
            "data_set",
        )


def _show(status: dict[str, Any], human: bool) -> None:
    if not human:
        print_json(status)
        return
    out = table("vertexmeter data set", "what", "value", keep=("what",))
    for key, value in status.items():
        out.add_row(key.replace("_", " "), ", ".join(value) if isinstance(value, list) else str(value))
    show(out)
