"""Every request body Google answered in the recorded ground truth is accepted by the parser (0 refusals), and the
shapes Google refuses stay refused.

Bodies: each record's `request` (and an output record's `origin_request`) of tests/data/ground_truth.jsonl and
tests/data/ground_truth_2026.jsonl, and every request of the 2026 conversations (tests/data/conversations_2026.jsonl.gz:
the earlier turns of the same agent runs). A record that elides media (`<omitted: …>`) is checked with the body as
it was sent, from its conversation, where that is kept. Only the parser is exercised here (counting is
tests/test_parity.py's and tests/media's).
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.ground_truth import (
    api_of,
    call_of,
    load_2026,
    load_mined,
    load_mined_history,
    load_records,
    mined_history_names,
    recorded_request,
)
from vertexmeter.errors import VertexMeterError
from vertexmeter.registry import resolve
from vertexmeter.requests import parse_count_request, parse_generate_request

DATA = Path(__file__).resolve().parent / "data"


_ELIDED = re.compile(r"^<(omitted:|\w+ .*omitted)")


def _unelided(value: Any) -> Any:
    """The body with media bytes the record elides (`<omitted: …>`, `<image 2048x1362 omitted; see media>`) as one
    valid base64 byte: the parser reads the field's type and encoding, not the media (tests/media counts them)."""
    if isinstance(value, dict):
        return {k: _unelided(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unelided(v) for v in value]
    return "AA==" if isinstance(value, str) and _ELIDED.match(value) else value


def _as_sent(record: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The body; where the record elides media, the conversation's copy as sent, else the elision replaced."""
    if "omitted" not in json.dumps(body):
        return body
    sent = recorded_request(record)
    return sent if sent is not None and "<omitted:" not in json.dumps(sent) else _unelided(body)


def _recorded_bodies() -> list[tuple[str, str, str, str, dict[str, Any]]]:
    """(where, model, api, call, body) of every body Google answered in the two ground-truth files."""
    out = []
    for record in [*load_records(), *load_2026()]:
        bodies = [record["request"]] if record["kind"] == "input" else []
        bodies += [record["origin_request"]] if isinstance(record.get("origin_request"), dict) else []
        for body in bodies:
            out.append((record["id"], record["model"], api_of(record), call_of(record), _as_sent(record, body)))
    return out


_URL = re.compile(r"/models/(?P<model>[^/:]+):(?P<method>\w+)")


def _conversation_bodies() -> list[tuple[str, str, str, str, dict[str, Any]]]:
    text = gzip.decompress((DATA / "conversations_2026.jsonl.gz").read_bytes()).decode("utf-8")
    out = []
    for line in text.splitlines():
        item = json.loads(line)
        for i, exchange in enumerate(item["exchanges"]):
            match = _URL.search(exchange.get("url") or "")
            if not match or not isinstance(exchange.get("request"), dict):
                continue
            api = "vertex" if "aiplatform.googleapis.com" in exchange["url"] else "gemini"
            where = f"{item['source']} exchange {i}"
            out.append((where, match["model"], api, "generateContent", exchange["request"]))
    return out


def _refusal(model: str, api: str, call: str, body: dict[str, Any]) -> str | None:
    """None when the parser takes the body for its call, else the error it answers."""
    try:
        info = resolve(model, api=api)
        if call == "countTokens":
            if api == "gemini" and set(body) - {"contents", "generateContentRequest"}:
                # How the SDKs that recorded these answers sent it (ground_truth.replay does the same).
                body = {"generateContentRequest": {"model": f"models/{model}", **body}}
            parse_count_request(info, body, api)
        elif call in ("generateContent", "embedContent"):
            parse_generate_request(info, body, api)
        else:  # :predict bodies (instances) are read by countTokens' rules
            parse_count_request(info, body, api)
    except VertexMeterError as error:
        return str(error)
    return None


def test_the_recorded_bodies_are_many_and_whole() -> None:
    recorded, conversations = _recorded_bodies(), _conversation_bodies()
    # 501 bodies of the 166 + 338 records (outputs with their origin request); 300 conversation requests.
    assert len(recorded) > 450 and len(conversations) > 250


@pytest.mark.parametrize("source", ["records", "conversations"])
def test_every_body_google_answered_is_accepted(source: str) -> None:
    bodies = _recorded_bodies() if source == "records" else _conversation_bodies()
    refused = [(where, why) for where, model, api, call, body in bodies if (why := _refusal(model, api, call, body))]
    assert refused == []


@pytest.mark.parametrize("name", ["mined", *mined_history_names()])
def test_every_mined_body_google_answered_is_accepted(name: str) -> None:
    """The mined sets' bodies too (each prompt's request, each output's origin request; 4,783 bodies of 16 sets on
    2026-12-07), Gemini API and Vertex AI, 1.0 to 3.5, as the SDKs and frameworks sent them (integer enums included)."""
    records = load_mined() if name == "mined" else load_mined_history(name)
    bodies = [
        (record["id"], record["model"], api_of(record), call_of(record), body)
        for record in records
        for body in ([record["request"]] if record["kind"] == "input" else []) + [record.get("origin_request")]
        if isinstance(body, dict)
    ]
    assert bodies
    refused = [(where, why) for where, model, api, call, body in bodies if (why := _refusal(model, api, call, body))]
    assert refused == []


def test_no_recorded_answer_is_a_refusal() -> None:
    """The two files keep answers only: a body Google refused would carry an error, not counts."""
    for record in [*load_records(), *load_2026()]:
        assert "error" not in record and record["expected"].get("totalTokens") is not None, record["id"]


def test_what_google_refuses_stays_refused() -> None:
    """The recorded Gemini API countTokens bodies with a system instruction or tools, as the SDK sent them (inside
    generateContentRequest), are answered; the same fields at the top level Google refuses, and so does the parser
    (Google's "Unknown name" message); an unknown field anywhere in a recorded 2026 body too."""
    checked = 0
    for record in load_records():
        body = record["request"]
        if call_of(record) != "countTokens" or api_of(record) != "gemini":
            continue
        extra = set(body) - {"contents", "generateContentRequest"}
        if not extra:
            continue
        info = resolve(record["model"], api="gemini")
        with pytest.raises(VertexMeterError, match="Unknown name"):
            parse_count_request(info, body, "gemini")
        checked += 1
    assert checked >= 1
    for record in load_2026()[:40]:
        if record["kind"] != "input":
            continue
        info = resolve(record["model"], api=api_of(record))
        with pytest.raises(VertexMeterError, match="Unknown name"):
            parse_generate_request(info, {**record["request"], "notAField": 1}, api_of(record))
