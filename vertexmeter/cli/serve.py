"""`vertexmeter serve`: the Vertex AI / Gemini API token server (needs the `server` extra)."""

from __future__ import annotations

from typing import Any

import click

from vertexmeter.cli.common import EXIT_USAGE


@click.command("serve")
@click.option("--host", default=None, help="Address to bind.  [default: 127.0.0.1]")
@click.option("--port", type=int, default=None, help="Port to bind (0 picks a free one).  [default: 8080]")
@click.option("--workers", type=int, default=None, help="Counting workers beside the event loop.  [default: CPU count]")
@click.option(
    "--executor",
    type=click.Choice(["thread", "process"]),
    default=None,
    help="Run counting in threads or in worker processes (docs/server.md has the measurement).  [default: thread]",
)
@click.option(
    "--api-key", "api_keys", multiple=True, help="Accept this key (repeatable). With keys, every call needs one."
)
@click.option("--api-keys-file", default=None, help="A file of keys, one per line (# comments).")
@click.option("--insecure", is_flag=True, default=None, help="Allow a non-loopback address without keys.")
@click.option(
    "--quota-rpm",
    type=int,
    default=None,
    help="Emulate Google's quota: requests per minute per project and per key (3000 is Vertex's); 0 = off.  "
    "[default: 0]",
)
@click.option("--max-body-bytes", default=None, help="Largest request body (e.g. 72MiB).  [default: 72MiB]")
@click.option("--media-root", default=None, help="Local mirror of fileData URIs (gs://bucket/a -> ROOT/bucket/a).")
@click.option(
    "--allow-gcs/--no-allow-gcs", default=None, help="Let callers' gs:// fileData URIs be read (server credentials)."
)
@click.option(
    "--allow-https/--no-allow-https",
    default=None,
    help="Let callers' https:// fileData URIs be fetched (public hosts only).",
)
@click.option(
    "--https-host",
    "https_hosts",
    multiple=True,
    help="With --allow-https: fetch only from this host (repeatable; .example.com takes subdomains).",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    help="A Host name this server answers to (repeatable; .example.com takes subdomains). Default: on a "
    "loopback address, loopback names only (DNS rebinding); elsewhere, any.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default=None,
    help="  [default: info]",
)
@click.option("--access-log/--no-access-log", default=None, help="One JSON line per request.  [default: on]")
@click.option("--shutdown-timeout", type=int, default=None, help="Seconds to finish in-flight requests.  [default: 10]")
@click.option(
    "--max-text-chars",
    type=int,
    default=None,
    help="Characters of text one request may hold (0 = no budget).  [default: 16777216]",
)
@click.option(
    "--request-deadline",
    type=float,
    default=None,
    help="Seconds from arrival to answer; later is DEADLINE_EXCEEDED.  [default: 60]",
)
@click.option(
    "--large-request-bytes",
    default=None,
    help="Bodies above this size (or naming fileData) run in the large lane.  [default: 256KiB]",
)
@click.option("--large-workers", type=int, default=None, help="Worker processes of the large lane.  [default: 1]")
@click.option(
    "--large-queue",
    type=int,
    default=None,
    help="Large requests that may wait for a worker; more get 503.  [default: 4]",
)
@click.option(
    "--max-request-memory",
    default=None,
    help="Resident memory a large-lane worker may reach (0 = no cap).  [default: 4GiB]",
)
@click.option("--max-concurrency", type=int, default=None, help="RPCs in flight; more get 503.  [default: 256]")
@click.option("--header-timeout", type=float, default=None, help="Seconds to receive the headers.  [default: 10]")
@click.option("--body-timeout", type=float, default=None, help="Seconds to receive the body.  [default: 60]")
@click.option(
    "--body-idle-timeout", type=float, default=None, help="Seconds a body may stall without a byte.  [default: 10]"
)
@click.option(
    "--http",
    type=click.Choice(["auto", "httptools", "h11"]),
    default=None,
    help="HTTP/1.1 parser: httptools (C) when installed, else h11 (pure Python).  [default: auto]",
)
@click.option("--config", "config_file", default=None, help="TOML file with a [server] table of these settings.")
def serve_command(config_file: str | None, **flags: Any) -> None:
    """Serve countTokens / computeTokens on Google's paths, for the official SDKs.

    Every flag also reads from VERTEXMETER_<FLAG> (e.g. VERTEXMETER_QUOTA_RPM, VERTEXMETER_API_KEYS
    comma-separated) and from the config file; flags win over the environment, which wins over the file.
    """
    try:
        from vertexmeter.server import ConfigError, load_config, serve
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise click.ClickException(
            f"the server needs the 'server' extra: pip install 'vertexmeter[server]' ({exc})"
        ) from None
    try:
        config = load_config(flags, config_file=config_file)
        serve(config)
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(EXIT_USAGE) from None
