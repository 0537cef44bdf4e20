"""The model registry: which tokenizer, limits and counting rules each model has (data in models.yaml)."""

from vertexmeter.registry.models import (
    APIS,
    CountOverhead,
    ModelInfo,
    all_models,
    bare_model_name,
    match_version,
    overhead_for,
    resolve,
)

__all__ = [
    "APIS",
    "CountOverhead",
    "ModelInfo",
    "all_models",
    "bare_model_name",
    "match_version",
    "overhead_for",
    "resolve",
]
