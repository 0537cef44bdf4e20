"""Mine every recorded answer whose candidate calls a function (a functionCall part) from every version of the
cassettes of the repositories named on the command line, into tests/evidence/function_call_outputs.json.gz.

Run: python tests/evidence/mine_function_call_outputs.py MIRRORS owner/name ... | gzip -9n > OUT.json.gz
(MIRRORS holds one git clone per repository, named owner+name). An answer keeps what its candidatesTokenCount depends
on: the request's generationConfig, the response's candidates (a stream as its chunks) and usageMetadata; the
cassette's path and blob, and its day (mine_code_execution.day_of: the responseId's time, else the HTTP Date header;
empty when neither says). The same answer recorded twice (a cassette copied unchanged) is kept once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mine_code_execution import _Loader, body, day_of  # noqa: E402

SUFFIXES = (".yaml", ".yml", ".json")


def _blobs(repo: Path) -> list[tuple[str, str]]:
    """(blob, path) of every version of every cassette-like file in the repository's history, each blob once, read in
    one pass (a mirror may lack a few objects: what can be read is)."""
    listed = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--objects", "--all", "--missing=allow-any"],
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    out: dict[str, str] = {}
    for line in listed:
        blob, _, path = line.partition(" ")
        if path.endswith(SUFFIXES) and ("cassette" in path or "vcr" in path or "fixtures" in path):
            out.setdefault(blob, path)
    return sorted(out.items(), key=lambda item: (item[1], item[0]))


def _read(repo: Path, blobs: list[str]) -> dict[str, str]:
    """The text of each blob (git cat-file --batch)."""
    batch = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"], input=("\n".join(blobs) + "\n").encode(), capture_output=True
    ).stdout
    out: dict[str, str] = {}
    at = 0
    while at < len(batch):
        header_end = batch.index(b"\n", at)
        header = batch[at:header_end].decode().split()
        if len(header) < 3 or header[1] == "missing":
            at = header_end + 1
            continue
        size = int(header[2])
        out[header[0]] = batch[header_end + 1 : header_end + 1 + size].decode("utf-8", "replace")
        at = header_end + 1 + size + 1
    return out


def _compact(chunk: dict[str, Any]) -> dict[str, Any]:
    keep = {k: chunk[k] for k in ("usageMetadata", "modelVersion", "responseId") if k in chunk}
    candidates = []
    for candidate in chunk.get("candidates") or []:
        content = candidate.get("content") or {}
        parts = [
            {k: v for k, v in part.items() if k not in ("thoughtSignature", "thought_signature")}
            for part in content.get("parts") or []
        ]
        candidates.append(
            {
                "content": {"role": "model", "parts": parts},
                **{k: candidate[k] for k in ("finishReason", "index") if k in candidate},
            }
        )
    keep["candidates"] = candidates
    return keep


def _answers(name: str, path: str, blob: str, cassette: dict[str, Any]) -> list[dict[str, Any]]:
    """The function-call answers of one cassette version."""
    out = []
    for i, item in enumerate(cassette.get("interactions") or cassette.get("http_interactions") or []):
        try:
            uri = item["request"].get("uri", "")
            request, response = body(item["request"]), body(item["response"])
        except (KeyError, AttributeError, TypeError, ValueError):
            continue
        if "/models/" not in uri or "enerateContent" not in uri or not isinstance(request, dict):
            continue
        chunks = response if isinstance(response, list) else [response]
        if not chunks or not all(isinstance(c, dict) for c in chunks):
            continue
        usage = next((c["usageMetadata"] for c in reversed(chunks) if c.get("usageMetadata")), None)
        parts = [
            p
            for c in chunks
            for cand in c.get("candidates") or []
            for p in (cand.get("content") or {}).get("parts") or []
        ]
        if not usage or "candidatesTokenCount" not in usage or not any("functionCall" in p for p in parts):
            continue
        compact = [_compact(c) for c in chunks]
        day, basis = day_of(chunks, item["response"].get("headers") or {}, "")
        out.append(
            {
                "source": f"{name}:{path} (blob {blob[:12]}), interaction {i}",
                "model": uri.split("/models/")[1].split(":")[0],
                "api": "vertex" if "aiplatform" in uri else "gemini",
                "recorded": day,
                "recorded_basis": basis,
                "generation_config": request.get("generationConfig") or request.get("generation_config") or {},
                "response": compact if isinstance(response, list) else compact[0],
                "candidatesTokenCount": usage["candidatesTokenCount"],
            }
        )
    return out


def mine(mirrors: Path, names: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name in names:
        repo = mirrors / name.replace("/", "+") / "repo"
        blobs = _blobs(repo)
        texts = _read(repo, [blob for blob, _ in blobs])
        for blob, path in blobs:
            raw = texts.get(blob, "")
            if "functionCall" not in raw and "function_call" not in raw:
                continue
            try:
                cassette = json.loads(raw) if path.endswith(".json") else yaml.load(raw, Loader=_Loader)
            except (yaml.YAMLError, ValueError):
                continue
            for answer in _answers(name, path, blob, cassette) if isinstance(cassette, dict) else []:
                key = json.dumps(
                    [answer["model"], answer["api"], answer["recorded"], answer["response"]], sort_keys=True
                )
                if key not in seen:
                    seen.add(key)
                    out.append({"id": f"fco-{len(out) + 1:04d}", **answer})
    return out


if __name__ == "__main__":
    json.dump(mine(Path(sys.argv[1]), sys.argv[2:]), sys.stdout, ensure_ascii=False, indent=0)
    sys.stdout.write("\n")
