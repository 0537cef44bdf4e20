"""Load models.yaml and resolve the many spellings of a model name to one registry entry."""

from __future__ import annotations

import difflib
import re
from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from vertexmeter.errors import VertexMeterError, invalid_argument, not_found

Api = Literal["vertex", "gemini"]
APIS: tuple[str, ...] = ("vertex", "gemini")


@dataclass(frozen=True)
class ModelInfo:
    id: str
    generation: str
    tokenizer: str
    input_token_limit: int
    output_token_limit: int
    modalities: tuple[str, ...]
    billed_by: str
    aliases: tuple[str, ...]
    sources: tuple[str, ...]
    confidence: str
    instance_schema: str | None = None

    @property
    def billed_by_characters(self) -> bool:
        return self.billed_by == "characters"

    @property
    def is_legacy(self) -> bool:
        """PaLM / Codey / embedding models, counted from `instances`."""
        return self.instance_schema is not None


@dataclass(frozen=True)
class CountOverhead:
    """Tokens the real countTokens adds beyond the raw text counts (docs/counting.md)."""

    per_request: int
    per_model_turn: int


@dataclass(frozen=True)
class _Registry:
    by_name: dict[str, ModelInfo]
    models: tuple[ModelInfo, ...]
    overheads: dict[tuple[str, str], CountOverhead]


@cache
def _registry() -> _Registry:
    raw = yaml.safe_load(resources.files("vertexmeter.registry").joinpath("models.yaml").read_text("utf-8"))
    models: list[ModelInfo] = []
    by_name: dict[str, ModelInfo] = {}
    for entry in raw["models"]:
        info = ModelInfo(
            id=entry["id"],
            generation=str(entry["generation"]),
            tokenizer=entry["tokenizer"],
            input_token_limit=int(entry["input_token_limit"]),
            output_token_limit=int(entry["output_token_limit"]),
            modalities=tuple(entry["modalities"]),
            billed_by=entry["billed_by"],
            aliases=tuple(entry.get("aliases") or ()),
            sources=tuple(str(s) for s in entry.get("sources") or ()),
            confidence=entry["confidence"],
            instance_schema=entry.get("instance_schema"),
        )
        models.append(info)
        for name in (info.id, *info.aliases):
            if name in by_name:
                raise ValueError(f"models.yaml: {name!r} is listed twice")
            by_name[name] = info
    overheads = {
        (str(gen), api): CountOverhead(int(rule["per_request"]), int(rule["per_model_turn"]))
        for gen, per_api in raw["count_overheads"].items()
        for api, rule in per_api.items()
    }
    for info in models:
        for api in APIS:
            if (info.generation, api) not in overheads:
                raise ValueError(f"models.yaml: no count_overheads for generation {info.generation} / {api}")
    return _Registry(by_name, tuple(models), overheads)


def all_models() -> tuple[ModelInfo, ...]:
    return _registry().models


def overhead_for(model: ModelInfo, api: str) -> CountOverhead:
    return _registry().overheads[(model.generation, api)]


# Resource-name prefixes the REST surface and the SDKs put in front of a model id.
_PREFIXES = (
    re.compile(r"^projects/[^/]+/locations/[^/]+/publishers/[^/]+/models/"),
    re.compile(r"^publishers/[^/]+/models/"),
    re.compile(r"^models/"),
)
# Version suffixes that name a snapshot of a model the registry lists once.
VERSION_SUFFIXES = (
    re.compile(r"@\d+$"),
    re.compile(r"-\d{3}$"),
    re.compile(r"-latest$"),
    re.compile(r"-preview-\d{2}-\d{2,4}$"),
    re.compile(r"-exp-\d{4}$"),
)


def bare_model_name(name: str) -> str:
    """`projects/p/locations/l/publishers/google/models/x@001` -> `x@001`."""
    for prefix in _PREFIXES:
        name = prefix.sub("", name, count=1)
    return name


def match_version(
    bare: str, known: Container[str], suffixes: Sequence[re.Pattern[str]] = VERSION_SUFFIXES
) -> str | None:
    """`bare`, or `bare` with version suffixes stripped one at a time: the first spelling in `known`."""
    candidate = bare
    while candidate not in known:
        for suffix in suffixes:
            shorter = suffix.sub("", candidate)
            if shorter != candidate:
                candidate = shorter
                break
        else:
            return None
    return candidate


def resolve(name: str, *, api: str = "vertex", api_version: str | None = None) -> ModelInfo:
    """The registry entry for any accepted spelling of a model name; NOT_FOUND names the closest ones.

    `api_version` (v1, v1beta, …) only shapes the Gemini API's NOT_FOUND message, as the service does.
    """
    if api not in APIS:
        raise invalid_argument(f"Unknown API dialect {api!r}; expected one of: {', '.join(APIS)}.")
    if not isinstance(name, str) or not name.strip():
        raise invalid_argument("A model name is required.", "model")
    registry = _registry()
    bare = bare_model_name(name.strip())
    found = match_version(bare, registry.by_name)
    if found is None:
        raise _unknown_model(name.strip(), bare, api, api_version or "v1beta")
    return registry.by_name[found]


def _unknown_model(full: str, bare: str, api: str, api_version: str) -> VertexMeterError:
    known = sorted(registry_name for registry_name in _registry().by_name)
    close = difflib.get_close_matches(bare, known, n=3, cutoff=0.5)
    hint = f" Closest known models: {', '.join(close)}." if close else ""
    hint += " Run `vertexmeter models` for the full list."
    if api == "gemini":
        return not_found(
            f"models/{bare} is not found for API version {api_version}, or is not supported for countTokens. "
            f"Call ListModels to see the list of available models and their supported methods.{hint}"
        )
    resource = full if full.startswith(("projects/", "publishers/")) else f"publishers/google/models/{bare}"
    return not_found(
        f"Publisher Model `{resource}` was not found or your project does not have access to it. "
        "Please ensure you are using a valid model version. For more information, see: "
        f"https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions.{hint}"
    )
