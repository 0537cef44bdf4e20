"""Tokenizer assets: pinned hashes, locations, refresh from a mirror, and the engines' token bytes."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.tokenizer_files import packaged_bytes
from vertexmeter import tokenizing
from vertexmeter.cli import main
from vertexmeter.errors import VertexMeterError
from vertexmeter.tokenizing import ASSETS, get_tokenizer, piece_bytes, refresh, status

PINNED = {
    "gemma2": "61a7b147390c64585d6c3543dd6fc636906c9af3865a5548f27f31aee1d4c8e2",
    "gemma3": "1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c",
    "gemma4": "cc8d3a0ce36466ccc1278bf987df5f71db1719b9ca6b4118264f45cb627bfe0f",
}


def test_pins_are_the_published_hashes() -> None:
    assert {family: asset.sha256 for family, asset in ASSETS.items()} == PINNED


@pytest.mark.parametrize("family", sorted(PINNED))
def test_packaged_files_match_their_pins(family: str, isolated_tokenizer_dirs: Path) -> None:
    assert hashlib.sha256(packaged_bytes(family)).hexdigest() == PINNED[family]
    s = status(family)
    assert (s.status, s.source) == ("ok", "package")


def test_package_ships_provenance() -> None:
    data_dir = Path(tokenizing.__file__).parent / "data"
    sources = (data_dir / "SOURCES.md").read_text("utf-8")
    assert "Apache-2.0" in sources and "gemma_pytorch" in sources


def test_override_dir_is_used_and_verified(isolated_tokenizer_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    override = isolated_tokenizer_dirs / "override"
    override.mkdir()
    (override / "gemma2.spm.model").write_bytes(packaged_bytes("gemma2"))
    monkeypatch.setenv("VERTEXMETER_TOKENIZER_DIR", str(override))
    assert status("gemma2").source == "override"
    assert get_tokenizer("gemma2").encode("hello world") == [17534, 2134]


def test_tampered_file_is_refused_not_skipped(isolated_tokenizer_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    override = isolated_tokenizer_dirs / "override"
    override.mkdir()
    data = bytearray(packaged_bytes("gemma3"))
    data[-1] ^= 0xFF
    (override / "gemma3.spm.model").write_bytes(bytes(data))
    monkeypatch.setenv("VERTEXMETER_TOKENIZER_DIR", str(override))
    assert status("gemma3").status == "mismatch"
    with pytest.raises(VertexMeterError) as caught:
        get_tokenizer("gemma3")
    assert caught.value.status == "FAILED_PRECONDITION"
    assert PINNED["gemma3"] in caught.value.message


def test_unknown_family_is_an_error() -> None:
    with pytest.raises(VertexMeterError, match="gemma2, gemma3, gemma4"):
        get_tokenizer("gemma9")


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server standing in for the upstream file hosts (loopback only)."""
    root = tmp_path / "mirror"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_refresh_keeps_a_verified_download_in_the_cache(
    isolated_tokenizer_dirs: Path, mirror: tuple[str, Path]
) -> None:
    base, root = mirror
    (root / "tokenizer.model").write_bytes(packaged_bytes("gemma2"))
    path = refresh("gemma2", url=f"{base}/tokenizer.model")
    assert path.parent == isolated_tokenizer_dirs / "cache" / "tokenizers"
    assert status("gemma2").source == "cache"
    assert get_tokenizer("gemma2").encode("hello world") == [17534, 2134]


def test_refresh_rejects_a_wrong_file_and_keeps_nothing(
    isolated_tokenizer_dirs: Path, mirror: tuple[str, Path]
) -> None:
    base, root = mirror
    (root / "bad.model").write_bytes(b"not a tokenizer")
    with pytest.raises(VertexMeterError) as caught:
        refresh("gemma3", url=f"{base}/bad.model")
    assert caught.value.status == "DATA_LOSS"
    assert not (isolated_tokenizer_dirs / "cache" / "tokenizers" / "gemma3.spm.model").exists()
    assert status("gemma3").source == "package"


def test_refresh_reports_an_unreachable_mirror(isolated_tokenizer_dirs: Path, mirror: tuple[str, Path]) -> None:
    base, _ = mirror
    with pytest.raises(VertexMeterError) as caught:
        refresh("gemma2", url=f"{base}/missing.model")
    assert caught.value.status == "UNAVAILABLE"


def test_tokenizers_command_lists_and_refreshes(isolated_tokenizer_dirs: Path, mirror: tuple[str, Path]) -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["tokenizers", "--human"])
    assert listing.exit_code == 0
    for family in PINNED:
        assert family in listing.output
    assert listing.output.count(" ok ") == 3
    as_json = json.loads(runner.invoke(main, ["tokenizers"]).stdout)
    assert sorted(entry["family"] for entry in as_json) == sorted(PINNED)
    assert {entry["status"] for entry in as_json} == {"ok"}
    base, root = mirror
    (root / "m").write_bytes(packaged_bytes("gemma2"))
    done = runner.invoke(main, ["tokenizers", "refresh", "gemma2", "--url", f"{base}/m"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["sha256"] == "verified"
    bad = runner.invoke(main, ["tokenizers", "refresh", "gemma2", "--url", f"{base}/nothing"])
    assert bad.exit_code == 1


@pytest.mark.parametrize(
    ("piece", "expected"),
    [("\u2581the", b" the"), ("<0x0A>", b"\n"), ("<0xE2>", b"\xe2"), ("abc", b"abc"), ("\u2581\u2581", b"  ")],
)
def test_piece_bytes(piece: str, expected: bytes) -> None:
    assert piece_bytes(piece) == expected


@pytest.mark.parametrize("family", sorted(PINNED))
def test_no_bos_is_added(family: str) -> None:
    tokenizer = get_tokenizer(family)
    assert tokenizer.encode("") == []
    assert len(tokenizer.encode("hi")) == 1


@pytest.mark.parametrize("family", ["gemma2", "gemma3", "gemma4"])
def test_core_token_bytes_are_piece_bytes_of_every_piece(family: str) -> None:
    """The core tokenizer reads token bytes off the stored UTF-8 (▁ as a space, `<0xNN>` as its byte):
    the same bytes as piece_bytes of the decoded piece, for every id of the vocabulary; ids outside it
    are refused with the vocabulary's size."""
    from vertexmeter.tokenizing import CoreBpeTokenizer

    tokenizer = get_tokenizer(family)
    if not isinstance(tokenizer, CoreBpeTokenizer):
        pytest.skip("the engine answers token bytes")
    core = tokenizer.core
    size = len(memoryview(core.vocab_offsets).cast("I")) - 1
    assert [tokenizer.token_bytes(i) for i in range(size)] == [piece_bytes(core.piece(i)) for i in range(size)]
    assert tokenizer.token_bytes(size - 1) is tokenizer.token_bytes(size - 1)  # remembered
    for outside in (-1, size, size + 7):
        with pytest.raises(ValueError, match=f"outside the vocabulary \\({size} pieces\\)"):
            tokenizer.token_bytes(outside)
