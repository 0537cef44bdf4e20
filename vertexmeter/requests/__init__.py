"""Request parsing: whatever the caller passes -> a REST body (inputs) -> a validated, normalized prompt."""

from vertexmeter.requests.calls import join_streamed_calls, streamed_arguments
from vertexmeter.requests.decode import decode_json, require_object, too_deep
from vertexmeter.requests.inputs import BODY_KEYS, decoded_body, plain, request_body
from vertexmeter.requests.interactions import INTERACTIONS_REQUEST_FIELDS, interactions_request, interactions_response
from vertexmeter.requests.parse import decode_bytes, parse_message
from vertexmeter.requests.prompt import (
    Instance,
    Prompt,
    Turn,
    media_field,
    parse_compute_request,
    parse_count_request,
    parse_generate_request,
)
from vertexmeter.requests.response import (
    response_candidates,
    response_shows_tool_run,
    response_signatures,
    response_thoughts,
    response_tool_runs,
)
from vertexmeter.requests.schema import ALL_ENUMS, MESSAGES, NUMBERED_ENUMS, Field, snake_case

__all__ = [
    "ALL_ENUMS",
    "BODY_KEYS",
    "MESSAGES",
    "NUMBERED_ENUMS",
    "Field",
    "require_object",
    "too_deep",
    "Instance",
    "Prompt",
    "Turn",
    "parse_compute_request",
    "parse_count_request",
    "parse_generate_request",
    "decode_bytes",
    "decode_json",
    "media_field",
    "parse_message",
    "plain",
    "decoded_body",
    "INTERACTIONS_REQUEST_FIELDS",
    "interactions_request",
    "interactions_response",
    "request_body",
    "response_candidates",
    "response_shows_tool_run",
    "response_signatures",
    "response_thoughts",
    "response_tool_runs",
    "snake_case",
    "join_streamed_calls",
    "streamed_arguments",
]
