"""vertexmeter batch, the library call: formats, per-line results, summary, errors, resume, engines agree."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vertexmeter
from tests.batch.batch_helpers import read_results, write_lines
from vertexmeter.batch import BatchSettings, count_line, estimate_batch
from vertexmeter.batch.work import LineCosts, line_counts
from vertexmeter.errors import VertexMeterError
from vertexmeter.registry import all_models

MODEL = "gemini-2.5-flash"
BAD = {
    137: '{"request": {"contents": [{"role": "user", "parts": [{"text": "x"}]}], "bogus": 1}}',
    9001: '{"request": {"contents": [ broken',
    19999: '{"request": {"model": "gemini-9-ultra", "contents": [{"role": "user", "parts": [{"text": "x"}]}]}}',
}


def billed(model: str, request: dict[str, Any], api: str = "vertex") -> int:
    return int(vertexmeter.usage_metadata(model, request, api=api)["promptTokenCount"])


def summary_of(result: Any) -> dict[str, Any]:
    out = result.summary()
    del out["run"]  # how it ran (engine, timing) is the only part that may differ
    return out


def reason_of(result: dict[str, Any]) -> str:
    return next(d["reason"] for d in result["error"]["details"] if d["@type"].endswith("ErrorInfo"))


@pytest.mark.slow  # twenty thousand lines on a process pool
def test_twenty_thousand_vertex_lines_with_three_bad_ones(tmp_path: Path, requests_pool: list[dict]) -> None:
    lines, expected = [], 0
    counts = [billed(MODEL, r) for r in requests_pool]
    for n in range(1, 20_001):
        if n in BAD:
            lines.append(BAD[n])
            continue
        k = n % len(requests_pool)
        lines.append(json.dumps({"request": requests_pool[k], "labels": {"n": n}}))
        expected += counts[k]
    source = write_lines(tmp_path / "batch.jsonl", lines)
    out = tmp_path / "results.jsonl"
    result = estimate_batch(str(source), MODEL, output=str(out), workers=2)
    results = read_results(out)
    assert len(results) == 20_000
    assert [r["line"] for r in results] == list(range(1, 20_001))
    assert {r["line"] for r in results if "error" in r} == set(BAD)
    assert {reason_of(results[n - 1]) for n in BAD} == {"UNKNOWN_FIELD", "INVALID_JSON", "UNKNOWN_MODEL"}
    assert results[136]["error"]["status"] == "INVALID_ARGUMENT" and "bogus" in results[136]["error"]["message"]
    assert results[19998]["error"]["code"] == 404
    assert results[0]["fields"] == {"labels": {"n": 1}}
    summary = result.summary()
    assert summary["lines"] == 20_000 and summary["counted"] == 19_997
    assert summary["errors"]["lines"] == 3
    assert summary["prompt_tokens"] == expected
    assert summary["tokens_by_modality"] == {"TEXT": expected}
    assert result.exit_code == 1
    # every line's cost is the pricing engine's; the job's line items add up to its totals
    total_max = sum(Decimal(r["cost"]["max"]) for r in results if "cost" in r)
    assert Decimal(summary["cost"]["total"]["max"]) == total_max
    items = summary["cost"]["models"][0]["lineItems"]
    assert sum(Decimal(i["amount"]) for i in items) == total_max
    assert sum(Decimal(i["amount"]) for i in items if "bound" not in i) == Decimal(summary["cost"]["total"]["min"])
    assert {i["entryId"] for i in items} == {
        "vertex.gemini-2.5-flash.input.text_image_video.batch",
        "vertex.gemini-2.5-flash.output.text.batch",
    }


def test_gemini_batch_format_keys_and_the_gemini_bill(tmp_path: Path, requests_pool: list[dict]) -> None:
    lines = [json.dumps({"key": f"request-{i}", "request": r}) for i, r in enumerate(requests_pool)]
    source = write_lines(tmp_path / "gemini.jsonl", lines)
    out = tmp_path / "results.jsonl"
    result = estimate_batch(str(source), MODEL, output=str(out), api="gemini", workers=1)
    results = read_results(out)
    assert [r["key"] for r in results] == [f"request-{i}" for i in range(len(requests_pool))]
    assert [r["promptTokenCount"] for r in results] == [billed(MODEL, r, "gemini") for r in requests_pool]
    # the Gemini API bills one token per role-bearing Content on 2.5: not the Vertex figure
    assert result.summary()["prompt_tokens"] > sum(billed(MODEL, r) for r in requests_pool)
    assert result.exit_code == 0


def test_one_line_priced_like_estimate_at_batch_rates(tmp_path: Path, requests_pool: list[dict]) -> None:
    request = requests_pool[3]
    source = write_lines(tmp_path / "one.jsonl", [json.dumps({"request": request})])
    out = tmp_path / "r.jsonl"
    estimate_batch(str(source), MODEL, output=str(out), output_tokens=100, as_of="2026-01-15", workers=1)
    (line,) = read_results(out)
    single = vertexmeter.estimate(MODEL, request, mode="batch", output_tokens=100, date="2026-01-15")
    assert line["cost"]["min"] == line["cost"]["max"] == vertexmeter.pricing.money(single.total)
    assert line["cost"]["outputTokens"] == 100
    assert all(item["entryId"].endswith(".batch") for item in line["cost"]["lineItems"])


def test_pool_ray_free_engines_agree_and_keep_order(tmp_path: Path, requests_pool: list[dict]) -> None:
    lines = [json.dumps({"request": r}) for r in requests_pool * 30] + ["not json"]
    source = write_lines(tmp_path / "b.jsonl", lines)
    serial, pooled = tmp_path / "serial.jsonl", tmp_path / "pooled.jsonl"
    one = estimate_batch(str(source), MODEL, output=str(serial), workers=1)
    two = estimate_batch(str(source), MODEL, output=str(pooled), workers=2, chunk_lines=7)
    assert serial.read_bytes() == pooled.read_bytes()
    assert summary_of(one) == summary_of(two)
    # a results line is the JSON of count_line (the cost spliced in as serialised once per distinct cost)
    settings_ = BatchSettings(model=MODEL)
    written = serial.read_text(encoding="utf-8").splitlines()[1:]  # after the job header
    for n in (1, 2, len(lines)):
        direct = count_line(n, lines[n - 1].encode(), settings_, LineCosts(settings_))
        assert written[n - 1] == json.dumps(direct, ensure_ascii=False, separators=(",", ":"))


def test_formats_bare_requests_palm_instances_gz_and_several_inputs(tmp_path: Path) -> None:
    bare = write_lines(tmp_path / "a.jsonl", [json.dumps({"contents": [{"parts": [{"text": "Hello there"}]}]})])
    with gzip.open(tmp_path / "b.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(json.dumps({"request": {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}}) + "\n")
    out = tmp_path / "r.jsonl"
    result = estimate_batch([str(bare), str(tmp_path / "*.gz")], MODEL, output=str(out), workers=1)
    assert [r["line"] for r in read_results(out)] == [1, 2]
    assert result.summary()["run"]["inputs"] == [str(bare), str(tmp_path / "b.jsonl.gz")]
    assert result.summary()["prompt_tokens"] == billed(MODEL, {"contents": [{"parts": [{"text": "Hello there"}]}]}) + 1

    prompt = "Give me ten interview questions for the role of program manager."
    palm = write_lines(
        tmp_path / "palm.jsonl", [json.dumps({"prompt": prompt}), json.dumps({"instances": [{"prompt": prompt}]})]
    )
    refused = estimate_batch(str(palm), "text-bison@002", output=str(out), workers=1)
    # the catalogue has no batch rate for PaLM 2: a refusal naming the modes it prices, never $0
    assert refused.summary()["errors"]["by_reason"]["PRICING"]["first_lines"] == [1, 2]
    assert "modes priced for it: online" in read_results(out)[0]["error"]["message"]
    estimate_batch(str(palm), "text-bison@002", output=str(out), workers=1, mode="online")
    expected = vertexmeter.count_tokens("text-bison@002", {"instances": [{"prompt": prompt}]})
    for line in read_results(out):
        assert line["totalBillableCharacters"] == expected["totalBillableCharacters"] == 54
        assert line["promptTokenCount"] == expected["totalTokens"]
        assert Decimal(line["cost"]["min"]) > 0
        assert "promptTokensDetails" not in line


def test_lines_may_name_their_model(tmp_path: Path) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}
    lines = [
        json.dumps(
            {
                "request": {
                    **body,
                    "model": "projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash-001",
                }
            }
        ),
        json.dumps({"request": body}),
    ]
    source = write_lines(tmp_path / "m.jsonl", lines)
    out = tmp_path / "r.jsonl"
    summary = estimate_batch(str(source), MODEL, output=str(out), workers=1).summary()
    assert [r["model"] for r in read_results(out)] == ["gemini-2.0-flash", MODEL]
    assert [m["model"] for m in summary["cost"]["models"]] == ["gemini-2.0-flash", MODEL]
    assert [m["lines"] for m in summary["cost"]["models"]] == [1, 1]
    refused = estimate_batch(str(source), None, output=str(out), workers=1)
    assert reason_of(read_results(out)[1]) == "UNKNOWN_MODEL" and refused.exit_code == 1


@pytest.mark.parametrize(
    ("raw", "reason", "field"),
    [
        ("", "INVALID_JSON", None),
        ("[1, 2]", "INVALID_LINE", None),
        ('{"request": []}', "INVALID_LINE", "request"),
        ('{"what": 1}', "INVALID_LINE", None),
        ('{"request": {"model": 3, "contents": []}}', "INVALID_LINE", "model"),
        (
            '{"request": {"contents": [{"role": "user", "parts": [{"text": ""}]}]}}',
            "INVALID_REQUEST",
            "contents[0].parts[0].text",
        ),
        (
            '{"request": {"contents": [{"role": "user", "parts": [{"fileData": {"fileUri": "gs://b/missing.png", '
            '"mimeType": "image/png"}}]}]}}',
            "MEDIA",
            None,
        ),
        (
            '{"request": {"model": "gemini-2.0-flash-thinking-exp", "contents": [{"parts": [{"text": "x"}]}]}}',
            "UNPRICED_MODEL",
            None,
        ),
    ],
)
def test_refused_lines_have_google_errors_and_a_reason(raw: str, reason: str, field: str | None) -> None:
    result = count_line(5, raw.encode(), BatchSettings(model=MODEL), LineCosts(BatchSettings(model=MODEL)))
    assert result["line"] == 5 and "cost" not in result
    error = result["error"]
    assert error["code"] in (400, 404) and error["status"] in ("INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION")
    assert error["message"]
    assert reason_of(result) == reason
    if field:
        violations = [v for d in error["details"] for v in d.get("fieldViolations", [])]
        assert violations[0]["field"] == field


def test_unpriced_model_is_an_error_never_zero() -> None:
    raw = b'{"contents": [{"parts": [{"text": "x"}]}]}'
    settings_ = BatchSettings(model="gemini-2.0-flash-thinking-exp")
    result = count_line(1, raw, settings_, LineCosts(settings_))
    assert "no price" in result["error"]["message"] and "Priced models:" in result["error"]["message"]


@pytest.mark.parametrize("workers", [1, 2])  # 2: workers read the file's spans themselves
def test_over_context_window_and_over_long_lines(tmp_path: Path, workers: int) -> None:
    long_prompt = "word " * 9000  # > 8,192 tokens for text-bison
    lines = [json.dumps({"prompt": long_prompt}), json.dumps({"prompt": "short"}), json.dumps({"prompt": "x" * 5000})]
    source = write_lines(tmp_path / "l.jsonl", lines)
    out = tmp_path / "r.jsonl"
    result = estimate_batch(
        str(source), "text-bison", output=str(out), workers=workers, max_line_bytes=40_000, mode="online"
    )
    first, second, third = read_results(out)
    assert first["error"]["message"].startswith("Request payload size exceeds the limit: 40000 bytes")
    assert reason_of(first) == "LINE_TOO_LARGE"
    assert "cost" in second
    assert "cost" in third
    big = estimate_batch(str(source), "text-bison", output=str(out), workers=workers, mode="online")
    first = read_results(out)[0]
    assert first["fitsContextWindow"] is False and reason_of(first) == "OVER_CONTEXT_WINDOW"
    assert first["error"]["message"].startswith(f"The input token count ({first['promptTokenCount']}) exceeds")
    summary = big.summary()
    assert summary["over_context_window"] == {
        "lines": 1,
        "first_lines": [1],
        "prompt_tokens": first["promptTokenCount"],
    }
    assert summary["errors"]["by_reason"]["OVER_CONTEXT_WINDOW"]["lines"] == 1
    assert summary["prompt_tokens"] == sum(r["promptTokenCount"] for r in read_results(out)[1:])
    assert result.summary()["lines"] == 3


def test_fail_fast_stops_at_the_first_refused_line(tmp_path: Path, requests_pool: list[dict]) -> None:
    lines = [json.dumps({"request": r}) for r in requests_pool * 10]
    lines[250] = "{oops"
    source = write_lines(tmp_path / "b.jsonl", lines)
    out = tmp_path / "r.jsonl"
    result = estimate_batch(str(source), MODEL, output=str(out), workers=2, fail_fast=True, chunk_lines=16)
    results = read_results(out)
    assert len(results) == 251 and "error" in results[-1]
    assert result.summary()["run"]["stopped_at_first_error"] is True
    assert result.summary()["lines"] == 251 and result.exit_code == 1


def test_resume_continues_an_interrupted_run(tmp_path: Path, requests_pool: list[dict]) -> None:
    lines = [json.dumps({"request": r}) for r in requests_pool * 5] + ["{bad"]
    source = write_lines(tmp_path / "b.jsonl", lines)
    full, partial = tmp_path / "full.jsonl", tmp_path / "partial.jsonl"
    whole = estimate_batch(str(source), MODEL, output=str(full), workers=1, chunk_lines=16)
    text = full.read_bytes()
    header, _, body = text.partition(b"\n")
    cut = body.index(b"\n", len(body) // 2) + 1
    done = body[:cut].count(b"\n")
    # An interruption: the header checkpointed `cut` bytes; more was written after it, the last line torn.
    stamp = f"{cut:016d}:{hashlib.sha256(body[:cut]).hexdigest()}".encode()
    header = re.sub(rb'"written":"[0-9a-f:]+"', b'"written":"' + stamp + b'"', header)
    partial.write_bytes(header + b"\n" + body[: cut + 300] + b'{"line":')
    resumed = estimate_batch(str(source), MODEL, output=str(partial), workers=2, resume=True)
    assert partial.read_bytes() == text
    assert summary_of(resumed) == summary_of(whole)
    assert resumed.summary()["run"]["resumed_lines"] == done
    again = estimate_batch(str(source), MODEL, output=str(partial), workers=1, resume=True)
    assert again.summary()["run"]["resumed_lines"] == len(lines) and summary_of(again) == summary_of(whole)


def test_resume_refuses_a_foreign_results_file(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "b.jsonl", ['{"contents": [{"parts": [{"text": "a"}]}]}'])
    other = write_lines(tmp_path / "other.jsonl", ['{"line": 1, "error": {}}', '{"line": 2, "error": {}}'])
    with pytest.raises(VertexMeterError, match="no job header"):
        estimate_batch(str(source), MODEL, output=str(other), resume=True, workers=1)
    foreign = write_lines(tmp_path / "foreign.jsonl", ['{"hello": 1}'])
    with pytest.raises(VertexMeterError, match="not a results file"):
        estimate_batch(str(source), MODEL, output=str(foreign), resume=True, workers=1)


def test_resume_refuses_the_results_of_another_input_or_other_options(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "b.jsonl", ['{"contents": [{"parts": [{"text": "a"}]}]}'] * 3)
    other = write_lines(tmp_path / "c.jsonl", ['{"contents": [{"parts": [{"text": "b"}]}]}'] * 3)
    out = tmp_path / "r.jsonl"
    estimate_batch(str(source), MODEL, output=str(out), workers=1)
    kept = out.read_bytes()
    for inputs, options in (
        (str(other), {}),  # same length, other content
        (str(source), {"output_tokens": 5}),
        (str(source), {"mode": "online"}),
        (str(source), {"as_of": "2026-01-15"}),
        (str(source), {"api": "gemini"}),
    ):
        with pytest.raises(VertexMeterError, match="another input or other options"):
            estimate_batch(inputs, MODEL, output=str(out), resume=True, workers=1, **options)
        assert out.read_bytes() == kept  # refused before anything is written
    assert estimate_batch(str(source), MODEL, output=str(out), resume=True, workers=1).tally.lines == 3


def test_resume_refuses_tampered_results(tmp_path: Path, requests_pool: list[dict]) -> None:
    source = write_lines(tmp_path / "b.jsonl", [json.dumps({"request": r}) for r in requests_pool[:20]])
    out = tmp_path / "r.jsonl"
    whole = estimate_batch(str(source), MODEL, output=str(out), workers=1, output_tokens=10)
    kept = out.read_bytes()
    line = read_results(out)[4]
    price = line["cost"]["max"]
    out.write_bytes(kept.replace(f'"max":"{price}"'.encode(), b'"max":"99999.99"', 1))
    with pytest.raises(VertexMeterError, match="changed after this job wrote it"):
        estimate_batch(str(source), MODEL, output=str(out), resume=True, workers=1, output_tokens=10)
    dropped = kept.split(b"\n")
    out.write_bytes(b"\n".join(dropped[:3] + dropped[4:]))  # a line removed
    with pytest.raises(VertexMeterError, match="changed after this job wrote it"):
        estimate_batch(str(source), MODEL, output=str(out), resume=True, workers=1, output_tokens=10)
    out.write_bytes(kept)
    again = estimate_batch(str(source), MODEL, output=str(out), resume=True, workers=1, output_tokens=10)
    assert summary_of(again) == summary_of(whole)


def test_blank_lines_are_skipped_and_counted_once(tmp_path: Path) -> None:
    request = '{"contents": [{"parts": [{"text": "hello"}]}]}'
    lines = ["", request, "   ", "\t", "", request, *[""] * 500, "\r", request, ""]
    source = write_lines(tmp_path / "b.jsonl", lines)
    out = tmp_path / "r.jsonl"
    for workers in (1, 2):
        result = estimate_batch(str(source), MODEL, output=str(out), workers=workers, chunk_lines=7)
        assert [r["line"] for r in read_results(out)] == [2, 6, 508]
        summary = result.summary()
        assert (summary["lines"], summary["counted"], summary["blank_lines"]) == (3, 3, len(lines) - 3)
        assert summary["errors"]["lines"] == 0 and result.exit_code == 0


def test_a_gzipped_file_of_newlines_writes_no_result_lines(tmp_path: Path) -> None:
    source = tmp_path / "bomb.jsonl.gz"
    with gzip.open(source, "wb", compresslevel=9) as bomb:
        bomb.write(b"\n" * 2_000_000)
    assert source.stat().st_size < 10_000
    out = tmp_path / "r.jsonl"
    result = estimate_batch(str(source), MODEL, output=str(out), workers=1)
    assert out.stat().st_size < 2_000  # the header alone (one error record a line: ~460 MB)
    assert read_results(out) == []
    summary = result.summary()
    assert (summary["lines"], summary["blank_lines"], result.exit_code) == (0, 2_000_000, 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"api": "palm"}, "Unknown API dialect"),
        ({"engine": "spark"}, "engine must be one of"),
        ({"workers": 0}, "at least 1"),
        ({"mode": "cheap"}, "mode"),
        ({"as_of": "yesterday"}, "ISO date"),
        ({"output_tokens": -1}, "output_tokens"),
    ],
)
def test_bad_job_options_are_refused_before_work(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    source = write_lines(tmp_path / "b.jsonl", ['{"contents": [{"parts": [{"text": "a"}]}]}'])
    with pytest.raises(VertexMeterError, match=message):
        estimate_batch(str(source), MODEL, **kwargs)


def test_missing_inputs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(VertexMeterError, match="does not exist"):
        estimate_batch(str(tmp_path / "nope.jsonl"), MODEL)
    with pytest.raises(VertexMeterError, match="No input file matches"):
        estimate_batch(str(tmp_path / "*.jsonl"), MODEL)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(["request", "contents", "key", "prompt", "parts", "text", "role", "model", "x"]),
                    inner,
                    max_size=4,
                )
            ),
            max_leaves=12,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_any_line_gives_a_result_or_a_google_error(raw: bytes) -> None:
    settings_ = BatchSettings(model=MODEL)
    result = count_line(3, raw, settings_, _PRICER)
    assert result["line"] == 3
    assert ("cost" in result) != ("error" in result)
    if "error" in result:
        assert set(result["error"]) == {"code", "message", "status", "details"}
    json.dumps(result)


_PRICER = LineCosts(BatchSettings(model=MODEL))


def test_media_lines_are_billed_like_usage_metadata(tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    import base64
    import io

    buffer = io.BytesIO()
    image.new("RGB", (1600, 1000), (200, 30, 30)).save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode()
    request = {
        "contents": [
            {
                "role": "user",
                "parts": [{"text": "What colour is this?"}, {"inlineData": {"mimeType": "image/png", "data": data}}],
            }
        ]
    }
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "b").mkdir()
    (tmp_path / "media" / "b" / "a.png").write_bytes(buffer.getvalue())
    mirrored = {
        "contents": [{"role": "user", "parts": [{"fileData": {"mimeType": "image/png", "fileUri": "gs://b/a.png"}}]}]
    }
    source = write_lines(tmp_path / "m.jsonl", [json.dumps({"request": request}), json.dumps({"request": mirrored})])
    out = tmp_path / "r.jsonl"
    options = vertexmeter.media.MediaOptions(media_root=str(tmp_path / "media"))
    for api in ("vertex", "gemini"):
        summary = estimate_batch(
            str(source), "gemini-2.0-flash", output=str(out), api=api, workers=1, media_options=options, mode="online"
        ).summary()
        inline, mirrored_line = read_results(out)
        expected = vertexmeter.usage_metadata("gemini-2.0-flash", request, api=api, media_options=options)
        assert inline["promptTokensDetails"] == expected["promptTokensDetails"]
        assert inline["promptTokenCount"] == expected["promptTokenCount"]
        image_tokens = {d["modality"]: d["tokenCount"] for d in inline["promptTokensDetails"]}["IMAGE"]
        assert summary["tokens_by_modality"]["IMAGE"] == image_tokens + mirrored_line["promptTokenCount"]


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"maxOutputTokens": 300},
        {"maxOutputTokens": 2000, "thinkingConfig": {"thinkingBudget": 512}},
        {"thinkingConfig": {"thinkingBudget": 1024}},
    ],
)
def test_cost_range_is_the_estimate_of_the_same_request(tmp_path: Path, config: dict[str, Any]) -> None:
    request = {
        "contents": [{"role": "user", "parts": [{"text": "Summarise the plot of Hamlet."}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
    }
    if config:
        request["generationConfig"] = config
    source = write_lines(tmp_path / "one.jsonl", [json.dumps({"request": request})])
    out = tmp_path / "r.jsonl"
    for api in ("vertex", "gemini"):
        estimate_batch(str(source), MODEL, output=str(out), api=api, workers=1)
        (line,) = read_results(out)
        single = vertexmeter.estimate(MODEL, request, api=api, mode="batch")
        low, high = single.total_range
        assert (line["cost"]["min"], line["cost"]["max"]) == (
            vertexmeter.pricing.money(low),
            vertexmeter.pricing.money(high),
        )
        assert line["promptTokenCount"] == single.counted.total_tokens


def test_a_line_with_history_bills_its_replayed_thoughts_exactly_and_without_says_bounds(tmp_path: Path) -> None:
    """A `{"request", "history"}` line: the thoughts its replayed signatures bill (docs/counting.md)."""
    import base64

    sig = base64.b64encode(bytes(range(256)) * 2).decode()
    call = {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": sig}
    request = {
        "contents": [
            {"role": "user", "parts": [{"text": "Call f."}]},
            {"role": "model", "parts": [call]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"ok": "yes"}}}]},
        ]
    }
    history = [
        {"candidates": [{"content": {"role": "model", "parts": [call]}}], "usageMetadata": {"thoughtsTokenCount": 99}}
    ]
    source = write_lines(
        tmp_path / "agent.jsonl",
        [
            json.dumps({"key": "a", "request": request, "history": history}),
            json.dumps({"key": "b", "request": request}),
        ],
    )
    out = tmp_path / "results.jsonl"
    estimate_batch(str(source), "gemini-3.5-flash", output=str(out), api="gemini", workers=1)
    known, unknown = read_results(out)
    expected = vertexmeter.usage_metadata("gemini-3.5-flash", request, api="gemini", history=history)
    assert known["promptTokenCount"] == expected["promptTokenCount"] and "bounds" not in known
    assert "fields" not in known  # history is read, not echoed
    low, high = unknown["bounds"]["promptTokenCount"]
    assert low <= unknown["promptTokenCount"] <= high and unknown["promptTokenCount"] != known["promptTokenCount"]


def test_resume_of_a_results_file_holding_only_its_header(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "b.jsonl", ['{"contents": [{"parts": [{"text": "a"}]}]}'] * 3)
    out = tmp_path / "r.jsonl"
    whole = estimate_batch(str(source), MODEL, output=str(out), workers=1)
    complete = out.read_bytes()
    header = complete.split(b"\n", 1)[0]
    nothing = b"0" * 16 + b":" + hashlib.sha256().hexdigest().encode()
    fresh = re.sub(rb'"written":"[0-9a-f:]+"', b'"written":"' + nothing + b'"', header)
    out.write_bytes(fresh + b"\n")  # interrupted before the first chunk was checkpointed
    resumed = estimate_batch(str(source), MODEL, output=str(out), workers=1, resume=True)
    assert out.read_bytes() == complete and summary_of(resumed) == summary_of(whole)


def test_a_line_with_config_counts_as_generate_content_with_that_config(tmp_path: Path) -> None:
    """A `{"request", "config"}` line: google-genai's GenerateContentConfig (as a dict) joins the request."""
    request = {"contents": [{"role": "user", "parts": [{"text": "Name a pelican."}]}]}
    config = {"system_instruction": "Answer in one word.", "max_output_tokens": 5, "temperature": 0.2}
    source = write_lines(tmp_path / "c.jsonl", [json.dumps({"request": request, "config": config})])
    out = tmp_path / "results.jsonl"
    estimate_batch(str(source), MODEL, output=str(out), workers=1)
    (line,) = read_results(out)
    expected = vertexmeter.usage(MODEL, request, config=config)
    assert line["promptTokenCount"] == expected.prompt_token_count > billed(MODEL, request)
    assert line["cost"]["outputTokens"]["max"] == 5 and "fields" not in line
    bad = write_lines(tmp_path / "bad.jsonl", [json.dumps({"request": request, "config": {"temprature": 1}})])
    estimate_batch(str(bad), MODEL, output=str(out), workers=1)
    (refused,) = read_results(out)
    assert "temperature" in refused["error"]["message"]


