"""Settings: flags over VERTEXMETER_* variables over the TOML file over defaults; unsafe binds refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from vertexmeter.server.config import (
    DEFAULT_MAX_BODY_BYTES,
    FIELD_NAMES,
    ConfigError,
    ServerConfig,
    check_bind,
    env_name,
    load_config,
    parse_size,
)


def test_defaults() -> None:
    config = load_config({}, env={})
    assert (config.host, config.port, config.quota_rpm) == ("127.0.0.1", 8080, 0)  # quota emulation is opt-in
    assert config.max_body_bytes == DEFAULT_MAX_BODY_BYTES == 72 * 1024 * 1024
    assert config.executor == "thread" and config.workers >= 1
    assert not config.auth_enabled


def test_precedence_flag_env_file(tmp_path: Path) -> None:
    file = tmp_path / "vm.toml"
    file.write_text('[server]\nport = 7000\nquota_rpm = 10\nworkers = 3\nlog_level = "debug"\n', encoding="utf-8")
    env = {"VERTEXMETER_PORT": "7100", "VERTEXMETER_QUOTA_RPM": "20"}
    config = load_config({"port": 7200, "workers": None, "api_keys": ()}, env=env, config_file=str(file))
    assert config.port == 7200  # flag
    assert config.quota_rpm == 20  # env over file
    assert config.workers == 3  # file
    assert config.log_level == "debug"


def test_config_file_from_env(tmp_path: Path) -> None:
    file = tmp_path / "vm.toml"
    file.write_text("shutdown_timeout = 3\n", encoding="utf-8")  # a file without tables is the table
    assert load_config({}, env={"VERTEXMETER_CONFIG": str(file)}).shutdown_timeout == 3


def test_every_setting_has_an_env_variable() -> None:
    env = {
        "VERTEXMETER_HOST": "::1",
        "VERTEXMETER_PORT": "0",
        "VERTEXMETER_WORKERS": "4",
        "VERTEXMETER_EXECUTOR": "process",
        "VERTEXMETER_API_KEYS": "a, b,,a",
        "VERTEXMETER_INSECURE": "true",
        "VERTEXMETER_QUOTA_RPM": "0",
        "VERTEXMETER_MAX_BODY_BYTES": "20MB",
        "VERTEXMETER_MEDIA_ROOT": "/srv/media",
        "VERTEXMETER_ALLOW_GCS": "yes",
        "VERTEXMETER_ALLOW_HTTPS": "1",
        "VERTEXMETER_LOG_LEVEL": "warning",
        "VERTEXMETER_HTTPS_HOSTS": "example.com,.cdn.example.org",
        "VERTEXMETER_ALLOWED_HOSTS": "meter.example",
        "VERTEXMETER_ACCESS_LOG": "off",
        "VERTEXMETER_SHUTDOWN_TIMEOUT": "2",
        "VERTEXMETER_API_KEYS_FILE": "",
        "VERTEXMETER_MAX_TEXT_CHARS": "1000000",
        "VERTEXMETER_REQUEST_DEADLINE": "2.5",
        "VERTEXMETER_LARGE_REQUEST_BYTES": "1MiB",
        "VERTEXMETER_LARGE_WORKERS": "2",
        "VERTEXMETER_LARGE_QUEUE": "0",
        "VERTEXMETER_MAX_REQUEST_MEMORY": "2GiB",
        "VERTEXMETER_MAX_CONCURRENCY": "8",
        "VERTEXMETER_HEADER_TIMEOUT": "3",
        "VERTEXMETER_BODY_TIMEOUT": "30",
        "VERTEXMETER_BODY_IDLE_TIMEOUT": "4",
        "VERTEXMETER_HTTP": "h11",
    }
    assert {env_name(n) for n in FIELD_NAMES} == set(env)
    config = load_config({}, env=env)
    assert config == ServerConfig(
        host="::1",
        port=0,
        workers=4,
        executor="process",
        api_keys=("a", "b"),
        insecure=True,
        quota_rpm=0,
        max_body_bytes=20 * 1024 * 1024,
        media_root="/srv/media",
        allow_gcs=True,
        allow_https=True,
        https_hosts=("example.com", ".cdn.example.org"),
        allowed_hosts=("meter.example",),
        log_level="warning",
        access_log=False,
        shutdown_timeout=2,
        max_text_chars=1_000_000,
        request_deadline=2.5,
        large_request_bytes=1024 * 1024,
        large_workers=2,
        large_queue=0,
        max_request_memory=2 * 1024**3,
        max_concurrency=8,
        header_timeout=3.0,
        body_timeout=30.0,
        body_idle_timeout=4.0,
        http="h11",
    )
    media = config.media_options()
    assert (media.media_root, media.allow_gcs, media.allow_https) == ("/srv/media", True, True)
    assert media.https_hosts == ("example.com", ".cdn.example.org")


def test_keys_file_and_flags_add_up(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# team keys\nkey-one\n\n  key-two  # ci\nkey-one\n", encoding="utf-8")
    config = load_config({"api_keys": ("flag-key",), "api_keys_file": str(keys)}, env={})
    assert config.api_keys == ("flag-key", "key-one", "key-two")
    assert "key-one" not in repr(config)  # keys stay out of reprs (and so of logs and tracebacks)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1048576", 1048576),
        ("72MiB", 72 * 2**20),
        ("72M", 72 * 2**20),
        ("20MB", 20 * 2**20),
        ("512k", 512 * 1024),
        ("1G", 2**30),
        (4096, 4096),
    ],
)
def test_sizes(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "flags",
    [
        {"executor": "gpu"},
        {"workers": 0},
        {"quota_rpm": -1},
        {"max_body_bytes": "12"},
        {"port": 70000},
        {"request_deadline": "0"},
        {"header_timeout": "nan"},
        {"large_workers": 0},
        {"max_text_chars": -1},
        {"max_body_bytes": "lots"},
        {"log_level": "loud"},
        {"insecure": "maybe"},
        {"http": "h2"},
    ],
)
def test_bad_values(flags: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        load_config(flags, env={})


def test_bad_files(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[server]\nprot = 1\n", encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\n", encoding="utf-8")
    for path in (unknown, broken, tmp_path / "missing.toml"):
        with pytest.raises(ConfigError):
            load_config({}, env={}, config_file=str(path))
    with pytest.raises(ConfigError):
        load_config({"api_keys_file": str(tmp_path / "no-keys")}, env={})


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_needs_no_keys(host: str) -> None:
    check_bind(ServerConfig(host=host))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_other_addresses_need_keys_or_insecure(host: str) -> None:
    with pytest.raises(ConfigError, match="refusing to listen"):
        check_bind(ServerConfig(host=host))
    check_bind(ServerConfig(host=host, api_keys=("k",)))
    check_bind(ServerConfig(host=host, insecure=True))
