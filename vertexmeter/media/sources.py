"""Where the bytes of a `fileData.fileUri` come from, offline first.

In order (docs/media.md, "fileData URIs"):

1. the local media root (`MediaOptions.media_root`, CLI `--media-root`, env VERTEXMETER_MEDIA_ROOT):
   `gs://bucket/a/b.mp4` -> ROOT/bucket/a/b.mp4, `https://host/p/x.png` -> ROOT/host/p/x.png, and
   `file:///abs/path` when the path lies inside ROOT;
2. Google Cloud Storage with the caller's credentials, when `allow_gcs` (extra `vertexmeter[gcs]`);
3. HTTPS, when `allow_https`: allow-listed hosts only, public addresses only (every address the
   name resolves to is checked and the connection goes to a checked address), no redirects, a size
   cap and timeouts;
4. anything else: FAILED_PRECONDITION naming these options.

YouTube URLs are never fetched: the caller states the duration with `videoMetadata.endOffset`.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib
import ipaddress
import os
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from vertexmeter.errors import VertexMeterError, failed_precondition, invalid_argument
from vertexmeter.media.inspect import MediaData

if TYPE_CHECKING:
    from vertexmeter.media import MediaOptions

_YOUTUBE = re.compile(
    r"^https?://(?:www\.|m\.|music\.)?(?:youtube\.com/(?:watch\?|shorts/|live/|embed/)|youtu\.be/)", re.I
)


@dataclass(frozen=True)
class YouTube:
    url: str


def is_youtube(uri: str) -> bool:
    return bool(_YOUTUBE.match(uri))


# C0 controls and DEL, raw or percent-encoded: no file, bucket or host name holds one (a NUL would
# reach the operating system's path calls).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def refuse_control_characters(uri: str, field_path: str) -> None:
    """INVALID_ARGUMENT for a URI holding a control character, before any path, DNS or socket work."""
    if _CONTROL.search(uri) or ("%" in uri and _CONTROL.search(unquote(uri))):
        raise invalid_argument(
            "Invalid fileData.fileUri: it holds a control character (such as %00), which no file, bucket "
            "or URL may contain.",
            field_path,
        )


def resolve_file_uri(uri: str, options: MediaOptions, field_path: str) -> MediaData | YouTube:
    refuse_control_characters(uri, field_path)
    if is_youtube(uri):
        return YouTube(uri)
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return MediaData(path=_file_uri_path(uri, options, field_path))
    if options.media_root and scheme in ("gs", "https", "http") and parts.netloc:
        local = _under_root(options.media_root, f"{parts.netloc}/{unquote(parts.path)}", field_path)
        if local is not None and _is_file(local, field_path):
            return MediaData(path=local)
    if scheme == "gs" and options.allow_gcs:
        return MediaData(data=_read_gcs(parts.netloc, parts.path.lstrip("/"), options, field_path))
    if scheme in ("https", "http") and options.allow_https:
        return MediaData(data=fetch_https(uri, options, field_path))
    raise cannot_resolve(uri, options, field_path)


def cannot_resolve(uri: str, options: MediaOptions, field_path: str) -> VertexMeterError:
    where = " (not found under the media root)" if options.media_root else ""
    return failed_precondition(
        f"Cannot read fileData.fileUri {uri!r} offline{where}. vertexmeter reads fileData from: a local "
        "media root (--media-root DIR or VERTEXMETER_MEDIA_ROOT; gs://bucket/path -> DIR/bucket/path, "
        "https://host/path -> DIR/host/path, file:// paths inside DIR); Google Cloud Storage "
        "(--allow-gcs, needs pip install 'vertexmeter[gcs]'); HTTPS (--allow-https, optionally "
        "--https-host HOST). YouTube URLs need videoMetadata.endOffset. Or send the bytes as inlineData.",
        field_path,
    )


def _is_file(path: Path, field_path: str) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError) as exc:  # a name too long for the file system, and the like
        raise invalid_argument(f"Invalid fileData.fileUri: {type(exc).__name__}.", field_path) from exc


def _resolved(path: Path, field_path: str) -> Path:
    try:
        return path.resolve()
    except (OSError, ValueError, RuntimeError) as exc:  # symlink loops, names the OS refuses
        raise invalid_argument(f"Invalid fileData.fileUri: {type(exc).__name__}.", field_path) from exc


def _under_root(root: str, relative: str, field_path: str) -> Path | None:
    base = Path(root).expanduser().resolve()
    candidate = _resolved(base / relative.lstrip("/"), field_path)
    if candidate != base and base not in candidate.parents:
        raise invalid_argument(f"fileData.fileUri leaves the media root: {relative!r}", field_path)
    return candidate


def _file_uri_path(uri: str, options: MediaOptions, field_path: str) -> Path:
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost"):
        raise invalid_argument(f"Unsupported file URI host in {uri!r}.", field_path)
    if not options.media_root:
        raise failed_precondition(
            f"file:// URIs are read only inside a media root; set --media-root or VERTEXMETER_MEDIA_ROOT "
            f"to a directory containing {unquote(parts.path)!r}.",
            field_path,
        )
    base = Path(options.media_root).expanduser().resolve()
    path = _resolved(Path(unquote(parts.path)), field_path)
    if path != base and base not in path.parents:
        raise failed_precondition(f"file:// path {unquote(parts.path)!r} is outside the media root.", field_path)
    if not _is_file(path, field_path):
        raise failed_precondition(f"file:// path {unquote(parts.path)!r} does not exist.", field_path)
    return path


# ---- Google Cloud Storage -------------------------------------------------------------------------
def _read_gcs(bucket: str, name: str, options: MediaOptions, field_path: str) -> bytes:
    try:
        storage = importlib.import_module("google.cloud.storage")
    except ImportError as exc:
        raise failed_precondition(
            "Reading gs:// URIs needs google-cloud-storage: pip install 'vertexmeter[gcs]'", field_path
        ) from exc
    if not bucket or not name:
        raise invalid_argument(f"Invalid gs:// URI: gs://{bucket}/{name}", field_path)
    _check_storage_endpoint(options, field_path)
    try:
        blob = storage.Client().bucket(bucket).get_blob(name, timeout=options.fetch_timeout)
        if blob is None:
            raise failed_precondition(f"gs://{bucket}/{name} does not exist or is not readable.", field_path)
        if blob.size is not None and blob.size > options.max_fetch_bytes:
            raise _too_big(f"gs://{bucket}/{name}", options, field_path)
        data: bytes = blob.download_as_bytes(timeout=options.fetch_timeout)
    except VertexMeterError:
        raise
    except Exception as exc:  # auth, permission, network: all reported, none crash the count
        raise failed_precondition(f"Cannot read gs://{bucket}/{name}: {exc}", field_path) from exc
    if len(data) > options.max_fetch_bytes:
        raise _too_big(f"gs://{bucket}/{name}", options, field_path)
    return data


STORAGE_EMULATOR_ENV = "STORAGE_EMULATOR_HOST"  # google-cloud-storage sends every call there when set


def _check_storage_endpoint(options: MediaOptions, field_path: str) -> None:
    """The same address policy as HTTPS fetches for the endpoint google-cloud-storage would call instead of
    Google's: public addresses only (loopback only on `loopback_ports`), checked before any call."""
    endpoint = os.environ.get(STORAGE_EMULATOR_ENV, "").strip()
    if not endpoint:
        return
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    host = normalise_host(parts.hostname or "")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = -1
    loopback_ok = port in options.loopback_ports and host in ("127.0.0.1", "localhost", "::1")
    literal = _literal_address(host)
    if not host or (literal is not None and not loopback_ok and not is_public_address(literal)):
        raise failed_precondition(
            f"Refusing to read gs:// URIs through {STORAGE_EMULATOR_ENV}: it is not a public internet address.",
            field_path,
        )
    if literal is None:
        _resolve_checked(host, port, loopback_ok, field_path)


