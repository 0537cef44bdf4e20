"""countTokens: the sum of Google's tokenizer over the texts a request holds, plus media and overheads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vertexmeter.counting.texts import prompt_texts
from vertexmeter.errors import invalid_argument
from vertexmeter.media import MediaContext, MediaOptions, count_media_part
from vertexmeter.registry import APIS, ModelInfo, overhead_for, resolve
from vertexmeter.requests import Prompt, count_prompt, media_field, request_body
from vertexmeter.tokenizing import get_tokenizer

MODALITIES = ("TEXT", "IMAGE", "VIDEO", "AUDIO", "DOCUMENT")


def billable_characters(text: str) -> int:
    """Unicode code points, whitespace (Python's str.isspace: Unicode White_Space) excluded.

    str.split() with no separator splits on exactly the str.isspace() characters, in C.
    """
    return sum(map(len, text.split()))


@dataclass
class MediaUsage:
    """The billable quantities of a prompt's media (what character-era prices are quoted in)."""

    images: int = 0
    video_seconds: Decimal = Decimal(0)
    audio_seconds: Decimal = Decimal(0)
    pdf_pages: int = 0


@dataclass
class CountResult:
    """The typed countTokens answer; `to_rest()` gives the JSON Google sends."""

    model: ModelInfo
    api: str
    total_tokens: int
    billable_characters: int
    text_characters: int
    tokens_by_modality: dict[str, int] = field(default_factory=dict)
    media: MediaUsage = field(default_factory=MediaUsage)

    @property
    def fits_context_window(self) -> bool:
        return self.total_tokens <= self.model.input_token_limit

    def to_rest(self) -> dict[str, Any]:
        """camelCase JSON with zero fields omitted, as proto3 JSON does."""
        out: dict[str, Any] = {}
        if self.total_tokens:
            out["totalTokens"] = self.total_tokens
        if self.api == "vertex" and self.model.billed_by_characters and self.billable_characters:
            out["totalBillableCharacters"] = self.billable_characters
        if not self.model.is_legacy:
            details = [
                {"modality": m, "tokenCount": self.tokens_by_modality[m]}
                for m in MODALITIES
                if self.tokens_by_modality.get(m)
            ]
            if details:
                out["promptTokensDetails"] = details
        return out


def count(
    model: str,
    request: Any,
    *,
    api: str = "vertex",
    media_options: MediaOptions | None = None,
    api_version: str | None = None,
    config: Any = None,
) -> CountResult:
    """Count `request` for `model` like countTokens: user text, a REST body, Contents / Parts (google-genai
    `types` too) or JSON bytes; `config` is google-genai's CountTokensConfig (docs/inputs.md)."""
    if api not in APIS:
        raise invalid_argument(f"Unknown API dialect {api!r}; expected one of: {', '.join(APIS)}.", "api")
    info = resolve(model, api=api, api_version=api_version)
    prompt = count_prompt(info, request_body(request, info, api, config=config), api)
    return count_prompt_tokens(prompt, media_options or MediaOptions())


def count_tokens(model: str, request: Any, *, api: str = "vertex", config: Any = None) -> dict[str, Any]:
    """The REST JSON of countTokens for `request` on `model`, in the "vertex" or "gemini" dialect."""
    return count(model, request, api=api, config=config).to_rest()


def count_prompt_tokens(prompt: Prompt, media_options: MediaOptions) -> CountResult:
    tokenizer = get_tokenizer(prompt.model.tokenizer)
    texts = [text for text, _ in prompt_texts(prompt)]
    by_modality: dict[str, int] = {}
    text_tokens = sum(tokenizer.count_many(texts)) if texts else 0
    billable = sum(billable_characters(t) for t in texts)
    characters = sum(len(t) for t in texts)
    media = MediaUsage()
    context = MediaContext(
        model=prompt.model,
        generation_config=prompt.generation_config,
        count_text=lambda text: len(tokenizer.encode(text)),
        options=media_options,
        api=prompt.api,
    )
    for part, path in _media_parts(prompt):
        for item in count_media_part(part, path, context):
            by_modality[item.modality] = by_modality.get(item.modality, 0) + item.tokens
            billable += item.text_characters
            media.images += item.images
            media.video_seconds += item.video_seconds
            media.audio_seconds += item.audio_seconds
            media.pdf_pages += item.pdf_pages
    text_tokens += _overhead_tokens(prompt)
    if text_tokens:
        by_modality["TEXT"] = by_modality.get("TEXT", 0) + text_tokens
    return CountResult(
        model=prompt.model,
        api=prompt.api,
        total_tokens=sum(by_modality.values()),
        billable_characters=billable,
        text_characters=characters,
        tokens_by_modality=by_modality,
        media=media,
    )


def _overhead_tokens(prompt: Prompt) -> int:
    """What the real service adds beyond raw text, per generation and dialect (models.yaml)."""
    if not prompt.contents:
        return 0
    rule = overhead_for(prompt.model, prompt.api)
    model_turns = sum(1 for turn in prompt.contents if turn.role == "model")
    return rule.per_request + rule.per_model_turn * model_turns


def _media_parts(prompt: Prompt) -> Iterator[tuple[dict[str, Any], str]]:
    turns = [*prompt.contents, *([prompt.system_instruction] if prompt.system_instruction else [])]
    for turn in turns:
        for j, part in enumerate(turn.parts):
            if media_field(part):
                yield part, f"{turn.path}.parts[{j}]"
    for instance in prompt.instances or []:
        for value, path in instance.media:
            yield {"legacyMedia": value}, path