def test_billable_characters_counted_only_for_lines_billed_by_them() -> None:
    """A line of a character-billed model carries countTokens' billable characters and is priced by them; a
    token-billed line skips counting them (nothing reads them) and says nothing about them."""
    text = "Summarise this:  café ∑ 漢字\u3000and more " * 3
    body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    raw = json.dumps({"request": body}).encode()
    by_characters = BatchSettings(model="gemini-1.5-pro")
    line = count_line(1, raw, by_characters, LineCosts(by_characters))
    expected = vertexmeter.count_tokens("gemini-1.5-pro", body)["totalBillableCharacters"]
    assert line["totalBillableCharacters"] == expected == 84
    assert line["cost"]["lineItems"][0]["description"] == "input: text characters"
    assert line["cost"]["lineItems"][0]["quantity"] == "84"
    assert line_counts("gemini-1.5-pro", body, by_characters).billable_characters == 84

    by_tokens = BatchSettings(model=MODEL)
    line = count_line(1, raw, by_tokens, LineCosts(by_tokens))
    assert "totalBillableCharacters" not in line
    assert line["promptTokenCount"] == billed(MODEL, body)
    assert line_counts(MODEL, body, by_tokens).billable_characters == 0  # not counted


@pytest.mark.parametrize("api", ["vertex", "gemini"])
def test_every_price_list_bills_by_what_the_registry_says(api: str) -> None:
    """Batch lines count billable characters only where the registry's `billed_by` says characters; a price
    list that billed a model by characters while its registry entry said tokens would price it at 0."""
    for model in all_models():
        try:
            prices, _ = LineCosts(BatchSettings(model=model.id, api=api)).price_list(model.id)
        except VertexMeterError:
            continue  # no price list: such lines are refused (UNPRICED_MODEL), never priced
        assert (prices.model.billing == "characters") == model.billed_by_characters, (api, model.id)


