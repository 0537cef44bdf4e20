"""The one door for what callers pass: whatever it is, a plain JSON-able request body comes out.

- `str` (or a list of them) is user text, as google-genai reads `contents="…"`: one user turn (for a
  legacy PaLM / Codey / embedding model, one instance per text in the model's own field);
- `bytes` are a JSON body as sent on the wire (decoded by `decode_json`, then read as below);
- a dict is recognised by shape: a request body (`contents`, `instances`, `systemInstruction`, …),
  one Content (`role` / `parts`) or one Part (`text`, `inlineData`, …);
- a list is google-genai's `contents`: Contents as they are, consecutive Parts / strings grouped into
  one turn (a user turn; a model turn for function calls), a nested list as one user turn;
- google-genai `types` objects are accepted anywhere inside (they are dumped to their REST JSON);
- `config` is google-genai's GenerateContentConfig or CountTokensConfig (or a dict of either): read as
  generate_content reads it (request fields join the body, generation fields gather in generationConfig).

Anything else (sets, NaN floats, objects of unknown types, lone surrogates, nesting beyond Google's
limit, cycles) is refused with INVALID_ARGUMENT and the field path, before any parsing work.
"""

from __future__ import annotations

import base64
import difflib
import math
from collections.abc import Iterable
from typing import Any

from vertexmeter.errors import invalid_argument
from vertexmeter.registry import ModelInfo
from vertexmeter.requests.decode import MAX_DEPTH, decode_json, has_lone_surrogate, too_deep
from vertexmeter.requests.prompt import INSTANCE_TEXT_FIELDS
from vertexmeter.requests.schema import MESSAGES, snake_case

_BODY_MESSAGES = (
    "VertexCountTokensRequest",
    "VertexComputeTokensRequest",
    "GeminiCountTokensRequest",
    "GenerateContentRequest",
    "VertexGenerateContentRequest",
    "EmbedContentRequest",
    "BatchEmbedContentsRequest",
)
BODY_KEYS = frozenset(
    name for message in _BODY_MESSAGES for f in MESSAGES[message].values() for name in (f.json_name, f.proto_name)
)
PART_KEYS = frozenset(name for f in MESSAGES["Part"].values() for name in (f.json_name, f.proto_name))
_CONTENT_KEYS = frozenset({"role", "parts"})
_FUNCTION_CALL_KEYS = ("functionCall", "function_call")
# google-genai's configs, read as generate_content reads them: request-level fields join the body, the
# GenerationConfig fields gather under generationConfig (CountTokensConfig nests them there itself); the
# client's own settings (transport, automatic function calling) change nothing the service counts or bills.
GENERATION_FIELDS = tuple(f.json_name for f in MESSAGES["GenerationConfig"].values())
REQUEST_FIELDS = tuple(
    dict.fromkeys(
        f.json_name
        for message in ("GenerateContentRequest", "VertexGenerateContentRequest")
        for f in MESSAGES[message].values()
        if f.json_name not in ("model", "contents", "generationConfig")
    )
)
# What a countTokens body carries of them: the rest (safety settings, tool config, labels, …) changes no count.
COUNT_FIELDS = ("systemInstruction", "tools", "generationConfig")
CONFIG_FIELDS = (*REQUEST_FIELDS, "generationConfig", *GENERATION_FIELDS)
_CONFIG_CLIENT = (
    "httpOptions",
    "shouldReturnHttpResponse",
    "automaticFunctionCalling",
    "automaticContinuation",
    "continuationToken",
    "generationOutputConfig",
)
_DOUBLE_BITS = 1024  # the largest double is just under 2**1024


def request_body(
    request: Any, model: ModelInfo, api: str = "vertex", *, config: Any = None, generate: bool = False
) -> dict[str, Any]:
    """`request` (text, a body, Contents, Parts, google-genai objects, JSON bytes) as a REST body dict.

    `config` (GenerateContentConfig, CountTokensConfig or a dict) joins it as generate_content sends it;
    `generate` says the body is a generateContent body (usage, estimate), else a countTokens body."""
    if isinstance(request, bytes | bytearray | memoryview):
        value = decode_json(request)
        if isinstance(value, str):  # a JSON string on the wire is not a message
            raise invalid_argument("Invalid JSON payload received. The request body must be a JSON object.", "request")
        body = decoded_body(value, model, api)
    else:
        body = _body_of(plain(request), model, api)
    if config is not None:
        body = _with_config(body, plain(config, "config"), model, api, generate)
    return body


