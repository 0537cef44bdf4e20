"""Reading the packaged data files (models.yaml, accounting.yaml, rules.yaml, catalogue.yaml): one loader.

libyaml's safe loader when PyYAML has it (parses these files 4-10x faster than the pure-Python one: every
process start reads models.yaml), else PyYAML's own safe loader; both build the same data.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml_text(text: str) -> Any:
    return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader


def load_yaml(package: str, name: str) -> Any:
    """The YAML file `name` shipped in `package` (e.g. "vertexmeter.registry", "models.yaml")."""
    return load_yaml_text(resources.files(package).joinpath(name).read_text("utf-8"))