def test_result_blocks_are_the_same_utf8_in_a_file_and_in_a_text_stream(tmp_path: Path) -> None:
    """Workers encode a chunk's result lines once; the file gets those bytes, a text stream their text: the same
    lines either way (non-ASCII keys and fields kept as they are), whatever the engine and the chunking."""
    import io

    body = {"contents": [{"role": "user", "parts": [{"text": "Grüße aus Köln, 漢字 ∑"}]}]}
    lines = [
        json.dumps({"key": f"clé-{n}-日本", "request": body, "labels": {"équipe": "ø"}}, ensure_ascii=n % 2 == 0)
        for n in range(1, 41)
    ]
    source = write_lines(tmp_path / "u.jsonl", [*lines[:20], "", "not json", *lines[20:]])
    pooled = tmp_path / "pooled.jsonl"
    stream = io.StringIO()
    estimate_batch(str(source), MODEL, output=str(pooled), workers=2, chunk_lines=3)
    estimate_batch(str(source), MODEL, output=stream, workers=1)
    written = pooled.read_bytes().decode("utf-8").splitlines(keepends=True)[1:]  # after the job header
    assert "".join(written) == stream.getvalue()
    assert len(written) == 41  # the blank line has no result line
    first = json.loads(written[0])
    assert first["key"] == "clé-1-日本" and first["fields"] == {"labels": {"équipe": "ø"}}
    assert '"key":"clé-1-日本"' in written[0]  # written as UTF-8, not escaped
    assert [json.loads(line)["line"] for line in written] == [*range(1, 21), 22, *range(23, 43)]
