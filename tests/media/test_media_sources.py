"""fileData URIs: media root, file://, GCS (behind an extra), guarded HTTPS, YouTube."""

from __future__ import annotations

import http.server
import socket
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import vertexmeter
from tests.media import mediafactory as mf
from vertexmeter.errors import VertexMeterError
from vertexmeter.media import MediaOptions
from vertexmeter.media.sources import host_allowed, is_public_address

MODEL = "gemini-2.5-flash"
PNG = mf.image(64, 48)


def file_part(uri: str, mime: str = "image/png", **extra: Any) -> dict[str, Any]:
    return {"fileData": {"mimeType": mime, "fileUri": uri}, **extra}


def count(part: dict[str, Any], options: MediaOptions, api: str = "vertex") -> vertexmeter.CountResult:
    return vertexmeter.count(MODEL, mf.request(part), api=api, media_options=options)


def refused(part: dict[str, Any], options: MediaOptions) -> VertexMeterError:
    with pytest.raises(VertexMeterError) as err:
        count(part, options)
    return err.value


# ---- media root ---------------------------------------------------------------------------------
@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "bucket" / "a").mkdir(parents=True)
    (tmp_path / "bucket" / "a" / "b.png").write_bytes(PNG)
    (tmp_path / "example.com" / "img").mkdir(parents=True)
    (tmp_path / "example.com" / "img" / "x.png").write_bytes(PNG)
    return tmp_path


def test_gs_uri_maps_under_the_media_root(root: Path) -> None:
    result = count(file_part("gs://bucket/a/b.png"), MediaOptions(media_root=str(root)))
    assert result.tokens_by_modality == {"IMAGE": 258}


def test_https_uri_maps_under_the_media_root_without_network(root: Path) -> None:
    result = count(file_part("https://example.com/img/x.png"), MediaOptions(media_root=str(root)))
    assert result.tokens_by_modality == {"IMAGE": 258}


def test_file_uri_inside_root(root: Path) -> None:
    uri = (root / "bucket" / "a" / "b.png").as_uri()
    assert count(file_part(uri), MediaOptions(media_root=str(root))).tokens_by_modality == {"IMAGE": 258}


