"""Audit findings 2 and 4: limits before work for media, and the SSRF filter.

Before: a PDF declaring 100,000 pages was refused only after pypdf walked its whole page tree
(26-35 s, +300 MB on a 13.7 MB file); a 1.4 KB WAV header claiming 31,710 years was counted as
32,000,000,000,002 tokens; NAT64 and IPv4-compatible IPv6 forms of 127.0.0.1 and 169.254.169.254
passed the address check and reached connect(); refusals named what a host resolved to and the
media root's path.
"""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path
from typing import Any

import pypdf
import pytest

import vertexmeter
from tests.abuse.abuse_helpers import (
    COUNT_PATH,
    ONE_WORD,
    assert_google_error,
    file_body,
    flat_page_tree_pdf,
    lying_wav,
    media_body,
)
from vertexmeter.errors import VertexMeterError
from vertexmeter.media import MediaOptions
from vertexmeter.media import inspect as inspect_module

pytestmark = pytest.mark.slow  # hostile clients against a real server: timeouts to wait out


def _refusal(body: dict[str, Any], options: MediaOptions | None = None) -> VertexMeterError:
    with pytest.raises(VertexMeterError) as info:
        vertexmeter.count("gemini-2.5-flash", body, media_options=options or MediaOptions())
    return info.value


