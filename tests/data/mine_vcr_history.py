"""Mine Google's recorded answers from every version of a repository's VCR cassettes (not run by the tests).

usage: python tests/data/mine_vcr_history.py CHECKOUT OWNER/NAME CASSETTE-DIR ID-PREFIX [--function-calls] > OUT.jsonl
  simonw/llm-gemini: ... simonw/llm-gemini tests/cassettes llmg > tests/data/mined_llm_gemini.jsonl
  crmne/ruby_llm:    ... crmne/ruby_llm spec/fixtures/vcr_cassettes rllm | gzip -9n > tests/data/mined_ruby_llm.jsonl.gz
  pydantic/pydantic-ai: ... pydantic/pydantic-ai tests pyd | gzip -9n > tests/data/mined_pydantic_ai_history.jsonl.gz
  Mirascope/mirascope: ... Mirascope/mirascope python/tests mira | gzip -9n > tests/data/mined_mirascope.jsonl.gz
  tidyverse/ellmer: ... tidyverse/ellmer tests/testthat/_vcr,vignettes/_vcr,inst/_vcr,_vcr elmr \
      | gzip -9n > tests/data/mined_ellmer.jsonl.gz
  posit-dev/chatlas: ... posit-dev/chatlas tests/_vcr chat | gzip -9n > tests/data/mined_chatlas.jsonl.gz
  crewAIInc/crewAI: ... crewAIInc/crewAI lib/crewai/tests/cassettes,tests/cassettes crew \
      | gzip -9n > tests/data/mined_crewai.jsonl.gz
  Arize-ai/openinference: ... Arize-ai/openinference $(OINF) oinf | gzip -9n > tests/data/mined_openinference.jsonl.gz
      OINF=python/instrumentation/openinference-instrumentation-google-genai/tests/cassettes,
      python/instrumentation/openinference-instrumentation-google-adk/tests/cassettes,
      python/instrumentation/openinference-instrumentation-langchain/tests/cassettes,
      python/instrumentation/openinference-instrumentation-dspy/tests/openinference/instrumentation/dspy/cassettes
      (one comma-separated argument)
  open-telemetry/opentelemetry-python-contrib: ... open-telemetry/opentelemetry-python-contrib $(OTEL) otel \
      | gzip -9n > tests/data/mined_otel_contrib.jsonl.gz
      OTEL=instrumentation-genai/opentelemetry-instrumentation-vertexai/tests/cassettes,
      instrumentation-genai/opentelemetry-instrumentation-google-genai/tests/generate_content/cassettes,
      instrumentation-genai/opentelemetry-instrumentation-langchain/tests/cassettes
  traceloop/openllmetry: ... traceloop/openllmetry $(every `*/cassettes` folder of its history) tlop \
      > tests/data/mined_openllmetry.jsonl
  lmnr-ai/lmnr-python: ... lmnr-ai/lmnr-python tests/cassettes lmnr > tests/data/mined_lmnr.jsonl
  pydantic/logfire: ... pydantic/logfire tests/otel_integrations/cassettes,tests/cassettes lgfr \
      > tests/data/mined_logfire.jsonl
  braintrustdata/braintrust-sdk: ... braintrustdata/braintrust-sdk py/src/braintrust/wrappers/cassettes,\
      integrations/adk-py/src/tests/cassettes,integrations/adk-py/tests/cassettes brtr \
      | gzip -9n > tests/data/mined_braintrust.jsonl.gz
  golang/oscar (httprr traces): ... golang/oscar internal oscr > tests/data/mined_oscar.jsonl
  agentjido/req_llm (JSON fixtures, one exchange a file; the fork neilberkman/req_llm holds the whole history):
      ... agentjido/req_llm test/support/fixtures/google,test/support/fixtures/google_vertex reqllm \
      | gzip -9n > tests/data/mined_req_llm.jsonl.gz
  sublayerapp/sublayer: ... sublayerapp/sublayer spec/vcr_cassettes subl | gzip -9n > tests/data/mined_sublayer.jsonl.gz
  charmbracelet/fantasy (Go's go-vcr): ... charmbracelet/fantasy providertests/testdata fnts \
      | gzip -9n > tests/data/mined_fantasy.jsonl.gz
  patvice/ruby_llm-mcp: ... patvice/ruby_llm-mcp spec/fixtures/vcr_cassettes rmcp \
      | gzip -9n > tests/data/mined_ruby_llm_mcp.jsonl.gz
  vicentereig/dspy.rb (Ruby VCR, JSON stream cassettes): ... vicentereig/dspy.rb \
      spec/vcr_cassettes,spec/sse_cassettes dsrb --skip-known | gzip -9n > tests/data/mined_dspy_rb.jsonl.gz
      (less dsrb-0042 / -0043: tests/data/PROVENANCE.md)
  llmrb/llm: ... llmrb/llm spec/fixtures/cassettes llmrb --skip-known | gzip -9n > tests/data/mined_llm_rb.jsonl.gz
  agentjido/req_llm after the req_llm set (the fork smstoslack/req_llm): ... agentjido/req_llm \
      test/support/fixtures/google,test/support/fixtures/google_vertex reqllm2 --skip-known \
      | gzip -9n > tests/data/mined_req_llm_2026.jsonl.gz (less reqllm2-0072: tests/data/PROVENANCE.md)
  vxcontrol/langchaingo: ... vxcontrol/langchaingo llms/googleai/testdata,llms/googleai/vertex/testdata vxlc \
      --skip-known | gzip -9n > tests/data/mined_langchaingo_vxcontrol.jsonl.gz
  google/adk-go (the versions ground_truth_2026.jsonl does not hold): ... google/adk-go \
      agent,model,internal,tool,plugin,runner,server,session,memory,examples,artifact,cmd,workflow adkg --skip-known \
      | gzip -9n > tests/data/mined_adk_go_history.jsonl.gz
  0xPlaygrounds/rig (httpmock YAML): ... 0xPlaygrounds/rig tests/cassettes/gemini rig --skip-known \
      | gzip -9n > tests/data/mined_rig.jsonl.gz
  newrelic/newrelic-python-agent (vcrpy and google-genai replays): ... newrelic/newrelic-python-agent \
      tests/mlmodel_gemini,tests/mlmodel_googleadk,tests/mlmodel_langchain/gemini_integration nrpy --skip-known \
      | gzip -9n > tests/data/mined_newrelic.jsonl.gz
  werdnum/family-assistant: ... werdnum/family-assistant tests/cassettes fama --skip-known \
      | gzip -9n > tests/data/mined_family_assistant.jsonl.gz
  0x1eef/llm.rb (after llmrb/llm's history): ... 0x1eef/llm.rb spec/fixtures/cassettes llmrb2 --skip-known \
      | gzip -9n > tests/data/mined_llm_rb_2026.jsonl.gz (less llmrb2-0020 … -0022: tests/data/PROVENANCE.md)
  Mirascope/mirascope's TypeScript tests (Polly.js HAR): ... Mirascope/mirascope typescript/tests mirats --skip-known \
      | gzip -9n > tests/data/mined_mirascope_ts.jsonl.gz
  googleapis/js-genai (the JS SDK's own test recordings): ... googleapis/js-genai test/system/recordings jsgenai \
      --skip-known | gzip -9n > tests/data/mined_js_genai.jsonl.gz
  googleapis/dotnet-genai (the same format): ... googleapis/dotnet-genai Google.GenAI.E2E.Tests/Recordings dotnetgenai \
      --skip-known | gzip -9n > tests/data/mined_dotnet_genai.jsonl.gz
  mastra-ai/mastra, wandb/weave (too large to mirror; stored index versions copied to INDEX/COMMIT/PATH):
      ... INDEX mastra-ai/mastra packages mastra --skip-known --index-copies \
      | gzip -9n > tests/data/mined_mastra.jsonl.gz
      ... INDEX wandb/weave tests/integrations/google_genai/cassettes weave --skip-known --index-copies \
      > tests/data/mined_weave.jsonl
  BerriAI/litellm (too large to mirror; its translation cases `tests/integration/translation/*/bases/*.py`, stored
      index versions copied to INDEX/COMMIT/PATH): ... INDEX BerriAI/litellm tests/integration/translation lite \
      --skip-known --index-copies > tests/data/mined_litellm.jsonl
  recordings made after the mirrored histories (stored index versions copied to INDEX/COMMIT/PATH, one run per
      repository, appended in this order): ... INDEX newrelic/newrelic-python-agent tests/mlmodel_googleadk nrpy3
      --skip-known --index-copies; ... INDEX crmne/ruby_llm spec/fixtures/vcr_cassettes rllm3 --skip-known
      --index-copies; then, each over its own copies so the ids above stay: newrelic nrpy4 (cassette_v2.yaml) and
      mastra-ai/mastra packages mastra3 | gzip -9n > tests/data/mined_late_2026.jsonl.gz; their function-call outputs
      (`--function-calls`): newrelic nrpy3c, nrpy4c | gzip -9n > tests/data/mined_calls_heldout4.jsonl.gz
  werdnum/family-assistant after its mirror (stored index versions copied to INDEX/COMMIT/PATH; a newer model's
      answer to a held request kept): ... INDEX werdnum/family-assistant tests/cassettes fama2 --skip-known-model
      --index-copies | gzip -9n > tests/data/mined_late_2026b.jsonl.gz; ... fama2c --skip-known-model --index-copies
      --function-calls | gzip -9n > tests/data/mined_calls_heldout5.jsonl.gz; then, over its own copy (the
      reproduces_bug[postgres] replay), fama3 and fama3c alike, appended to the same two sets
  google/adk-go after its mirror (one stored index version copied to INDEX/COMMIT/PATH): ... INDEX google/adk-go agent
      adkg3 --skip-known-model --index-copies | gzip -9n > tests/data/mined_late_2026c.jsonl.gz (no call: the agent
      has no tools)
  lmnr-ai/lmnr-python after its mirror (its `test_google_adk` cassettes' index versions copied to INDEX/COMMIT/PATH):
      ... INDEX lmnr-ai/lmnr-python tests/cassettes/test_google_adk lmnr2 --skip-known-model --index-copies
      | gzip -9n > tests/data/mined_late_2026d.jsonl.gz; ... lmnr2c --skip-known-model --index-copies --function-calls
      | gzip -9n > tests/data/mined_calls_heldout6.jsonl.gz
  googleapis/dotnet-genai after its mirror (index versions copied to INDEX/COMMIT/PATH):
      ... INDEX googleapis/dotnet-genai Google.GenAI.E2E.Tests/Recordings dotnetgenai2 --skip-known-model --index-copies
      | gzip -9n > tests/data/mined_late_2026e.jsonl.gz
  werdnum/family-assistant's with_tool_calls[postgres] replay at 12b666a7fe (3.8 Flash), copied to INDEX/COMMIT/PATH:
      ... INDEX werdnum/family-assistant tests/cassettes fama4 --skip-known-model --index-copies, appended to
      mined_late_2026b; fama4c alike (`--function-calls`), appended to mined_calls_heldout5
      (then, each over its own copy: its non_streaming[postgres] replay at 6ad45c07e3, 3.6 Flash, fama5 / fama5c;
      its non_streaming[sqlite] replay at b0f27863c1, 3.7 Flash, fama6 / fama6c; its [postgres] twin at 422352a2bf,
      fama7 / fama7c; its with_tool_calls[postgres] replay at 422352a2bf, fama8 / fama8c; its 3.8 reproduces_bug
      [postgres] replay at 12b666a7fe, fama9 / fama9c; its 3.8 with_tool_calls[sqlite] replay at 32f157b23d, fama10 /
      fama10c; its 3.7 reproduces_bug[sqlite] replay at 422352a2bf, fama11 / fama11c; its 3.6 with_tool_calls[sqlite]
      replay at 55e30f1c97, fama12 / fama12c; its 3.6 reproduces_bug[sqlite] replay at 55e30f1c97, fama13 / fama13c;
      its 3.8 reproduces_bug[sqlite] replay at 32f157b23d, fama14 / fama14c; its 3.8 non_streaming[sqlite] replay at
      5b68c4f045, fama15 / fama15c; its with_tool_calls[postgres] replay at 32f157b23d, fama16, whose exchanges
      are fama4's under the bodies sent; its reproduces_bug[postgres] replay at 5b68c4f045, fama17 / fama17c, whose
      exchanges are fama9's under the bodies sent; its 3.7 reproduces_bug[postgres] replay at b0f27863c1, fama18 /
      fama18c; its test_shipped_default_retry_pair cassette at 5b68c4f045, fama19; its
      test_google_structured_output_with_strict_schema cassette at 87852279c6, fama20; its 3.8
      pydantic_validation_reproducer replay at 12b666a7fe, fama21: tests/data/PROVENANCE.md)
  maruel/genai (go-vcr v2 recordings, mined 2026-12-07 over its whole history): ... maruel/genai
      providers/gemini/testdata mrgn --skip-known-model | gzip -9n > tests/data/mined_maruel_genai.jsonl.gz; mrgnc
      alike (`--function-calls`) | gzip -9n > tests/data/mined_calls_heldout7.jsonl.gz; then its stored index
      versions past the mirror (copied to INDEX/COMMIT/PATH): ... INDEX maruel/genai providers/gemini/testdata mrgn2
      --skip-known-model --index-copies, appended to each (mrgn2c with `--function-calls`)
  held-out function-call outputs of js-genai, dotnet-genai and mastra (`--function-calls --skip-known`, appended in
      this order): googleapis/js-genai jsgenaic, googleapis/dotnet-genai dotnetgenaic, mastra-ai/mastra mastrac
      (`--index-copies`) | gzip -9n > tests/data/mined_calls_heldout3.jsonl.gz
  held-out function-call outputs of the last ten (`--function-calls --skip-known`, appended in this order):
      llmrb/llm llmrbc, vicentereig/dspy.rb dsrbc (none), agentjido/req_llm reqllm2c, vxcontrol/langchaingo vxlcc,
      google/adk-go adkgc, 0xPlaygrounds/rig rigc, newrelic/newrelic-python-agent nrpyc, werdnum/family-assistant famac,
      0x1eef/llm.rb llmrb2c, Mirascope/mirascope (typescript/tests) miratsc
      | gzip -9n > tests/data/mined_calls_heldout2.jsonl.gz
  held-out function-call outputs (`--function-calls`, the four above, appended in this order): agentjido/req_llm
      reqllmc, sublayerapp/sublayer sublc, charmbracelet/fantasy fntsc, patvice/ruby_llm-mcp rmcpc
      | gzip -9n > tests/data/mined_calls_heldout.jsonl.gz
  media prompts with their bytes (`--media STORE --skip-known`, appended in this order to one set, every version of
      the folders holding a cassette with inline media and a usage answer; prefixes in tests/data/PROVENANCE.md):
      llmrb/llm, 0x1eef/llm.rb, crmne/ruby_llm and its forks, patvice/ruby_llm-mcp, 0xPlaygrounds/rig,
      Arize-ai/openinference, Mirascope/mirascope, charmbracelet/fantasy, posit-dev/chatlas, tidyverse/ellmer,
      pydantic/pydantic-ai, braintrustdata/braintrust-sdk(-python), googleapis/js-genai, googleapis/dotnet-genai,
      open-telemetry/opentelemetry-python-contrib, prism-php/prism, tmc/langchaingo, vxcontrol/langchaingo,
      vicentereig/dspy.rb, werdnum/family-assistant, the req_llm forks, agentjido/jido_ai; then crewAIInc/crewAI
      (lib/crewai/tests/cassettes,tests/cassettes crewm)
      ... OWNER/NAME FOLDERS PREFIX --skip-known --media tests/data/media_blobs.jsonl.gz >> tests/data/mined_media.jsonl
      (then gzip -9n: tests/data/mined_media.jsonl.gz); then maruel/genai (providers/gemini/testdata mrgnm), appended
  function-call outputs (`--function-calls`, one run per repository with the folders above, appended in this order):
      Arize-ai/openinference oinfc, open-telemetry/opentelemetry-python-contrib otelc, lmnr-ai/lmnr-python lmnrc,
      pydantic/logfire lgfrc, braintrustdata/braintrust-sdk brtrc, tidyverse/ellmer elmrc, posit-dev/chatlas chatc,
      Mirascope/mirascope mirac, crmne/ruby_llm rllmc, pydantic/pydantic-ai pydc
      | gzip -9n > tests/data/mined_function_calls.jsonl.gz

Go's httprr traces (`*.httprr`), one-exchange JSON fixtures (`*.json`, req_llm's), JSON cassettes of streams
(`interactions` of a parsed request body and the response's parsed `chunks`, dspy.rb's), httpmock YAML mocks
(`when` / `then` documents, rig's), google-genai replay files (`replay_id`, newrelic's) and HAR recordings (`*.har`,
Polly.js: Mirascope's TypeScript tests), google-genai JS SDK recordings (`recordID`, `bodySegments`:
googleapis/js-genai), mastra-ai/mastra's recorder files (`recordings`: a parsed request body, the answer or its SSE
`chunks`) and BerriAI/litellm's translation cases (`*.py`: Python literals of the body sent and the answer captured,
read with `ast`, never run) are read as cassettes too. `--index-copies` reads, in place of a git checkout, a folder
of `COMMIT/PATH` files, each one stored version of a recording copied from the index of public repositories
(repositories too large to mirror): sources name the commit, no blob; an answer with neither Date header,
createTime nor responseId is left out (no commit date to bound it).
A body holding rig's `signature_REDACTED_N` is
skipped.
`--skip-known` leaves out an answer (kind, request, value) a set of tests/data already holds (forks copy cassettes);
`--skip-known-model` keys the answer by its model too: a newer model that bills a held request the same is new evidence
for that model, not a copy.
`--media STORE` keeps instead the prompts that carry media (MediaStore): each medium's bytes once, by SHA-256, in
STORE; bodies whose media are not in the cassette, over 2 MB, or past the store's 7 MB are skipped and counted on
stderr; Ruby's `!binary` bodies are read.
Projects re-record their cassettes when they move to newer models, so a repository's history keeps
answers of models that are gone (1.5 in Nov 2024 / Mar 2025, 2.0 in 2025, ...). Every version of
every cassette is read (vcrpy's and go-vcr's `interactions`, Ruby's and R's VCR `http_interactions`; JSON, gzip and
SSE bodies). Each record is a real answer of Google's service: the request body verbatim (the JSON
the cassette kept), `usageMetadata.promptTokenCount` (kind "input") and, for a candidate made of
text parts only, `candidatesTokenCount` (kind "output", with its origin request; not for an answer
of several candidates, whose count covers them all, nor for a stream a test edited to `"content": null`).
`recorded` is the response's HTTP Date header, else Vertex AI's `createTime`, else the day its `responseId` encodes
(see response_day),
else the date of the first commit holding the cassette (an upper bound). `model` is
the model that answered (`modelVersion`) where vertexmeter's registry knows it, else the model the
request named (aliases such as gemini-flash-latest move over time). Kept: text-only requests (no
inlineData / fileData), one record per distinct (model, call, body, value); an answer whose
`responseId` came earlier (oldest commit first) with another model or request is a copied cassette and
is skipped. No value comes from a
local tokenizer.
"""

