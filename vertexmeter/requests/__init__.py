"""Request parsing: Google's REST JSON in, a validated normalized prompt out."""

from vertexmeter.requests.parse import decode_bytes, parse_message
from vertexmeter.requests.prompt import Instance, Prompt, Turn, compute_prompt, count_prompt

__all__ = ["Instance", "Prompt", "Turn", "compute_prompt", "count_prompt", "decode_bytes", "parse_message"]
