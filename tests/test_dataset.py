"""The data set (models, counting rules, prices) updated without a release: `vertexmeter data status | update |
remove | export`. Installs go to a temporary data directory; URLs are served by a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vertexmeter.cli import main
from vertexmeter.datafiles import DATASET_FILES, export_bundle, packaged_dataset
from vertexmeter.paths import DATA_DIR_ENV

NEW_MODEL = """  - id: gemini-9-flash
    generation: "4"
    accounting_generation: "3"
    tokenizer: gemma4
    input_token_limit: 1048576
    output_token_limit: 65536
    modalities: [text]
    billed_by: tokens
    aliases: []
    sources: [S37]
    confidence: inferred
    confidence_reason: "a test model"
"""
NEW_PRICE = (
    "- {id: vertex.gemini-9-flash.input, api: vertex, models: [gemini-9-flash], charge: input, "
    "modality: any, mode: online, unit: per_1m_tokens, price: '9', effective_from: 2026-12-01, source: S37, "
    "confidence: secondary}\n"
)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv(DATA_DIR_ENV, str(folder))
    return folder


def bundle(version: str = "2099-01-01", date: str = "2099-01-01", edit: bool = True) -> dict[str, Any]:
    import datetime as dt

    data: dict[str, Any] = json.loads(export_bundle(version, dt.date.fromisoformat(date), "test"))
    if edit:
        models = data["files"]["registry/models.yaml"]
        models["text"] = models["text"].replace("models:\n", "models:\n" + NEW_MODEL, 1)
        catalogue = data["files"]["pricing/catalogue.yaml"]
        catalogue["text"] = (
            catalogue["text"]
            .replace(
                "- {id: gemini-4-argon, registry: true,",
                "- {id: gemini-9-flash, registry: true, billing: tokens, released: 2026-12-01}\n"
                "- {id: gemini-4-argon, registry: true,",
                1,
            )
            .replace("# END generated from peers: entries\n", "# END generated from peers: entries\n" + NEW_PRICE, 1)
        )
        for entry in data["files"].values():
            entry["sha256"] = hashlib.sha256(entry["text"].encode()).hexdigest()
    return data


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data), "utf-8")
    return path


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["data", *args])


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """A fresh process: the registry and catalogue are read from disk, not from this process's caches."""
    return subprocess.run(
        [sys.executable, "-m", "vertexmeter", *args], capture_output=True, text=True, check=False, env=os.environ.copy()
    )


def test_status_of_the_packaged_set(data_dir: Path) -> None:
    result = cli("status")
    status = json.loads(result.stdout)
    assert result.exit_code == 0
    assert (status["version"], status["source"]) == (packaged_dataset()["version"], "packaged")
    assert status["age_days"] >= 0 and "installed_from" not in status
    assert json.loads(cli().stdout) == status  # `vertexmeter data` alone is the status
    assert "packaged" in cli("status", "--human").stdout


def test_a_newer_set_round_trips_through_install_and_remove(data_dir: Path, tmp_path: Path) -> None:
    assert run("count", "-m", "gemini-9-flash", "hi").returncode == 1  # unknown before
    path = write(tmp_path / "set.json", bundle())
    result = cli("update", str(path))
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert (status["version"], status["date"], status["source"]) == ("2099-01-01", "2099-01-01", "installed")
    assert status["installed_from"] == str(path) and status["location"] == str(data_dir / "dataset")
    for relative in DATASET_FILES.values():
        assert (data_dir / "dataset" / relative).exists()
    counted = run("count", "-m", "gemini-9-flash", "Why is the sky blue?")
    assert counted.returncode == 0, counted.stderr
    assert json.loads(counted.stdout)["totalTokens"] == 6 and "inferred" in counted.stderr
    priced = run("price", "-m", "gemini-9-flash", "--date", "2026-12-06")
    assert priced.returncode == 0 and '"9"' in priced.stdout
    assert json.loads(run("data", "status").stdout)["source"] == "installed"
    removed = cli("remove")
    assert json.loads(removed.stdout)["removed"] is True and json.loads(removed.stdout)["source"] == "packaged"
    assert not (data_dir / "dataset").exists()
    assert run("count", "-m", "gemini-9-flash", "hi").returncode == 1
    assert json.loads(cli("remove").stdout)["removed"] is False


def test_an_older_or_equal_set_is_refused(data_dir: Path, tmp_path: Path) -> None:
    packaged = packaged_dataset()
    for version, date in (("2020-01-01", "2020-01-01"), (packaged["version"], packaged["date"])):
        result = cli("update", str(write(tmp_path / "old.json", bundle(version, date, edit=False))))
        error = json.loads(result.stderr)["error"]
        assert result.exit_code == 1 and error["status"] == "FAILED_PRECONDITION"
        assert "is not newer than the one in force" in error["message"]
    assert not (data_dir / "dataset").exists()
    assert cli("update", str(write(tmp_path / "new.json", bundle()))).exit_code == 0
    again = cli("update", str(tmp_path / "new.json"))  # now the installed set is the one to beat
    assert again.exit_code == 1 and "2099-01-01 of 2099-01-01, installed" in again.stderr


