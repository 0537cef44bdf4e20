"""Request parsing: Google's REST JSON in, a validated normalized prompt out."""

from vertexmeter.requests.options import split_options
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
    "media_field",
    "parse_message",
    "snake_case",
    "split_options",
]
