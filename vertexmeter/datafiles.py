"""Reading the packaged data files (models.yaml, accounting.yaml, rules.yaml, catalogue.yaml): one loader,
and the user cache directory every part shares.

Models, counting rules and prices also form one versioned data set (dataset.json: its version and date) that
can be updated without a release: `vertexmeter data update` installs a newer, hash-verified set in the user's
data directory, and the loader then reads those three files from there (see "The data set" below).

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

from vertexmeter.paths import cache_root, data_root, installed_manifest


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
    """The YAML file `name` shipped in `package` (e.g. "vertexmeter.registry", "models.yaml"), or the
    installed data set's copy when a newer, intact one is installed."""
    raw = data_bytes(package, name)
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


# ---- the data set --------------------------------------------------------------------------------------------
# One JSON bundle carries the three files with their SHA-256; `vertexmeter data update` checks it (format, hashes,
# content, newer than the set in force) and installs it in <data dir>/dataset/ (manifest.json + the files).
# A set whose files no longer match their hashes is ignored whole (the packaged one is used); `data status` says why.
DATASET_FORMAT = "vertexmeter-data"
DATASET_FILES: dict[tuple[str, str], str] = {
    ("vertexmeter.registry", "models.yaml"): "registry/models.yaml",
    ("vertexmeter.registry", "accounting.yaml"): "registry/accounting.yaml",
    ("vertexmeter.pricing", "catalogue.yaml"): "pricing/catalogue.yaml",
}


def _sha256(raw: bytes) -> str:
    import hashlib

    return hashlib.sha256(raw).hexdigest()


def packaged_dataset() -> dict[str, Any]:
    """dataset.json: the packaged set's format, version and date."""
    data: dict[str, Any] = json.loads(package_path("vertexmeter", "dataset.json").read_text("utf-8"))
    return data


def _installed() -> dict[str, Any] | None:
    """The installed set's manifest when it is newer than the packaged set and every file still matches its
    SHA-256, else None: a set is read whole or not at all (never models of one set with prices of another). An
    older set is left on disk but not read (a package upgrade brought newer data). Checked once per process."""
    return _verdict()[0]


def _verdict() -> tuple[dict[str, Any] | None, tuple[str, ...]]:
    where = installed_manifest()
    if where not in _checked:
        problems: list[str] = []
        _checked[where] = (_check_installed(where, problems), tuple(dict.fromkeys(problems)))
    return _checked[where]


# manifest path -> (the manifest in force or None, why an installed set is not read), until an install or removal
_checked: dict[str, tuple[dict[str, Any] | None, tuple[str, ...]]] = {}


def _check_installed(where: str, problems: list[str]) -> dict[str, Any] | None:
    try:
        with open(where, "rb") as handle:
            manifest: dict[str, Any] = json.loads(handle.read())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        problems.append("its manifest cannot be read")
        return None
    try:
        if not is_newer(manifest, packaged_dataset()):
            problems.append(f"it ({manifest['version']} of {manifest['date']}) is not newer than the packaged set")
            return None
        # XXH3-128, written at install beside the SHA-256 the bundle was checked with: ~1 ms for every start
        expected = {relative: manifest["files"][relative]["xxh3_128"] for relative in DATASET_FILES.values()}
    except (KeyError, TypeError, ValueError):
        problems.append("its manifest is malformed")
        return None
    for relative, digest in expected.items():
        try:
            intact = xxhash.xxh3_128_hexdigest(Path(where).parent.joinpath(relative).read_bytes()) == digest
        except OSError:
            intact = False
        if not intact:
            problems.append(f"{relative} is missing or does not match its SHA-256")
    return None if problems else manifest


def _forget() -> None:
    _checked.clear()


def data_bytes(package: str, name: str) -> bytes:
    """The bytes of a data file: the installed set's copy when one is in force, else the package's."""
    relative = DATASET_FILES.get((package, name))
    if relative is not None and _installed() is not None:
        try:
            return Path(data_root(), "dataset", relative).read_bytes()
        except OSError:
            pass  # removed since it was checked: the package's
    return package_path(package, name).read_bytes()


def dataset_key(data: dict[str, Any]) -> tuple[dt.date, str]:
    """What orders data sets: their date, then their version string."""
    return dt.date.fromisoformat(str(data["date"])), str(data["version"])


def is_newer(data: dict[str, Any], than: dict[str, Any]) -> bool:
    return dataset_key(data) > dataset_key(than)


