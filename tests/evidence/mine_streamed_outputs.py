"""Mine the chunks of every recorded Gemini API 2.5 streamed answer (streamGenerateContent) whose chunks carry text
and thought parts only, and of every 2.5 stream whose chunks carry thought summaries, into
tests/evidence/streamed_outputs.json.

Run: python tests/evidence/mine_streamed_outputs.py MIRRORS tests/data > tests/evidence/streamed_outputs.json, where
MIRRORS holds one git clone per repository, named owner+name/repo (e.g. Mirascope+mirascope/repo). The answers are
those of the mined sets and of ground_truth_2026 (each record's `source` names the cassette, its blob and the
interaction): the cassette's blob is read again and the stream whose last usageMetadata is the record's `raw_usage`
is kept, chunk by chunk: its answer text, its thought text, and the cumulative counts it reports. Records whose blob
is not in the mirrors, or whose stream is not found in it, are left out (the count goes to stderr).

The streams with thought summaries (includeThoughts) are few among the mined records, so every version of the
cassettes of THOUGHT_REPOS that hold a thought part is read too: each Gemini API 2.5 stream (a modelVersion of 2.5,
a cassette that calls generativelanguage, not aiplatform) with a thought part is kept once, with any other parts of
its chunks (function calls, code execution) verbatim, under an id of its own (thst-NNNN, in the order of repository,
path and first commit) and its first commit's day.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

SOURCE = re.compile(r"([^:]+):(.*) \(blob (\w+); commit (\w+)\)(?:, interaction (\d+))?")
THOUGHT_REPOS = (
    "pydantic/pydantic-ai",
    "Mirascope/mirascope",
    "crmne/ruby_llm",
    "charmbracelet/fantasy",
    "googleapis/js-genai",
    "tidyverse/ellmer",
    "0xPlaygrounds/rig",
    "google/adk-go",
)
CASSETTES = ("*.yaml", "*.yml", "*.json", "*.har", "*.httprr")
COUNTS = (
    "promptTokenCount",
    "candidatesTokenCount",
    "thoughtsTokenCount",
    "toolUsePromptTokenCount",
    "totalTokenCount",
)


class _Loader(yaml.SafeLoader):
    """vcrpy cassettes tag some header names as Python objects: read them as plain strings."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: f"python:{id(node)}")


def blob_text(mirrors: Path, repo: str, blob: str) -> str | None:
    git_dir = mirrors / repo.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        return None
    out = subprocess.run(["git", "--git-dir", str(git_dir), "cat-file", "-p", blob], capture_output=True)
    return out.stdout.decode("utf-8", "replace") if out.returncode == 0 else None


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def streams_in(text: str) -> list[list[dict[str, Any]]]:
    """Every list of chunks in a cassette: server-sent events (`data: {...}` lines) or a JSON array of responses,
    in any string of the parsed file (VCR yaml, HAR, JSON recordings), else in its raw text (httprr)."""
    found: list[list[dict[str, Any]]] = []
    parsed: Any = None
    for load in (json.loads, lambda t: yaml.load(t, Loader=_Loader)):
        try:
            parsed = load(text)
            break
        except Exception:
            continue
    for s in list(strings(parsed)) or [text]:
        events = []
        for line in s.splitlines():
            line = line.strip()
            if line.startswith("data:"):
                with contextlib.suppress(ValueError):
                    events.append(json.loads(line[5:].strip()))
        if events:
            found.append([e for e in events if isinstance(e, dict)])
        if s.strip().startswith("["):
            try:
                array = json.loads(s)
            except ValueError:
                array = None
            if isinstance(array, list) and array and all(isinstance(c, dict) for c in array):
                found.append(array)
    return found


def last_usage(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    usage: dict[str, Any] = {}
    for chunk in chunks:
        usage = chunk.get("usageMetadata") or usage
    return usage


def records(data: Path) -> Iterator[dict[str, Any]]:
    for path in sorted([*data.glob("mined*.jsonl*"), data / "ground_truth_2026.jsonl"]):
        with (gzip.open if path.suffix == ".gz" else open)(path, "rt") as lines:
            for line in lines:
                record = json.loads(line)
                if (
                    record.get("kind") == "output"
                    and "streamGenerateContent" in (record.get("notes") or "")
                    and "2.5" in record.get("model", "")
                    and record.get("endpoint") == "gemini-api"
                ):
                    yield record


def git(git_dir: Path, *args: str) -> str:
    out = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True)
    return out.stdout.decode("utf-8", "replace") if out.returncode == 0 else ""


