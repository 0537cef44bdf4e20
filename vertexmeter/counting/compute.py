"""computeTokens: the tokens and ids of every text, with the role of its Content."""

from __future__ import annotations

import base64
from typing import Any

from vertexmeter.counting.count import model_info
from vertexmeter.counting.texts import turn_texts
from vertexmeter.errors import invalid_argument
from vertexmeter.registry import ModelInfo
from vertexmeter.requests import Prompt, media_field, parse_compute_request, request_body, snake_case
from vertexmeter.tokenizing import Tokenizer, get_tokenizer


def compute_tokens(model: str | ModelInfo, request: Any, *, config: Any = None) -> dict[str, Any]:
    """Vertex computeTokens JSON: `tokensInfo[{tokens (base64 bytes), tokenIds (strings), role}]`.

    One TokensInfo per counted string of a Content (a text part, a function call's name…) with that
    Content's role (omitted when the request gave none), and one per legacy instance. `request` takes
    what `count` takes; a `config` with system_instruction / tools is refused as Google refuses them.
    """
    info = model_info(model, "vertex")
    prompt = parse_compute_request(info, request_body(request, info, config=config))
    return {"tokensInfo": compute_prompt_tokens(prompt)}


def compute_prompt_tokens(prompt: Prompt) -> list[dict[str, Any]]:
    tokenizer = get_tokenizer(prompt.model.tokenizer)
    infos: list[dict[str, Any]] = []
    for turn in prompt.contents:
        for j, part in enumerate(turn.parts):
            field = media_field(part)
            if field:
                raise invalid_argument(
                    "computeTokens lists tokens of text only; multimodal prompts are not supported for listing tokens.",
                    f"{turn.path}.parts[{j}].{snake_case(field)}",
                )
        texts = [text for text, _ in turn_texts(turn)]
        for ids in tokenizer.encode_many(texts) if texts else []:
            infos.append(_tokens_info(tokenizer, ids, turn.role))
    for instance in prompt.instances or []:
        if instance.media:
            raise invalid_argument(
                "computeTokens lists tokens of text only; multimodal prompts are not supported for listing tokens.",
                instance.media[0][1],
            )
        ids = [i for text, _ in instance.texts for i in tokenizer.encode(text)]
        infos.append(_tokens_info(tokenizer, ids, None))
    return infos


def _tokens_info(tokenizer: Tokenizer, ids: list[int], role: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "tokens": [base64.b64encode(tokenizer.token_bytes(i)).decode("ascii") for i in ids],
        "tokenIds": [str(i) for i in ids],
    }
    if role:
        info["role"] = role
    return info
