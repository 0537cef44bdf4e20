"""Regenerate tests/data/mined_llm_gemini.jsonl from simonw/llm-gemini's recorded cassettes (not run by the tests).

usage: python tests/data/mine_llm_gemini.py PATH-TO-AN-LLM-GEMINI-GIT-CHECKOUT > tests/data/mined_llm_gemini.jsonl

llm-gemini re-records its cassettes when it moves to newer models, so the repository's history keeps
answers of models that are gone (1.5 in Nov 2024 / Mar 2025, 2.0 in 2025, ...). Every version of every
cassette is read. Each record is a real answer of Google's service: the request body verbatim (the
JSON the cassette kept), `usageMetadata.promptTokenCount` (kind "input") and, for a candidate made of
text parts only, `candidatesTokenCount` (kind "output", with its origin request). `recorded` is the
response's HTTP Date header. `model` is the model that answered (`modelVersion`) where vertexmeter's
registry knows it, else the model the request named (aliases such as gemini-flash-latest move over
time). Kept: text-only requests (no inlineData / fileData), one record per distinct (model, call,
body, value). No value comes from a local tokenizer.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from email.utils import parsedate_to_datetime
from typing import Any

import yaml

from vertexmeter.errors import VertexMeterError
from vertexmeter.registry import resolve

MEDIA_KEYS = ("inlineData", "fileData", "inline_data", "file_data")
CALLS = ("countTokens", "streamGenerateContent", "generateContent")


def _git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True).stdout


def _has_media(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k in value for k in MEDIA_KEYS) or any(_has_media(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_media(v) for v in value)
    return False


def _versions(repo: str) -> list[tuple[str, str, str]]:
    """(blob, path, first commit holding it) for every version of every cassette, oldest commit first."""
    seen: dict[str, tuple[str, str, str]] = {}
    for commit in reversed(_git(repo, "log", "--all", "--format=%H", "--", "tests/cassettes").split()):
        for line in _git(repo, "ls-tree", "-r", commit, "tests/cassettes").splitlines():
            meta, path = line.split("\t", 1)
            blob = meta.split()[2]
            if path.endswith(".yaml") and blob not in seen:
                seen[blob] = (blob, path, commit)
    return list(seen.values())


def _answer(response: dict[str, Any]) -> Any:
    body = (response.get("body") or {}).get("string")
    if isinstance(body, bytes):
        try:
            body = gzip.decompress(body).decode("utf-8")
        except OSError:
            body = body.decode("utf-8", "replace")
    try:
        return json.loads(body) if isinstance(body, str) and body else None
    except json.JSONDecodeError:
        return None


def _model(named: str, version: Any) -> str:
    """The model that answered, when the registry knows it; else the name the request used."""
    if isinstance(version, str):
        try:
            resolve(version)
            return version
        except VertexMeterError:
            pass
    return named


def main(repo: str) -> None:
    seen: set[str] = set()
    n = 0
    for blob, path, commit in _versions(repo):
        data = yaml.safe_load(_git(repo, "cat-file", "-p", blob))
        if not isinstance(data, dict):
            continue
        for i, interaction in enumerate(data.get("interactions") or []):
            request, response = interaction.get("request") or {}, interaction.get("response") or {}
            uri = request.get("uri", "")
            call = next((c for c in CALLS if f":{c}" in uri), None)
            if call is None or "/models/" not in uri:
                continue
            try:
                body = json.loads(request.get("body") or "")
            except (json.JSONDecodeError, TypeError):
                continue
            if not isinstance(body, dict) or _has_media(body):
                continue
            answer = _answer(response)
            chunks = answer if isinstance(answer, list) else [answer]
            chunks = [c for c in chunks if isinstance(c, dict)]
            if not chunks:
                continue
            last = chunks[-1]
            usage = last.get("usageMetadata") or {}
            named = uri.split("/models/")[1].split(":")[0]
            model = _model(named, last.get("modelVersion"))
            endpoint = "gemini-api" if "generativelanguage" in uri else "vertex"
            date = ((response.get("headers") or {}).get("Date") or [None])[0]
            recorded = parsedate_to_datetime(date).date().isoformat() if date else None
            source = f"simonw/llm-gemini:{path} (blob {blob[:12]}; commit {commit[:10]}), interaction {i}"
            common = {"endpoint": endpoint, "recorded": recorded, "recorded_basis": "http-date-header",
                      "confidence": "high"}
            notes = f"modelVersion={last.get('modelVersion')}; request named {named}; {call}"
            items: list[dict[str, Any]] = []
            value = last.get("totalTokens") if call == "countTokens" else usage.get("promptTokenCount")
            if isinstance(value, int):
                items.append({"api": "countTokens" if call == "countTokens" else "generateContent.usage",
                              "kind": "input", "request": body, "expected": {"totalTokens": value}})
            parts = [p for c in chunks for cand in (c.get("candidates") or [])[:1]
                     for p in ((cand.get("content") or {}).get("parts") or [])]
            output = usage.get("candidatesTokenCount")
            if call != "countTokens" and isinstance(output, int) and parts and all(
                set(p) <= {"text", "thoughtSignature"} and "text" in p for p in parts
            ):
                text = "".join(p["text"] for p in parts)
                items.append({"api": "generateContent.usage", "kind": "output",
                              "request": {"contents": [{"role": "model", "parts": [{"text": text}]}]},
                              "text": text, "origin_request": body, "expected": {"totalTokens": output}})
            for item in items:
                key = json.dumps([model, endpoint, item["api"], item["kind"], item["request"], item["expected"]],
                                 sort_keys=True)
                if key in seen:
                    continue
                seen.add(key)
                n += 1
                record = {"id": f"llmg-{n:04d}", "source": source, "model": model, **item, **common,
                          "raw_usage": usage or None, "notes": notes}
                print(json.dumps(record, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
