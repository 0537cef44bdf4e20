"""Request parsing: whatever the caller passes -> a REST body (inputs) -> a validated, normalized prompt."""

from vertexmeter.requests.decode import decode_json
from vertexmeter.requests.inputs import plain, request_body, texts_body
from vertexmeter.requests.parse import decode_bytes, parse_message
from vertexmeter.requests.prompt import Instance, Prompt, Turn, compute_prompt, count_prompt, media_field
from vertexmeter.requests.schema import snake_case

__all__ = [
    "Instance",
    "Prompt",
    "Turn",
    "compute_prompt",
    "count_prompt",
    "decode_bytes",
    "decode_json",
    "media_field",
    "parse_message",
    "plain",
    "request_body",
    "snake_case",
    "texts_body",
]
