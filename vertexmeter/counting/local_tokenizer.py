"""google-genai's `LocalTokenizer`, answered by vertexmeter: the same constructor, methods and result types.

`from vertexmeter import LocalTokenizer` replaces `from google.genai.local_tokenizer import LocalTokenizer`.
The SDK's own counts the texts of six text-only model names; this one answers what countTokens /
computeTokens answer for every registry model, media, tools and system instructions included.
google-genai is imported when a tokenizer is made (its result types are the answer), never by
`import vertexmeter`.
"""

from __future__ import annotations

from typing import Any

from vertexmeter.counting.compute import compute
from vertexmeter.counting.count import count_body, model_info, plain_total
from vertexmeter.errors import failed_precondition
from vertexmeter.media import MediaOptions
from vertexmeter.registry import ModelInfo
from vertexmeter.requests import request_body


def _genai_types() -> Any:
    try:
        from google.genai import types
    except ImportError:
        raise failed_precondition(
            "vertexmeter.LocalTokenizer answers with google-genai's result types; install them with "
            "pip install 'vertexmeter[genai]' (or count without the SDK: vertexmeter.count_tokens)."
        ) from None
    return types


class LocalTokenizer:
    """google.genai.local_tokenizer.LocalTokenizer's interface over vertexmeter's exact counts.

    model_name: any registry spelling (`gemini-2.5-flash`, `models/gemini-2.5-flash`, a version alias);
    api: whose countTokens to answer, "vertex" (the default) or "gemini";
    media_options: how inlineData / fileData parts are read (`vertexmeter.media.MediaOptions`).
    An unknown model is a VertexMeterError (NOT_FOUND) naming the closest ones.
    """

    def __init__(self, model_name: str, *, api: str = "vertex", media_options: MediaOptions | None = None) -> None:
        self._types = _genai_types()
        self.model: ModelInfo = model_info(model_name, api)
        self.api = api
        self._media_options = media_options

    def __repr__(self) -> str:
        return f"LocalTokenizer({self.model.id!r}, api={self.api!r})"

    def count_tokens(self, contents: Any, *, config: Any = None) -> Any:
        """countTokens of `contents` (what generate_content takes) with `config` (CountTokensConfig or
        GenerateContentConfig) -> `types.CountTokensResult`."""
        if config is None:  # a text, one user turn or a conversation of text parts: count_tokens' plain paths
            total = plain_total(self.model, self.api, contents)
            if total is not None:
                return self._types.CountTokensResult(total_tokens=total)
        body = request_body(contents, self.model, self.api, config=config)
        if config is None and body is not contents:  # made a body (google-genai types, a list of texts)
            total = plain_total(self.model, self.api, body)
            if total is not None:
                return self._types.CountTokensResult(total_tokens=total)
        result = count_body(self.model, body, self.api, self._media_options)
        return self._types.CountTokensResult(total_tokens=result.total_tokens)

    def compute_tokens(self, contents: Any) -> Any:
        """computeTokens of `contents` -> `types.ComputeTokensResult`: per text, its token ids, the tokens'
        bytes and its Content's role."""
        result = compute(self.model, contents)  # the typed layer: ids and bytes as they are, no base64 round trip
        return self._types.ComputeTokensResult(
            tokens_info=[
                self._types.TokensInfo(token_ids=list(info.ids), tokens=list(info.tokens), role=info.role or None)
                for info in result.tokens_info
            ]
        )
