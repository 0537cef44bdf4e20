"""The CPU-heavy part of a request — JSON decoding, validation, tokenizing — off the event loop.

`run_job` is a plain function of picklable data so that the same code runs in a thread pool or in
worker processes. It never raises for a bad request: refusals come back as data (core errors do
not survive pickling as exceptions).
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import re
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson

from vertexmeter.counting import compute, count, count_tokens, plain_texts
from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.media import MediaOptions
from vertexmeter.registry import resolve
from vertexmeter.requests import decode_json, require_object, too_deep
from vertexmeter.server.adapters import interactions_from_body, usage_from_body
from vertexmeter.tokenizing import families, get_tokenizer
from vertexmeter.vocabulary import COMPUTE_TOKENS, COUNT_TOKENS, ESTIMATE_COST, INTERACTIONS_USAGE, USAGE_METADATA

log = logging.getLogger("vertexmeter.server")


@dataclass(frozen=True)
class Job:
    rpc: str  # countTokens | computeTokens | estimateCost | usageMetadata | interactionsUsage
    api: str  # vertex | gemini
    api_version: str  # v1, v1beta1, v1beta
    body: bytes
    model: str | None  # None: an endpoint path; the model is the body's `model` field
    endpoint: str = ""  # the endpoint resource name, for the message when `model` is missing
    media_options: MediaOptions = field(default_factory=MediaOptions)
    max_text_chars: int = 0  # 0: no text budget
    max_long_run_chars: int = 0  # small lane: more characters in long runs go to the large lane (0: no check)


@dataclass(frozen=True)
class Outcome:
    """The JSON to send, and for metrics the model id and tokens per modality (empty on refusal).

    `rendered` is the JSON already serialised (by a large-lane worker), so that a huge answer is never
    serialised on the event loop; `body` is then empty.
    """

    code: int
    body: dict[str, Any]
    model_id: str | None = None
    tokens: dict[str, int] = field(default_factory=dict)
    rendered: bytes | None = None
    too_costly: bool = False  # not run: the small lane hands it to the large lane (`long_run_characters`)


# Keys whose string values are base64 media, not text: they do not count against the text budget.
_MEDIA_KEYS = frozenset({"data", "bytesBase64Encoded", "bytes_base64_encoded"})


def text_characters(body: Any, stop_after: int) -> int:
    """Characters in the JSON strings of a request plus the bytes of inline text documents (`text/*`
    inlineData: base64, 3 bytes per 4 characters); other media bytes are excluded. Walked without
    recursion; counting stops once past `stop_after`."""
    total = 0
    stack: list[Any] = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            total += len(value)
            if total > stop_after:
                return total
        elif isinstance(value, dict):
            mime = value.get("mimeType", value.get("mime_type"))
            data = value.get("data")
            if isinstance(mime, str) and mime.strip().lower().startswith("text/") and isinstance(data, str):
                total += len(data) * 3 // 4
            stack.extend(v for k, v in value.items() if k not in _MEDIA_KEYS)
        elif isinstance(value, list):
            stack.extend(value)
    return total


# A run of non-space characters longer than the core's cached chunks (256 characters) is encoded whole on
# every request and costs far more than its size suggests (255,000 × "a": ~0.1 s; prose of the same size:
# ~2 ms). Such runs are what makes a small body expensive; this many characters of them (~6 ms of
# encoding) is the most the small lane takes on.
LONG_RUN = re.compile(r"\S{257,}")
SMALL_LANE_LONG_RUN_CHARS = 16_384


def long_run_characters(body: Any, stop_after: int) -> int:
    """Characters in runs of more than 256 non-space characters, over the request's text strings (media
    data excluded); counting stops once past `stop_after`."""
    total = 0
    stack: list[Any] = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if len(value) > 256:
                for run in LONG_RUN.finditer(value):
                    total += run.end() - run.start()
                    if total > stop_after:
                        return total
        elif isinstance(value, dict):
            stack.extend(v for k, v in value.items() if k not in _MEDIA_KEYS)
        elif isinstance(value, list):
            stack.extend(value)
    return total


def check_text_budget(raw: bytes, body: Any, limit: int) -> None:
    """INVALID_ARGUMENT when the request holds more than `limit` characters of text (0: no budget)."""
    if limit <= 0 or len(raw) <= limit:  # a body of n bytes holds at most n characters
        return
    found = text_characters(body, limit)
    if found > limit:
        raise invalid_argument(
            f"Request contains more than {limit:,} characters of text, the most this server counts in one "
            "request (max_text_chars). Split the text over several requests.",
            "contents",
        )


def internal(message: str) -> dict[str, Any]:
    return VertexMeterError("INTERNAL", message).to_json()


def worker_died() -> Outcome:
    return Outcome(500, internal("The counting worker stopped unexpectedly; the request was not counted."))


def internal_error() -> Outcome:
    return Outcome(500, internal("Internal error encountered."))


def _refusal(error: VertexMeterError) -> Outcome:
    return Outcome(error.code, error.to_json())


def run_job(job: Job) -> Outcome:
    try:
        body = require_object(decode_json(job.body))  # the wire takes objects only
        check_text_budget(job.body, body, job.max_text_chars)
        # (a body of n bytes holds at most n characters: a small one needs no scan)
        if (
            job.max_long_run_chars
            and len(job.body) > job.max_long_run_chars
            and long_run_characters(body, job.max_long_run_chars) > job.max_long_run_chars
        ):
            return Outcome(0, {}, too_costly=True)
        if job.rpc == INTERACTIONS_USAGE:  # (the model is the body's own `model`, read by the converter)
            return _interactions(body, job.media_options)
        model = job.model if job.model is not None else _model_from_body(body, job.endpoint)
        if job.rpc == ESTIMATE_COST:
            return _estimate(model, body, job.api, job.media_options)
        if job.rpc == USAGE_METADATA:
            return _usage(model, body, job.api, job.media_options)
        if job.rpc == COMPUTE_TOKENS:
            computed = compute(resolve(model), body)
            ids = computed.token_count
            return Outcome(200, computed.to_rest(), computed.model.id, {"TEXT": ids} if ids else {})
        counted = count(model, body, api=job.api, media_options=job.media_options, api_version=job.api_version)
        return Outcome(200, counted.to_rest(), counted.model.id, dict(counted.tokens_by_modality))
    except VertexMeterError as error:
        return _refusal(error)
    except RecursionError:
        return _refusal(too_deep())
    except Exception:  # a bug: a Google-shaped 500 for this request, never a dead worker or pool
        log.exception("counting a %s request failed", job.rpc)
        return internal_error()


# (HTTP code, the answer's JSON, model id, tokens by modality)
Counted = tuple[int, bytes, str | None, dict[str, int]]


def run_plain(
    rpc: str, api: str, api_version: str, model: str | None, raw: bytes, max_text_chars: int
) -> Counted | None:
    """A plain-text countTokens body (one user turn of text parts) counted by the library's plain-text
    path, which answers such a body as the full path does, or None: `run_job`'s to answer. Its answer,
    integers and fixed names, is written by orjson as `json.dumps` writes it (errors.JSONResponse)."""
    if rpc != COUNT_TOKENS or model is None or (max_text_chars > 0 and len(raw) > max_text_chars):
        return None  # (a body of n bytes holds at most n characters: within the budget)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None  # run_job refuses it with the decoder's own message
    if type(value) is not dict or plain_texts(value) is None:  # a bare string is a request only in the library
        return None
    try:
        info = resolve(model, api=api, api_version=api_version)
        answer = count_tokens(info, value, api=api)
    except VertexMeterError:
        return None  # run_job answers with the refusal
    except Exception:  # a bug: a Google-shaped 500 for this request, as run_job answers one
        log.exception("counting a %s request failed", rpc)
        return 500, json.dumps(internal_error().body, separators=(",", ":")).encode(), None, {}
    details = answer.get("promptTokensDetails")
    if not details:
        return None  # (the legacy models, which the full path answers)
    return 200, orjson.dumps(answer), info.id, {entry["modality"]: entry["tokenCount"] for entry in details}


def run_job_rendered(job: Job) -> Outcome:
    """`run_job` with the answer serialised here (in the worker), not on the server's event loop."""
    outcome = run_job(job)
    try:
        rendered = json.dumps(outcome.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError):
        log.exception("the answer to a %s request could not be serialised", job.rpc)
        outcome = internal_error()
        rendered = json.dumps(outcome.body).encode()
    return Outcome(outcome.code, {}, outcome.model_id, outcome.tokens, rendered, outcome.too_costly)


