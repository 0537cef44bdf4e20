"""schemathesis hooks for the web batch route: bodies of `application/jsonl` drawn line by line.

The OpenAPI document describes the upload as a string of JSON Lines (OpenAPI 3.1 cannot describe a
line's schema); left to itself schemathesis would send random text, which never gets past the first
check of a line. This strategy mixes what `vertexmeter batch` reads (Vertex and Gemini batch lines,
bare bodies, legacy instances, lines naming models, media parts) with what it must refuse line by line
(JSON that is not a request, broken JSON, bad UTF-8, blank lines).

Imported by tests/abuse/test_abuse_schemathesis.py, and by `bench/schemathesis_full.py` as
`SCHEMATHESIS_HOOKS=tests.abuse.batch_fuzz` for the CLI run.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import strategies as st

JSONL = "application/jsonl"
MODELS = (
    "gemini-2.5-flash",
    "models/gemini-2.0-flash",
    "projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash-001",
    "gemini-3-flash-preview",
    "text-bison@002",
    "claude-sonnet-4-5",
    "imagen-4.0-generate-001",
    "no-such-model",
    "",
)

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_text = st.text(max_size=40)
_part = st.one_of(
    st.builds(lambda t: {"text": t}, _text),
    st.builds(
        lambda mime, data: {"inlineData": {"mimeType": mime, "data": data}},
        st.sampled_from(["image/png", "audio/wav", "application/pdf", "text/plain", "video/mp4", "x/y", ""]),
        st.sampled_from(["", "AAAA", "iVBORw0KGgo=", "not base64!", "JVBERi0xLjQK"]),
    ),
    st.builds(
        lambda uri, mime: {"fileData": {"fileUri": uri, "mimeType": mime}},
        st.sampled_from(["gs://b/a.png", "https://example.com/a.pdf", "file:///etc/passwd", "gs://b/%00", "x"]),
        st.sampled_from(["image/png", "application/pdf", "video/mp4"]),
    ),
    _json,
)
_content = st.builds(
    lambda role, parts: {"role": role, "parts": parts},
    st.sampled_from(["user", "model", "function", "", "system"]),
    st.lists(_part, max_size=3),
)
_body = st.fixed_dictionaries(
    {"contents": st.lists(_content, max_size=3)},
    optional={
        "model": st.sampled_from(MODELS),
        "systemInstruction": _content,
        "generationConfig": st.fixed_dictionaries(
            {}, optional={"maxOutputTokens": st.integers(-5, 2**40), "temperature": _scalars}
        ),
        "tools": st.lists(_json, max_size=2),
    },
)
_line = st.one_of(
    st.builds(lambda body: {"request": body}, _body),
    st.fixed_dictionaries(
        {"request": _body},
        optional={
            "key": _text,
            "custom_id": _scalars,
            "config": st.dictionaries(
                st.sampled_from(["system_instruction", "max_output_tokens", "tools", "temperature"]), _json
            ),
            "history": st.lists(_json, max_size=2),
            "labels": _json,
        },
    ),
    _body,
    st.builds(lambda text: {"prompt": text}, _text),
    st.builds(lambda xs: {"instances": xs}, st.lists(_json, max_size=2)),
    _json,
)


@st.composite
def jsonl_bodies(draw: Any) -> bytes:
    """A batch file of up to 12 lines: mostly JSON objects, some broken or blank."""
    lines: list[bytes] = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["json"] * 6 + ["blank", "text", "bytes", "truncated"]))
        if kind == "json":
            lines.append(json.dumps(draw(_line), ensure_ascii=draw(st.booleans())).encode())
        elif kind == "blank":
            lines.append(draw(st.sampled_from([b"", b"  ", b"\t", b"\r"])))
        elif kind == "text":
            lines.append(draw(st.text(max_size=30)).replace("\n", " ").encode("utf-8", "surrogatepass"))
        elif kind == "bytes":
            lines.append(draw(st.binary(max_size=30)).replace(b"\n", b" "))
        else:
            whole = json.dumps(draw(_line)).encode()
            lines.append(whole[: draw(st.integers(0, len(whole)))])
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    return ending.join(lines) + draw(st.sampled_from([b"", ending]))


schemathesis.openapi.media_type(JSONL, jsonl_bodies())


@schemathesis.serializer(JSONL)
def _jsonl(ctx: Any, value: Any) -> bytes:
    """The documented example (a string) and drawn bodies (bytes) go on the wire as they are."""
    return value if isinstance(value, bytes) else str(value).encode()


@schemathesis.check
def batch_stream_ends_well(ctx: Any, response: Any, case: Any) -> None:
    """A 200 of the batch route is NDJSON ending in its summary, or in an error that is not a server error
    (a job that died or failed inside the stream is a 5xx that the status code cannot show)."""
    if case.path != "/web/api/batch" or response.status_code != 200:
        return
    lines = [json.loads(line) for line in response.content.splitlines() if line.strip()]
    if not lines:
        raise AssertionError("the batch stream is empty")
    last = lines[-1]
    if "error" in last and int(last["error"].get("code", 500)) >= 500:
        raise AssertionError(f"the batch stream ended in a server error: {last['error']}")
    if "summary" not in last and "error" not in last:
        raise AssertionError(f"the batch stream ended without a summary: {last}")