def decoded_body(value: Any, model: ModelInfo, api: str = "vertex") -> dict[str, Any]:
    """A value straight from `decode_json` as a REST body dict. The decoder has already refused what
    `plain` refuses (lone surrogates, non-finite or oversized numbers, deep nesting) and made nothing but
    plain JSON, so the walk that copies and checks every node (~30 µs of a 2 KB request) is skipped."""
    return _body_of(value, model, api)


def texts_body(texts: list[str], model: ModelInfo, api: str = "vertex") -> dict[str, Any]:
    """User texts as a body: one user turn, or for a legacy model one instance per text."""
    if model.is_legacy and api == "vertex":
        return _legacy_texts(texts, model.instance_schema or "text")
    return {"contents": [{"role": "user", "parts": [{"text": text} for text in texts]}]}


def plain(value: Any, path: str = "") -> Any:
    """`value` as plain JSON data (dict / list / str / int / float / bool / None); bytes as base64 text.

    google-genai objects are dumped with their REST (camelCase) names. Iterative, bounded by MAX_DEPTH.
    Data that is plain JSON already (dicts, lists, strings, numbers: what json.loads gives) is returned
    as it is, after a check, not copied: the check costs a fifth of the copying walk, and nothing
    downstream writes to a request body.
    """
    if _is_plain(value, 0):
        return value
    root: list[Any] = [None]
    # (holder, key, value, path, depth): write the converted value into holder[key].
    stack: list[tuple[Any, Any, Any, str, int]] = [(root, 0, value, path, 0)]
    while stack:
        holder, key, item, path, depth = stack.pop()
        where = path or "request"
        if depth > MAX_DEPTH:
            raise too_deep()  # as decode_json says it: the same body gets the same answer as text or as objects
        item = _dumped(item)
        if item is None or isinstance(item, bool):
            holder[key] = item
        elif isinstance(item, int):
            if item.bit_length() > _DOUBLE_BITS:  # as decode_json: a JSON number is at most a double
                raise invalid_argument(
                    f"Invalid value at '{where}': a {item.bit_length()}-bit integer is out of range for a double.",
                    where,
                )
            holder[key] = item
        elif isinstance(item, bytes | bytearray | memoryview):  # proto3 JSON writes bytes as base64
            holder[key] = base64.b64encode(item).decode("ascii")
        elif isinstance(item, str):
            if has_lone_surrogate(item):
                raise invalid_argument(
                    f"Invalid value at '{where}': the text holds a lone UTF-16 surrogate, which is not Unicode "
                    "(undecodable bytes read with errors='surrogateescape' look like this).",
                    where,
                )
            holder[key] = item
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise invalid_argument(
                    f"Invalid value at '{where}': {item} is not a JSON number (proto3 JSON writes it as the string "
                    f'"{_special_name(item)}").',
                    where,
                )
            holder[key] = item
        elif isinstance(item, dict):
            out: dict[str, Any] = dict.fromkeys(item)  # keys in the caller's order (computeTokens lists in order)
            holder[key] = out
            for k, v in item.items():
                if not isinstance(k, str):
                    raise invalid_argument(f"Invalid key {k!r} at '{where}': JSON object keys are strings.", where)
                stack.append((out, k, v, f"{path}.{k}" if path else k, depth + 1))
        elif isinstance(item, list | tuple):
            items: list[Any] = [None] * len(item)
            holder[key] = items
            stack.extend((items, i, v, f"{path}[{i}]", depth + 1) for i, v in enumerate(item))
        else:
            raise invalid_argument(
                f"Invalid value at '{where}': a {type(item).__module__}.{type(item).__qualname__} is not JSON; "
                "pass text, a dict, a list or google-genai types.",
                where,
            )
    return root[0]


def _is_plain(value: Any, depth: int) -> bool:
    """Whether `plain` would give `value` back unchanged (and refuse nothing in it)."""
    kind = type(value)
    if kind is str:
        return not has_lone_surrogate(value)
    if kind is dict or kind is list:
        if depth >= MAX_DEPTH:
            return False
        # Loops, not all() over a generator, and an ASCII string (most values) tested in place: this walk visits
        # every node of every request, a tenth of an agent turn's usage time.
        items: Iterable[Any] = value
        if kind is dict:
            for k in value:
                if type(k) is not str:
                    return False
            items = value.values()
        for item in items:
            if type(item) is str:
                if not item.isascii() and has_lone_surrogate(item):
                    return False
            elif not _is_plain(item, depth + 1):
                return False
        return True
    if kind is int:
        return bool(value.bit_length() <= _DOUBLE_BITS)
    if kind is float:
        return math.isfinite(value)
    return value is None or kind is bool


