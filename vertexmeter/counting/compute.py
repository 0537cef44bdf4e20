"""computeTokens: the tokens and ids of every text, with the role of its Content."""

from __future__ import annotations

import base64
from binascii import b2a_base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from vertexmeter.counting.count import conversation_texts, model_info, plain_texts, todays_model
from vertexmeter.counting.texts import turn_texts
from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.registry import ModelInfo
from vertexmeter.requests import Prompt, media_field, parse_compute_request, request_body, snake_case
from vertexmeter.tokenizing import Tokenizer, get_tokenizer


@dataclass(frozen=True)
class TokensInfo:
    """The tokens of one counted string (or legacy instance): ids, their bytes, and its Content's role."""

    ids: tuple[int, ...]
    tokens: tuple[bytes, ...]
    role: str | None = None
    # the tokens in base64 and the ids as strings, as the answer gives them, when made with them
    # (compute_prompt_tokens)
    encoded: tuple[str, ...] | None = field(default=None, compare=False, repr=False)
    names: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    def to_rest(self) -> dict[str, Any]:
        encoded = self.encoded
        if encoded is None:
            encoded = tuple(base64.b64encode(token).decode("ascii") for token in self.tokens)
        names = self.names if self.names is not None else map(str, self.ids)
        info: dict[str, Any] = {"tokens": list(encoded), "tokenIds": list(names)}
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
    if config is None:
        answer = _plain_answer(model, request)
        if answer is not None:
            return answer
    return compute(model, request, config=config).to_rest()


# ---- the plain-text path of compute_tokens -------------------------------------------------------------
# A text, a body of one user turn of non-empty text parts (count's plain_texts) or of user and model turns of
# them (count's conversation_texts, without a system instruction, which computeTokens refuses), with no config:
# one TokensInfo per text with its turn's role, from the tokenizer's ids and the per-id memo below, with no
# request object. Taken for a model whose full path answers the probes exactly so (not a legacy model: its text
# is an instance); any text the tokenizer refuses takes the full path, which says where.

_plain_tokenizers: dict[int, tuple[ModelInfo, Tokenizer | None]] = {}
_PROBES: tuple[Any, ...] = (
    "Hello there",
    {"contents": [{"role": "user", "parts": [{"text": "Hello there"}, {"text": "a\n\tb c 가"}]}]},
    {
        "contents": [
            {"role": "user", "parts": [{"text": " x "}]},
            {"role": "model", "parts": [{"text": "Zwölf"}, {"text": "😀 日本語"}]},
            {"role": "user", "parts": [{"text": "\n"}]},
        ]
    },
)


def _plain_answer(model: str | ModelInfo, request: Any) -> dict[str, Any] | None:
    texts = _texts_and_roles(request)
    if texts is None:
        return None
    info = todays_model(model, "vertex")
    if info is None:
        return None
    known = _plain_tokenizers.get(id(info))
    if known is None or known[0] is not info:
        if len(_plain_tokenizers) >= 1024:  # registries reloaded many times over: start afresh
            _plain_tokenizers.clear()
        known = _plain_tokenizers[id(info)] = (info, _plain_tokenizer(info))
    tokenizer = known[1]
    if tokenizer is None:
        return None
    try:
        return {"tokensInfo": [_plain_info(tokenizer, tokenizer.encode(text), role) for text, role in texts]}
    except (VertexMeterError, ValueError):  # a lone surrogate: the full path says where
        return None


def _texts_and_roles(request: Any) -> list[tuple[str, str]] | None:
    """(text, its turn's role) of a plain request or a conversation without a system instruction; else None."""
    texts = plain_texts(request)
    if texts is not None:
        return [(text, "user") for text in texts]
    if type(request) is not dict or "systemInstruction" in request:
        return None
    found = conversation_texts(request)
    if found is None:
        return None
    roles = [role for role, parts in found[1][0] for _ in range(parts)]
    return list(zip(found[0], roles, strict=True))


