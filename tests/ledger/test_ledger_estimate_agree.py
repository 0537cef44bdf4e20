"""Property: an estimate and the bill for the same usage agree to the digit (one pricing engine)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vertexmeter
from vertexmeter.ledger import bill

MODELS = (
    "gemini-2.5-flash",
    "gemini-2.5-pro",
    "gemini-2.0-flash",
    "gemini-3-pro-preview",
    "gemini-3.1-pro-preview",
    "gemini-2.5-flash-lite",
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    model=st.sampled_from(MODELS),
    text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=200),
    output=st.integers(0, 300_000),
    thinking=st.integers(0, 50_000),
    mode=st.sampled_from(("online", "batch")),
    day=st.dates(dt.date(2026, 3, 1), dt.date(2026, 11, 30)),
)
def test_estimate_and_bill_agree(
    tmp_path_factory, model: str, text: str, output: int, thinking: int, mode: str, day: dt.date
) -> None:
    request = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    estimate = vertexmeter.estimate(model, request, output_tokens=output, thinking_tokens=thinking, mode=mode, date=day)
    prompt = estimate.counted.total_tokens
    line = {
        "responseId": "r",
        "modelVersion": model,
        "createTime": f"{day.isoformat()}T12:00:00Z",
        "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": output, "thoughtsTokenCount": thinking},
    }
    if mode == "batch":
        line = {"status": "", "request": request, "response": line}  # a Vertex batch output line
    folder: Path = tmp_path_factory.mktemp("agree")
    log = folder / "log.jsonl"
    log.write_text(json.dumps(line) + "\n")
    report = bill(str(log), db=str(folder / "ledger.sqlite"))
    assert report.total == estimate.total
