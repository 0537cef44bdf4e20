"""--engine ray on a real local Ray cluster started by the test: the same summary as the local engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_lines

from vertexmeter.batch import estimate_batch

ray = pytest.importorskip("ray")

MODEL = "gemini-2.5-flash"


def test_ray_summary_equals_the_local_one(tmp_path: Path, requests_pool: list[dict]) -> None:
    lines = [json.dumps({"key": i, "request": r}) for i, r in enumerate(requests_pool * 10)]
    lines[17] = '{"request": {"contents": "nope"}}'
    source = write_lines(tmp_path / "b.jsonl", lines)
    local_out, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    local = estimate_batch(str(source), MODEL, output=str(local_out), workers=2)
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    try:
        on_ray = estimate_batch(str(source), MODEL, output=str(ray_out), engine="ray", workers=2, chunk_lines=50)
        assert ray.is_initialized()  # a cluster the caller started is left running
    finally:
        ray.shutdown()
    local_summary, ray_summary = local.summary(), on_ray.summary()
    assert ray_summary.pop("run")["engine"] == "ray"
    local_summary.pop("run")
    assert ray_summary == local_summary
    assert ray_out.read_bytes() == local_out.read_bytes()
    assert local_summary["errors"]["lines"] == 1


def test_cli_engine_ray_starts_and_stops_its_own_cluster(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from vertexmeter.cli import main

    source = write_lines(tmp_path / "b.jsonl", ['{"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}'] * 5)
    result = CliRunner().invoke(main, ["batch", str(source), "-m", MODEL, "--engine", "ray", "--workers", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["lines"] == 5 and summary["run"]["engine"] == "ray"
    assert not ray.is_initialized()