def dataset_in_force() -> dict[str, Any]:
    """The data set every load reads: version, date, age, where it was loaded from, and any problem."""
    manifest, problems = _verdict()
    chosen = manifest or packaged_dataset()
    date = dt.date.fromisoformat(str(chosen["date"]))
    out: dict[str, Any] = {
        "version": str(chosen["version"]),
        "date": date.isoformat(),
        "age_days": (dt.date.today() - date).days,
        "source": "installed" if manifest else "packaged",
        "location": str(Path(data_root(), "dataset")) if manifest else str(package_path("vertexmeter")),
    }
    if manifest:
        out["installed_from"] = manifest.get("installed_from")
        out["installed_at"] = manifest.get("installed_at")
    if problems:
        out["installed_set_ignored"] = list(problems)
    return out


def _bundle_error(message: str) -> Exception:
    from vertexmeter.errors import invalid_argument

    return invalid_argument(f"Not a usable vertexmeter data set: {message}.", "data_set")


def read_bundle(raw: bytes, expected_sha256: str | None = None) -> dict[str, Any]:
    """A data-set bundle checked for shape and hashes (not yet for content): the file's own SHA-256 against
    `expected_sha256` when given, every file's text against the SHA-256 the bundle names."""
    if expected_sha256 is not None and _sha256(raw) != expected_sha256.strip().lower():
        raise _bundle_error(f"its SHA-256 is {_sha256(raw)}, not the expected {expected_sha256.strip().lower()}")
    try:
        bundle = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bundle_error(f"it is not JSON ({exc})") from None
    if not isinstance(bundle, dict) or bundle.get("format") != DATASET_FORMAT:
        raise _bundle_error(f"its `format` is not {DATASET_FORMAT!r}")
    if bundle.get("format_version") != 1:
        raise _bundle_error(f"format_version {bundle.get('format_version')!r} is not 1 (a newer vertexmeter reads it)")
    try:
        dataset_key(bundle)
    except (KeyError, TypeError, ValueError):
        raise _bundle_error("it needs a `version` and a `date` (YYYY-MM-DD)") from None
    files = bundle.get("files")
    if not isinstance(files, dict) or set(files) != set(DATASET_FILES.values()):
        raise _bundle_error(f"`files` must hold exactly {', '.join(sorted(DATASET_FILES.values()))}")
    for relative, entry in sorted(files.items()):
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str) or "sha256" not in entry:
            raise _bundle_error(f"{relative} needs `text` and `sha256`")
        actual = _sha256(entry["text"].encode("utf-8"))
        if actual != entry["sha256"]:
            raise _bundle_error(f"{relative}'s SHA-256 is {actual}, not the {entry['sha256']} the bundle names")
    return bundle


def install_bundle(bundle: dict[str, Any], source: str) -> dict[str, Any]:
    """Install a checked bundle (read_bundle, then its content validated by the caller) in the user's data
    directory; refused unless it is newer than the set in force. Returns the new `dataset_in_force()`."""
    from vertexmeter.errors import failed_precondition

    current = dataset_in_force()
    if not is_newer(bundle, current):
        raise failed_precondition(
            f"The data set {bundle['version']} of {bundle['date']} is not newer than the one in force "
            f"({current['version']} of {current['date']}, {current['source']}); nothing was installed.",
            "data_set",
        )
    import shutil
    import tempfile

    root = Path(data_root())
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".dataset-", dir=root))
    for relative, entry in bundle["files"].items():
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(entry["text"].encode("utf-8"))
    manifest = {key: value for key, value in bundle.items() if key != "files"}
    manifest["files"] = {
        relative: {"sha256": entry["sha256"], "xxh3_128": xxhash.xxh3_128_hexdigest(entry["text"].encode("utf-8"))}
        for relative, entry in bundle["files"].items()
    }
    manifest["installed_from"] = source
    manifest["installed_at"] = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
    final = root / "dataset"
    retired = root / ".dataset-old"
    shutil.rmtree(retired, ignore_errors=True)
    if final.exists():
        os.replace(final, retired)
    os.replace(staging, final)  # a reader sees the old set or the whole new one
    shutil.rmtree(retired, ignore_errors=True)
    _forget()
    return dataset_in_force()


def remove_installed() -> bool:
    """Remove the installed data set (the packaged one is used again); False when none was installed."""
    import shutil

    final = Path(data_root(), "dataset")
    if not final.exists():
        return False
    shutil.rmtree(final)
    _forget()
    return True


def export_bundle(version: str, date: dt.date, description: str = "") -> bytes:
    """The data set in force as a bundle labelled `version` / `date` (to publish an edited set, or to test)."""
    files = {}
    for (package, name), relative in sorted(DATASET_FILES.items(), key=lambda item: item[1]):
        text = data_bytes(package, name).decode("utf-8")
        files[relative] = {"sha256": _sha256(text.encode("utf-8")), "text": text}
    bundle = {
        "format": DATASET_FORMAT,
        "format_version": 1,
        "version": version,
        "date": date.isoformat(),
        "description": description,
        "files": files,
    }
    return json.dumps(bundle, ensure_ascii=False, indent=1).encode("utf-8")
