"""The registry's shipped data files, for tests that change a rule and build a registry from it."""

from __future__ import annotations

import copy
from typing import Any

from vertexmeter.datafiles import load_yaml


def shipped_data() -> tuple[dict[str, Any], dict[str, Any]]:
    """(models.yaml, a deep copy of accounting.yaml) as shipped: the rules are the caller's to change."""
    models = load_yaml("vertexmeter.registry", "models.yaml")
    return models, copy.deepcopy(load_yaml("vertexmeter.registry", "accounting.yaml"))