def _special_name(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _dumped(obj: Any) -> Any:
    """A google-genai `types` object as its REST JSON; a `types.File` as the Part that refers to it."""
    if isinstance(obj, str | int | float | bytes | dict | list | tuple) or obj is None:
        return obj
    if type(obj).__name__ == "File" and getattr(obj, "uri", None) and getattr(obj, "mime_type", None):
        return {"fileData": {"fileUri": obj.uri, "mimeType": obj.mime_type}}
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json", exclude_none=True, by_alias=True)
        except Exception as error:  # pydantic's serializer refuses what is not JSON (e.g. a Python function)
            tools = getattr(obj, "tools", None)
            if isinstance(tools, list) and any(callable(tool) for tool in tools):
                return _dumped(obj.model_copy(update={"tools": [_declared(tool) for tool in tools]}))
            raise invalid_argument(
                f"Invalid value: a {type(obj).__name__} holds a value that is not JSON ({error}).", "request"
            ) from None
    return obj


def _declared(tool: Any) -> Any:
    """A Python function in `tools` as the FunctionDeclaration google-genai's automatic calling sends for it."""
    if not callable(tool) or hasattr(tool, "model_dump"):
        return tool
    from google.genai import types  # only reached with google-genai objects in hand

    try:
        declaration = types.FunctionDeclaration.from_callable_with_api_option(callable=tool)
    except Exception as error:
        name = getattr(tool, "__name__", type(tool).__name__)
        raise invalid_argument(
            f"Invalid value at 'config.tools': function {name} cannot be declared: {error}", "config.tools"
        ) from None
    return types.Tool(function_declarations=[declaration])


def _body_of(value: Any, model: ModelInfo, api: str) -> dict[str, Any]:
    if isinstance(value, str):
        return texts_body([value], model, api)
    if isinstance(value, list):
        if value and all(isinstance(item, str) for item in value):
            return texts_body(value, model, api)
        return {"contents": contents_of(value, "request")}
    if isinstance(value, dict):
        if not value or set(value) & BODY_KEYS:
            return value
        if _is_content(value):
            return {"contents": [value]}
        if set(value) <= PART_KEYS:
            return {"contents": contents_of([value], "request")}
        return value  # the parser names the unknown field, as Google does
    raise invalid_argument(
        "A request is text, a JSON object (a countTokens / computeTokens body), Contents or Parts; "
        f"got {type(value).__name__}.",
        "request",
    )


def _is_content(value: dict[str, Any]) -> bool:
    return "parts" in value and set(value) <= _CONTENT_KEYS


def contents_of(items: list[Any], path: str) -> list[dict[str, Any]]:
    """google-genai's t_contents on plain data: Contents kept, consecutive Parts grouped into one turn."""
    contents: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if pending:
            role = "model" if any(_is_function_call(p) for p in pending) else "user"
            contents.append({"role": role, "parts": list(pending)})
            pending.clear()

    for i, item in enumerate(items):
        if isinstance(item, list):
            flush()
            contents.append({"role": "user", "parts": [_part(p, f"{path}[{i}][{j}]") for j, p in enumerate(item)]})
        elif isinstance(item, dict) and (_is_content(item) or not item or not set(item) <= PART_KEYS):
            flush()
            contents.append(item)  # a Content (or something the parser will name as wrong)
        else:
            part = _part(item, f"{path}[{i}]")
            if pending and _is_function_call(part) != _is_function_call(pending[0]):
                flush()
            pending.append(part)
    flush()
    return contents


def _part(item: Any, path: str) -> dict[str, Any]:
    if isinstance(item, str):
        return {"text": item}
    if isinstance(item, dict):
        return item
    raise invalid_argument(f"Invalid value at '{path}': a part is text or a Part object.", path)


def _is_function_call(part: dict[str, Any]) -> bool:
    return any(key in part for key in _FUNCTION_CALL_KEYS)


def content_of(value: Any, path: str) -> Any:
    """google-genai's t_content: text, a Part or a list of Parts as one user Content; a Content as it is."""
    if isinstance(value, str):
        return {"role": "user", "parts": [{"text": value}]}
    if isinstance(value, list):
        return {"role": "user", "parts": [_part(p, f"{path}[{i}]") for i, p in enumerate(value)]}
    if isinstance(value, dict) and value and not _is_content(value) and set(value) <= PART_KEYS:
        return {"role": "model" if _is_function_call(value) else "user", "parts": [value]}
    return value


def _with_config(body: dict[str, Any], config: Any, model: ModelInfo, api: str, generate: bool) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise invalid_argument(
            "config is a GenerateContentConfig, a CountTokensConfig or a dict of their fields.", "config"
        )
    fields: dict[str, Any] = {}
    generation: dict[str, Any] = {}
    for key, value in config.items():
        name = _config_name(key)
        if name is None:
            known = [snake_case(n) for n in (*CONFIG_FIELDS, *_CONFIG_CLIENT)]
            close = difflib.get_close_matches(snake_case(key), known, n=3, cutoff=0.6)
            hint = f" Did you mean {' or '.join(close)}?" if close else ""
            raise invalid_argument(
                f'Unknown name "{key}" in config: it is no field of GenerateContentConfig or CountTokensConfig.{hint}',
                f"config.{key}",
            )
        if value is None or name in _CONFIG_CLIENT:
            continue
        if name == "generationConfig":
            if not isinstance(value, dict):
                raise invalid_argument("config.generation_config is a GenerationConfig.", "config.generation_config")
            for inner, inner_value in value.items():
                _put_once(generation, _generation_name(inner), inner_value, "config.generation_config")
        elif name in GENERATION_FIELDS:
            _put_once(generation, name, value, "config")
        else:
            fields[name] = content_of(value, "config.system_instruction") if name == "systemInstruction" else value
    if generation:
        fields["generationConfig"] = generation
    if not generate:
        fields = {name: value for name, value in fields.items() if name in COUNT_FIELDS}
    if not fields:
        return body
    if api == "gemini" and not generate:
        # The Gemini API's countTokens takes these only inside a whole generateContentRequest.
        inner = body.get("generateContentRequest") or body.get("generate_content_request")
        if inner is None:
            inner = {"model": f"models/{model.id}", "contents": body.get("contents") or []}
            body = {key: value for key, value in body.items() if key not in ("contents", "model")}
        body = dict(body, generateContentRequest=_merged(inner, fields, "config"))
        body.pop("generate_content_request", None)
        return body
    return _merged(body, fields, "config")


def _config_name(key: str) -> str | None:
    return next((n for n in (*CONFIG_FIELDS, *_CONFIG_CLIENT) if key in (n, snake_case(n))), None)


def _generation_name(key: str) -> str:
    return next((n for n in GENERATION_FIELDS if key in (n, snake_case(n))), key)  # the parser names the unknown


def _put_once(target: dict[str, Any], name: str, value: Any, path: str) -> None:
    if name in target:
        raise invalid_argument(f"{snake_case(name)} is given twice in config. Give it once.", f"{path}.{name}")
    target[name] = value


def _merged(body: dict[str, Any], fields: dict[str, Any], path: str) -> dict[str, Any]:
    """`body` with `fields` added; a field in both is refused, except generationConfig, merged field by field."""
    merged = dict(body)
    for name, value in fields.items():
        snake = snake_case(name)
        given = merged.get(name, merged.get(snake))
        if name == "generationConfig" and isinstance(given, dict):
            settings = dict(given)
            for key, setting in value.items():
                if key in settings or snake_case(key) in settings:
                    raise invalid_argument(
                        f"generation_config.{snake_case(key)} is given twice: in the request and in config. "
                        "Give it once.",
                        f"{path}.{snake_case(key)}",
                    )
                settings[key] = setting
            merged.pop(snake, None)
            merged[name] = settings
        elif given is not None:
            raise invalid_argument(
                f"{snake} is given twice: in the request and in config. Give it once.", f"{path}.{snake}"
            )
        else:
            merged[name] = value
    return merged


def _legacy_texts(texts: list[str], schema: str) -> dict[str, Any]:
    field = INSTANCE_TEXT_FIELDS.get(schema)
    if field is None:  # chat, codechat
        return {"instances": [{"messages": [{"author": "user", "content": text} for text in texts]}]}
    return {"instances": [{field: text} for text in texts]}
