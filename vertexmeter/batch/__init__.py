"""Batch jobs: count and price whole batch-prediction JSONL files (docs/batch.md).

estimate_batch(inputs, model, output=..., workers=..., engine="local"|"ray", ...) -> BatchResult
result.summary() -> dict     # the job summary (JSON)
result.exit_code             # 0 every line counted, 1 some refused
"""

from vertexmeter.batch.job import BatchResult, estimate_batch, run
from vertexmeter.batch.piped import run_piped
from vertexmeter.batch.work import BatchSettings, count_line

__all__ = [
    "BatchResult",
    "BatchSettings",
    "count_line",
    "estimate_batch",
    "run",
    "run_piped",
]
