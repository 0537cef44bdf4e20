"""Replaying the real answers recorded in tests/data/ground_truth.jsonl (a vendored copy of the shared
ground truth; tests/data/PROVENANCE.md says where it comes from).

Every record is replayed through the call it was recorded from, on the date it was recorded:
countTokens through `count`, generateContent's promptTokenCount and candidatesTokenCount through
`usage`, embedding usage through `usage` on the embedding model.
"""

from __future__ import annotations

import atexit
import base64
import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
import urllib.parse
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import vertexmeter
from vertexmeter.errors import VertexMeterError
from vertexmeter.media import MediaOptions
from vertexmeter.registry import resolve


def ground_truth_path() -> Path:
    """The vendored copy; VERTEXMETER_GROUND_TRUTH points at another file (e.g. a newer shared one)."""
    override = os.environ.get("VERTEXMETER_GROUND_TRUTH")
    return Path(override) if override else Path(__file__).resolve().parent / "data" / "ground_truth.jsonl"


def load_records() -> list[dict[str, Any]]:
    path = ground_truth_path()
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def load_mined() -> list[dict[str, Any]]:
    """Answers mined from public cassettes (tests/data/mined.jsonl, tests/data/PROVENANCE.md)."""
    path = Path(__file__).resolve().parent / "data" / "mined.jsonl"
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    excluded = errata().get("not_evidence", {}).get("records", {})
    return [r for r in records if r["id"] not in excluded]


def load_mined_history(name: str) -> list[dict[str, Any]]:
    """Answers mined from every version of a repository's cassettes (tests/data/mined_<name>.jsonl, gzipped
    when large; written by tests/data/mine_vcr_history.py): `llm_gemini` (simonw/llm-gemini), `ruby_llm`
    (crmne/ruby_llm), `pydantic_ai_history` (pydantic/pydantic-ai), `mirascope` (Mirascope/mirascope), `ellmer`
    (tidyverse/ellmer), `chatlas` (posit-dev/chatlas), `crewai` (crewAIInc/crewAI), `openinference`
    (Arize-ai/openinference), `otel_contrib` (open-telemetry/opentelemetry-python-contrib), `openllmetry`
    (traceloop/openllmetry), `lmnr` (lmnr-ai/lmnr-python), `logfire` (pydantic/logfire),
    `braintrust` (braintrustdata/braintrust-sdk), `oscar` (golang/oscar), `req_llm` (agentjido/req_llm),
    `sublayer` (sublayerapp/sublayer), `fantasy` (charmbracelet/fantasy), `ruby_llm_mcp`
    (patvice/ruby_llm-mcp), `dspy_rb` (vicentereig/dspy.rb), `llm_rb` (llmrb/llm), `req_llm_2026`
    (agentjido/req_llm, 2026), `langchaingo_vxcontrol` (vxcontrol/langchaingo), `adk_go_history` (google/adk-go),
    `rig` (0xPlaygrounds/rig), `newrelic` (newrelic/newrelic-python-agent), `family_assistant`
    (werdnum/family-assistant), `llm_rb_2026` (0x1eef/llm.rb, 2026), `mirascope_ts` (Mirascope's TypeScript
    tests), `ogx` (ogx-ai/ogx: google-genai calls, bodies rebuilt by tests/data/mine_genai_calls.py), `js_genai`
    (googleapis/js-genai's test recordings), `dotnet_genai` (googleapis/dotnet-genai's test recordings), `mastra`
    and `weave` (mastra-ai/mastra, wandb/weave: stored index versions of their recordings), `litellm`
    (BerriAI/litellm's translation cases: stored index versions), `late_2026` (stored index versions of
    recordings made after the mirrored histories: newrelic-python-agent's Google ADK cassettes of 2026-09, mastra's 3.6
    Flash recordings, ruby_llm's of 2026-10), `calls_heldout4` (outputs that call functions, of the same copies),
    `late_2026b` (stored index versions of werdnum/family-assistant's replay files after its mirror: Gemini API 3.6,
    3.7 and 3.8 Flash, 2026-07 … 09), `calls_heldout5` (their outputs that call functions), `late_2026c` (a stored
    index version of google/adk-go's TestTailRetentionE2E trace: Gemini API 3.5 Flash, 2026-08-31),
    `late_2026d` (stored index versions of lmnr-ai/lmnr-python's Google ADK cassettes after its mirror: Gemini API
    3.5 Flash-Lite, 2026-08-25), `calls_heldout6` (their outputs that call functions),
    `late_2026e` (stored index versions of googleapis/dotnet-genai's test recordings after its mirror: 3.5 Flash
    response schemas with propertyOrdering, both APIs, 2026-08-05), `maruel_genai` (maruel/genai's go-vcr recordings
    of the Gemini API, 2025-05 … 2026-08: 2.0 … 3.7 Flash), `calls_heldout7` (their outputs that call functions),
    `calls_heldout3`
    (outputs that call functions, of js-genai, dotnet-genai and mastra),
    `calls_heldout2` (outputs that call functions, of llm.rb, req_llm 2026, vxcontrol/langchaingo, adk-go,
    rig, newrelic, family-assistant and Mirascope's TypeScript tests),
    `function_calls` (outputs
    that call functions, of ten of these repositories), `calls_heldout` (outputs that call functions, of req_llm,
    sublayer, fantasy and ruby_llm-mcp)."""
    folder = Path(__file__).resolve().parent / "data"
    plain_path, packed = folder / f"mined_{name}.jsonl", folder / f"mined_{name}.jsonl.gz"
    text = plain_path.read_text("utf-8") if plain_path.exists() else gzip.decompress(packed.read_bytes()).decode()
    excluded = errata().get("not_evidence", {}).get("records", {})
    placeholders = errata().get("placeholders", {}).get("records", {})
    records = (json.loads(line) for line in text.splitlines() if line.strip())
    out = [_with_chunks(_restored(r, placeholders.get(r["id"]))) for r in records if r["id"] not in excluded]
    return [with_media_bytes(r) for r in out] if name == "media" else out


