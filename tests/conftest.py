from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tokenizer_files import packaged_bytes
from vertexmeter import tokenizing


@pytest.fixture
def isolated_tokenizer_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty user cache and no override dir; loaded tokenizers are forgotten before and after."""
    monkeypatch.setenv("VERTEXMETER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("VERTEXMETER_TOKENIZER_DIR", raising=False)
    tokenizing.clear_cache()
    yield tmp_path
    tokenizing.clear_cache()


@pytest.fixture(scope="session")
def sdk_local_tokenizer_dir() -> Iterator[str]:
    """google-genai's LocalTokenizer cache, seeded with the packaged gemma3 file so it needs no network.

    The SDK looks for `<tempdir>/vertexai_tokenizer_model/<sha1(model_url)>` and checks its SHA-256;
    that is its real loading path, fed the same bytes it would download.
    """
    pytest.importorskip("google.genai.local_tokenizer")
    from google.genai import _local_tokenizer_loader as loader

    base = tempfile.mkdtemp(prefix="vertexmeter-sdk-")
    model_dir = Path(base) / "vertexai_tokenizer_model"
    model_dir.mkdir()
    url = loader._TOKENIZERS["gemma3"].model_url
    data = packaged_bytes("gemma3")
    assert hashlib.sha256(data).hexdigest() == loader._TOKENIZERS["gemma3"].model_hash
    (model_dir / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)
    previous = tempfile.tempdir
    tempfile.tempdir = base
    try:
        yield base
    finally:
        tempfile.tempdir = previous