def _estimate(model: str, body: Any, api: str, media_options: MediaOptions) -> Outcome:
    from vertexmeter.server.estimating import estimate_from_body  # on first use: pricing loads the catalogue

    result = estimate_from_body(model, body, api=api, media_options=media_options)
    return Outcome(200, result.to_json(), result.quote.bill.model, result.prompt_tokens_by_modality)


def _usage(model: str, body: Any, api: str, media_options: MediaOptions) -> Outcome:
    answer = usage_from_body(model, body, api=api, media_options=media_options)
    billed = {modality: tokens for modality, tokens in answer.usage.prompt_tokens_by_modality.items() if tokens}
    return Outcome(200, answer.to_json(), answer.usage.model.id, billed)


def _interactions(body: Any, media_options: MediaOptions) -> Outcome:
    answer = interactions_from_body(body, media_options=media_options)
    billed = {modality: tokens for modality, tokens in answer.usage.prompt_tokens_by_modality.items() if tokens}
    return Outcome(200, answer.to_json(), answer.usage.model.id, billed)


def _model_from_body(body: Any, endpoint: str) -> str:
    model = body.get("model") if isinstance(body, dict) else None
    if isinstance(model, str) and model.strip():
        return model
    raise invalid_argument(
        f"Endpoint `{endpoint}` is not a model this server knows: set `model` in the request body to the "
        "publisher model to count with, e.g. "
        "`projects/PROJECT/locations/LOCATION/publishers/google/models/gemini-2.5-flash`.",
        "model",
        "model is required when the path names an endpoint",
    )


