"""Gemini's Interactions API (`POST /v1beta/interactions`) read as the generateContent body it bills like.

An Interactions request carries the same prompt as a generateContent body in another shape: `input` (a string,
a list of content items, or a list of steps: `user_input`, `model_output`, `thought`, `function_call`,
`function_result` and a built-in tool's call / result steps), a `system_instruction` string, `tools`
(`{"type": "function", ...}` and the built-in tools) and a snake_case `generation_config`. `interactions_request`
writes it as the Gemini API generateContent body the counting engine takes; `interactions_response` writes an
interaction's `steps` as a generateContent response, for the output's count. Only the fields of the google-genai
SDK's `CreateModelInteraction` type are read; any other name is refused with Google's message, and what cannot be
known offline (`previous_interaction_id`: a history kept on Google's server; an `agent`) is refused with why
(docs/inputs.md, "Interactions API").
"""

from __future__ import annotations

from typing import Any

from vertexmeter.errors import VertexMeterError, failed_precondition, invalid_argument

# CreateModelInteraction's fields (google-genai's `_gaos/types/interactions/createmodelinteraction.py`). The ones
# that change no count are read and dropped: where the answer is stored or streamed, labels, webhooks.
_NO_COUNT = ("store", "stream", "background", "labels", "webhook_config", "environment")
INTERACTIONS_REQUEST_FIELDS = (
    "model",
    "input",
    "system_instruction",
    "tools",
    "generation_config",
    "previous_interaction_id",
    "response_format",
    "response_mime_type",
    "response_modalities",
    "safety_settings",
    "service_tier",
    "cached_content",
    "continuation_token",
    *_NO_COUNT,
)
# GenerationConfig's fields and the generateContent generationConfig field each becomes.
_GENERATION = {
    "temperature": "temperature",
    "top_p": "topP",
    "seed": "seed",
    "max_output_tokens": "maxOutputTokens",
    "stop_sequences": "stopSequences",
}
_GENERATION_OTHER = ("thinking_level", "thinking_summaries", "tool_choice", "image_config", "speech_config")
# Content items of `input` (TextContent, ImageContent, ...) and the Part field of their media.
_MEDIA = ("image", "audio", "video", "document")
_RESOLUTIONS = {"low": "MEDIA_RESOLUTION_LOW", "medium": "MEDIA_RESOLUTION_MEDIUM", "high": "MEDIA_RESOLUTION_HIGH"}
_TOOL_CHOICE = {"auto": "AUTO", "any": "ANY", "none": "NONE", "validated": "VALIDATED"}
# Built-in tools: the Interactions type and the generateContent Tool field.
_BUILT_IN = {"google_search": "googleSearch", "url_context": "urlContext", "code_execution": "codeExecution"}
# Steps by the side of the conversation whose turn they belong to.
_USER_STEPS = ("user_input", "function_result")
_MODEL_STEPS = ("model_output", "thought", "function_call")
# A built-in tool's run, replayed as steps (the google-genai SDK's `*callstep.py` / `*resultstep.py`): each step is
# the model-turn part generateContent replays for it (`toolCall` / `toolResponse` with the tool's type, or code
# execution's `executableCode` / `codeExecutionResult`), its `signature` as the part's thoughtSignature, so the
# engine bills it as it bills those parts (docs/counting.md, "Replayed thoughts": not_thoughts; "Built-in tool runs
# in the prompt"). step type -> (generateContent ToolType, True for the call, False for its result).
_TOOL_STEPS = {
    "google_search_call": ("GOOGLE_SEARCH_WEB", True),
    "google_search_result": ("GOOGLE_SEARCH_WEB", False),
    "url_context_call": ("URL_CONTEXT", True),
    "url_context_result": ("URL_CONTEXT", False),
    "google_maps_call": ("GOOGLE_MAPS", True),
    "google_maps_result": ("GOOGLE_MAPS", False),
    "file_search_call": ("FILE_SEARCH", True),
    "file_search_result": ("FILE_SEARCH", False),
}
_SEARCH_TYPES = {"web_search": "GOOGLE_SEARCH_WEB", "image_search": "GOOGLE_SEARCH_IMAGE"}
_CODE_STEPS = ("code_execution_call", "code_execution_result")
_SERVER_STEPS = (*_TOOL_STEPS, *_CODE_STEPS)