from __future__ import annotations

import ast
import base64
import binascii
import datetime as dt
import glob
import gzip
import hashlib
import json
import re
import struct
import subprocess
import sys
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import yaml
from mine_conversations import httprr_messages, parse_response_body, split_http  # this folder's miner

from vertexmeter.errors import VertexMeterError
from vertexmeter.media.mime import family_of, mime_for_kind, sniff
from vertexmeter.registry import resolve

MEDIA_KEYS = ("inlineData", "fileData", "inline_data", "file_data")
# What rig's cassette filter writes in place of thought signatures and ids (`signature_REDACTED_1`): a body or a
# candidate holding it is not what was sent or answered.
_REDACTED = "_REDACTED_"
CALLS = ("countTokens", "streamGenerateContent", "generateContent")


def response_day(response_id: Any) -> str | None:
    """The UTC day a generateContent answer was made, from its responseId (None when it has none)."""
    if not isinstance(response_id, str) or len(response_id) < 6:
        return None
    try:
        raw = base64.urlsafe_b64decode(response_id + "=" * (-len(response_id) % 4))
    except (binascii.Error, ValueError):
        return None
    seconds = struct.unpack("<I", raw[:4])[0]
    day = dt.datetime.fromtimestamp(seconds, dt.UTC).date()
    return day.isoformat() if dt.date(2023, 12, 1) <= day <= dt.date.today() else None