def corrupt(data: dict[str, Any], how: str) -> dict[str, Any] | bytes:
    if how == "not json":
        return b"{not json"
    if how == "tampered text":
        data["files"]["pricing/catalogue.yaml"]["text"] += "# edited after hashing\n"
    elif how == "missing file":
        del data["files"]["registry/accounting.yaml"]
    elif how == "wrong format":
        data["format"] = "something-else"
    elif how == "no date":
        del data["date"]
    elif how in ("broken models", "broken catalogue", "unknown registry model"):
        relative, old, new = {
            "broken models": ("registry/models.yaml", 'confidence_reason: "a test model"', ""),
            "broken catalogue": ("pricing/catalogue.yaml", "price: '9'", "price: 9.5"),
            "unknown registry model": ("registry/models.yaml", "  - id: gemini-9-flash", "  - id: gemini-9-flash-x"),
        }[how]
        entry = data["files"][relative]
        entry["text"] = entry["text"].replace(old, new, 1)
        entry["sha256"] = hashlib.sha256(entry["text"].encode()).hexdigest()
    return data


@pytest.mark.parametrize(
    ("how", "says"),
    [
        ("not json", "it is not JSON"),
        ("tampered text", "pricing/catalogue.yaml's SHA-256 is"),
        ("missing file", "`files` must hold exactly"),
        ("wrong format", "`format` is not"),
        ("no date", "needs a `version` and a `date`"),
        ("broken models", "needs a confidence_reason"),
        ("broken catalogue", "price catalogue does not load"),
        ("unknown registry model", "registry does not list: gemini-9-flash"),
    ],
)
def test_a_corrupted_set_is_refused_with_a_clear_message(data_dir: Path, tmp_path: Path, how: str, says: str) -> None:
    data = corrupt(bundle(), how)
    path = tmp_path / "bad.json"
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    result = cli("update", str(path))
    assert result.exit_code == 1
    error = json.loads(result.stderr)["error"]
    assert error["status"] == "INVALID_ARGUMENT" and says in error["message"], error["message"]
    assert not (data_dir / "dataset").exists()


def test_a_missing_file_is_a_clear_error(data_dir: Path, tmp_path: Path) -> None:
    result = cli("update", str(tmp_path / "nothing.json"))
    assert result.exit_code == 1 and "Could not read the data set" in json.loads(result.stderr)["error"]["message"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on loopback serving tmp_path."""
    handler = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(tmp_path)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_set_from_a_url_is_hash_verified(data_dir: Path, tmp_path: Path, server: str) -> None:
    path = write(tmp_path / "set.json", bundle())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    wrong = cli("update", f"{server}/set.json", "--sha256", "0" * 64)
    assert wrong.exit_code == 1 and f"its SHA-256 is {digest}" in json.loads(wrong.stderr)["error"]["message"]
    missing = cli("update", f"{server}/nothing.json")
    assert missing.exit_code == 1 and "Could not download" in missing.stderr
    result = cli("update", f"{server}/set.json", "--sha256", digest.upper())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["installed_from"] == f"{server}/set.json"


@pytest.mark.parametrize("damaged", ["registry/models.yaml", "pricing/catalogue.yaml"])
def test_an_installed_set_damaged_later_is_set_aside_whole(data_dir: Path, tmp_path: Path, damaged: str) -> None:
    assert cli("update", str(write(tmp_path / "set.json", bundle()))).exit_code == 0
    with open(data_dir / "dataset" / damaged, "a", encoding="utf-8") as handle:
        handle.write("# edited by hand\n")
    status = json.loads(run("data", "status").stdout)
    assert status["source"] == "packaged"
    assert status["installed_set_ignored"] == [f"{damaged} is missing or does not match its SHA-256"]
    # never the models of one set with the prices of another: the packaged models are read too
    assert run("count", "-m", "gemini-9-flash", "hi").returncode == 1
    assert run("count", "-m", "gemini-2.5-flash", "hi").returncode == 0


def test_an_installed_set_older_than_the_package_is_not_read(data_dir: Path) -> None:
    (data_dir / "dataset").mkdir(parents=True)
    (data_dir / "dataset" / "manifest.json").write_text(
        json.dumps(
            {
                "format": "vertexmeter-data",
                "format_version": 1,
                "version": "2020-01-01",
                "date": "2020-01-01",
                "files": {},
            }
        ),
        "utf-8",
    )
    status = json.loads(run("data", "status").stdout)
    assert status["source"] == "packaged"
    assert status["installed_set_ignored"] == ["it (2020-01-01 of 2020-01-01) is not newer than the packaged set"]


def test_export_writes_a_bundle_update_accepts(data_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "exported.json"
    result = CliRunner().invoke(
        main, ["data", "export", str(target), "--version", "2099-02-01", "--date", "2099-02-01"]
    )
    assert result.exit_code == 0
    assert json.loads(cli("update", str(target)).stdout)["version"] == "2099-02-01"