def test_file_uri_outside_root_or_without_root_is_refused(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "c.png"
    outside.write_bytes(PNG)
    error = refused(file_part(outside.as_uri()), MediaOptions(media_root=str(root)))
    assert error.status == "FAILED_PRECONDITION"
    error = refused(file_part(outside.as_uri()), MediaOptions())
    assert error.status == "FAILED_PRECONDITION"
    assert "media root" in error.message


def test_traversal_out_of_the_root_is_refused(root: Path) -> None:
    error = refused(file_part("gs://bucket/../../../etc/passwd"), MediaOptions(media_root=str(root)))
    assert error.status == "INVALID_ARGUMENT"
    assert error.field_path == "contents[0].parts[0].file_data.file_uri"


def test_unresolvable_uri_names_the_options(root: Path) -> None:
    error = refused(file_part("gs://bucket/missing.png"), MediaOptions(media_root=str(root)))
    assert error.status == "FAILED_PRECONDITION"
    assert error.field_path == "contents[0].parts[0].file_data.file_uri"
    for option in ("--media-root", "VERTEXMETER_MEDIA_ROOT", "--allow-gcs", "vertexmeter[gcs]", "--allow-https"):
        assert option in error.message
    assert refused(file_part("s3://bucket/x.png"), MediaOptions()).status == "FAILED_PRECONDITION"


def test_cli_media_root_option_and_environment(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    import json

    from click.testing import CliRunner

    from vertexmeter.cli import main

    body = tmp_path_factory.mktemp("bodies") / "request.json"
    body.write_text(json.dumps(mf.request({"text": "What is this?"}, file_part("gs://bucket/a/b.png"))))
    runner = CliRunner()
    by_option = runner.invoke(main, ["count", "-m", MODEL, "--file", str(body), "--media-root", str(root)])
    assert by_option.exit_code == 0, by_option.output
    by_env = runner.invoke(main, ["count", "-m", MODEL, "--file", str(body)], env={"VERTEXMETER_MEDIA_ROOT": str(root)})
    assert by_env.exit_code == 0
    assert json.loads(by_env.stdout) == json.loads(by_option.stdout)
    assert {"modality": "IMAGE", "tokenCount": 258} in json.loads(by_option.stdout)["promptTokensDetails"]
    without = runner.invoke(main, ["count", "-m", MODEL, "--file", str(body)], env={"VERTEXMETER_MEDIA_ROOT": ""})
    assert without.exit_code == 1
    assert json.loads(without.stderr)["error"]["status"] == "FAILED_PRECONDITION"


# ---- Google Cloud Storage -----------------------------------------------------------------------
def test_gcs_needs_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.cloud.storage", None)
    error = refused(file_part("gs://bucket/a.png"), MediaOptions(allow_gcs=True))
    assert error.status == "FAILED_PRECONDITION"
    assert "vertexmeter[gcs]" in error.message


class _FakeBlob:
    def __init__(self, data: bytes) -> None:
        self.size = len(data)
        self._data = data

    def download_as_bytes(self, timeout: float) -> bytes:
        return self._data


def _fake_storage(objects: dict[str, bytes]) -> types.ModuleType:
    """google.cloud.storage's surface that sources.py uses: Client().bucket(b).get_blob(name)."""

    class Bucket:
        def __init__(self, name: str) -> None:
            self.name = name

        def get_blob(self, name: str, timeout: float) -> _FakeBlob | None:
            data = objects.get(f"{self.name}/{name}")
            return _FakeBlob(data) if data is not None else None

    class Client:
        def bucket(self, name: str) -> Bucket:
            return Bucket(name)

    module = types.ModuleType("google.cloud.storage")
    module.Client = Client  # type: ignore[attr-defined]
    return module


def test_gcs_read_with_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.cloud.storage", _fake_storage({"bucket/a.png": PNG}))
    assert count(file_part("gs://bucket/a.png"), MediaOptions(allow_gcs=True)).tokens_by_modality == {"IMAGE": 258}
    assert refused(file_part("gs://bucket/none.png"), MediaOptions(allow_gcs=True)).status == "FAILED_PRECONDITION"
    capped = refused(file_part("gs://bucket/a.png"), MediaOptions(allow_gcs=True, max_fetch_bytes=len(PNG) - 1))
    assert capped.status == "FAILED_PRECONDITION"
    assert "larger than" in capped.message


# ---- HTTPS --------------------------------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/img.png":
            self._send(PNG)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/img.png")
            self.end_headers()
        elif self.path == "/big-declared":
            self.send_response(200)
            self.send_header("Content-Length", str(10**9))
            self.end_headers()
        elif self.path == "/big-undeclared":
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(64):
                    self.wfile.write(b"\0" * 65536)
            except OSError:
                pass
        elif self.path == "/slow":
            time.sleep(3)
            self._send(PNG)
        else:
            self.send_response(404)
            self.end_headers()

    def _send(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


HTTPS_ON = MediaOptions(allow_https=True)


def loopback(port: int, **options: Any) -> MediaOptions:
    """Fetching on, and `port` on loopback reachable: the allowance is an option, set only by code."""
    return MediaOptions(allow_https=True, loopback_ports=frozenset({port}), **options)


def test_loopback_is_refused_without_the_allowance(server: int) -> None:
    for uri in (
        f"http://127.0.0.1:{server}/img.png",
        f"https://127.0.0.1:{server}/img.png",
        f"https://localhost:{server}/img.png",
    ):
        error = refused(file_part(uri), HTTPS_ON)
        assert error.status == "FAILED_PRECONDITION", uri


def test_loopback_fetch_with_the_allowance(server: int) -> None:
    uri = f"http://127.0.0.1:{server}/img.png"
    assert count(file_part(uri), loopback(server)).tokens_by_modality == {"IMAGE": 258}
    # The allowance does not switch fetching on, and covers only its own port.
    no_fetching = MediaOptions(loopback_ports=frozenset({server}))
    assert refused(file_part(uri), no_fetching).status == "FAILED_PRECONDITION"
    other = refused(file_part(f"http://127.0.0.1:{server + 1}/img.png"), loopback(server))
    assert other.status == "FAILED_PRECONDITION"
    assert refused(file_part(uri), HTTPS_ON).status == "FAILED_PRECONDITION"


def test_the_server_has_no_way_to_allow_loopback() -> None:
    """No server setting (flag, environment, config file) maps to the allowance."""
    from vertexmeter.server.config import ServerConfig

    assert ServerConfig().media_options().loopback_ports == frozenset()
    assert not any("loopback" in name for name in vars(ServerConfig()))


def test_redirects_size_cap_and_timeout(server: int) -> None:
    base = f"http://127.0.0.1:{server}"
    assert "redirect" in refused(file_part(f"{base}/redirect"), loopback(server)).message
    small = loopback(server, max_fetch_bytes=1_000_000)
    for path in ("/big-declared", "/big-undeclared"):
        error = refused(file_part(f"{base}{path}"), small)
        assert error.status == "FAILED_PRECONDITION"
        assert "larger than" in error.message
    started = time.monotonic()
    slow = refused(file_part(f"{base}/slow"), loopback(server, fetch_timeout=0.3))
    assert slow.status == "FAILED_PRECONDITION"
    assert time.monotonic() - started < 2.5


def test_host_allow_list_is_checked_before_any_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("DNS must not be queried for a host outside the allow-list")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    options = MediaOptions(allow_https=True, https_hosts=("media.example.com",))
    error = refused(file_part("https://evil.example.net/x.png"), options)
    assert error.status == "FAILED_PRECONDITION"
    assert "allow-list" in error.message
    assert refused(file_part("ftp://media.example.com/x.png"), options).status == "FAILED_PRECONDITION"


def test_every_resolved_address_must_be_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name resolving to one public and one private address is refused (no DNS-rebinding split)."""

    def fake_dns(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    error = refused(file_part("https://media.example.com/x.png"), HTTPS_ON)
    assert error.status == "FAILED_PRECONDITION"
    assert "10.0.0.7" not in error.message  # what a name resolves to is not told to the caller
    assert "not a public internet address" in error.message


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),
        ("224.0.0.1", False),
        # IPv4-compatible, NAT64 (well-known and local-use), SIIT and Teredo forms of internal addresses
        ("::127.0.0.1", False),
        ("::7f00:1", False),
        ("::a9fe:a9fe", False),
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::a9fe:a9fe", False),
        ("64:ff9b::10.0.0.1", False),
        ("64:ff9b:1::a9fe:a9fe", False),
        ("::ffff:0:7f00:1", False),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),
        ("2002:a9fe:a9fe::1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::", False),
        # ... and the same forms of a public address stay public
        ("64:ff9b::808:808", True),
        ("2002:808:808::1", True),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_public_address_check(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_host_allow_list_matching() -> None:
    assert host_allowed("a.example.com", ())
    assert host_allowed("example.com", ("example.com",))
    assert not host_allowed("a.example.com", ("example.com",))
    assert host_allowed("a.example.com", (".example.com",))
    assert not host_allowed("badexample.com", (".example.com",))


# ---- YouTube ------------------------------------------------------------------------------------
def test_youtube_needs_a_stated_duration() -> None:
    uri = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    error = refused(file_part(uri, "video/mp4"), MediaOptions())
    assert error.status == "FAILED_PRECONDITION"
    assert error.field_path == "contents[0].parts[0].video_metadata.end_offset"
    part = file_part(uri, "video/mp4", videoMetadata={"startOffset": "10s", "endOffset": "40s"})
    result = count(part, MediaOptions())
    # 30 s at 1 fps: 30 frames of 258; the sound: ceil(32 x 30) + 2 (Gemini 2.5).
    assert result.tokens_by_modality == {"VIDEO": 30 * 258, "AUDIO": 30 * 32 + 2}


# ---- real TLS on loopback -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate for `localhost` (openssl CLI)."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1], cert
    httpd.shutdown()
    httpd.server_close()


def test_https_certificate_is_verified(tls_server: tuple[int, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    port, cert = tls_server
    uri = f"https://localhost:{port}/img.png"
    untrusted = refused(file_part(uri), loopback(port))
    assert untrusted.status == "FAILED_PRECONDITION"
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.message
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: real(cafile=str(cert)))
    # Trusted, and the name checked against the certificate is the URL's host, not the pinned address.
    assert count(file_part(uri), loopback(port)).tokens_by_modality == {"IMAGE": 258}


# ---- a peer that trickles, an emulator endpoint, missing credentials ------------------------------
class _Trickle(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        try:
            if self.path == "/slow-headers":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for _ in range(600):
                    self.wfile.write(b"X-Slow: a\r\n")
                    self.wfile.flush()
                    time.sleep(0.1)
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(600):  # a byte every 0.1 s: never idle for a whole receive timeout
                self.wfile.write(b"\0")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass


@pytest.fixture(scope="module")
def trickle() -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("path", ["/slow-body", "/slow-headers"])
def test_a_trickling_peer_is_cut_off_at_the_fetch_deadline(trickle: int, path: str) -> None:
    start = time.monotonic()
    error = refused(file_part(f"http://127.0.0.1:{trickle}{path}"), loopback(trickle, fetch_timeout=0.5))
    took = time.monotonic() - start
    assert error.status == "FAILED_PRECONDITION"
    assert "took too long" in error.message
    assert took < 4, took  # the deadline is 3 x fetch_timeout = 1.5 s (before: a minute at least)


def test_the_storage_emulator_endpoint_follows_the_address_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.cloud.storage", _fake_storage({"bucket/a.png": PNG}))
    for endpoint in ("http://169.254.169.254", "169.254.169.254:80", "http://[::ffff:10.0.0.1]:9023", "127.0.0.1:4443"):
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", endpoint)
        error = refused(file_part("gs://bucket/a.png"), MediaOptions(allow_gcs=True))
        assert error.status == "FAILED_PRECONDITION", endpoint
        assert "not a public internet address" in error.message
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:4443")  # an emulator the caller allows
    allowed = MediaOptions(allow_gcs=True, loopback_ports=frozenset({4443}))
    assert count(file_part("gs://bucket/a.png"), allowed).tokens_by_modality == {"IMAGE": 258}


def test_missing_credentials_are_a_google_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("google.cloud.storage")
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    error = refused(file_part("gs://bucket/a.png"), MediaOptions(allow_gcs=True))
    assert error.status == "FAILED_PRECONDITION"
    from vertexmeter.batch import estimate_batch

    with pytest.raises(VertexMeterError) as info:
        estimate_batch("gs://bucket/in.jsonl", MODEL, workers=1)
    assert info.value.status == "FAILED_PRECONDITION"
    assert "credentials" in info.value.message.lower()
