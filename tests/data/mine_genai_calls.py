"""Mine Google's answers recorded as google-genai SDK calls, not as the bodies sent (not run by the tests).

usage: python tests/data/mine_genai_calls.py CHECKOUT OWNER/NAME FOLDER[,FOLDER...] ID-PREFIX [--skip-known] > OUT.jsonl
  ogx-ai/ogx: ... ogx-ai/ogx tests/integration ogx --skip-known | gzip -9n > tests/data/mined_ogx.jsonl.gz
      run with google-genai 1.70.0 first on the path (the version ogx's uv.lock held when the recordings were
      committed: `pip install --target DIR --no-deps google-genai==1.70.0`, PYTHONPATH=DIR:.:tests/data); the notes
      of each record name the SDK version that rebuilt its body.

ogx-ai/ogx's recorder keeps, per exchange, the arguments its Vertex AI provider gave the google-genai SDK
(`request.url` `vertexai:///generate_content[_stream]`, `request.body` {model, contents, config} in the SDK's
snake_case) and the SDK's parsed answer (`response.body`: one GenerateContentResponse, or a stream's chunks, each
with the HTTP headers of `sdk_http_response`). The body Google received is rebuilt by the installed google-genai SDK
itself: a real `genai.Client(vertexai=True)` pointed at a loopback server that records the JSON it is sent (the
SDK's own request converters, nothing written here). A stream is rebuilt through `generate_content`: the SDK sends
the same body to `:streamGenerateContent`. Every version of every recording in the folders is read (oldest commit
first); one record per distinct (model, call, body, value), as tests/data/mine_vcr_history.py does, with the same
fields: `usage_metadata.prompt_token_count` (kind "input") and, for a one-candidate answer of text parts only,
`candidates_token_count` (kind "output", with its origin request). `recorded` is the answer's HTTP Date header,
else its `create_time`. No value comes from a local tokenizer.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from google import genai
from google.genai import types
from mine_vcr_history import RecordWriter, known_answers, output_item  # this folder's miner

_CALLS = {
    "vertexai:///generate_content": "generateContent",
    "vertexai:///generate_content_stream": "streamGenerateContent",
}
_REPLY = b'{"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}]}'


class _Recorder(BaseHTTPRequestHandler):
    """Answers every POST with a one-part candidate and keeps the body it was sent."""

    bodies: list[tuple[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        _Recorder.bodies.append((self.path, json.loads(self.rfile.read(length))))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(_REPLY)))
        self.end_headers()
        self.wfile.write(_REPLY)

    def log_message(self, *args: Any) -> None:
        pass


def _client() -> tuple[genai.Client, HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = types.HttpOptions(base_url=f"http://127.0.0.1:{server.server_port}/", api_version="v1beta1")
    return genai.Client(vertexai=True, api_key="loopback", http_options=options), server


def wire_body(client: genai.Client, call: dict[str, Any]) -> dict[str, Any]:
    """The JSON body the installed google-genai SDK sends for these generate_content arguments."""
    _Recorder.bodies.clear()
    client.models.generate_content(model=call["model"], contents=call["contents"], config=call.get("config") or None)
    (path, body), *rest = _Recorder.bodies
    assert not rest and path.endswith(":generateContent"), _Recorder.bodies
    return body


def _git(repo: str, *args: str) -> str:
    # not checked: `log -S` stops with an error at a large blob the snapshot lists but does not hold, after its output
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True).stdout


def _versions(repo: str, folders: list[str]) -> list[tuple[str, str, str]]:
    """(blob, path, first commit holding it) of every recording version naming a Vertex SDK call, oldest first."""
    seen: dict[str, tuple[str, str, str]] = {}
    for commit in reversed(_git(repo, "log", "--all", "--format=%H", "-S", "vertexai:///", "--", *folders).split()):
        for line in _git(repo, "grep", "-l", "vertexai:///", commit, "--", *folders).splitlines():
            path = line.split(":", 1)[1]
            blob = _git(repo, "rev-parse", f"{commit}:{path}").strip()
            seen.setdefault(blob, (blob, path, commit))
    return sorted(seen.values(), key=lambda v: v[1])


def _camel(usage: dict[str, Any]) -> dict[str, Any]:
    """The SDK's snake_case usage_metadata in the API's names (`prompt_token_count` -> `promptTokenCount`)."""

    def name(key: str) -> str:
        head, *tail = key.split("_")
        return head + "".join(t.title() for t in tail)

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {name(k): walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(usage)


def main(repo: str, label: str, folders: list[str], prefix: str, skip: set[str] | None) -> None:
    client, server = _client()
    writer = RecordWriter(prefix, skip)
    for blob, path, commit in _versions(repo, folders):
        try:
            data = json.loads(_git(repo, "cat-file", "-p", blob))
        except json.JSONDecodeError:  # a blob the snapshot does not hold
            continue
        request, response = data.get("request") or {}, data.get("response") or {}
        call = _CALLS.get(request.get("url", ""))
        sdk_call = request.get("body")
        if call is None or not isinstance(sdk_call, dict):
            continue
        answer = response.get("body")
        chunks = [c for c in (answer if isinstance(answer, list) else [answer]) if isinstance(c, dict)]
        if not chunks:
            continue
        last = chunks[-1]
        usage = _camel(last.get("usage_metadata") or {})
        body = wire_body(client, sdk_call)
        model = str(sdk_call["model"]).rsplit("/", 1)[-1]
        version = last.get("model_version")
        if isinstance(version, str) and version.startswith(model):
            model = version
        headers = (last.get("sdk_http_response") or {}).get("headers") or {}
        date = headers.get("Date") or headers.get("date")
        if date:
            recorded, basis = parsedate_to_datetime(date).date().isoformat(), "http-date-header"
        else:
            recorded, basis = str(last.get("create_time", ""))[:10], "create_time"
        source = f"{label}:{path} (blob {blob[:12]}; commit {commit[:10]})"
        common = {"endpoint": "vertex", "recorded": recorded, "recorded_basis": basis, "confidence": "high"}
        notes = (
            f"modelVersion={version}; request named {sdk_call['model']}; {call}; body rebuilt by google-genai "
            f"{genai.__version__} from the recorded SDK arguments; responseId={last.get('response_id')}"
        )
        items: list[dict[str, Any]] = []
        prompt = usage.get("promptTokenCount")
        if isinstance(prompt, int):
            items.append(
                {"api": "generateContent.usage", "kind": "input", "request": body, "expected": {"totalTokens": prompt}}
            )
        candidates = [cand for c in chunks for cand in (c.get("candidates") or [])]
        parts = [
            p
            for c in chunks
            for cand in (c.get("candidates") or [])[:1]
            for p in ((cand.get("content") or {}).get("parts") or [])
        ]
        output = usage.get("candidatesTokenCount")
        if (
            isinstance(output, int)
            and parts
            and all(len(c.get("candidates") or []) <= 1 for c in chunks)
            and all((cand.get("index") or 0) == 0 for cand in candidates)
            and all(set(k for k, v in p.items() if v is not None) == {"text"} for p in parts)
        ):
            items.append(output_item("".join(p["text"] for p in parts), body, output))
        for item in items:
            writer.write(
                [model, call, item["kind"], item["request"], item["expected"]],
                {"source": source, "model": model, **item, **common, "raw_usage": usage or None, "notes": notes},
            )
    server.shutdown()
    writer.close()


if __name__ == "__main__":
    repo, label, folders, prefix = sys.argv[1:5]
    main(repo, label, folders.split(","), prefix, known_answers(prefix) if "--skip-known" in sys.argv[5:] else None)
