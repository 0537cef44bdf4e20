"""The model registry: which tokenizer, limits and counting rules each model has (models.yaml, accounting.yaml)."""

from vertexmeter.registry.models import (
    APIS,
    CALLS,
    Accounting,
    FunctionHistory,
    ModelInfo,
    TokenizerEra,
    ToolTemplate,
    accounting_for,
    all_models,
    bare_model_name,
    match_version,
    resolve,
    tokenizer_for,
    tokenizer_history,
)

__all__ = [
    "APIS",
    "CALLS",
    "Accounting",
    "FunctionHistory",
    "ModelInfo",
    "TokenizerEra",
    "ToolTemplate",
    "accounting_for",
    "all_models",
    "bare_model_name",
    "match_version",
    "resolve",
    "tokenizer_for",
    "tokenizer_history",
]
