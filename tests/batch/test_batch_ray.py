"""--engine ray on a real local Ray cluster started by the test: the same summary as the local engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.batch.batch_helpers import write_lines
from vertexmeter.batch import estimate_batch

pytestmark = pytest.mark.slow  # starts Ray clusters (~20 s each)

ray = pytest.importorskip("ray")

MODEL = "gemini-2.5-flash"


@pytest.fixture(autouse=True)
def private_ray_clusters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test clusters run without token auth: ~/.ray/auth_token is shared by every Ray user of the machine
    and rewritten by each new cluster, so two jobs starting clusters at once could race on it."""
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")


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


def test_its_own_local_cluster_reads_spans_of_the_file_and_agrees(
    tmp_path: Path, requests_pool: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster the job starts runs on this machine: its tasks get byte spans of the file (a relative
    path too: Ray workers run in another directory) and give the local engine's results."""
    lines = [json.dumps({"request": r}) for r in requests_pool * 8] + ["{broken"]
    write_lines(tmp_path / "b.jsonl", lines)
    monkeypatch.chdir(tmp_path)
    local = estimate_batch("b.jsonl", MODEL, output="local.jsonl", workers=1)
    on_ray = estimate_batch("b.jsonl", MODEL, output="ray.jsonl", engine="ray", workers=2, chunk_lines=20)
    assert not ray.is_initialized()
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert on_ray.tally.prompt_tokens == local.tally.prompt_tokens and on_ray.summary()["lines"] == len(lines)


def test_cli_engine_ray_starts_and_stops_its_own_cluster(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from vertexmeter.cli import main

    source = write_lines(tmp_path / "b.jsonl", ['{"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}'] * 5)
    result = CliRunner().invoke(main, ["batch", str(source), "-m", MODEL, "--engine", "ray", "--workers", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["lines"] == 5 and summary["run"]["engine"] == "ray"
    assert not ray.is_initialized()


def test_ray_address_joins_a_running_cluster(tmp_path: Path) -> None:
    """A cluster started by another process; the CLI job joins it by its GCS address and leaves it running."""
    import os
    import subprocess
    import sys

    # A private test cluster: token auth off for both sides (~/.ray/auth_token is shared by every Ray user of
    # the machine and rewritten by each new cluster, so a token would race with them).
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    head = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, ray\n"
            "context = ray.init(num_cpus=2, include_dashboard=False, logging_level='WARNING')\n"
            "print(context.address_info['gcs_address'], flush=True)\n"
            "sys.stdin.read()\n"  # until the test closes stdin
            "ray.shutdown()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert head.stdin is not None and head.stdout is not None
    try:
        address = head.stdout.readline().strip()
        host, _, port = address.rpartition(":")
        assert host and port.isdigit(), address
        source = write_lines(tmp_path / "b.jsonl", ['{"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}'] * 4)
        job = subprocess.run(
            [
                sys.executable,
                "-c",
                "from vertexmeter.cli import main; main()",
                "batch",
                str(source),
                "-m",
                MODEL,
                "--engine",
                "ray",
                "--ray-address",
                address,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert job.returncode == 0, job.stderr[-2000:]
        summary = json.loads(job.stdout)
        assert summary["lines"] == 4 and summary["run"]["engine"] == "ray"
        assert head.poll() is None  # the cluster is still up: the job only disconnected
    finally:
        head.stdin.close()
        head.wait(timeout=60)
