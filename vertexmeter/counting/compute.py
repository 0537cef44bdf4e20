"""computeTokens: the tokens and ids of every text, with the role of its Content."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, cast

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
    # the tokens in base64, as the answer gives them, when made with them (compute_prompt_tokens)
    encoded: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    def to_rest(self) -> dict[str, Any]:
        encoded = self.encoded
        if encoded is None:
            encoded = tuple(base64.b64encode(token).decode("ascii") for token in self.tokens)
        info: dict[str, Any] = {"tokens": list(encoded), "tokenIds": list(map(str, self.ids))}
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


# Per tokenizer, each token id's bytes and their base64 as the answer gives them: a 2 KB text has ~500
# tokens, and making both per token was most of computeTokens' time; texts repeat most ids.
_PIECES: dict[Tokenizer, dict[int, tuple[bytes, str]]] = {}
_MAX_PIECES = 1 << 16  # ids kept per tokenizer (a vocabulary has up to 262,144: a flood starts afresh)


def _tokens_info(tokenizer: Tokenizer, ids: list[int], role: str | None) -> TokensInfo:
    memo = _PIECES.get(tokenizer)
    if memo is None:
        memo = _PIECES.setdefault(tokenizer, {})
    pieces = list(map(memo.get, ids))
    if None in pieces:
        if len(memo) > _MAX_PIECES:
            memo.clear()
        for k, token_id in enumerate(ids):
            if pieces[k] is None:
                raw = tokenizer.token_bytes(token_id)
                pieces[k] = memo[token_id] = (raw, base64.b64encode(raw).decode("ascii"))
    filled = cast("list[tuple[bytes, str]]", pieces)
    return TokensInfo(tuple(ids), tuple(map(itemgetter(0), filled)), role, tuple(map(itemgetter(1), filled)))
