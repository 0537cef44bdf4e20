"""The packaged YAML data and its parsed cache: the cache gives the YAML's own data back, or is not used."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import yaml

from vertexmeter import datafiles, paths

FILES = [
    ("vertexmeter.registry", "models.yaml"),
    ("vertexmeter.registry", "accounting.yaml"),
    ("vertexmeter.media", "rules.yaml"),
]


def parsed(package: str, name: str) -> object:
    return yaml.safe_load(resources.files(package).joinpath(name).read_text("utf-8"))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(paths.CACHE_DIR_ENV, str(tmp_path))
    return tmp_path / "data"


@pytest.mark.parametrize(("package", "name"), FILES)
def test_cold_and_warm_loads_equal_the_yaml(cache: Path, package: str, name: str) -> None:
    expected = parsed(package, name)
    assert datafiles.load_yaml(package, name) == expected  # cold: parsed, then stored
    entries = list(cache.glob(f"{package}.{name}.*.json"))
    assert len(entries) == 1
    assert datafiles.load_yaml(package, name) == expected  # warm: from the entry


def test_a_damaged_entry_is_parsed_again(cache: Path) -> None:
    datafiles.load_yaml(*FILES[0])
    (entry,) = cache.glob("*.json")
    entry.write_text('{"models": [')  # truncated
    assert datafiles.load_yaml(*FILES[0]) == parsed(*FILES[0])
    json.loads(entry.read_text())  # and written whole again


def test_an_unwritable_cache_only_costs_the_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory would be")
    monkeypatch.setenv(paths.CACHE_DIR_ENV, str(blocker))
    assert datafiles.load_yaml(*FILES[0]) == parsed(*FILES[0])


def test_data_json_would_change_is_not_cached(cache: Path) -> None:
    entry = cache / "x.json"
    datafiles._store(entry, {1: "an int key"})  # JSON would give "1" back
    assert not entry.exists()
    datafiles._store(entry, {"since": dt.date(2025, 10, 1), "at": dt.datetime(2025, 10, 1, 12, 0)})
    assert json.loads(entry.read_text(), object_hook=datafiles._revive) == {
        "since": dt.date(2025, 10, 1),
        "at": dt.datetime(2025, 10, 1, 12, 0),
    }


def test_a_warm_start_never_imports_yaml(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom vertexmeter.cli import main\n"
        "sys.argv = ['vertexmeter', 'count', '-m', 'gemini-2.5-flash', 'hi']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('yaml' in sys.modules)"
    )
    env = {"VERTEXMETER_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        for _ in range(2)
    ]
    assert [run.stdout.split()[-1] for run in runs] == ["True", "False"]
    assert json.loads(runs[1].stdout[: runs[1].stdout.rindex("}") + 1])["totalTokens"] == 1