def chunk_entry(chunk: dict[str, Any]) -> dict[str, Any]:
    """A chunk as the evidence keeps it: its answer text, its thought text, its other parts, its candidate's
    groundingMetadata and urlContextMetadata (what a grounded answer searched and read), its counts."""
    candidate = (chunk.get("candidates") or [{}])[0]
    parts = (candidate.get("content") or {}).get("parts") or []
    counts = chunk.get("usageMetadata") or {}
    other = [
        {k: v for k, v in part.items() if k != "thoughtSignature"}
        for part in parts
        if set(part) - {"text", "thought", "thoughtSignature"}
    ]
    metadata = {k: v for k, v in candidate.items() if k in ("groundingMetadata", "urlContextMetadata")}
    return {
        "text": "".join(p.get("text", "") for p in parts if not p.get("thought")),
        "thought": "".join(p.get("text", "") for p in parts if p.get("thought")),
        **({"other_parts": other} if other else {}),
        **metadata,
        **{k: counts[k] for k in COUNTS if k in counts},
    }


def thought_streams(mirrors: Path, seen: set[str]) -> list[dict[str, Any]]:
    """Every Gemini API 2.5 stream with a thought part in any version of THOUGHT_REPOS' cassettes, but those whose
    chunks `seen` holds (as JSON)."""
    found: list[dict[str, Any]] = []
    for repo in THOUGHT_REPOS:
        git_dir = mirrors / repo.replace("/", "+") / "repo"
        if not git_dir.is_dir():
            continue
        hits = git(git_dir, "grep", "-l", "-E", "thought.{0,4}: ?true", "HEAD", "--", *CASSETTES).split()
        for path in sorted(hit.split(":", 1)[1] for hit in hits):
            versions = [
                line.split() for line in git(git_dir, "log", "--all", "--format=%H %cs", "--", path).splitlines()
            ]
            for commit, day in reversed(versions):  # oldest first: a blob's first commit names it
                blob = git(git_dir, "rev-parse", f"{commit}:{path}").strip()
                text = git(git_dir, "cat-file", "-p", blob) if blob else ""
                if "generativelanguage" not in text and "/v1beta/models/" not in text or "aiplatform" in text:
                    continue
                for stream in streams_in(text):
                    version = next((c.get("modelVersion") for c in stream if c.get("modelVersion")), "") or ""
                    parts = [
                        p
                        for c in stream
                        for p in ((c.get("candidates") or [{}])[0].get("content") or {}).get("parts") or []
                    ]
                    if "2.5" not in version or not any(p.get("thought") for p in parts):
                        continue
                    if "candidatesTokenCount" not in last_usage(stream):
                        continue
                    chunks = [chunk_entry(c) for c in stream]
                    key = json.dumps(chunks)
                    if key in seen:
                        continue
                    seen.add(key)
                    found.append(
                        {
                            "model": version.removeprefix("models/"),
                            "day": day,
                            "source": {
                                "repo": repo,
                                "path": path,
                                "blob": blob[:12],
                                "commit": commit[:10],
                                "interaction": 0,
                            },
                            "chunks": chunks,
                        }
                    )
    for n, stream in enumerate(found, 1):
        stream["id"] = f"thst-{n:04d}"
    return [{"id": s.pop("id"), **s} for s in found]


def server_tools(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The server-side tools (googleSearch, urlContext, …) the record's request declared: their use bills on top."""
    tools = (record.get("origin_request") or {}).get("tools") or []
    return [t for t in tools if isinstance(t, dict) and "functionDeclarations" not in t]


def main(mirrors: Path, data: Path) -> None:
    kept: list[dict[str, Any]] = []
    seen: set[str] = set()
    tally: Counter[str] = Counter()
    cache: dict[str, list[list[dict[str, Any]]]] = {}
    for record in records(data):
        match = SOURCE.match(record["source"])
        if not match:
            tally["source names no blob"] += 1
            continue
        repo, path, blob, commit, interaction = match.groups()
        if blob not in cache:
            text = blob_text(mirrors, repo, blob)
            cache[blob] = streams_in(text) if text else []
        usage = record.get("raw_usage") or {}
        stream = next(
            (s for s in cache[blob] if all(last_usage(s).get(k) == usage.get(k) for k in COUNTS[:2] + COUNTS[-1:])),
            None,
        )
        if stream is None:
            tally["stream not found"] += 1
            continue
        chunks = [chunk_entry(chunk) for chunk in stream]
        if any("other_parts" in chunk for chunk in chunks):
            tally["calls or other parts"] += 1
            continue
        key = json.dumps([blob, chunks])
        if key in seen:
            tally["same stream again"] += 1
            continue
        seen.add(key)
        kept.append(
            {
                "id": record["id"],
                "model": record["model"],
                "day": record.get("recorded"),
                "source": {
                    "repo": repo,
                    "path": path,
                    "blob": blob,
                    "commit": commit,
                    "interaction": int(interaction or 0),
                },
                "chunks": chunks,
                # the server-side tools the request declared (googleSearch, urlContext): they bill on top
                **({"request_tools": tools} if (tools := server_tools(record)) else {}),
            }
        )
        tally["kept"] += 1
    thoughts = thought_streams(mirrors, {json.dumps(s["chunks"]) for s in kept})
    tally["with thought summaries, from the cassettes"] = len(thoughts)
    kept += thoughts
    print(dict(tally), file=sys.stderr)
    json.dump(kept, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