def warm_up() -> None:
    """Load every tokenizer once, so that no request pays for it."""
    for family in families():
        get_tokenizer(family)


class WorkPool:
    """A thread pool or a pool of worker processes, with an async `run`.

    A worker process that dies (a crash in native code, the OOM killer) breaks a ProcessPoolExecutor
    for good; the pool is then replaced, and only the requests that were in flight get a 500.
    """

    def __init__(self, kind: str, workers: int) -> None:
        self.kind = kind
        self.workers = workers
        self._executor = self._new_executor()

    def _new_executor(self) -> Executor:
        if self.kind == "process":
            # spawn: forking a process that runs an event loop and threads is unsafe.
            return ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=warm_up
            )
        return ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="vertexmeter-count")

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self.kind == "process":
            # Start every process (each runs warm_up) before the first request is accepted.
            await asyncio.gather(*(loop.run_in_executor(self._executor, _noop) for _ in range(self.workers)))
        else:
            await loop.run_in_executor(self._executor, warm_up)

    async def run(self, job: Job) -> Outcome:
        executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, run_job, job)
        except BrokenExecutor:
            if self._executor is executor:  # the first request to notice replaces the pool
                log.error("a counting worker process died; starting a new pool")
                self._executor = self._new_executor()
                executor.shutdown(wait=False, cancel_futures=True)
            return worker_died()

    def close(self) -> None:
        # Threads are not waited for (a shutdown past its timeout must not hang on a job still running:
        # only small jobs run here, large ones are in the large lane); a process pool is joined, else
        # its queues' semaphores leak.
        self._executor.shutdown(wait=self.kind == "process", cancel_futures=True)


def _noop() -> None:
    return None