def _git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True).stdout


def _has_media(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k in value for k in MEDIA_KEYS) or any(_has_media(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_media(v) for v in value)
    return False


class MediaStore:
    """`--media STORE`: the bytes of the prompts' media, each kept once by its SHA-256 in STORE (gzipped JSON lines
    `{"sha256", "size", "data": base64}`, added to when it exists); a record's `inlineData.data` becomes
    `sha256:HEX`, and a `fileData` whose bytes the cassette's own Files API upload holds is named in the record's
    `media_files` {fileUri: sha256:HEX}. A body is skipped (and counted on stderr, by reason) when a media's bytes
    are not in the cassette (a filter's placeholder, a truncation, bytes that are not media of the declared type's
    family, a fileData fetched from elsewhere), when its
    media exceed `MAX_BODY` bytes, or when the store would pass `BUDGET` bytes."""

    MAX_BODY = 2_000_000
    BUDGET = 7_000_000

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.blobs: dict[str, str] = {}
        if self.path.exists():
            for line in gzip.decompress(self.path.read_bytes()).decode("utf-8").splitlines():
                if not line.strip():
                    continue
                item = json.loads(line)
                self.blobs[item["sha256"]] = item["data"]
        self.size = sum(len(base64.b64decode(v)) for v in self.blobs.values())
        self.skipped: dict[str, int] = {}
        self.pending: dict[str, bytes] = {}

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def skip_cut(self) -> None:
        """A body the cassette keeps shorter than it was sent (`_cut_body`): its media are not the bytes answered."""
        self._skip("the body sent was longer than the one recorded (content-length)")

    def keep(self, body: dict[str, Any], uploads: dict[str, bytes]) -> tuple[dict[str, Any], dict[str, str]] | None:
        """(the body with its inline bytes replaced by their digests, the fileData URIs' digests), or None."""
        found: dict[str, bytes] = {}
        files: dict[str, str] = {}
        problem: list[str] = []

        def walk(value: Any) -> Any:
            if isinstance(value, list):
                return [walk(v) for v in value]
            if not isinstance(value, dict):
                return value
            out = {k: walk(v) for k, v in value.items()}
            for key in ("inlineData", "inline_data"):
                inline = value.get(key)
                if isinstance(inline, dict) and "data" in inline:
                    raw = _decoded(inline["data"])
                    mime = str(inline.get("mimeType") or inline.get("mime_type") or "")
                    if raw is not None and not _looks_like(raw, mime):
                        raw = None
                    if raw is None:
                        problem.append("inline bytes not kept (placeholder or truncated)")
                        continue
                    digest = hashlib.sha256(raw).hexdigest()
                    found[digest] = raw
                    out[key] = {**out[key], "data": f"sha256:{digest}"}
            for key in ("fileData", "file_data"):
                ref = value.get(key)
                if isinstance(ref, dict):
                    uri = str(ref.get("fileUri") or ref.get("file_uri") or "")
                    if uri not in uploads:
                        problem.append("fileData not replayable (bytes not in the cassette)")
                        continue
                    digest = hashlib.sha256(uploads[uri]).hexdigest()
                    found[digest] = uploads[uri]
                    files[uri] = f"sha256:{digest}"
            return out

        kept = walk(body)
        if problem:
            self._skip(problem[0])
            return None
        if sum(len(raw) for raw in found.values()) > self.MAX_BODY:
            self._skip(f"media over {self.MAX_BODY} bytes in one body")
            return None
        new = {d: raw for d, raw in found.items() if d not in self.blobs}
        if self.size + sum(len(raw) for raw in new.values()) > self.BUDGET:
            self._skip(f"the store would pass {self.BUDGET} bytes")
            return None
        self.pending = new
        return kept, files

    def add_pending(self) -> None:
        """Store the media of the body `keep` passed last: its record was written (one not written stores none)."""
        for digest, raw in self.pending.items():
            self.blobs[digest] = base64.b64encode(raw).decode("ascii")
            self.size += len(raw)
        self.pending = {}

    def close(self) -> None:
        lines = [
            json.dumps({"sha256": d, "size": len(base64.b64decode(v)), "data": v})
            for d, v in sorted(self.blobs.items())
        ]
        self.path.write_bytes(gzip.compress("".join(line + "\n" for line in lines).encode("utf-8"), 9, mtime=0))
        for reason, n in sorted(self.skipped.items()):
            print(f"{n} media bodies skipped: {reason}", file=sys.stderr)
        print(f"media store: {len(self.blobs)} blobs, {self.size} bytes", file=sys.stderr)


def _looks_like(raw: bytes, mime: str) -> bool:
    """The bytes are media of the declared type's family (an image of any format for an image type; text and
    unknown types pass): a filter's placeholder can be valid base64 (`__BINARY_TRUNCATED__` reads as an MP3 frame)."""
    family = family_of(mime.split(";")[0].strip().lower())
    if family in (None, "text"):
        return True
    return family_of(mime_for_kind(sniff(raw[:64])) or "") == family


def _decoded(data: Any) -> bytes | None:
    """The bytes of an inlineData's base64 (standard or URL-safe alphabet), or None when it is not whole base64."""
    if not isinstance(data, str) or not data:
        return None
    text = "".join(data.split()).replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _uploads(interactions: list[dict[str, Any]]) -> dict[str, bytes]:
    """{file URI: the bytes uploaded} of a cassette's Files API uploads (the request that sent the bytes, whose
    answer names the file): so a later fileData naming that URI is replayable from the cassette alone."""
    out: dict[str, bytes] = {}
    for interaction in interactions:
        request, response = interaction.get("request") or {}, interaction.get("response") or {}
        if "/upload/" not in str(request.get("uri") or request.get("url") or ""):
            continue
        answer = response["parsed_body"] if "parsed_body" in response else _answer(response)
        uri = ((answer or {}).get("file") or {}).get("uri") if isinstance(answer, dict) else None
        body = request.get("body")
        if isinstance(body, dict):  # vcrpy: {string}; Ruby VCR: {encoding, string} or {base64_string}
            body = base64.b64decode(body["base64_string"]) if "base64_string" in body else body.get("string")
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogateescape")
        size = ((answer or {}).get("file") or {}).get("sizeBytes") if isinstance(answer, dict) else None
        # A cassette filter may write a placeholder for the bytes: the answer's sizeBytes tells the real ones.
        if isinstance(uri, str) and isinstance(body, bytes) and body and str(size) == str(len(body)):
            out[uri] = body
    return out


# `--media`: Ruby's VCR writes binary bodies (an upload's bytes, a gzipped answer) with the `!binary` tag, which the
# safe loader refuses (the text sets were mined without it, and stay as they were mined).
_MEDIA = False


class _RubyBinaryLoader(yaml.SafeLoader):
    pass


_RubyBinaryLoader.add_constructor(
    "!binary", lambda loader, node: base64.b64decode("".join(str(loader.construct_scalar(node)).split()))
)


# `--index-copies`: CHECKOUT is a folder of `COMMIT/PATH` files, each one version of a recording copied from the
# stored index of public repositories (for repositories too large to mirror), not a git checkout.
_INDEX_COPIES = False


def _index_versions(root: str, folders: list[str]) -> list[tuple[str, str, str]]:
    """(copy's git blob id, path, commit) of every index copy under `folders`, by commit then path."""
    out = []
    for commit_dir in sorted(Path(root).iterdir()):
        for file in sorted(commit_dir.rglob("*")):
            path = file.relative_to(commit_dir).as_posix()
            if file.is_file() and any(path.startswith(folder.rstrip("/") + "/") for folder in folders):
                raw = file.read_bytes()
                blob = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
                out.append((blob, path, commit_dir.name))
    return out


def _versions(repo: str, directory: str) -> list[tuple[str, str, str]]:
    """(blob, path, first commit holding it) for every version of every cassette, oldest commit first.
    `directory` may name several folders, comma-separated."""
    folders = directory.split(",")
    if _INDEX_COPIES:
        return _index_versions(repo, folders)
    seen: dict[str, tuple[str, str, str]] = {}
    for commit in reversed(_git(repo, "log", "--all", "--format=%H", "--", *folders).split()):
        for line in _git(repo, "ls-tree", "-r", commit, *folders).splitlines():
            meta, path = line.split("\t", 1)
            blob = meta.split()[2]
            if path.endswith((".yaml", ".yml", ".httprr", ".json", ".har")) and blob not in seen:
                seen[blob] = (blob, path, commit)
    return list(seen.values())


def _index_blob(file: Path) -> str:
    raw = file.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()


def _interactions(repo: str, blob: str, path: str) -> list[dict[str, Any]]:
    """A cassette's interactions (vcrpy, Ruby's and R's VCR), or an httprr trace's exchanges in their shape."""
    try:
        if _INDEX_COPIES:
            # glob.escape: a pytest id in the path (`test_x[model]`) is not a character class
            raw = next(p for p in Path(repo).glob(f"*/{glob.escape(path)}") if _index_blob(p) == blob).read_bytes()
        else:
            raw = subprocess.run(["git", "-C", repo, "cat-file", "-p", blob], capture_output=True, check=True).stdout
    except subprocess.CalledProcessError:  # a large file the snapshot lists but does not hold
        return []
    if raw.lstrip().startswith(b"when:"):
        return _httpmock(raw)
    if path.endswith(".py"):
        return _litellm_cases(raw)
    if b"googleapis.com" not in raw and b"_URL_PREFIX}" not in raw:  # google-genai replays name no host
        return []
    if path.endswith(".httprr"):
        return _httprr(raw)
    if path.endswith(".har"):
        return _har(raw)
    if path.endswith(".json"):
        return _fixture(raw)
    try:
        data = yaml.load(raw.decode("utf-8", "replace"), Loader=_RubyBinaryLoader if _MEDIA else yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(data, dict):
        return []
    return list(data.get("interactions") or data.get("http_interactions") or [])


# Where a translation case's provider endpoint path is served: Vertex AI's paths name a project, the Gemini API's
# begin at the model.
_CASE_HOSTS = ("https://aiplatform.googleapis.com", "https://generativelanguage.googleapis.com/v1beta")


def _litellm_cases(raw: bytes) -> list[dict[str, Any]]:
    """BerriAI/litellm's translation cases (`tests/integration/translation/*/bases/*.py`: module-level
    `TranslationTestCase(...)` literals whose `expected_provider_request` is the body sent and whose
    `mock_provider_response` is the provider's answer captured once and stored verbatim), in a cassette
    interaction's shape. Read as Python literals, never run; module-level string constants (the thought
    signatures) are substituted where a case names them; a case holding anything else is left out."""
    try:
        tree = ast.parse(raw)
    except (SyntaxError, ValueError):
        return []
    names: dict[str, Any] = {}

    def literal(node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise ValueError(node.id)
            return names[node.id]
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise ValueError("**")
            return {literal(k): literal(v) for k, v in zip(node.keys, node.values, strict=True) if k is not None}
        if isinstance(node, ast.List):
            return [literal(v) for v in node.elts]
        return ast.literal_eval(node)

    out: list[dict[str, Any]] = []
    for statement in tree.body:
        if not isinstance(statement, ast.Assign | ast.AnnAssign) or statement.value is None:
            continue
        target = statement.targets[0] if isinstance(statement, ast.Assign) else statement.target
        value = statement.value
        if isinstance(target, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
            names[target.id] = value.value
            continue
        if not (isinstance(value, ast.Call) and getattr(value.func, "id", None) == "TranslationTestCase"):
            continue
        fields = {k.arg: k.value for k in value.keywords if k.arg}
        try:
            endpoint = literal(fields["expected_provider_endpoint"])
            sent = literal(fields["expected_provider_request"])
            answered = literal(fields["mock_provider_response"])
        except (KeyError, ValueError, SyntaxError):
            continue
        if not isinstance(endpoint, str) or "/models/" not in endpoint:
            continue
        host = _CASE_HOSTS[0] if endpoint.startswith("/v1/projects/") else _CASE_HOSTS[1]
        out.append(
            {
                "request": {"uri": host + endpoint, "parsed_body": sent},
                "response": {"headers": {}, "parsed_body": answered},
            }
        )
    return out


def _httpmock(raw: bytes) -> list[dict[str, Any]]:
    """The mocks of an httpmock YAML cassette (0xPlaygrounds/rig: one `when` / `then` document per exchange, the
    request's path without its host), in a cassette interaction's shape. The host is the one the path belongs to."""
    try:
        documents = list(yaml.safe_load_all(raw.decode("utf-8", "replace")))
    except yaml.YAMLError:
        return []
    out: list[dict[str, Any]] = []
    for document in documents:
        if not isinstance(document, dict) or not isinstance(document.get("when"), dict):
            continue
        when, then = document["when"], document.get("then") or {}
        path = str(when.get("path", ""))
        host = "aiplatform.googleapis.com" if path.startswith("/v1/projects/") else "generativelanguage.googleapis.com"
        headers: dict[str, list[str]] = {}
        for header in then.get("header") or []:
            if isinstance(header, dict):
                headers.setdefault(str(header.get("name")), []).append(str(header.get("value")))
        out.append(
            {
                "request": {"uri": f"https://{host}{path}", "body": when.get("body")},
                "response": {"body": then.get("body"), "headers": headers},
            }
        )
    return out


def _har(raw: bytes) -> list[dict[str, Any]]:
    """The entries of a HAR recording (Polly.js: Mirascope's TypeScript tests), the request's posted text and the
    response's content (base64 when the HAR says so), in a cassette interaction's shape."""
    try:
        entries = json.loads(raw)["log"]["entries"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
        return []
    out: list[dict[str, Any]] = []
    for entry in entries if isinstance(entries, list) else []:
        request, response = entry.get("request") or {}, entry.get("response") or {}
        content = response.get("content") or {}
        text = content.get("text")
        if isinstance(text, str) and content.get("encoding") == "base64":
            try:
                text = base64.b64decode(text).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                continue
        headers: dict[str, list[str]] = {}
        for header in response.get("headers") or []:
            if isinstance(header, dict):
                headers.setdefault(str(header.get("name")), []).append(str(header.get("value")))
        out.append(
            {
                "request": {"uri": str(request.get("url", "")), "body": (request.get("postData") or {}).get("text")},
                "response": {"body": text, "headers": headers},
            }
        )
    return out


def _httprr(raw: bytes) -> list[dict[str, Any]]:
    """The exchanges of an httprr v1 trace (Go's rsc.io/httprr: golang/oscar, google/adk-go), parsed bodies and the
    response's Date header, in a cassette interaction's shape."""
    out: list[dict[str, Any]] = []
    try:
        messages = list(httprr_messages(raw))
    except ValueError:  # not a whole trace (a version whose record sizes do not match its bytes): nothing to read
        return []
    for request, response in messages:
        req_head, req_body = split_http(request)
        resp_head, resp_body = split_http(response)
        try:
            body = json.loads(req_body) if req_body.strip() else None
        except json.JSONDecodeError:
            body = None
        dates = [line.split(":", 1)[1].strip() for line in resp_head.splitlines() if line.lower().startswith("date:")]
        out.append(
            {
                "request": {"uri": req_head.splitlines()[0].split(" ")[1], "parsed_body": body},
                "response": {"parsed_body": parse_response_body(resp_head, resp_body), "headers": {"Date": dates}},
            }
        )
    return out


def _fixture(raw: bytes) -> list[dict[str, Any]]:
    """A JSON fixture of one exchange (agentjido/req_llm: `request` {url, body {b64}}, `response` {body, headers}),
    in a cassette interaction's shape; the request body is the base64 of the bytes sent, kept verbatim."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return []
    if isinstance(data, dict) and "replay_id" in data and isinstance(data.get("interactions"), list):
        return _genai_replay(data["interactions"])
    if isinstance(data, dict) and isinstance(data.get("recordings"), list):
        return _mastra_recordings(data["recordings"])
    if isinstance(data, dict) and "recordID" in data and isinstance(data.get("interactions"), list):
        return _js_genai_recording(data["interactions"])
    if isinstance(data, dict) and isinstance(data.get("interactions"), list):
        return _chunk_cassette(data["interactions"])
    if not isinstance(data, dict) or not isinstance(data.get("request"), dict):
        return []
    request, response = data["request"], data.get("response") or {}
    if not isinstance(response, dict):
        return []

    def body(value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("b64"), str):
            try:
                return base64.b64decode(value["b64"]).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
        return value

    sent, answered = body(request.get("body")), body(response.get("body"))
    out_response: dict[str, Any] = {"headers": response.get("headers") or {}}
    if isinstance(answered, str):
        out_response["body"] = answered
    elif answered is not None:
        out_response["parsed_body"] = answered
    return [{"request": {"uri": str(request.get("url", "")), "body": sent}, "response": out_response}]


# The URL prefixes google-genai's replay files write for the two APIs (its ReplayApiClient).
_REPLAY_PREFIXES = {
    "{MLDEV_URL_PREFIX}": "https://generativelanguage.googleapis.com/v1beta",
    "{VERTEX_URL_PREFIX}": "https://aiplatform.googleapis.com/v1beta1/projects/p/locations/l/publishers/google",
}


def _exchanges(interactions: list[Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """The (request, response) objects of a recording's interactions that have both."""
    for item in interactions:
        request = item.get("request") if isinstance(item, dict) else None
        response = item.get("response") if isinstance(item, dict) else None
        if isinstance(request, dict) and isinstance(response, dict):
            yield request, response


def _genai_replay(interactions: list[Any]) -> list[dict[str, Any]]:
    """The exchanges of a google-genai replay file (its ReplayApiClient: `request` {url with a placeholder prefix,
    body_segments}, `response` {headers, body_segments: the JSON answer, or a stream's chunks}), as used by
    newrelic/newrelic-python-agent, in a cassette interaction's shape."""
    out: list[dict[str, Any]] = []
    for request, response in _exchanges(interactions):
        sent, answered = request.get("body_segments") or [], response.get("body_segments") or []
        if len(sent) != 1 or not isinstance(sent[0], dict) or not answered:
            continue
        url = str(request.get("url", ""))
        for placeholder, prefix in _REPLAY_PREFIXES.items():
            url = url.replace(placeholder, prefix)
        headers = response.get("headers") or {}
        out.append(
            {
                "request": {"uri": url, "parsed_body": sent[0]},
                "response": {
                    "parsed_body": answered if len(answered) > 1 else answered[0],
                    "headers": {k: [v] for k, v in headers.items()} if isinstance(headers, dict) else {},
                },
            }
        )
    return out


def _js_genai_recording(interactions: list[Any]) -> list[dict[str, Any]]:
    """The exchanges of a google-genai JS SDK test recording (googleapis/js-genai `test/system/recordings`: `request`
    {url without its host, serverAddress, bodySegments [the body sent]}, `response` {statusCode, headers,
    bodySegments: the answer, or a stream's chunks}), in a cassette interaction's shape."""
    out: list[dict[str, Any]] = []
    for request, response in _exchanges(interactions):
        sent, answered = request.get("bodySegments") or [], response.get("bodySegments") or []
        if response.get("statusCode") != 200 or len(sent) != 1 or not isinstance(sent[0], dict) or not answered:
            continue
        headers = response.get("headers") or {}
        date = headers.get("Date") or headers.get("date")
        out.append(
            {
                "request": {
                    "uri": f"https://{request.get('serverAddress', '')}{request.get('url', '')}",
                    "parsed_body": sent[0],
                },
                "response": {
                    "parsed_body": answered if len(answered) > 1 else answered[0],
                    "headers": {"Date": [date] if date else []},
                },
            }
        )
    return out


def _mastra_recordings(recordings: list[Any]) -> list[dict[str, Any]]:
    """The recordings of mastra-ai/mastra's LLM recorder (`__recordings__/*.json`: `request` {url, body as parsed
    JSON, timestamp}, `response` {status, headers, body, or a stream's `chunks` of SSE text}), in a cassette
    interaction's shape."""
    out: list[dict[str, Any]] = []
    for request, response in _exchanges(recordings):
        if response.get("status", 200) != 200 or not isinstance(request.get("body"), dict):
            continue
        answer: Any = response.get("body")
        if isinstance(response.get("chunks"), list):
            answer = []
            # the recorder keeps the bytes as they arrived: one SSE event may span several chunks
            for line in "".join(str(chunk) for chunk in response["chunks"]).splitlines():
                if line.startswith("data:"):
                    try:
                        answer.append(json.loads(line[5:]))
                    except json.JSONDecodeError:
                        continue
        headers = {str(k).lower(): v for k, v in (response.get("headers") or {}).items()}
        out.append(
            {
                "request": {"uri": str(request.get("url", "")), "parsed_body": request["body"]},
                "response": {
                    "parsed_body": answer,
                    "headers": {"Date": [headers["date"]] if "date" in headers else []},
                },
            }
        )
    return out


def _chunk_cassette(interactions: list[Any]) -> list[dict[str, Any]]:
    """A JSON cassette of streamed exchanges (vicentereig/dspy.rb's `spec/sse_cassettes`: `request` {uri, body as
    parsed JSON}, `response` {chunks: the parsed SSE chunks}), in a cassette interaction's shape."""
    out: list[dict[str, Any]] = []
    for request, response in _exchanges(interactions):
        body, chunks = request.get("body"), response.get("chunks")
        if not isinstance(body, dict) or not isinstance(chunks, list):
            continue
        out.append(
            {
                "request": {"uri": str(request.get("uri", "")), "parsed_body": body},
                "response": {"parsed_body": chunks, "headers": response.get("headers") or {}},
            }
        )
    return out


def _cut_body(request: dict[str, Any], body: dict[str, Any]) -> bool:
    """The request's `content-length` header states far more bytes than the body the cassette keeps: someone cut
    the media out of the recording (pydantic-ai's test_google_url_input_force_download.yaml keeps 117 bytes of a
    122,097-byte MP4 in a body sent as 162,969 bytes). Serializations differ (spacing, escapes), so only a body sent
    at more than twice and over 1 KB beyond its recorded length counts; no header, no judgement."""
    headers = request.get("headers") or {}
    stated = next((v for k, v in headers.items() if str(k).lower() == "content-length"), None)
    if isinstance(stated, list):
        stated = stated[0] if stated else None
    try:
        sent = int(str(stated))
    except ValueError:
        return False
    raw = _text(request.get("body"))
    recorded = len(raw.encode("utf-8")) if raw is not None else len(json.dumps(body).encode("utf-8"))
    return sent - recorded > max(1024, recorded)


def _text(body: Any) -> str | None:
    if isinstance(body, dict):
        body = body.get("string")
    if isinstance(body, bytes):
        try:
            body = gzip.decompress(body).decode("utf-8")
        except OSError:
            body = body.decode("utf-8", "replace")
    return body if isinstance(body, str) and body else None


def _answer(response: dict[str, Any]) -> Any:
    body = _text(response.get("body"))
    if body is None:
        return None
    if body.lstrip().startswith("data:"):  # server-sent events: one JSON chunk per data line
        chunks = []
        for line in body.splitlines():
            if line.startswith("data:"):
                try:
                    chunks.append(json.loads(line[5:]))
                except json.JSONDecodeError:
                    return None
        return chunks
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return None


def _model(named: str, version: Any) -> str:
    """The model that answered, when the registry knows it; else the name the request used. A modelVersion
    of another generation than a model the request named exactly is an edited cassette: the name wins."""
    try:
        asked = resolve(named)
    except VertexMeterError:
        asked = None
    if isinstance(version, str):
        try:
            answered = resolve(version)
        except VertexMeterError:
            return named
        if asked is None or "latest" in named or asked.generation == answered.generation:
            return version
    return named


def _signed_as_answered(parts: list[dict[str, Any]]) -> bool:
    """Every thoughtSignature is base64, as Google sends it (pydantic-ai's cassetter writes
    `__BINARY_TRUNCATED__:len=…` in place of long ones: such a part is not what was answered)."""
    for part in parts:
        signature = part.get("thoughtSignature")
        if signature is None:
            continue
        if _REDACTED in str(signature):
            return False
        try:
            base64.b64decode(str(signature).replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            return False
    return True


def _merged(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A candidate's parts as one response holds them: a stream's consecutive text fragments joined into one part."""
    out: list[dict[str, Any]] = []
    for part in parts:
        if set(part) == {"text"} and out and set(out[-1]) == {"text"}:
            out[-1] = {"text": out[-1]["text"] + part["text"]}
        else:
            out.append(dict(part))
    return out


def main(
    repo: str,
    label: str,
    directory: str,
    prefix: str,
    function_calls: bool = False,
    skip: set[str] | None = None,
    media: MediaStore | None = None,
    per_model: bool = False,
) -> None:
    """Print the records; `function_calls` prints instead the outputs whose candidate calls functions (its parts
    verbatim, a stream's text fragments joined), a set of its own. An answer whose key is in `skip` (known_answers)
    is left out, and the count of those is written to stderr. `media` prints instead the prompts that carry media
    (inlineData, or fileData whose bytes the cassette's own upload holds), their bytes moved to the store."""
    writer = RecordWriter(prefix, skip, per_model)
    # responseId -> (model, request): an answer whose responseId came earlier with another model or request
    # is a copied or edited cassette, not a recording (pydantic-ai has such copies): skipped.
    answers: dict[str, str] = {}
    for blob, path, commit in _versions(repo, directory):
        interactions = _interactions(repo, blob, path)
        uploads = _uploads(interactions) if media is not None else {}
        for i, interaction in enumerate(interactions):
            request, response = interaction.get("request") or {}, interaction.get("response") or {}
            uri = request.get("uri") or request.get("url") or ""  # vcrpy / Ruby / R: uri; Go's go-vcr: url
            call = next((c for c in CALLS if f":{c}" in uri), None)
            if call is None or "/models/" not in uri:
                continue
            body = request.get("parsed_body")  # pydantic-ai's cassetter keeps parsed bodies
            if body is None:
                try:
                    body = json.loads(_text(request.get("body")) or "")
                except (json.JSONDecodeError, TypeError):
                    continue
            if not isinstance(body, dict) or _REDACTED in json.dumps(body):
                continue
            if media is not None:
                if not _has_media(body):
                    continue
                if _cut_body(request, body):
                    media.skip_cut()
                    continue
                kept = media.keep(body, uploads)
                if kept is None:
                    continue
                body, files = kept
            elif _has_media(body):
                continue
            answer = response["parsed_body"] if "parsed_body" in response else _answer(response)
            chunks = answer if isinstance(answer, list) else [answer]
            chunks = [c for c in chunks if isinstance(c, dict)]
            if not chunks:
                continue
            last = chunks[-1]
            usage = last.get("usageMetadata") or {}
            named = uri.split("/models/")[1].split(":")[0]
            model = _model(named, last.get("modelVersion"))
            endpoint = "gemini-api" if "generativelanguage" in uri else "vertex"
            response_id = last.get("responseId")
            if isinstance(response_id, str):
                pairing = json.dumps([model, body], sort_keys=True)
                if answers.setdefault(response_id, pairing) != pairing:
                    continue
            headers = response.get("headers") or {}
            date = headers.get("Date") or headers.get("date")
            if isinstance(date, list):  # vcrpy and Ruby VCR keep a list; R's vcr a string
                date = date[0] if date else None
            answered = response_day(last.get("responseId"))
            recorded = parsedate_to_datetime(date).date().isoformat() if date else answered
            basis = "http-date-header" if date else "responseId-timestamp" if answered else ""
            created = last.get("createTime")  # Vertex AI's answers name their own time: used where no Date was kept
            if not date and isinstance(created, str) and len(created) >= 10:
                recorded, basis = created[:10], "createTime"
            if recorded is None and _INDEX_COPIES:  # no git history here to bound the day
                continue
            if recorded is None:  # the cassette's first commit: an upper bound
                recorded, basis = _git(repo, "log", "-1", "--format=%cs", commit).strip(), "commit-date (upper bound)"
            source = f"{label}:{path} (blob {blob[:12]}; commit {commit[:10]}), interaction {i}"
            if _INDEX_COPIES:
                source = f"{label}:{path} (commit {commit[:10]}, stored index version), interaction {i}"
            common = {"endpoint": endpoint, "recorded": recorded, "recorded_basis": basis, "confidence": "high"}
            notes = f"modelVersion={last.get('modelVersion')}; request named {named}; {call}"
            items: list[dict[str, Any]] = []
            value = last.get("totalTokens") if call == "countTokens" else usage.get("promptTokenCount")
            if media is not None:  # prompts only: an output's media set would be its origin's
                if isinstance(value, int):
                    details = last.get("promptTokensDetails") if call == "countTokens" else None
                    expected = {"totalTokens": value, **({"promptTokensDetails": details} if details else {})}
                    item = {"api": "countTokens" if call == "countTokens" else "generateContent.usage"}
                    record = {**item, "kind": "input", "request": body, "expected": expected}
                    if files:
                        record["media_files"] = files
                    if writer.write(
                        [model, endpoint, item["api"], "input", body, expected],
                        {
                            "source": source,
                            "model": model,
                            **record,
                            **common,
                            "raw_usage": usage or None,
                            "notes": notes,
                        },
                    ):
                        media.add_pending()
                continue
            if isinstance(value, int) and not function_calls:
                items.append(
                    {
                        "api": "countTokens" if call == "countTokens" else "generateContent.usage",
                        "kind": "input",
                        "request": body,
                        "expected": {"totalTokens": value},
                    }
                )
            parts = [
                p
                for c in chunks
                for cand in (c.get("candidates") or [])[:1]
                for p in ((cand.get("content") or {}).get("parts") or [])
            ]
            output = usage.get("candidatesTokenCount")
            candidates = [cand for c in chunks for cand in (c.get("candidates") or [])]
            whole = (
                call != "countTokens"
                and isinstance(output, int)
                and bool(parts)
                # candidatesTokenCount counts every candidate: only a one-candidate answer is the output kept here
                and all(len(c.get("candidates") or []) <= 1 for c in chunks)
                and all(cand.get("index", 0) == 0 for cand in candidates)
                # Google never answers `"content": null`: a test nulled a streamed chunk's text (lmnr-python's
                # test_google_genai_no_content), so the text kept would be short of what was counted
                and not any("content" in cand and cand["content"] is None for cand in candidates)
            )
            calls = any("functionCall" in p for p in parts)
            if (
                whole
                and function_calls
                and calls
                and all(set(p) <= {"text", "thoughtSignature", "functionCall"} for p in parts)
                and _signed_as_answered(parts)
            ):
                items.append(
                    {
                        "api": "generateContent.usage",
                        "kind": "output",
                        "request": {"contents": [{"role": "model", "parts": _merged(parts)}]},
                        "text": "".join(p.get("text", "") for p in parts),
                        "origin_request": body,
                        "expected": {"totalTokens": output},
                    }
                )
            elif (
                whole
                and not function_calls
                and all(set(p) <= {"text", "thoughtSignature"} and "text" in p for p in parts)
            ):
                items.append(output_item("".join(p["text"] for p in parts), body, output))
            for item in items:
                writer.write(
                    [model, endpoint, item["api"], item["kind"], item["request"], item["expected"]],
                    {"source": source, "model": model, **item, **common, "raw_usage": usage or None, "notes": notes},
                )
    writer.close()
    if media is not None:
        media.close()


def known_answers(prefix: str, per_model: bool = False) -> set[str]:
    """(kind, request, value) of every answer the sets of this folder already hold, but those of `prefix` (the set
    being mined): a fork's copied cassette, or another repository's, gives no new evidence (`--skip-known`).
    `per_model` keys them by model too (`--skip-known-model`)."""
    folder = Path(__file__).resolve().parent
    keys: set[str] = set()
    for path in sorted(folder.glob("*.jsonl*")):
        if not path.name.startswith(("mined", "ground_truth")):
            continue
        raw = path.read_bytes()
        text = gzip.decompress(raw).decode("utf-8") if path.name.endswith(".gz") else raw.decode("utf-8")
        for line in text.splitlines():
            if line.strip():
                record = json.loads(line)
                if not str(record.get("id", "")).startswith(f"{prefix}-"):
                    keys.add(_answer_key(record, per_model))
    return keys


def output_item(text: str, origin_request: Any, billed: int) -> dict[str, Any]:
    """An output record's fields: the candidate's text (as a model Content and as itself), the request that produced
    it, and the candidatesTokenCount billed."""
    return {
        "api": "generateContent.usage",
        "kind": "output",
        "request": {"contents": [{"role": "model", "parts": [{"text": text}]}]},
        "text": text,
        "origin_request": origin_request,
        "expected": {"totalTokens": billed},
    }


class RecordWriter:
    """Prints each distinct answer once as a numbered record (`PREFIX-0001` …), leaving out those whose answer key is
    in `skip` (known_answers) and saying on stderr how many were left out."""

    def __init__(self, prefix: str, skip: set[str] | None, per_model: bool = False) -> None:
        self.prefix, self.skip, self.per_model = prefix, skip, per_model
        self.seen: set[str] = set()
        self.n = self.skipped = 0

    def write(self, identity: list[Any], record: dict[str, Any]) -> bool:
        """`identity`: what makes the answer distinct (model, call, kind, body, value); `record` without its id.
        True when it was printed."""
        key = json.dumps(identity, sort_keys=True)
        if key in self.seen:
            return False
        self.seen.add(key)
        if self.skip is not None and _answer_key(record, self.per_model) in self.skip:
            self.skipped += 1
            return False
        self.n += 1
        print(json.dumps({"id": f"{self.prefix}-{self.n:04d}", **record}, ensure_ascii=False))
        return True

    def close(self) -> None:
        if self.skip is not None:
            print(f"{self.skipped} answers left out: already in a set of tests/data", file=sys.stderr)


def _answer_key(record: dict[str, Any], per_model: bool = False) -> str:
    fields = [record["kind"], record["request"], record["expected"].get("totalTokens")]
    key = json.dumps([record.get("model"), *fields] if per_model else fields, sort_keys=True)
    # The ground-truth files elide media as `<omitted: N bytes, sha256=HEX>`, the media set names them `sha256:HEX`:
    # the same answer either way.
    return _ELIDED.sub(r"sha256:\1", key)


_ELIDED = re.compile(r"<omitted: \d+ bytes, sha256=([0-9a-f]{64})>")


if __name__ == "__main__":
    repo, label, directory, prefix = sys.argv[1:5]
    flags = sys.argv[5:]
    _INDEX_COPIES = "--index-copies" in flags
    _MEDIA = "--media" in flags
    store = MediaStore(flags[flags.index("--media") + 1]) if "--media" in flags else None
    main(
        repo,
        label,
        directory,
        prefix,
        function_calls="--function-calls" in flags,
        skip=known_answers(prefix, "--skip-known-model" in flags)
        if {"--skip-known", "--skip-known-model"} & set(flags)
        else None,
        media=store,
        per_model="--skip-known-model" in flags,
    )
