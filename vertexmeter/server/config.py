"""The server's settings: one table of fields, read from flags, `VERTEXMETER_*` variables and a TOML file.

Precedence, highest first: command-line flag, environment variable, config file (`[server]` table),
built-in default. Every field has all three spellings: `--max-body-bytes`, `VERTEXMETER_MAX_BODY_BYTES`,
`max_body_bytes = …`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from vertexmeter.media import MediaOptions

ENV_PREFIX = "VERTEXMETER_"
# Vertex's largest documented single inline item is a 50 MB document (PDF: 1,000 pages / 50 MB per
# file); base64 in JSON makes that 66.7 MB, plus the rest of the request. 72 MiB takes it whole.
# Bigger inputs (Vertex's 500 MB per request) only arrive as fileData URIs, which are not in the body.
DEFAULT_MAX_BODY_BYTES = 72 * 1024 * 1024
# Off by default: a local server is run to escape Google's quota. `--quota-rpm 3000` emulates Vertex's
# "CountTokens and ComputeTokens: 3000 requests per minute".
DEFAULT_QUOTA_RPM = 0
# The largest context window of any model is 2,097,152 tokens (gemini-1.5-pro); at Google's ~4
# characters per token that is 8 Mi characters. Twice that is counted; more is refused (docs/server.md).
DEFAULT_MAX_TEXT_CHARS = 16 * 1024 * 1024
DEFAULT_LARGE_REQUEST_BYTES = 256 * 1024
EXECUTORS = ("thread", "process")
HTTP_STACKS = ("auto", "httptools", "h11")  # guard.protocol_class: what each name serves


class ConfigError(ValueError):
    """A setting that cannot be used (bad value, unsafe bind); the CLI turns it into a usage error."""


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)  # counting threads or processes
    executor: str = "thread"  # measured best on 2 cores: docs/server.md
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    api_keys_file: str | None = None
    insecure: bool = False
    quota_rpm: int = DEFAULT_QUOTA_RPM
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    media_root: str | None = None
    allow_gcs: bool = False
    allow_https: bool = False
    https_hosts: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()  # Host header names served (empty: loopback names on a loopback bind)
    log_level: str = "info"
    access_log: bool = True
    shutdown_timeout: int = 10
    # Admission and scheduling (docs/server.md, "Fair, bounded work").
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS  # characters of text per request; 0 = no budget
    request_deadline: float = 60.0  # seconds from arrival to answer (DEADLINE_EXCEEDED past it)
    large_request_bytes: int = DEFAULT_LARGE_REQUEST_BYTES  # bodies above this go to the large lane
    large_workers: int = 1  # worker processes of the large lane
    large_queue: int = 4  # large requests waiting for a worker; more are refused with 503
    max_request_memory: int = 4 * 1024**3  # resident bytes a large-lane worker may grow to; 0 = no cap
    max_concurrency: int = 256  # RPCs in flight; more are refused with 503 UNAVAILABLE
    header_timeout: float = 10.0  # seconds for a client to send its request line and headers
    body_timeout: float = 60.0  # seconds for the whole body
    body_idle_timeout: float = 10.0  # seconds without a body byte
    http: str = "auto"  # the HTTP/1.1 parser: httptools (C) when installed, else h11; or name one

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys)

    def media_options(self) -> MediaOptions:
        return MediaOptions(
            media_root=self.media_root,
            allow_gcs=self.allow_gcs,
            allow_https=self.allow_https,
            https_hosts=self.https_hosts,
        )

    def with_keys_file(self) -> ServerConfig:
        """The config with the keys of `api_keys_file` added to `api_keys`."""
        if not self.api_keys_file:
            return self
        return replace(self, api_keys=_dedupe((*self.api_keys, *read_keys_file(self.api_keys_file))))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"expected a boolean (true/false), got {value!r}")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"expected an integer, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"expected an integer, got {value!r}") from None


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"expected a number of seconds, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"expected a number of seconds, got {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ConfigError(f"expected a finite number of seconds, got {value!r}")
    return number


_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(value: Any) -> int:
    """Bytes from `75497472`, `72MiB`, `72M`, `20MB` (binary units: K/M/G = 1024^n)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ConfigError(f"expected a size like 72MiB or 75497472, got {value!r}")
    unit = (match.group(2) or "").lower()[:1]
    return int(match.group(1)) * _UNITS[unit]


