"""Ctrl-C on a real `vertexmeter batch`: the whole process group gets SIGINT, as from a terminal. The driver
alone acts on it: it stops its workers, keeps every checkpointed chunk, exits promptly with no process
left behind, and `--resume` then finishes the job to exactly the uninterrupted run's results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.batch.batch_helpers import distinct_requests, write_lines

MODEL = "gemini-2.5-flash"
BATCH = [sys.executable, "-c", "from vertexmeter.cli import main; main()", "batch"]
LINES = 30_000  # a few seconds of work for two workers
MOMENTS = [0.2 + 0.35 * i for i in range(8)]  # seconds after the start: start-up, warm-up, mid-job, near the end


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BATCH, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _summary(stdout: str) -> dict[str, Any]:
    summary = json.loads(stdout)
    summary.pop("run")
    return summary


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("interrupt")
    requests = distinct_requests(300)
    lines = [json.dumps({"key": f"k{i}", "request": requests[i % len(requests)]}) for i in range(LINES)]
    lines[7_777] = "{not json"
    lines[12_000:12_050] = [""] * 50
    source = write_lines(folder / "in.jsonl", lines)
    whole = _run([str(source), "-m", MODEL, "-o", str(folder / "whole.jsonl"), "--workers", "2"], folder)
    assert whole.returncode == 1, whole.stderr  # one refused line
    return source, (folder / "whole.jsonl").read_bytes(), _summary(whole.stdout)


@pytest.mark.parametrize("moment", MOMENTS, ids=[f"{m:.2f}s" for m in MOMENTS])
def test_ctrl_c_stops_at_once_and_resume_completes_the_same_job(
    moment: float, job: tuple[Path, bytes, dict[str, Any]], tmp_path: Path
) -> None:
    source, whole, whole_summary = job
    out = tmp_path / "results.jsonl"
    args = [str(source), "-m", MODEL, "-o", str(out), "--workers", "2"]
    proc = subprocess.Popen(
        [*BATCH, *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, signalled whole as a terminal's Ctrl-C is
    )
    time.sleep(moment)
    children = _children(proc.pid)
    sent = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"vertexmeter batch still running 10 s after SIGINT at {moment:.2f} s")
    took = time.monotonic() - sent
    assert took < 10, took
    # 130: interrupted (no traceback); -2: still importing, Python's own exit; 0/1: it had finished already
    assert proc.returncode in (130, -signal.SIGINT, 0, 1), (proc.returncode, stderr[-2000:])
    if proc.returncode == 130:
        assert "Traceback" not in stderr and "--resume" in stderr, stderr[-2000:]
    time.sleep(0.2)
    assert not [pid for pid in children if _alive(pid)], "a worker outlived the driver"
    assert not _children(proc.pid)
    resumed = _run([*args, "--resume"], tmp_path)
    assert resumed.returncode == 1, resumed.stderr[-2000:]
    assert out.read_bytes() == whole
    assert _summary(resumed.stdout) == whole_summary
