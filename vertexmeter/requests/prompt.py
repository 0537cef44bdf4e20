"""From a parsed request body to a normalized prompt: validated turns, tools and legacy instances."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vertexmeter.errors import FieldViolation, VertexMeterError, failed_precondition, invalid_argument
from vertexmeter.registry import ModelInfo
from vertexmeter.requests.calls import join_streamed_calls
from vertexmeter.requests.decode import require_object
from vertexmeter.requests.parse import lookup_field, parse_message
from vertexmeter.requests.schema import snake_case
from vertexmeter.vocabulary import COUNT_TOKENS, EMBED_CONTENT, EMBEDDING, GENERATE_CONTENT

LEARN_MORE = "Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini"
VALID_ROLES = ("user", "model")
# generateContent on both APIs also takes the legacy role "function" for a turn of function responses:
# 194 recorded answers (crmne/ruby_llm cassettes, tests/data/mined_ruby_llm.jsonl) sent it and were answered; and
# "tool" (0x1eef/llm.rb, Gemini API 3.1 Flash-Lite, 2026-06-26: llmrb2-0020, -0022). Both are taken on either API:
# Vertex has no recorded answer to "tool", and refusing a body Google answers is the worse mistake.
GENERATE_ROLES = (*VALID_ROLES, "function", "tool")
# The oneof `data` of a Part: exactly one of these carries what the part says.
DATA_FIELDS = (
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
    "toolCall",
    "toolResponse",
)
MEDIA_FIELDS = ("inlineData", "fileData")


def media_field(part: dict[str, Any]) -> str | None:
    """The media field a Part carries (`inlineData` / `fileData`), or None for a non-media part."""
    return next((name for name in MEDIA_FIELDS if name in part), None)


@dataclass(frozen=True)
class Turn:
    """One Content: its role (None when the request gave none), its parts and its field path."""

    role: str | None
    parts: list[dict[str, Any]]
    path: str


@dataclass(frozen=True)
class Instance:
    """One legacy `instances` item: the texts that count, in order, with their field paths."""

    texts: list[tuple[str, str]]
    media: list[tuple[dict[str, Any], str]]
    path: str


@dataclass(frozen=True)
class Prompt:
    """A parsed request. `call` says which accounting it is read for: countTokens or generateContent."""

    model: ModelInfo
    api: str
    contents: list[Turn] = field(default_factory=list)
    system_instruction: Turn | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    generation_config: dict[str, Any] = field(default_factory=dict)
    instances: list[Instance] | None = None
    call: str = COUNT_TOKENS
    tool_config: dict[str, Any] = field(default_factory=dict)
    safety_settings: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[str, Any] = field(default_factory=dict)
    cached_content: str | None = None
    service_tier: Any = None  # the Gemini API request's serviceTier, as given

    @property
    def role_contents(self) -> int:
        """R: Contents that carry a non-empty role (systemInstruction only when it has one itself)."""
        turns = [*self.contents, *([self.system_instruction] if self.system_instruction else [])]
        return sum(1 for turn in turns if turn.role)

    @property
    def max_output_tokens(self) -> int | None:
        value = self.generation_config.get("maxOutputTokens")
        return int(value) if value is not None else None

    @property
    def thinking_budget(self) -> int | None:
        value = (self.generation_config.get("thinkingConfig") or {}).get("thinkingBudget")
        return int(value) if value is not None else None


def parse_count_request(model: ModelInfo, body: Any, api: str) -> Prompt:
    """The prompt of a countTokens body in the given dialect ("vertex" or "gemini")."""
    if api == "gemini":
        if model.is_legacy and model.generation != EMBEDDING:
            raise invalid_argument(
                f"{model.id} is a Vertex AI PaLM/embedding model, which the Gemini API does not serve; count it "
                "with the Vertex dialect (api='vertex', --api vertex)."
            )
        parsed = parse_message("GeminiCountTokensRequest", _check_top_level("GeminiCountTokensRequest", body))
        inner = parsed.get("generateContentRequest")
        if inner is not None:
            _require_generate_fields(inner)
            parsed = inner  # `contents` outside is ignored when generateContentRequest is set
            if inner.get("cachedContent"):
                raise failed_precondition(
                    "generateContentRequest.cachedContent names a server-side cache that cannot be read "
                    "offline; count the cached contents by sending them in `contents` instead.",
                    "generate_content_request.cached_content",
                )
        root = "generate_content_request." if inner is not None else ""
        # A wrapped generateContentRequest is checked as generateContent checks it: the Gemini API answered
        # countTokens bodies whose system text was empty (tidyverse/ellmer: elmr-0061, -0069, -0073).
        return _gemini_prompt(model, api, parsed, root, empty_text_ok=inner is not None)
    parsed = parse_message("VertexCountTokensRequest", _check_top_level("VertexCountTokensRequest", body))
    if model.is_legacy:
        return _legacy_prompt(model, api, parsed)
    _refuse_instances(model, parsed)
    return _gemini_prompt(model, api, parsed, "")


def parse_generate_request(model: ModelInfo, body: Any, api: str) -> Prompt:
    """The prompt of a generateContent body (either API), read for the bill (usageMetadata).

    A Gemini API countTokens body with `generateContentRequest` is unwrapped, and a countTokens
    body (`contents` only) is a generateContent body too. Unknown fields are refused by name.
    """
    body = require_object(body)
    refuse_openai_shape(body)
    if model.generation == EMBEDDING and ({"content", "requests"} & set(body)):
        return parse_embed_request(model, body, api)
    if api == "gemini":
        if "generateContentRequest" in body or "generate_content_request" in body:
            parsed = parse_message("GeminiCountTokensRequest", body).get("generateContentRequest") or {}
            root = "generate_content_request."
        else:
            parsed, root = parse_message("GenerateContentRequest", body), ""
    else:
        parsed, root = parse_message("VertexGenerateContentRequest", body), ""
    if model.is_legacy or model.generation == EMBEDDING:
        raise invalid_argument(
            f"{model.id} does not serve generateContent; send an embedContent body (`content` or `requests`) "
            "or count it with countTokens.",
            "model",
        )
    if not parsed.get("contents"):
        raise invalid_argument(
            "Unable to submit request because it must include at least one contents field, which describes the "
            f"prompt input. {LEARN_MORE}",
            f"{root}contents",
        )
    prompt = _gemini_prompt(model, api, parsed, root, call=GENERATE_CONTENT)
    return prompt


def parse_embed_request(model: ModelInfo, body: dict[str, Any], api: str) -> Prompt:
    """An embedContent body (`content`) or a batchEmbedContents body (`requests`): one turn per content.

    The usage of embedContent is the raw count of the texts, summed over the requests (accounting.yaml).
    """
    if "requests" in body:
        parsed = parse_message("BatchEmbedContentsRequest", body)
        items = [(r.get("content") or {}, f"requests[{i}].content") for i, r in enumerate(parsed.get("requests") or [])]
    else:
        parsed = parse_message("EmbedContentRequest", body)
        items = [(parsed.get("content") or {}, "content")]
    turns = [_turn(content, path, api) for content, path in items]
    if not turns:
        raise invalid_argument("A batchEmbedContents request needs at least one request.", "requests")
    return Prompt(model=model, api=api, contents=turns, call=EMBED_CONTENT)


def parse_compute_request(model: ModelInfo, body: Any) -> Prompt:
    """The prompt of a Vertex computeTokens body (contents or legacy instances; text only)."""
    parsed = parse_message("VertexComputeTokensRequest", _check_top_level("VertexComputeTokensRequest", body))
    if model.is_legacy:
        return _legacy_prompt(model, "vertex", parsed)
    _refuse_instances(model, parsed)
    return _gemini_prompt(model, "vertex", parsed, "")


_GENERATE_ONLY = (
    "is a generateContent field that countTokens does not take; usage_metadata / estimate "
    "(`vertexmeter usage`, `vertexmeter estimate`) read a whole generateContent body"
)
# Top-level fields that Google refuses here but that belong to a neighbouring call: the hint names it.
_HINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "VertexCountTokensRequest": (("GenerateContentRequest", _GENERATE_ONLY),),
    "VertexComputeTokensRequest": (
        (
            "VertexCountTokensRequest",
            "is counted by countTokens (`vertexmeter count`); computeTokens lists the tokens of `contents` only",
        ),
        ("GenerateContentRequest", _GENERATE_ONLY),
    ),
    "GeminiCountTokensRequest": (
        (
            "GenerateContentRequest",
            "goes inside `generateContentRequest` (with `model` and `contents`) in a Gemini API countTokens "
            "body; or count with the Vertex dialect (--api vertex)",
        ),
    ),
}


def refuse_openai_shape(obj: dict[str, Any]) -> None:
    """An OpenAI chat-completions body (`messages`) is refused as Google refuses it, with the Gemini shape."""
    if "messages" in obj and "contents" not in obj:
        text = (
            'Invalid JSON payload received. Unknown name "messages": Cannot find field. This looks like an OpenAI '
            'chat body; Gemini takes `contents`: [{"role": "user" or "model", "parts": [{"text": …}]}], with a '
            "system message as `systemInstruction` (docs/inputs.md)."
        )
        raise VertexMeterError("INVALID_ARGUMENT", text, [FieldViolation("messages", text)])


def _check_top_level(message: str, body: Any) -> dict[str, Any]:
    """A JSON object whose top-level names the call knows; Google's refusal plus a hint for a neighbour's field."""
    obj = require_object(body)
    refuse_openai_shape(obj)
    for key in obj:
        if lookup_field(message, key) is not None:
            continue
        for other, hint in _HINTS.get(message, ()):
            if lookup_field(other, key) is not None:
                text = f'Invalid JSON payload received. Unknown name "{key}": Cannot find field. `{key}` {hint}.'
                raise VertexMeterError("INVALID_ARGUMENT", text, [FieldViolation("", text)])
    return obj


def _require_generate_fields(inner: dict[str, Any]) -> None:
    missing = [name for name in ("contents", "model") if not inner.get(name)]
    if missing:
        lines = [f"* CountTokensRequest.generate_content_request.{name}: {name} is not specified" for name in missing]
        raise VertexMeterError(
            "INVALID_ARGUMENT",
            "\n".join(lines) + "\n",
            [FieldViolation(f"generate_content_request.{name}", f"{name} is not specified") for name in missing],
        )


def _refuse_instances(model: ModelInfo, parsed: dict[str, Any]) -> None:
    if parsed.get("instances"):
        raise invalid_argument(
            f"{model.id} takes `contents`; `instances` is the format of the PaLM, Codey and embedding models.",
            "instances",
        )


def _gemini_prompt(
    model: ModelInfo,
    api: str,
    parsed: dict[str, Any],
    root: str,
    call: str = COUNT_TOKENS,
    empty_text_ok: bool = False,
) -> Prompt:
    # The Gemini API's generateContent takes an empty text part (it counts 0); Vertex refuses it.
    empty_text_ok = (empty_text_ok or call == GENERATE_CONTENT) and api == "gemini"
    generate = call == GENERATE_CONTENT
    contents = [
        _turn(content, f"{root}contents[{i}]", api, empty_text_ok=empty_text_ok, generate=generate)
        for i, content in enumerate(parsed.get("contents") or [])
    ]
    system = parsed.get("systemInstruction")
    system_turn = (
        _turn(system, f"{root}system_instruction", api, system=True, empty_text_ok=empty_text_ok, generate=generate)
        if system
        else None
    )
    return Prompt(
        model=model,
        api=api,
        contents=contents,
        system_instruction=system_turn,
        tools=list(parsed.get("tools") or []),
        generation_config=dict(parsed.get("generationConfig") or {}),
        call=call,
        tool_config=dict(parsed.get("toolConfig") or {}),
        safety_settings=list(parsed.get("safetySettings") or []),
        labels=dict(parsed.get("labels") or {}),
        cached_content=parsed.get("cachedContent") or None,
        service_tier=parsed.get("serviceTier"),
    )


def _turn(
    content: dict[str, Any],
    path: str,
    api: str,
    *,
    system: bool = False,
    empty_text_ok: bool = False,
    generate: bool = False,
) -> Turn:
    role = content.get("role") or None
    if role is not None and not system and role not in (GENERATE_ROLES if generate else VALID_ROLES):
        raise invalid_argument("Please use a valid role: user, model", f"{path}.role")
    parts = content.get("parts") or []
    if not parts:
        raise invalid_argument(
            "Unable to submit request because it must include at least one parts field, which describes "
            f"the prompt input. {LEARN_MORE}",
            f"{path}.parts",
        )
    # Both APIs' generateContent take an empty text part in a model turn of the history (a replayed answer
    # reduced to its thought signature; Vertex answered one: docs/counting.md); it counts 0.
    empty_ok = empty_text_ok or (generate and role == "model")
    for j, part in enumerate(parts):
        _check_part(part, f"{path}.parts[{j}]", empty_ok, generate)
    # A call replayed as the pieces it was streamed in reads as the one call they make (requests/calls.py).
    return Turn(role=role, parts=join_streamed_calls(parts), path=path)


def _check_part(part: dict[str, Any], path: str, empty_text_ok: bool = False, generate: bool = False) -> None:
    present = [name for name in DATA_FIELDS if name in part]
    if not present and generate and part:
        # generateContent takes a part that carries only a thought signature or a videoMetadata of its own
        # (recorded: pydantic-ai cassettes); it counts 0.
        return
    if not present:
        raise invalid_argument(
            f"Unable to submit request because it must have a text parameter. Add a text parameter and try "
            f"again. {LEARN_MORE}",
            path,
        )
    if len(present) > 1:
        raise invalid_argument(
            f"Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '{snake_case(present[1])}'",
            f"{path}.{snake_case(present[1])}",
        )
    if "text" in part and part["text"] == "" and not empty_text_ok:
        raise invalid_argument(
            "Unable to submit request because it has an empty text parameter. Add a value to the parameter "
            f"and try again. {LEARN_MORE}",
            f"{path}.text",
        )


# ---- legacy `instances` (PaLM 2, Codey, embeddings) ------------------------------------------------
# schema -> {field: ("text" | "messages" | "examples" | "ignored" | "media", required)}
_INSTANCE_FIELDS: dict[str, dict[str, tuple[str, bool]]] = {
    "text": {"prompt": ("text", True)},
    "chat": {"context": ("text", False), "examples": ("examples", False), "messages": ("messages", True)},
    "code": {"prefix": ("text", True)},
    "codechat": {"context": ("text", False), "messages": ("messages", True)},
    "code_completion": {"prefix": ("text", True), "suffix": ("text", False)},
    "embedding": {"content": ("text", True), "title": ("text", False), "task_type": ("ignored", False)},
    "multimodal_embedding": {"text": ("text", False), "image": ("media", False), "video": ("media", False)},
}

# The field of an instance that takes plain user text (vertexmeter count -m text-bison "hi"); chat and
# codechat take the texts as one conversation of user messages.
INSTANCE_TEXT_FIELDS = {
    "text": "prompt",
    "code": "prefix",
    "code_completion": "prefix",
    "embedding": "content",
    "multimodal_embedding": "text",
}


def _legacy_prompt(model: ModelInfo, api: str, parsed: dict[str, Any]) -> Prompt:
    if parsed.get("contents"):
        raise invalid_argument(
            f"{model.id} takes `instances` (the :predict schema of the model); `contents` is the Gemini format.",
            "contents",
        )
    schema = model.instance_schema or "text"
    instances = [_instance(schema, item, f"instances[{i}]") for i, item in enumerate(parsed.get("instances") or [])]
    return Prompt(
        model=model, api=api, instances=instances, generation_config=dict(parsed.get("generationConfig") or {})
    )


def _instance(schema: str, item: Any, path: str) -> Instance:
    if not isinstance(item, dict):
        raise invalid_argument(f"Invalid value at '{path}': an instance must be a JSON object.", path)
    fields = _INSTANCE_FIELDS[schema]
    texts: list[tuple[str, str]] = []
    media: list[tuple[dict[str, Any], str]] = []
    seen: set[str] = set()
    for raw_key, value in item.items():
        key = snake_case(raw_key)
        if key not in fields:
            message = f"Invalid JSON payload received. Unknown name \"{raw_key}\" at '{path}': Cannot find field."
            raise invalid_argument(message, path, message)
        seen.add(key)
        kind, _ = fields[key]
        field_path = f"{path}.{key}"
        if value is None or kind == "ignored":
            continue
        if kind == "text":
            texts.append((_string(value, field_path), field_path))
        elif kind == "media":
            if not isinstance(value, dict):
                raise invalid_argument(f"Invalid value at '{field_path}': expected a JSON object.", field_path)
            media.append((value, field_path))
        elif kind == "messages":
            for k, message in enumerate(value if isinstance(value, list) else [value]):
                texts.append(_message_content(message, f"{field_path}[{k}]"))
        elif kind == "examples":
            for k, example in enumerate(value if isinstance(value, list) else [value]):
                example_path = f"{field_path}[{k}]"
                if not isinstance(example, dict) or set(example) - {"input", "output"}:
                    raise invalid_argument(
                        f"Invalid value at '{example_path}': an example has `input` and `output`.", example_path
                    )
                for side in ("input", "output"):
                    if example.get(side) is not None:
                        texts.append(_message_content(example[side], f"{example_path}.{side}"))
    for key, (_, required) in fields.items():
        if required and key not in seen:
            raise invalid_argument(f"Invalid instance at '{path}': the field `{key}` is required.", f"{path}.{key}")
    return Instance(texts=texts, media=media, path=path)


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise invalid_argument(f"Invalid value at '{path}' (TYPE_STRING), {value!r}", path)
    return value


def _message_content(message: Any, path: str) -> tuple[str, str]:
    """A chat message's `content`; its `author` is a role label and is not counted (docs/counting.md)."""
    if not isinstance(message, dict):
        raise invalid_argument(f"Invalid value at '{path}': a message is a JSON object.", path)
    unknown = set(message) - {"author", "content", "citationMetadata", "citation_metadata"}
    if unknown:
        name = sorted(unknown)[0]
        raise invalid_argument(
            f"Invalid JSON payload received. Unknown name \"{name}\" at '{path}': Cannot find field.", path
        )
    if "content" not in message:
        raise invalid_argument(f"Invalid instance at '{path}': the field `content` is required.", f"{path}.content")
    return _string(message["content"], f"{path}.content"), f"{path}.content"
