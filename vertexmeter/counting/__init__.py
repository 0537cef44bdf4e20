"""Counting: countTokens, computeTokens and the bill (generateContent usageMetadata) over a normalized prompt."""

from vertexmeter.counting.compute import ComputeResult, TokensInfo, compute, compute_tokens
from vertexmeter.counting.count import (
    CountResult,
    MediaUsage,
    add_part_texts,
    billable_characters,
    conversation_texts,
    count,
    count_body,
    count_tokens,
    modality_details,
    model_info,
    plain_texts,
    text_turns,
)
from vertexmeter.counting.interactions import (
    INTERACTIONS_USAGE_FIELDS,
    interactions_history,
    interactions_rest,
    interactions_result,
    interactions_usage,
)
from vertexmeter.counting.local_tokenizer import LocalTokenizer
from vertexmeter.counting.usage import UsageResult, usage, usage_metadata, usage_of_body

__all__ = [
    "ComputeResult",
    "TokensInfo",
    "compute",
    "CountResult",
    "LocalTokenizer",
    "MediaUsage",
    "add_part_texts",
    "UsageResult",
    "billable_characters",
    "compute_tokens",
    "conversation_texts",
    "text_turns",
    "count",
    "count_body",
    "count_tokens",
    "INTERACTIONS_USAGE_FIELDS",
    "interactions_history",
    "interactions_rest",
    "interactions_result",
    "interactions_usage",
    "modality_details",
    "model_info",
    "plain_texts",
    "usage",
    "usage_metadata",
    "usage_of_body",
]
