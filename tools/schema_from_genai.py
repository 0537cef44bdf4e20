"""Write vertexmeter/requests/genai_schema.json: the request messages as the installed google-genai declares them.

Every pydantic model reachable from the request roots (Content, Tool, ToolConfig, GenerationConfig,
SafetySetting, ...) becomes a message: its fields as (camelCase JSON name, kind, repeated), in the
parser's vocabulary (vertexmeter/requests/schema.py). Enums keep their value names. The parser takes the
union of this file and the REST facts schema.py lists by hand, so a field a new SDK release adds is accepted
once this file is regenerated, and tests/test_schema_genai.py fails until it is:

    python tools/schema_from_genai.py > vertexmeter/requests/genai_schema.json
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
import typing
from importlib.metadata import version
from typing import Any

import pydantic
from google.genai import types as genai

# The SDK models whose fields a request body carries on the wire.
ROOTS = (
    "Content",
    "Tool",
    "ToolConfig",
    "GenerationConfig",
    "SafetySetting",
    "FunctionDeclaration",
    "Schema",
)
# SDK-only conveniences that are not wire fields.
SKIP_FIELDS = {("Part", "media_processing")}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _unwrap(annotation: Any) -> Any:
    """Optional[X] -> X."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else Any
    return annotation


def kind_of(annotation: Any, messages: dict[str, Any], enums: dict[str, list[str]]) -> tuple[str, bool]:
    """(kind, repeated) of one field annotation."""
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin is list:
        (item,) = typing.get_args(annotation)
        kind, _ = kind_of(item, messages, enums)
        return kind, True
    if origin is dict:
        _, value = typing.get_args(annotation)
        value = _unwrap(value)
        if isinstance(value, type) and issubclass(value, pydantic.BaseModel):
            messages.setdefault(value.__name__, value)
            return f"map:{value.__name__}", False
        return "struct", False
    if isinstance(annotation, type):
        if issubclass(annotation, pydantic.BaseModel):
            messages.setdefault(annotation.__name__, annotation)
            return annotation.__name__, False
        if issubclass(annotation, enum.Enum):
            enums[annotation.__name__] = [str(member.value) for member in annotation]
            return f"enum:{annotation.__name__}", False
        if annotation is bool:
            return "bool", False
        if annotation is int:
            return "int64", False
        if annotation is float:
            return "double", False
        if annotation is str:
            return "string", False
        if annotation is bytes:
            return "bytes", False
        if annotation in (dt.datetime, dt.date):
            return "string", False
    return "value", False


def walk() -> tuple[dict[str, dict[str, list[Any]]], dict[str, list[str]]]:
    """(message -> field -> [kind, repeated], enum -> names) of every model reachable from ROOTS."""
    messages: dict[str, Any] = {name: getattr(genai, name) for name in ROOTS}
    enums: dict[str, list[str]] = {}
    out: dict[str, dict[str, list[Any]]] = {}
    done: set[str] = set()
    while len(done) < len(messages):
        for name in sorted(set(messages) - done):
            done.add(name)
            fields: dict[str, list[Any]] = {}
            for field_name, info in messages[name].model_fields.items():
                if (name, field_name) in SKIP_FIELDS:
                    continue
                kind, repeated = kind_of(info.annotation, messages, enums)
                fields[camel(field_name)] = [kind, repeated]
            out[name] = fields
    return out, enums


def main() -> None:
    out, enums = walk()
    document = {
        "google_genai_version": version("google-genai"),
        "messages": {name: out[name] for name in sorted(out)},
        "enums": {name: enums[name] for name in sorted(enums)},
    }
    print(json.dumps(document, indent=1, sort_keys=False))


if __name__ == "__main__":
    main()