MEDIA_BLOBS = Path(__file__).resolve().parent / "data" / "media_blobs.jsonl.gz"


@cache
def media_blobs() -> dict[str, str]:
    """{sha256: base64} of the media bytes the mined_media set keeps once each (tests/data/media_blobs.jsonl.gz,
    written by mine_vcr_history.py --media); each entry's digest is checked against its bytes."""
    out: dict[str, str] = {}
    for line in gzip.decompress(MEDIA_BLOBS.read_bytes()).decode("utf-8").splitlines():
        item = json.loads(line)
        if hashlib.sha256(base64.b64decode(item["data"])).hexdigest() != item["sha256"]:
            raise ValueError(f"media blob {item['sha256']} does not hold the bytes its digest names")
        out[item["sha256"]] = item["data"]
    return out


def with_media_bytes(record: dict[str, Any]) -> dict[str, Any]:
    """A mined_media record with each `inlineData.data` that names a digest (`sha256:HEX`) given its bytes back
    (base64), as the request was sent; `media_files` ({fileUri: sha256:HEX}) stay for replay's media root."""
    blobs = media_blobs()

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {k: walk(v) for k, v in value.items()}
        for key in ("inlineData", "inline_data"):
            data = out.get(key, {}).get("data") if isinstance(out.get(key), dict) else None
            if isinstance(data, str) and data.startswith("sha256:"):
                out[key] = {**out[key], "data": blobs[data.removeprefix("sha256:")]}
        return out

    return {**record, "request": walk(record["request"])}


@cache
def _media_root_folder() -> Path:
    root = Path(tempfile.mkdtemp(prefix="vertexmeter-mined-media-"))
    atexit.register(shutil.rmtree, root, True)
    return root


def _media_root(files: dict[str, str]) -> Path:
    """A folder where each fileUri of `files` ({uri: sha256:HEX}) maps to its bytes, as MediaOptions' media_root
    reads it (host/path); one folder for the process, each file written once."""
    root = _media_root_folder()
    for uri, digest in files.items():
        parsed = urllib.parse.urlsplit(uri)
        target = root / parsed.netloc / parsed.path.lstrip("/")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(base64.b64decode(media_blobs()[digest.removeprefix("sha256:")]))
    return root


def _with_chunks(record: dict[str, Any]) -> dict[str, Any]:
    """A mined output record with `recorded_chunks`: its stream's chunks where the evidence keeps them (replay gives
    them as the response, as a caller holding the stream would)."""
    chunks = recorded_chunks(record) if record.get("kind") == "output" else None
    return {**record, "recorded_chunks": chunks} if chunks else record


def mined_history_names() -> list[str]:
    """Every mined set of tests/data (`mined_<name>.jsonl[.gz]`), by the name load_mined_history takes."""
    folder = Path(__file__).resolve().parent / "data"
    names = {p.name.removeprefix("mined_").split(".")[0] for p in folder.glob("mined_*.jsonl*")}
    return sorted(names)