def _too_big(what: str, options: MediaOptions, field_path: str) -> VertexMeterError:
    return failed_precondition(
        f"{what} is larger than the {options.max_fetch_bytes:,} bytes vertexmeter fetches "
        "(MediaOptions.max_fetch_bytes).",
        field_path,
    )


# ---- HTTPS ----------------------------------------------------------------------------------------
def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Empty allow-list: any host. `example.com` matches itself; `.example.com` its subdomains too."""
    if not allowed:
        return True
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower().rstrip(".")
        if entry.startswith("."):
            if host == entry[1:] or host.endswith(entry):
                return True
        elif host == entry:
            return True
    return False


# IPv6 ranges that carry an IPv4 address in their last 32 bits: the IPv4 address is what is reached.
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated IPv4-compatible (RFC 4291 2.5.5.1)
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT (RFC 2765)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known NAT64 prefix (RFC 6052)
# Local-use NAT64 (RFC 8215): the IPv4 part sits where the operator's prefix length puts it; refused whole.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to (mapped, compatible, translated, NAT64, 6to4, Teredo)."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # `::` and `::1` are themselves, not IPv4
        return [low32]
    if ip in _IPV4_TRANSLATED or ip in _NAT64:
        return [low32]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)  # (server, client): both are reached through the tunnel
    return []


def parse_ipv4_loose(host: str) -> ipaddress.IPv4Address | None:
    """IPv4 in any form `inet_aton` accepts (what a resolver would connect to): 2130706433, 0x7f.1,
    0177.0.0.1, 127.1; a trailing dot is ignored. None when `host` is not such a form."""
    parts = host.rstrip(".").split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        try:
            if part.lower().startswith("0x"):
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            else:
                numbers.append(int(part, 10) if part.isdigit() else -1)
        except ValueError:
            return None
        if numbers[-1] < 0:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    value = value * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(value)


def normalise_host(host: str) -> str:
    """A URL host as the address it denotes when it is a literal (any IPv4 spelling, IPv6 without
    brackets or zone), else the lower-cased name without trailing dots."""
    host = host.strip().strip("[]").lower()
    loose = parse_ipv4_loose(host)
    if loose is not None:
        return str(loose)
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        return host.rstrip(".")


def is_public_address(address: str) -> bool:
    """Whether `address` (and every IPv4 address it embeds) is a public unicast address: not private,
    loopback, link-local (cloud metadata 169.254.169.254), CGNAT, multicast, reserved or unspecified."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        embedded = embedded_ipv4(ip)
        if embedded:
            return all(_public(v4) for v4 in embedded)
    return _public(ip)


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def _resolve_checked(host: str, port: int, loopback_ok: bool, field_path: str) -> str:
    """The address to connect to; every address `host` resolves to must be public. Refusals never say
    what the name resolved to (that would make this server a probe of its own network's DNS)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise failed_precondition(f"Cannot resolve the host {host!r}.", field_path) from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise failed_precondition(f"Cannot resolve the host {host!r}.", field_path)
    for address in addresses:
        if is_public_address(address):
            continue
        if loopback_ok and ipaddress.ip_address(address.split("%", 1)[0]).is_loopback:
            continue
        raise failed_precondition(f"Refusing to fetch from {host!r}: it is not a public internet address.", field_path)
    return addresses[0]


def _literal_address(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def fetch_https(uri: str, options: MediaOptions, field_path: str) -> bytes:
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    host = normalise_host(parts.hostname or "")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise invalid_argument(f"Invalid URL {uri!r}: {exc}", field_path) from exc
    loopback_ok = port in options.loopback_ports and host in ("127.0.0.1", "localhost", "::1")
    literal = _literal_address(host)
    if literal is not None and not loopback_ok and not is_public_address(literal):
        raise failed_precondition(f"Refusing to fetch from {host!r}: it is not a public internet address.", field_path)
    if parts.username or parts.password:
        raise failed_precondition("URLs with credentials are not fetched.", field_path)
    if scheme != "https" and not (scheme == "http" and loopback_ok):
        raise failed_precondition(f"Only https:// URLs are fetched, not {scheme}://.", field_path)
    if not host or not (loopback_ok or host_allowed(host, options.https_hosts)):
        raise failed_precondition(
            f"Host {host!r} is not in the HTTPS allow-list ({', '.join(options.https_hosts)}).", field_path
        )
    address = _resolve_checked(host, port, loopback_ok, field_path)
    connection_type = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_type(host, port, address, options.fetch_timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + options.fetch_timeout * 3
    # The whole fetch ends at the deadline, whatever phase it is in (headers trickling in count too).
    watchdog = threading.Timer(options.fetch_timeout * 3, _cut, (connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("GET", target, headers={"User-Agent": "vertexmeter", "Accept-Encoding": "identity"})
        _recv_deadline(connection, deadline, options, uri, field_path)
        response = connection.getresponse()
        if response.status != 200:
            kind = "redirects are not followed" if 300 <= response.status < 400 else "not fetched"
            raise failed_precondition(f"GET {uri} answered HTTP {response.status}; {kind}.", field_path)
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > options.max_fetch_bytes:
            raise _too_big(uri, options, field_path)
        return _read_capped(response, connection, options, deadline, uri, field_path)
    except VertexMeterError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        if time.monotonic() >= deadline:
            raise failed_precondition(f"Fetching {uri} took too long.", field_path) from None
        # The exception's class (and a TLS failure's reason) only: its text can name the address connected to.
        reason = getattr(exc, "reason", None) if isinstance(exc, ssl.SSLError) else None
        detail = f"{type(exc).__name__} ({reason})" if isinstance(reason, str) else type(exc).__name__
        raise failed_precondition(f"Cannot fetch {uri}: {detail}.", field_path) from exc
    finally:
        watchdog.cancel()
        connection.close()


def _cut(connection: Any) -> None:
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _recv_deadline(connection: Any, deadline: float, options: MediaOptions, uri: str, field_path: str) -> None:
    """Bound the next receive by what is left of the fetch's deadline (a peer sending a byte a second
    would otherwise hold a read, which waits for a whole buffer, far past it)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise failed_precondition(f"Fetching {uri} took too long.", field_path)
    if connection.sock is not None:
        connection.sock.settimeout(min(options.fetch_timeout, left))


def _read_capped(
    response: Any, connection: Any, options: MediaOptions, deadline: float, uri: str, field_path: str
) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        _recv_deadline(connection, deadline, options, uri, field_path)
        try:
            chunk = response.read1(65536)  # what one receive brings, not a full buffer
        except TimeoutError:
            raise failed_precondition(f"Fetching {uri} took too long.", field_path) from None
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > options.max_fetch_bytes:
            raise _too_big(uri, options, field_path)
        chunks.append(chunk)
