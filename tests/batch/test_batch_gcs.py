"""gs:// inputs through google-cloud-storage against a local GCS emulator (a real HTTP server on loopback)."""

from __future__ import annotations

import gzip
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.batch.batch_helpers import read_results
from vertexmeter.batch import estimate_batch
from vertexmeter.errors import VertexMeterError

storage = pytest.importorskip("google.cloud.storage")
emulator = pytest.importorskip("gcp_storage_emulator.server")

MODEL = "gemini-2.5-flash"


@pytest.fixture
def gcs(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = emulator.create_server("127.0.0.1", port, in_memory=True, default_bucket="jobs")
    server.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "vertexmeter-test")
    try:
        yield storage.Client()
    finally:
        server.stop()


def test_gcs_objects_and_globs_stream_like_local_files(gcs: object, tmp_path: Path, requests_pool: list[dict]) -> None:
    bucket = gcs.bucket("jobs")  # type: ignore[attr-defined]
    lines = [json.dumps({"request": r}) for r in requests_pool]
    bucket.blob("in/part-0.jsonl").upload_from_string("\n".join(lines[:20]) + "\n")
    bucket.blob("in/part-1.jsonl.gz").upload_from_string(gzip.compress(("\n".join(lines[20:]) + "\n").encode()))
    bucket.blob("other/part-2.jsonl").upload_from_string("not json\n")
    local = tmp_path / "all.jsonl"
    local.write_text("\n".join(lines) + "\n", encoding="utf-8")

    out_gcs, out_local = tmp_path / "gcs.jsonl", tmp_path / "local.jsonl"
    from_gcs = estimate_batch("gs://jobs/in/part-*", MODEL, output=str(out_gcs), workers=1)
    from_local = estimate_batch(str(local), MODEL, output=str(out_local), workers=1)
    assert from_gcs.summary()["run"]["inputs"] == ["gs://jobs/in/part-0.jsonl", "gs://jobs/in/part-1.jsonl.gz"]
    # the same result lines (the job headers differ: other inputs)
    assert out_gcs.read_bytes().split(b"\n", 1)[1] == out_local.read_bytes().split(b"\n", 1)[1]
    gcs_summary, local_summary = from_gcs.summary(), from_local.summary()
    del gcs_summary["run"], local_summary["run"]
    assert gcs_summary == local_summary
    assert len(read_results(out_gcs)) == len(lines)
    single = estimate_batch("gs://jobs/other/part-2.jsonl", MODEL, workers=1)
    assert single.summary()["errors"]["by_reason"]["INVALID_JSON"]["first_lines"] == [1]


def test_gcs_refusals(gcs: object) -> None:
    with pytest.raises(VertexMeterError, match="does not exist"):
        estimate_batch("gs://jobs/nope.jsonl", MODEL, workers=1)
    with pytest.raises(VertexMeterError, match="No input object matches"):
        estimate_batch("gs://jobs/nothing/*.jsonl", MODEL, workers=1)
    with pytest.raises(VertexMeterError, match="names no bucket"):
        estimate_batch("gs:///x.jsonl", MODEL, workers=1)