def _restored(record: dict[str, Any], placeholders: dict[str, Any] | None) -> dict[str, Any]:
    """The record with a cassette filter's placeholders put back to the text they replaced (errata.json
    `placeholders`): in every string, as the filter wrote them everywhere. A value is the text, or
    `{"repeat": s, "times": n}` for s written n times (a filtered test constant such as `'a' * 8192`)."""
    if not placeholders:
        return record
    text = json.dumps(record, ensure_ascii=False)
    for placeholder, value in placeholders.items():
        original = value["repeat"] * value["times"] if isinstance(value, dict) else value
        # The placeholder sits inside JSON strings: the text it stands for is put back JSON-escaped.
        text = text.replace(placeholder, json.dumps(original, ensure_ascii=False)[1:-1])
    restored: dict[str, Any] = json.loads(text)
    return restored


def load_mined_llm_gemini() -> list[dict[str, Any]]:
    return load_mined_history("llm_gemini")


def errata() -> dict[str, Any]:
    """Transcription corrections to the vendored records, each with its reason (tests/data/errata.json)."""
    return json.loads((Path(__file__).resolve().parent / "data" / "errata.json").read_text("utf-8"))


def origin_request(record: dict[str, Any]) -> dict[str, Any] | None:
    """The generateContent body an output record was generated from: errata.json's correction (copied from
    the cited cassette) where there is one, else the record's own `origin_request`, else None."""
    corrected = errata().get("origin_request", {}).get("records", {}).get(record["id"])
    return corrected["origin_request"] if corrected else record.get("origin_request")


def _without_roles(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "contents": [{k: v for k, v in c.items() if k != "role"} for c in body.get("contents", [])]}


def is_multimodal(record: dict[str, Any]) -> bool:
    """The request carries media anywhere: a part's, a function response's parts' (Gemini 3), or a payload's."""
    return _has_media(record["request"])


def _has_media(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k in value for k in ("inlineData", "fileData", "inline_data", "file_data")) or any(
            _has_media(v) for v in value.values()
        )
    return isinstance(value, list) and any(_has_media(v) for v in value)


def api_of(record: dict[str, Any]) -> str:
    return "gemini" if record["endpoint"] == "gemini-api" else "vertex"


def call_of(record: dict[str, Any]) -> str:
    """The call the value was recorded from: countTokens, generateContent, embedContent or predict."""
    return {
        "countTokens": "countTokens",
        "generateContent.usage": "generateContent",
        "embedContent.usage": "embedContent",
        "predict.statistics": "predict",
        "palm.predict.tokenMetadata": "predict",
    }[record["api"]]


_CALL_NOTE = re.compile(r"(?:^|; )(stream)?(?i:g)enerateContent(?:;|$)")


def streamed_call(record: dict[str, Any]) -> bool | None:
    """The record's answer came from streamGenerateContent (True) or generateContent (False), as its notes name the
    call and its caller knows (a conversation's answers come from one client); None where the notes do not say."""
    notes = str(record.get("notes") or "").strip('"')
    if notes.endswith("; streamed"):
        # tests/evidence/mine_function_call_outputs.py's records name the call `generateContent` and end with
        # "; streamed" where the cassette's request was streamGenerateContent (mirac-0248's async_stream.yaml).
        return True
    match = _CALL_NOTE.search(notes)
    return None if match is None else bool(match.group(1))


@cache
def _recorded_streams() -> dict[str, list[dict[str, Any]]]:
    """The chunks of the recorded streams that tests/evidence/streamed_outputs.json keeps, by record id."""
    path = Path(__file__).resolve().parent / "evidence" / "streamed_outputs.json"
    return {s["id"]: s["chunks"] for s in json.loads(path.read_text("utf-8"))}


def recorded_chunks(record: dict[str, Any]) -> list[dict[str, Any]] | None:
    """An output record's answer as the chunks its stream returned (tests/evidence/streamed_outputs.json, re-mined
    from the record's cassette), where the record keeps the stream joined; None where no chunks are kept or they do
    not join to the record's text. Each chunk keeps its parts and the usage the caller saw except the counts being
    replayed (candidates, total, prompt): a user given the stream has its thoughts' count, not the answer."""
    chunks = _recorded_streams().get(record["id"])
    text = record.get("text")
    if chunks is None or not isinstance(text, str) or "".join(c["text"] for c in chunks) != text:
        return None
    out = []
    for chunk in chunks:
        parts = (
            ([{"text": chunk["thought"], "thought": True}] if chunk["thought"] else [])
            + ([{"text": chunk["text"]}] if chunk["text"] else [])
            + chunk.get("other_parts", [])
        )
        metadata = {k: v for k, v in chunk.items() if k in ("groundingMetadata", "urlContextMetadata")}
        usage = {k: v for k, v in chunk.items() if k == "thoughtsTokenCount"}
        candidate = {"content": {"role": "model", "parts": parts}, **metadata}
        out.append({"candidates": [candidate], **({"usageMetadata": usage} if usage else {})})
    return out