def _unknown(key: str, where: str) -> VertexMeterError:
    at = f" at '{where}'" if where else ""
    message = f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.'
    return invalid_argument(message, where or key)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_argument(f"Invalid value at '{where}': expected an object, got {_kind(value)}.", where)
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise invalid_argument(f"Invalid value at '{where}': expected a list, got {_kind(value)}.", where)
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise invalid_argument(f"Invalid value at '{where}' (TYPE_STRING), {_kind(value)}", where)
    return value


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _only(item: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in item:
        if key not in allowed:
            raise _unknown(key, where)


def _typed(item: Any, where: str) -> tuple[dict[str, Any], str]:
    item = _object(item, where)
    kind = item.get("type")
    if not isinstance(kind, str):
        raise invalid_argument(f"Invalid value at '{where}': every content item and step needs its `type`.", where)
    return item, kind


def _content_part(item: dict[str, Any], kind: str, where: str) -> dict[str, Any]:
    """One content item (text, image, audio, video, document) as a generateContent Part."""
    if kind == "text":
        _only(item, ("type", "text", "annotations"), where)
        return {"text": _string(item.get("text", ""), f"{where}.text")}
    if kind in _MEDIA:
        _only(item, ("type", "data", "uri", "mime_type", "resolution", "processing"), where)
        mime = item.get("mime_type")
        if "data" in item and "uri" in item:
            raise invalid_argument(f"Invalid value at '{where}': give `data` or `uri`, not both.", where)
        if "data" in item:
            if not isinstance(mime, str):
                message = f"Invalid value at '{where}.mime_type': inline `data` needs its mime_type."
                raise invalid_argument(message, f"{where}.mime_type")
            part: dict[str, Any] = {"inlineData": {"mimeType": mime, "data": _string(item["data"], f"{where}.data")}}
        elif "uri" in item:
            file_data = {"fileUri": _string(item["uri"], f"{where}.uri")}
            if mime is not None:
                file_data["mimeType"] = _string(mime, f"{where}.mime_type")
            part = {"fileData": file_data}
        else:
            raise invalid_argument(f"Invalid value at '{where}': a {kind} item needs `data` or `uri`.", where)
        if "resolution" in item:
            level = _RESOLUTIONS.get(item["resolution"])
            if level is None:
                raise invalid_argument(
                    f"Invalid value at '{where}.resolution' (type.googleapis.com/MediaResolution), "
                    f'"{item["resolution"]}"; expected one of: {", ".join(_RESOLUTIONS)}.',
                    f"{where}.resolution",
                )
            part["mediaResolution"] = {"level": level}
        return part
    raise invalid_argument(
        f"Invalid value at '{where}.type': {kind!r} is not a content item (text, {', '.join(_MEDIA)}).", where
    )


def _result_text(result: list[Any], where: str) -> str:
    """A step's `result` given as content items: their texts joined (only text results are counted offline)."""
    texts = []
    for j, item in enumerate(result):
        item, kind = _typed(item, f"{where}.result[{j}]")
        if kind != "text":
            raise invalid_argument(
                f"Invalid value at '{where}.result[{j}]': only text results are counted offline.", where
            )
        texts.append(_content_part(item, kind, f"{where}.result[{j}]")["text"])
    return "".join(texts)


def _function_result(item: dict[str, Any], where: str) -> dict[str, Any]:
    _only(item, ("type", "call_id", "name", "result", "is_error", "signature"), where)
    result = item.get("result")
    # A result of content items writes its texts as the response's `result` (the shape whose count the recorded
    # answers reproduce: tests/data/PROVENANCE.md, interactions_2026); an object is the response itself.
    if isinstance(result, list):
        response: Any = {"result": _result_text(result, where)}
    elif isinstance(result, str):
        response = {"result": result}
    else:
        response = _object(result, f"{where}.result")
    call: dict[str, Any] = {"name": _string(item.get("name", ""), f"{where}.name"), "response": response}
    if "call_id" in item:
        call["id"] = _string(item["call_id"], f"{where}.call_id")
    return {"functionResponse": call}


def _server_step(item: dict[str, Any], kind: str, where: str) -> dict[str, Any]:
    """A built-in tool's call or result step as the model-turn Part generateContent replays for it."""
    part: dict[str, Any]
    if kind in _CODE_STEPS:
        if kind == "code_execution_call":
            _only(item, ("type", "id", "arguments", "signature"), where)
            arguments = _object(item.get("arguments", {}), f"{where}.arguments")
            _only(arguments, ("code", "language"), f"{where}.arguments")
            code: dict[str, Any] = {
                "language": _string(arguments.get("language", "python"), f"{where}.arguments.language").upper(),
                "code": _string(arguments.get("code", ""), f"{where}.arguments.code"),
            }
            if "id" in item:
                code["id"] = _string(item["id"], f"{where}.id")
            part = {"executableCode": code}
        else:
            _only(item, ("type", "call_id", "result", "is_error", "signature"), where)
            result = item.get("result", "")
            if isinstance(result, list):
                result = _result_text(result, where)
            outcome = "OUTCOME_FAILED" if item.get("is_error") is True else "OUTCOME_OK"
            run: dict[str, Any] = {"outcome": outcome, "output": _string(result, f"{where}.result")}
            if "call_id" in item:
                run["id"] = _string(item["call_id"], f"{where}.call_id")
            part = {"codeExecutionResult": run}
    else:
        tool_type, is_call = _TOOL_STEPS[kind]
        if is_call:
            _only(item, ("type", "id", "arguments", "search_type", "signature"), where)
            if "search_type" in item:
                search = item["search_type"]
                tool_type = _SEARCH_TYPES.get(search, tool_type) if isinstance(search, str) else tool_type
            call: dict[str, Any] = {"toolType": tool_type}
            if "id" in item:
                call["id"] = _string(item["id"], f"{where}.id")
            call["args"] = _object(item.get("arguments", {}), f"{where}.arguments")
            part = {"toolCall": call}
        else:
            _only(item, ("type", "call_id", "result", "is_error", "signature"), where)
            results = item.get("result", [])
            items = [_object(r, f"{where}.result[{j}]") for j, r in enumerate(_list(results, f"{where}.result"))]
            # One result is the response object itself (as generateContent's recorded toolResponse parts carry it).
            response: dict[str, Any] = items[0] if len(items) == 1 else {"result": items}
            reply: dict[str, Any] = {"toolType": tool_type}
            if "call_id" in item:
                reply["id"] = _string(item["call_id"], f"{where}.call_id")
            reply["response"] = response
            part = {"toolResponse": reply}
    if "signature" in item:
        part["thoughtSignature"] = _string(item["signature"], f"{where}.signature")
    return part


def _turns(value: Any) -> list[dict[str, Any]]:
    """`input` as generateContent contents: consecutive steps of one side join into one turn."""
    if isinstance(value, str):
        return [{"role": "user", "parts": [{"text": value}]}]
    if isinstance(value, dict):
        value = [value]
    items = _list(value, "input")
    contents: list[dict[str, Any]] = []
    signature: str | None = None  # a thought step's signature, carried by the model part that follows it

    def add(role: str, part: dict[str, Any]) -> None:
        if not contents or contents[-1]["role"] != role:
            contents.append({"role": role, "parts": []})
        contents[-1]["parts"].append(part)

    def model_part(part: dict[str, Any]) -> None:
        nonlocal signature
        if signature is not None:
            part["thoughtSignature"] = signature
            signature = None
        add("model", part)

    for i, raw in enumerate(items):
        where = f"input[{i}]"
        item, kind = _typed(raw, where)
        if kind not in _MODEL_STEPS and signature is not None:
            add("model", {"thoughtSignature": signature})  # a signature no part followed: kept, as sent
            signature = None
        if kind == "user_input":
            _only(item, ("type", "content"), where)
            for j, sub in enumerate(_list(item.get("content", []), f"{where}.content")):
                sub, sub_kind = _typed(sub, f"{where}.content[{j}]")
                add("user", _content_part(sub, sub_kind, f"{where}.content[{j}]"))
        elif kind == "model_output":
            _only(item, ("type", "content"), where)
            for j, sub in enumerate(_list(item.get("content", []), f"{where}.content")):
                sub, sub_kind = _typed(sub, f"{where}.content[{j}]")
                model_part(_content_part(sub, sub_kind, f"{where}.content[{j}]"))
        elif kind == "thought":
            _only(item, ("type", "signature", "summary"), where)
            if signature is not None:
                add("model", {"thoughtSignature": signature})
            signature = _string(item["signature"], f"{where}.signature") if "signature" in item else None
            for j, sub in enumerate(_list(item.get("summary", []), f"{where}.summary")):
                sub, sub_kind = _typed(sub, f"{where}.summary[{j}]")
                if sub_kind != "text":
                    raise invalid_argument(f"Invalid value at '{where}.summary[{j}]': a summary is text.", where)
                model_part({"text": _content_part(sub, sub_kind, f"{where}.summary[{j}]")["text"], "thought": True})
        elif kind == "function_call":
            _only(item, ("type", "id", "name", "arguments", "signature"), where)
            call: dict[str, Any] = {"name": _string(item.get("name"), f"{where}.name")}
            if "id" in item:
                call["id"] = _string(item["id"], f"{where}.id")
            call["args"] = _object(item.get("arguments", {}), f"{where}.arguments")
            model_part({"functionCall": call})
        elif kind == "function_result":
            add("user", _function_result(item, where))
        elif kind in _SERVER_STEPS:
            add("model", _server_step(item, kind, where))
        elif kind in ("text", *_MEDIA):
            add("user", _content_part(item, kind, where))
        else:
            raise invalid_argument(
                f"Invalid value at '{where}.type': {kind!r} is not a step counted offline (user_input, "
                f"model_output, thought, function_call, function_result, {', '.join(_SERVER_STEPS)}).",
                where,
            )
    if signature is not None:
        add("model", {"thoughtSignature": signature})
    return contents


def _tools(value: Any) -> list[dict[str, Any]]:
    declarations: list[dict[str, Any]] = []
    tools: list[dict[str, Any]] = []
    for i, raw in enumerate(_list(value, "tools")):
        where = f"tools[{i}]"
        item, kind = _typed(raw, where)
        if kind == "function":
            _only(item, ("type", "name", "description", "parameters", "short_description", "defer_loading"), where)
            declaration: dict[str, Any] = {"name": _string(item.get("name"), f"{where}.name")}
            if "description" in item:
                declaration["description"] = _string(item["description"], f"{where}.description")
            if "parameters" in item:
                # JSON Schema, as generateContent's parametersJsonSchema.
                declaration["parametersJsonSchema"] = _object(item["parameters"], f"{where}.parameters")
            declarations.append(declaration)
        elif kind in _BUILT_IN:
            _only(item, ("type", "search_types") if kind == "google_search" else ("type",), where)
            tools.append({_BUILT_IN[kind]: {}})
        else:
            raise invalid_argument(
                f"Invalid value at '{where}.type': {kind!r} tools are not counted offline (function, "
                f"{', '.join(_BUILT_IN)}).",
                where,
            )
    return ([{"functionDeclarations": declarations}] if declarations else []) + tools


def _generation(value: Any, body: dict[str, Any]) -> dict[str, Any]:
    config = _object(value, "generation_config")
    out: dict[str, Any] = {}
    thinking: dict[str, Any] = {}
    for key, item in config.items():
        where = f"generation_config.{key}"
        if key in _GENERATION:
            out[_GENERATION[key]] = item
        elif key == "thinking_level":
            thinking["thinkingLevel"] = _string(item, where).upper()
        elif key == "thinking_summaries":
            if _string(item, where) not in ("auto", "none"):
                raise invalid_argument(f"Invalid value at '{where}', \"{item}\"; expected auto or none.", where)
            thinking["includeThoughts"] = item == "auto"
        elif key == "tool_choice":
            mode = _TOOL_CHOICE.get(item) if isinstance(item, str) else None
            if mode is None:
                raise invalid_argument(
                    f"Invalid value at '{where}': a tool_choice of {', '.join(_TOOL_CHOICE)} is counted offline.", where
                )
            body["toolConfig"] = {"functionCallingConfig": {"mode": mode}}
        elif key in _GENERATION_OTHER:
            message = f"Invalid value at '{where}': image and speech output are not counted offline."
            raise invalid_argument(message, where)
        else:
            raise _unknown(key, "generation_config")
    if thinking:
        out["thinkingConfig"] = thinking
    return out


def interactions_request(body: Any) -> tuple[str, dict[str, Any]]:
    """An Interactions request body -> (its model, the Gemini API generateContent body it bills like)."""
    body = _object(body, "")
    for key in body:
        if key not in INTERACTIONS_REQUEST_FIELDS:
            hint = " An agent's interaction is not counted offline." if key in ("agent", "agent_config") else ""
            if hint:
                raise invalid_argument(f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.{hint}')
            raise _unknown(key, "")
    if body.get("previous_interaction_id") is not None:
        raise failed_precondition(
            "previous_interaction_id names a conversation kept on Google's server: its earlier turns (and the "
            "thoughts they bill) cannot be read offline. Send the earlier steps in `input` (store=false) to count it.",
            "previous_interaction_id",
        )
    if body.get("continuation_token") is not None:
        raise failed_precondition(
            "continuation_token resumes a decode kept on Google's server; it cannot be counted offline.",
            "continuation_token",
        )
    if body.get("cached_content") is not None:
        raise failed_precondition(
            "cached_content names a cache kept on Google's server; send its contents in `input` to count them.",
            "cached_content",
        )
    model = _string(body.get("model"), "model")
    if "input" not in body:
        raise invalid_argument("input is required.", "input")
    out: dict[str, Any] = {"contents": _turns(body["input"])}
    if "system_instruction" in body:
        out["systemInstruction"] = {"parts": [{"text": _string(body["system_instruction"], "system_instruction")}]}
    if "tools" in body:
        tools = _tools(body["tools"])
        if tools:
            out["tools"] = tools
    generation = _generation(body["generation_config"], out) if "generation_config" in body else {}
    if "response_mime_type" in body:
        generation["responseMimeType"] = _string(body["response_mime_type"], "response_mime_type")
    if "response_format" in body:
        schema = body["response_format"]
        if isinstance(schema, list) or not isinstance(schema, dict):
            raise invalid_argument(
                "Invalid value at 'response_format': one JSON schema object is counted offline.", "response_format"
            )
        generation["responseJsonSchema"] = schema
        generation.setdefault("responseMimeType", "application/json")
    if "response_modalities" in body:
        modalities = _list(body["response_modalities"], "response_modalities")
        generation["responseModalities"] = [_string(m, "response_modalities").upper() for m in modalities]
    if generation:
        out["generationConfig"] = generation
    if "safety_settings" in body:
        out["safetySettings"] = [
            {_camel(k): v for k, v in _object(s, f"safety_settings[{i}]").items()}
            for i, s in enumerate(_list(body["safety_settings"], "safety_settings"))
        ]
    if "service_tier" in body:
        out["serviceTier"] = _string(body["service_tier"], "service_tier")
    return model, out


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w.title() for w in rest)


def interactions_response(interaction: Any) -> dict[str, Any]:
    """An interaction's answer (its `steps`, or `outputs` of the older shape) as a generateContent response: a
    thought step's signature on the part after it, the model's texts and calls as parts."""
    answer = _object(interaction, "response")
    if "steps" in answer:
        steps = _list(answer["steps"], "response.steps")
    else:
        # The older answer shape lists content items (text, thought, function_call, ...) as `outputs`.
        steps = [
            {"type": "model_output", "content": [item]} if _step_kind(item) in ("text", *_MEDIA) else item
            for item in _list(answer.get("outputs", []), "response.outputs")
        ]
    for i, step in enumerate(steps):
        if _step_kind(step) not in (*_MODEL_STEPS, *_SERVER_STEPS):
            raise invalid_argument(
                f"Invalid value at 'response.steps[{i}].type': {_step_kind(step)!r} is not a step of an answer "
                f"counted offline (model_output, thought, function_call, {', '.join(_SERVER_STEPS)}).",
                f"response.steps[{i}]",
            )
    contents = _turns(steps)
    parts = [p for c in contents for p in c["parts"]]
    return {"candidates": [{"content": {"role": "model", "parts": parts}}]}


def _step_kind(step: Any) -> str | None:
    return step.get("type") if isinstance(step, dict) else None