@pytest.fixture
def no_page_tree_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    """pypdf's full walk of the page tree must not happen for a document that is refused anyway."""

    def walked(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("pypdf flattened the page tree of a PDF over the page limit")

    monkeypatch.setattr(pypdf.PdfReader, "_flatten", walked)


def test_pdf_declaring_100000_pages_is_refused_before_the_walk(no_page_tree_walk: None) -> None:
    error = _refusal(media_body("application/pdf", flat_page_tree_pdf(100_000, 100_000)))
    assert error.status == "INVALID_ARGUMENT"
    assert "100000 pages, more than the 1000 pages" in error.message
    assert error.field_path == "contents[0].parts[0].inline_data.data"


def test_pdf_whose_count_lies_is_walked_only_to_the_limit(
    no_page_tree_walk: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reading 100,000 page objects takes a third to a half of the document's CPU budget in a fresh process: this
    # test is the page limit's, not the budget's.
    monkeypatch.setattr(inspect_module, "PDF_CPU_SECONDS", 30.0)
    error = _refusal(media_body("application/pdf", flat_page_tree_pdf(100_000, 1)))
    assert error.status == "INVALID_ARGUMENT"
    assert "more than the 1000 pages" in error.message


def test_pdf_within_the_limit_still_counts() -> None:
    counted = vertexmeter.count("gemini-2.5-flash", media_body("application/pdf", flat_page_tree_pdf(3, 3)))
    assert counted.tokens_by_modality == {"DOCUMENT": 3 * 258}


def test_wav_claiming_136_years_is_refused() -> None:
    wav = lying_wav()
    assert len(wav) < 1500
    error = _refusal(media_body("audio/wav", wav))
    assert error.status == "INVALID_ARGUMENT"
    assert "stated duration" in error.message
    assert error.field_path == "contents[0].parts[0].inline_data.data"


def test_duration_the_bytes_cannot_hold_is_refused() -> None:
    wav = lying_wav(samples=3 * 3600)  # 3 hours (under the 9.5 h cap) in 1.4 KB
    error = _refusal(media_body("audio/wav", wav))
    assert "cannot hold" in error.message


def test_pcm_at_an_absurd_rate_is_refused() -> None:
    body = media_body("audio/pcm;rate=1", b"\x00\x01" * 40_000)
    assert "stated duration" in _refusal(body).message


def test_server_refuses_hostile_media_fast(live: Any) -> None:
    server = live()
    assert server.state().large.admitted == 0
    with server.client() as client:
        pdf = client.post(COUNT_PATH, json=media_body("application/pdf", flat_page_tree_pdf(100_000, 100_000)))
        assert_google_error(pdf, 400, "INVALID_ARGUMENT")
        wav = client.post(COUNT_PATH, json=media_body("audio/wav", lying_wav()))
        assert_google_error(wav, 400, "INVALID_ARGUMENT")
        # a small PDF runs in the large lane too (pypdf is pure Python): a worker process, killable
        small_pdf = client.post(COUNT_PATH, json=media_body("application/pdf", flat_page_tree_pdf(3, 3)))
        assert small_pdf.status_code == 200
        assert small_pdf.json()["totalTokens"] == 3 * 258


# ---- SSRF -----------------------------------------------------------------------------------------
INTERNAL_URLS = [
    "https://[64:ff9b::7f00:1]/x.png",  # NAT64 of 127.0.0.1
    "https://[64:ff9b::a9fe:a9fe]/x.png",  # NAT64 of the metadata server
    "https://[::127.0.0.1]/x.png",  # IPv4-compatible
    "https://[::a9fe:a9fe]/x.png",
    "https://[::ffff:169.254.169.254]/x.png",  # IPv4-mapped
    "https://[2002:a9fe:a9fe::1]/x.png",  # 6to4
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x.png",  # Teredo, client 127.0.0.1
    "https://[64:ff9b:1::a9fe:a9fe]/x.png",  # local-use NAT64
    "https://2130706433/x.png",  # decimal
    "https://0x7f000001/x.png",  # hex
    "https://0177.0.0.1/x.png",  # octal
    "https://127.1/x.png",  # short form
    "https://169.254.169.254./latest/meta-data",  # trailing dot
    "https://0xa9.0xfe.0xa9.0xfe/x.png",
    "https://[::1]/x.png",
    "https://0.0.0.0/x.png",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_address_forms_never_reach_connect(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_connect(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"connect() reached for {url}")

    monkeypatch.setattr(socket, "create_connection", no_connect)
    error = _refusal(file_body(url), MediaOptions(allow_https=True))
    assert error.status == "FAILED_PRECONDITION"
    assert "not a public internet address" in error.message


def test_resolution_results_are_not_revealed(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_dns(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("64:ff9b::a9fe:a9fe", port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    error = _refusal(file_body("https://innocent.example.com/x.png"), MediaOptions(allow_https=True))
    assert "not a public internet address" in error.message
    assert "a9fe" not in error.message and "169.254" not in error.message


def test_media_root_path_is_not_revealed(tmp_path: Path, live: Any) -> None:
    root = tmp_path / "secret-media-root"
    root.mkdir()
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes(b"\x89PNG\r\n\x1a\n")
    server = live(media_root=str(root))
    with server.client() as client:
        for body in (file_body("gs://bucket/absent.png"), file_body(outside.as_uri())):
            error = assert_google_error(client.post(COUNT_PATH, json=body), 400, "FAILED_PRECONDITION")
            assert "secret-media-root" not in error["message"]


def test_server_refuses_internal_urls(live: Any) -> None:
    server = live(allow_https=True)
    with server.client() as client:
        for url in INTERNAL_URLS[:4]:
            error = assert_google_error(client.post(COUNT_PATH, json=file_body(url)), 400, "FAILED_PRECONDITION")
            assert "not a public internet address" in error["message"]


# ---- control characters in fileData URIs ---------------------------------------------------------
CONTROL_URIS = [
    "gs://bucket/a%00b.png",
    "https://example.com/x%00.png",
    "gs://bucket/new%0Aline.png",
    "file:///media/a%00.png",
    "gs://bucket/raw\x00nul.png",
    "gs://bucket/" + "%2541" * 3,  # no control character: percent-decoded once, still harmless text
]


@pytest.mark.parametrize("uri", CONTROL_URIS[:-1])
def test_control_characters_in_uris_are_invalid_arguments(uri: str, tmp_path: Path) -> None:
    error = _refusal(file_body(uri), MediaOptions(media_root=str(tmp_path), allow_https=True))
    assert error.status == "INVALID_ARGUMENT"
    assert "control character" in error.message
    assert error.field_path == "contents[0].parts[0].file_data.file_uri"


def test_a_name_too_long_for_the_file_system_is_an_invalid_argument(tmp_path: Path) -> None:
    error = _refusal(file_body("gs://bucket/" + "x" * 5000 + ".png"), MediaOptions(media_root=str(tmp_path)))
    assert error.status in ("INVALID_ARGUMENT", "FAILED_PRECONDITION")


def test_a_percent_sign_that_decodes_to_no_control_character_is_looked_up(tmp_path: Path) -> None:
    error = _refusal(file_body(CONTROL_URIS[-1]), MediaOptions(media_root=str(tmp_path)))
    assert error.status == "FAILED_PRECONDITION"  # not found under the root: an ordinary refusal


def test_server_answers_control_characters_without_losing_its_worker(tmp_path: Path, live: Any) -> None:
    server = live(media_root=str(tmp_path))
    lane = server.state().large
    with server.client() as client:
        assert client.post(COUNT_PATH, json=media_body("application/pdf", flat_page_tree_pdf(1, 1))).status_code == 200
        workers = {worker.process.pid for worker in lane._all}
        for uri in CONTROL_URIS[:-1] * 2:
            error = assert_google_error(client.post(COUNT_PATH, json=file_body(uri)), 400, "INVALID_ARGUMENT")
            assert "control character" in error["message"]
        assert {worker.process.pid for worker in lane._all} == workers  # no worker died and was replaced
    assert "worker process died" not in "\n".join(server.logs)


def test_a_bug_inside_a_worker_is_a_google_500_and_the_lane_serves_on(
    live: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vertexmeter.server import work

    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyError("a bug")

    server = live()
    with server.client() as client:
        with monkeypatch.context() as patched:
            # the small lane runs in this process (threads, the event loop, the fast lane), by either path
            patched.setattr(work, "count", broken)
            patched.setattr(work, "count_tokens", broken)
            for body in (ONE_WORD, {"contents": [{"parts": [{"text": "the full path"}]}]}):
                error = assert_google_error(client.post(COUNT_PATH, json=body), 500, "INTERNAL")
                assert error["message"] == "Internal error encountered."
        assert client.post(COUNT_PATH, json=ONE_WORD).status_code == 200


# ---- a PDF that is cheap to send and costly to read -----------------------------------------------
def _burn(seconds: float) -> None:
    start = time.thread_time()
    while time.thread_time() - start < seconds:
        pass


def test_pdf_reading_is_bounded_in_cpu_time(monkeypatch: pytest.MonkeyPatch) -> None:
    real = pypdf.PdfReader

    class CostlyReader(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # what a crafted structure costs pypdf, in pure Python; pypdf's own recoveries catch
            # Exception, and the bound must get through them
            with contextlib.suppress(Exception):
                _burn(8.0)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pypdf, "PdfReader", CostlyReader)
    body = media_body("application/pdf", flat_page_tree_pdf(3, 3))
    start = time.monotonic()
    error = _refusal(body)
    assert time.monotonic() - start < 4
    assert error.status == "INVALID_ARGUMENT" and "CPU time" in error.message
    _burn(0.3)  # nothing raised later in this thread
    monkeypatch.setattr(pypdf, "PdfReader", real)
    counted = vertexmeter.count("gemini-2.5-flash", body)
    assert counted.tokens_by_modality == {"DOCUMENT": 3 * 258}
    _burn(1.0)  # a document read within its budget leaves no exception behind