def _plain_info(tokenizer: Tokenizer, ids: list[int], role: str) -> dict[str, Any]:
    _, encoded, names = _columns(tokenizer, ids, raw=False)
    return {"tokens": list(encoded), "tokenIds": list(names), "role": role}


def _plain_tokenizer(info: ModelInfo) -> Tokenizer | None:
    """The tokenizer of the model's plain path, when its answers to the probes are the full path's; else None."""
    if info.is_legacy:
        return None
    try:
        tokenizer = get_tokenizer(info.tokenizer)
        for request in _PROBES:
            texts = _texts_and_roles(request) or []
            plain = {"tokensInfo": [_plain_info(tokenizer, tokenizer.encode(t), role) for t, role in texts]}
            if plain != compute(info, request).to_rest():
                return None
        return tokenizer
    except VertexMeterError:
        return None


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


# Per tokenizer, each token id's bytes, their base64 and the id as a string, as the answer gives them, in
# lists indexed by id: a 2 KB text has ~500 tokens, making all three per token was most of computeTokens'
# time, and texts repeat most ids; picking a text's from lists is one C call (operator.itemgetter) each.
_PIECES: dict[Tokenizer, _Pieces] = {}
_MAX_PIECES = 1 << 16  # ids kept per tokenizer (a vocabulary has up to 262,144: a flood starts afresh)


class _Pieces:
    __slots__ = ("columns", "filled")

    def __init__(self, size: int) -> None:
        # (bytes, base64, id string) by id; replaced whole, never emptied in place, so that a reader
        # holding the lists always finds what it filled (threads share the memo)
        self.columns: tuple[list[Any], list[Any], list[Any]] = ([None] * size, [None] * size, [None] * size)
        self.filled = 0


def _columns(
    tokenizer: Tokenizer, ids: list[int], raw: bool = True
) -> tuple[tuple[bytes, ...], tuple[str, ...], tuple[str, ...]]:
    """The tokens of `ids`: their bytes (empty unless `raw`), their base64 and the ids as strings."""
    if not ids:
        return (), (), ()
    memo = _PIECES.get(tokenizer)
    if memo is None:
        memo = _PIECES.setdefault(tokenizer, _Pieces(1 << 16))
    columns = memo.columns
    pick = itemgetter(*ids) if len(ids) > 1 else lambda column: (column[ids[0]],)
    try:
        encoded = pick(columns[1])
    except IndexError:  # an id past the lists: longer ones, empty (the memo starts afresh)
        memo.columns = columns = _Pieces(1 << max(ids).bit_length()).columns
        memo.filled = 0
        encoded = pick(columns[1])
    if not all(encoded):  # truth, not `None in`: comparing each str with None costs twice as much
        missing = set(_unfilled(ids, encoded))
        if memo.filled + len(missing) > _MAX_PIECES:
            memo.columns = columns = _Pieces(len(columns[0])).columns
            memo.filled = 0
            missing = set(ids)
        raw_column, encoded_column, name_column = columns
        for token_id in missing:
            piece = tokenizer.token_bytes(token_id)
            raw_column[token_id] = piece
            encoded_column[token_id] = b2a_base64(piece, newline=False).decode("ascii")
            name_column[token_id] = str(token_id)
        memo.filled += len(missing)
        encoded = pick(encoded_column)
    return pick(columns[0]) if raw else (), encoded, pick(columns[2])


def _unfilled(ids: list[int], encoded: tuple[str | None, ...]) -> Iterator[int]:
    """The ids whose piece is not in the memo yet (few, in a text of mostly known ids)."""
    at = -1
    try:
        while True:
            at = encoded.index(None, at + 1)
            yield ids[at]
    except ValueError:
        return


def _tokens_info(tokenizer: Tokenizer, ids: list[int], role: str | None) -> TokensInfo:
    raw, encoded, names = _columns(tokenizer, ids)
    return TokensInfo(tuple(ids), raw, role, encoded, names)
