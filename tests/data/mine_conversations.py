"""Mine the whole exchanges (request and response) behind tests/data/ground_truth_2026.jsonl.

The ground-truth records keep each request and its usage, but not the earlier responses of the same
conversation — which carry the thought signatures that later requests replay. This script reads every
record's source file at the blob the record names (httprr traces and VCR cassettes) from local git
mirrors and writes, per source file and blob, the list of exchanges: the request body and the response (a streamed
answer as the list of its chunks, as a client receives it).

    python tests/data/mine_conversations.py MIRRORS_DIR > tests/data/conversations_2026.jsonl
    gzip -9n tests/data/conversations_2026.jsonl

MIRRORS_DIR holds one bare or normal git repository per source repository, named `owner+name`
(e.g. `google+adk-go`). Sources whose repository is missing there are skipped with a message.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

SOURCE = re.compile(r"^(?P<repo>[^:]+):(?P<path>.+?) \(blob (?P<blob>[0-9a-f]+); commit (?P<commit>[0-9a-f]+)\)")


def git_show(repo_dir: Path, blob: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo_dir), "cat-file", "-p", blob], check=True, capture_output=True).stdout


def split_http(raw: bytes) -> tuple[str, bytes]:
    """Head (first line + headers) and body of one HTTP message."""
    head, _, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    return head.decode("latin-1"), body


def dechunk(body: bytes) -> bytes:
    out, rest = b"", body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


def parse_response_body(head: str, body: bytes) -> dict[str, Any] | list[dict[str, Any]] | None:
    if "transfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return None
    if text.startswith("data:") or "\ndata:" in text:
        return [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:") and line[5:].strip()]
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(value, list):  # a streamed answer sent as one JSON array
        return [v for v in value if isinstance(v, dict)]
    return value if isinstance(value, dict) else None


def httprr_messages(data: bytes) -> list[tuple[bytes, bytes]]:
    """(request, response) raw HTTP messages of an httprr v1 trace."""
    header, _, rest = data.partition(b"\n")
    if not header.startswith(b"httprr trace v1"):
        raise ValueError("not an httprr v1 trace")
    out = []
    while rest:
        sizes, _, rest = rest.partition(b"\n")
        if not sizes.strip():
            break
        req_len, resp_len = (int(n) for n in sizes.split())
        out.append((rest[:req_len], rest[req_len : req_len + resp_len]))
        rest = rest[req_len + resp_len :]
    return out


def parse_httprr(data: bytes) -> list[tuple[str, Any, Any]]:
    """(url, request body, response) per exchange of an httprr v1 trace."""
    out = []
    for request, response in httprr_messages(data):
        req_head, req_body = split_http(request)
        resp_head, resp_body = split_http(response)
        url = req_head.splitlines()[0].split(" ")[1]
        try:
            body = json.loads(req_body) if req_body.strip() else None
        except json.JSONDecodeError:
            body = None
        out.append((url, body, parse_response_body(resp_head, resp_body)))
    return out


def _yaml_body(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("string", "")
    if isinstance(value, list):
        value = "".join(value)
    return value or ""


def parse_cassette(data: bytes) -> list[tuple[str, Any, Any]]:
    """(url, request body, response) per interaction of a VCR.py cassette."""
    doc = yaml.safe_load(data)
    out = []
    for interaction in doc.get("interactions") or []:
        request, response = interaction.get("request") or {}, interaction.get("response") or {}
        try:
            body = json.loads(_yaml_body(request.get("body"))) if _yaml_body(request.get("body")).strip() else None
        except json.JSONDecodeError:
            body = None
        resp_text = _yaml_body(response.get("body") or response.get("content"))
        if isinstance(resp_text, bytes):
            resp_text = resp_text.decode("utf-8", "replace")
        out.append((request.get("uri", ""), body, parse_response_body("", resp_text.encode())))
    return out


def main() -> None:
    mirrors = Path(sys.argv[1])
    shared = Path(__file__).resolve().parent / "ground_truth_2026.jsonl"
    sources: dict[str, tuple[str, str, str]] = {}
    for line in shared.read_text("utf-8").splitlines():
        record = json.loads(line)
        match = SOURCE.match(record["source"])
        if match:
            key = f"{match['repo']}:{match['path']}@{match['blob']}"
            sources[key] = (match["repo"], match["blob"], match["commit"])
    for key, (repo, blob, commit) in sorted(sources.items()):
        repo_dir = mirrors / repo.replace("/", "+")
        if (repo_dir / "repo").exists():
            repo_dir = repo_dir / "repo"
        if not repo_dir.exists():
            print(f"skipped (no mirror): {key}", file=sys.stderr)
            continue
        data = git_show(repo_dir, blob)
        exchanges = parse_httprr(data) if data.startswith(b"httprr") else parse_cassette(data)
        print(
            json.dumps(
                {
                    "source": key.rsplit("@", 1)[0],
                    "blob": blob,
                    "commit": commit,
                    "exchanges": [{"url": u, "request": b, "response": r} for u, b, r in exchanges],
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