def _keys(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return _dedupe(str(item) for item in items)


def _dedupe(items: Any) -> tuple[str, ...]:
    out: list[str] = []
    for item in items:
        key = str(item).strip()
        if key and key not in out:
            out.append(key)
    return tuple(out)


def _str(value: Any) -> str:
    return str(value)


def _optional_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "host": _str,
    "port": _int,
    "workers": _int,
    "executor": _str,
    "api_keys": _keys,
    "api_keys_file": _optional_str,
    "insecure": _bool,
    "quota_rpm": _int,
    "max_body_bytes": parse_size,
    "media_root": _optional_str,
    "allow_gcs": _bool,
    "allow_https": _bool,
    "https_hosts": _keys,
    "allowed_hosts": _keys,
    "log_level": _str,
    "access_log": _bool,
    "shutdown_timeout": _int,
    "max_text_chars": _int,
    "request_deadline": _float,
    "large_request_bytes": parse_size,
    "large_workers": _int,
    "large_queue": _int,
    "max_request_memory": parse_size,
    "max_concurrency": _int,
    "header_timeout": _float,
    "body_timeout": _float,
    "body_idle_timeout": _float,
    "http": _str,
}
FIELD_NAMES = tuple(f.name for f in fields(ServerConfig))
assert set(_CONVERTERS) == set(FIELD_NAMES)


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def read_keys_file(path: str) -> tuple[str, ...]:
    """One key per line; blank lines and `#` comments are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the API keys file {path}: {exc.strerror}") from None
    return _dedupe(line.split("#", 1)[0] for line in text.splitlines())


def read_config_file(path: str) -> dict[str, Any]:
    """The `[server]` table of a TOML file (a file without tables is read as the table itself)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    table = data.get("server", data)
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [server] must be a table")
    unknown = sorted(set(table) - set(FIELD_NAMES))
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting(s) {', '.join(unknown)}")
    return dict(table)


def load_config(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | None = None,
) -> ServerConfig:
    """Merge the sources (flags > env > file > defaults); `None` / empty flags count as not given."""
    env = os.environ if env is None else env
    config_file = config_file or env.get(env_name("config")) or None
    layers: list[Mapping[str, Any]] = []
    if config_file:
        layers.append(read_config_file(config_file))
    layers.append({name: env[env_name(name)] for name in FIELD_NAMES if env_name(name) in env})
    layers.append({k: v for k, v in (flags or {}).items() if v is not None and v != ()})
    values: dict[str, Any] = {}
    for layer in layers:
        for name, raw in layer.items():
            if name not in _CONVERTERS:
                raise ConfigError(f"unknown setting {name!r}")
            try:
                values[name] = _CONVERTERS[name](raw)
            except ConfigError as exc:
                raise ConfigError(f"{name}: {exc}") from None
    config = ServerConfig(**values).with_keys_file()
    validate(config)
    return config


def validate(config: ServerConfig) -> None:
    if config.http not in HTTP_STACKS:
        raise ConfigError(f"http must be one of {', '.join(HTTP_STACKS)}, got {config.http!r}")
    if config.executor not in EXECUTORS:
        raise ConfigError(f"executor must be one of {', '.join(EXECUTORS)}, got {config.executor!r}")
    if config.workers < 1:
        raise ConfigError("workers must be at least 1")
    if config.quota_rpm < 0:
        raise ConfigError("quota_rpm must be 0 (off) or more")
    if config.max_body_bytes < 1024:
        raise ConfigError("max_body_bytes must be at least 1 KiB")
    if config.max_text_chars < 0 or config.max_request_memory < 0:
        raise ConfigError("max_text_chars and max_request_memory must be 0 (no cap) or more")
    if config.large_workers < 1 or config.large_queue < 0 or config.max_concurrency < 1:
        raise ConfigError("large_workers and max_concurrency must be at least 1, large_queue 0 or more")
    for name in ("request_deadline", "header_timeout", "body_timeout", "body_idle_timeout"):
        if getattr(config, name) <= 0:
            raise ConfigError(f"{name} must be more than 0 seconds")
    if not 0 <= config.port <= 65535:
        raise ConfigError("port must be between 0 and 65535")
    if config.log_level.lower() not in ("critical", "error", "warning", "info", "debug"):
        raise ConfigError(f"log_level must be one of critical, error, warning, info, debug; got {config.log_level!r}")


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and the name `localhost`; anything else (0.0.0.0, names) is not."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(config: ServerConfig) -> None:
    """Refuse to serve a non-loopback address without keys, unless `insecure` says so."""
    if not is_loopback(config.host) and not config.auth_enabled and not config.insecure:
        raise ConfigError(
            f"refusing to listen on {config.host} without API keys: anyone who can reach it could use it. "
            "Give --api-key/--api-keys-file (or VERTEXMETER_API_KEYS), bind 127.0.0.1, or pass --insecure."
        )