def group_of(record: dict[str, Any]) -> str:
    """(API, call, generation, modality) as one label, e.g. `gemini generateContent 2.5 text`."""
    try:
        generation = resolve(record["model"], api=api_of(record)).generation
    except VertexMeterError:
        generation = "?"
    modality = "output" if record["kind"] == "output" else "media" if is_multimodal(record) else "text"
    return f"{api_of(record)} {call_of(record)} {generation} {modality}"


@dataclass
class Replay:
    record: dict[str, Any]
    group: str
    expected: int
    got: int | None
    note: str = ""
    bounds: dict[str, Any] | None = None
    details: dict[str, int] | None = None  # the prompt's tokens by modality (promptTokensDetails)

    @property
    def exact(self) -> bool:
        return self.got == self.expected

    @property
    def within_bounds(self) -> bool:
        """The answer is exact, or it says it is not and its promptTokenCount bounds hold the recorded value."""
        if self.exact:
            return True
        if self.bounds is None:
            return False
        low, high = self.bounds[self.field]
        return bool(low <= self.expected <= high)

    @property
    def field(self) -> str:
        """The usageMetadata count the record's expected value is: candidatesTokenCount for an output."""
        return "candidatesTokenCount" if self.record["kind"] == "output" else "promptTokenCount"

    @property
    def bounds_width(self) -> float:
        """(high - low) / low of the bounds on the record's count; 0 for an exact answer."""
        if self.bounds is None:
            return 0.0
        low, high = self.bounds[self.field]
        return (high - low) / low if low else float("inf")


_PLACEHOLDER_PROMPT = {"contents": [{"role": "user", "parts": [{"text": "."}]}]}


def _output_tokens(
    record: dict[str, Any], model: str, api: str, candidate: Any, as_of: Any
) -> tuple[int, dict[str, Any] | None]:
    """(candidatesTokenCount, the answer's bounds on the output: a streamed one's, else None)."""
    origin = origin_request(record)
    # A candidate kept joined (text or Content) from a streamed answer: the caller knows it streamed.
    streamed = streamed_call(record)
    try:
        prompt = origin or _PLACEHOLDER_PROMPT
        result = vertexmeter.usage(model, prompt, api=api, response=candidate, as_of=as_of, streamed=streamed)
    except VertexMeterError:
        if origin is None:
            raise
        # An origin request that cannot be replayed offline (e.g. media kept only by reference): the output
        # counts with a placeholder prompt.
        result = vertexmeter.usage(
            model, _PLACEHOLDER_PROMPT, api=api, response=candidate, as_of=as_of, streamed=streamed
        )
    bounds = result.bounds
    return result.candidates_token_count, bounds if bounds and "candidatesTokenCount" in bounds else None


def load_2026() -> list[dict[str, Any]]:
    """tests/data/ground_truth_2026.jsonl (tests/data/PROVENANCE.md)."""
    path = Path(__file__).resolve().parent / "data" / "ground_truth_2026.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


_SOURCE = re.compile(
    r"^(?P<file>[^:]+:.+?) \(blob (?P<blob>[0-9a-f]+);.*?\)(?:, (?:record|interaction) (?P<index>\d+))?$"
)


@cache
def _conversations() -> dict[tuple[str, str], list[dict[str, Any]]]:
    path = Path(__file__).resolve().parent / "data" / "conversations_2026.jsonl.gz"
    out = {}
    for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
        item = json.loads(line)
        out[(item["source"], item["blob"])] = item["exchanges"]
    return out


def earlier_responses(record: dict[str, Any]) -> list[Any] | None:
    """The responses that came before a ground_truth_2026 record's request in its source file (the
    conversation's history, as an agent framework keeps it: a streamed one as its list of chunks), or None when
    the file was not mined."""
    match = _SOURCE.match(record["source"])
    if not match:
        return None
    exchanges = _conversations().get((match["file"], match["blob"]))
    if exchanges is None:
        return None
    index = int(match["index"] or 0)
    return [e["response"] for e in exchanges[:index] if isinstance(e.get("response"), dict | list)]


