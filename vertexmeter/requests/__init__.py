"""Request parsing: whatever the caller passes -> a REST body (inputs) -> a validated, normalized prompt."""

from vertexmeter.requests.decode import decode_json
from vertexmeter.requests.inputs import plain, request_body, texts_body
from vertexmeter.requests.parse import decode_bytes, parse_message
from vertexmeter.requests.prompt import (
    CALLS,
    COUNT_TOKENS,
    EMBED_CONTENT,
    EMBEDDING,
    GENERATE_CONTENT,
    Instance,
    Prompt,
    Turn,
    compute_prompt,
    count_prompt,
    embed_prompt,
    generate_prompt,
    media_field,
)
from vertexmeter.requests.schema import snake_case

__all__ = [
    "CALLS",
    "COUNT_TOKENS",
    "EMBEDDING",
    "EMBED_CONTENT",
    "GENERATE_CONTENT",
    "Instance",
    "Prompt",
    "Turn",
    "compute_prompt",
    "count_prompt",
    "embed_prompt",
    "generate_prompt",
    "decode_bytes",
    "decode_json",
    "media_field",
    "parse_message",
    "plain",
    "request_body",
    "snake_case",
    "texts_body",
]
