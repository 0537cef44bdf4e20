"""Counting: countTokens and computeTokens over a normalized prompt."""

from vertexmeter.counting.compute import compute_tokens
from vertexmeter.counting.count import CountResult, MediaUsage, billable_characters, count, count_tokens

__all__ = ["CountResult", "MediaUsage", "billable_characters", "compute_tokens", "count", "count_tokens"]
