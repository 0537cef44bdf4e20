"""Reading the packaged data files (models.yaml, accounting.yaml, rules.yaml, catalogue.yaml): one loader,
and the user cache directory every part shares.

The YAML files stay the one source. Every process start reads models.yaml and accounting.yaml, and
importing and running PyYAML is ~15 ms of a ~20 ms interpreter start, so the parsed data is also kept
as JSON in the user cache, under the XXH3-128 hash of the YAML bytes: a changed file gets a new entry, a
damaged or unreadable entry is parsed again from the YAML, and a cache that cannot be written (a
read-only home) only costs the parse. Data that JSON would not give back equal is never cached.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from importlib import import_module
from pathlib import Path
from typing import Any

import xxhash

from vertexmeter.paths import CACHE_DIR_ENV as CACHE_DIR_ENV  # re-exported: tests and docs name it here
from vertexmeter.paths import cache_root


def cache_dir() -> Path:
    """vertexmeter's user cache: $VERTEXMETER_CACHE_DIR, else $XDG_CACHE_HOME/vertexmeter (~/.cache/vertexmeter)."""
    return Path(cache_root())


def load_yaml_text(text: str) -> Any:
    """YAML text as data, with libyaml's safe loader when PyYAML has it (same data, several times faster)."""
    import yaml  # here: a warm start never needs it

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader


def package_path(package: str, *parts: str) -> Path:
    """A file shipped inside one of vertexmeter's packages (an installed directory: the C core rules
    out zip imports). Not importlib.resources: importing it costs ~5 ms of every start."""
    module_file = import_module(package).__file__
    if module_file is None:
        raise FileNotFoundError(f"{package} is not a regular package")
    return Path(module_file).parent.joinpath(*parts)


def load_yaml(package: str, name: str) -> Any:
    """The YAML file `name` shipped in `package` (e.g. "vertexmeter.registry", "models.yaml")."""
    raw = package_path(package, name).read_bytes()
    entry = cache_dir() / "data" / f"{package}.{name}.{xxhash.xxh3_128_hexdigest(raw)}.json"
    try:
        return json.loads(entry.read_bytes(), object_hook=_revive)
    except (OSError, ValueError):
        pass
    data = load_yaml_text(raw.decode("utf-8"))
    _store(entry, data)
    return data


def _store(entry: Path, data: Any) -> None:
    try:
        text = json.dumps(data, default=_encode, ensure_ascii=False)
    except (TypeError, ValueError):
        return
    if json.loads(text, object_hook=_revive) != data:  # e.g. non-string keys: keep parsing the YAML
        return
    import tempfile  # here: only a cold start writes

    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=entry.parent, delete=False) as handle:
            handle.write(text)
        os.replace(handle.name, entry)  # atomic: a concurrent reader sees the old entry or the whole new one
    except OSError:
        return


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not cached")


def _revive(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$date" in obj:
            return dt.date.fromisoformat(obj["$date"])
        if "$datetime" in obj:
            return dt.datetime.fromisoformat(obj["$datetime"])
    return obj
