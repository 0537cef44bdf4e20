"""computeTokens: the tokens and ids of every text, with the role of its Content."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from vertexmeter.counting.count import model_info
from vertexmeter.counting.texts import turn_texts
from vertexmeter.errors import invalid_argument
from vertexmeter.registry import ModelInfo
from vertexmeter.requests import Prompt, media_field, parse_compute_request, request_body, snake_case
from vertexmeter.tokenizing import Tokenizer, get_tokenizer


@dataclass(frozen=True)
class TokensInfo:
    """The tokens of one counted string (or legacy instance): ids, their bytes, and its Content's role."""

    ids: tuple[int, ...]
    tokens: tuple[bytes, ...]
    role: str | None = None

    def to_rest(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "tokens": [base64.b64encode(token).decode("ascii") for token in self.tokens],
            "tokenIds": [str(i) for i in self.ids],
        }
        if self.role:
            info["role"] = self.role
        return info


@dataclass(frozen=True)
class ComputeResult:
    """The typed computeTokens answer; `to_rest()` gives Vertex's JSON."""

    model: ModelInfo
    tokens_info: tuple[TokensInfo, ...]

    @property
    def token_count(self) -> int:
        return sum(len(info.ids) for info in self.tokens_info)

    def to_rest(self) -> dict[str, Any]:
        return {"tokensInfo": [info.to_rest() for info in self.tokens_info]}


def compute(model: str | ModelInfo, request: Any, *, config: Any = None) -> ComputeResult:
    """The typed layer behind `compute_tokens`."""
    info = model_info(model, "vertex")
    prompt = parse_compute_request(info, request_body(request, info, config=config))
    return ComputeResult(info, tuple(compute_prompt_tokens(prompt)))


def compute_tokens(model: str | ModelInfo, request: Any, *, config: Any = None) -> dict[str, Any]:
    """Vertex computeTokens JSON: `tokensInfo[{tokens (base64 bytes), tokenIds (strings), role}]`.

    One TokensInfo per counted string of a Content (a text part, a function call's name…) with that
    Content's role (omitted when the request gave none), and one per legacy instance. `request` takes
    what `count` takes; a `config` with system_instruction / tools is refused as Google refuses them.
    """
    return compute(model, request, config=config).to_rest()


def compute_prompt_tokens(prompt: Prompt) -> list[TokensInfo]:
    tokenizer = get_tokenizer(prompt.model.tokenizer)
    infos: list[TokensInfo] = []
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


def _tokens_info(tokenizer: Tokenizer, ids: list[int], role: str | None) -> TokensInfo:
    return TokensInfo(tuple(ids), tuple(tokenizer.token_bytes(i) for i in ids), role)