def recorded_request(record: dict[str, Any]) -> dict[str, Any] | None:
    """The request body exactly as sent, from the conversation (a record elides large media as `<omitted: …>`)."""
    match = _SOURCE.match(record["source"])
    exchanges = _conversations().get((match["file"], match["blob"])) if match else None
    if not exchanges:
        return None
    request = exchanges[int(match["index"] or 0)].get("request") if match else None
    return request if isinstance(request, dict) else None


def whole_response(record: dict[str, Any]) -> Any:
    """The whole response of a ground_truth_2026 output record (a streamed one as its list of chunks)."""
    match = _SOURCE.match(record["source"])
    exchanges = _conversations().get((match["file"], match["blob"])) if match else None
    if not exchanges:
        return None
    response = exchanges[int(match["index"] or 0)].get("response") if match else None
    return response if isinstance(response, dict | list) else None


def replay_2026(record: dict[str, Any]) -> tuple[Replay, Replay]:
    """(the record replayed alone, replayed with what its conversation gives: the earlier responses for a prompt,
    the whole response for an output). Both send the request as it was sent where the record elides its media
    (`<omitted: …>`): the bytes are the request's own, not its conversation's."""
    if record["kind"] == "input":
        sent = recorded_request(record) if "<omitted:" in json.dumps(record["request"]) else None
        return replay(record, request=sent), replay(record, request=sent, history=earlier_responses(record))
    alone = replay(record)
    return alone, replay(record, response=whole_response(record))


def replay(
    record: dict[str, Any],
    request: dict[str, Any] | None = None,
    media_options: MediaOptions | None = None,
    history: list[dict[str, Any]] | None = None,
    response: Any = None,
) -> Replay:
    """What vertexmeter answers for one recorded item, through the call and on the day it was recorded.

    `request` replaces the recorded body (multimodal records: regenerated media, tests/media); `history` gives
    the conversation's earlier responses (replayed thought signatures); `response` an output record's whole
    response in place of the candidate text it keeps.
    """
    api, call, group = api_of(record), call_of(record), group_of(record)
    expected = record["expected"]["totalTokens"]
    model, body = record["model"], request if request is not None else record["request"]
    as_of = record.get("recorded")
    if media_options is None and record.get("media_files"):
        media_options = MediaOptions(media_root=_media_root(record["media_files"]))
    if record["id"] in errata()["drop_roles"]["ids"]:
        body = _without_roles(body)
    try:
        if record["kind"] == "output":
            if "instances" in body:
                # PaLM :predict output: the generated text counted as the text model's own text.
                got = vertexmeter.count(model, {"instances": [{"prompt": record["text"]}]}).total_tokens
            else:
                # candidatesTokenCount: the candidate the record keeps (its Content) as the response, to the
                # request that produced it where the record has it (its generationConfig can matter: stop
                # sequences), else to a placeholder prompt.
                chunks = record.get("recorded_chunks") if response is None else None
                candidate = response if response is not None else chunks or body["contents"][0]
                got, bounds = _output_tokens(record, model, api, candidate, as_of)
                return Replay(record, group, expected, got, bounds=bounds)
        elif call == "predict":
            got = vertexmeter.count(model, body, api=api, as_of=as_of).total_tokens
        elif call == "countTokens":
            if api == "gemini" and set(body) - {"contents", "generateContentRequest"}:
                # The Gemini API takes system instruction and tools only inside generateContentRequest,
                # which is how the SDKs that recorded these answers sent them.
                body = {"generateContentRequest": {"model": f"models/{model}", **body}}
            counted = vertexmeter.count(model, body, api=api, as_of=as_of, media_options=media_options)
            return Replay(record, group, expected, counted.total_tokens, details=counted.tokens_by_modality)
        else:
            # A cachedContent's size is what its owner knows; the record's usage states it.
            cached = (record.get("raw_usage") or {}).get("cachedContentTokenCount") if "cachedContent" in body else None
            result = vertexmeter.usage(
                model,
                body,
                api=api,
                as_of=as_of,
                media_options=media_options,
                cached_content_tokens=cached,
                history=history,
                streamed=streamed_call(record),
            )
            details = result.prompt.tokens_by_modality
            return Replay(record, group, expected, result.prompt_token_count, bounds=result.bounds, details=details)
        return Replay(record, group, expected, got)
    except VertexMeterError as error:
        return Replay(record, group, expected, None, str(error))
