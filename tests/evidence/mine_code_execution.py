"""Mine every recorded code-execution exchange (a response with executableCode / codeExecutionResult parts, or a
request replaying them) from every version of the cassettes named below, into tests/evidence/code_execution.json.

Run: python tests/evidence/mine_code_execution.py MIRRORS > tests/evidence/code_execution.json, where MIRRORS holds
one git clone per repository, named owner+name (e.g. pydantic+pydantic-ai). Each answer keeps its request and
response verbatim (a stream as its list of chunks), the cassette's path, blob and first commit, and its day: the
responseId's time (its first four bytes, little-endian Unix seconds), else the HTTP Date header, else the commit's day.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

CASSETTES = {
    "pydantic/pydantic-ai": [
        "tests/models/cassettes/test_google/test_google_model_code_execution_tool.yaml",
        "tests/models/cassettes/test_google/test_google_model_builtin_code_execution_stream.yaml",
        "tests/models/google/cassettes/test_code_execution/test_code_execution.yaml",
        "tests/models/google/cassettes/test_code_execution/test_code_execution_stream.yaml",
        "tests/models/google/cassettes/test_code_execution/test_receive_history_from_another_provider.yaml",
    ],
    "crmne/ruby_llm": [
        "spec/fixtures/vcr_cassettes/chat_code_execution_with_gemini_gemini-3_5-flash_runs_code_server-side_and_replays_the_turn.yml",
    ],
    "DataDog/dd-trace-py": [
        "tests/cassettes/genai/genai_v1beta_models_gemini-2.5-flash_generateContent_post_459b74a0.yaml",
    ],
    "Arize-ai/openinference": [
        "python/instrumentation/openinference-instrumentation-google-genai/tests/cassettes/test_instrumentation/test_validate_token_counts.yaml",
        "python/instrumentation/openinference-instrumentation-google-adk/tests/cassettes/test_instrumentor/test_google_adk_instrumentor_code_execution_token_counts.yaml",
    ],
}
CODE_KEYS = ("executableCode", "executable_code", "codeExecutionResult", "code_execution_result")


class _Loader(yaml.SafeLoader):
    """vcrpy cassettes tag some header names as Python objects: read them as plain strings."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: f"python:{id(node)}")


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    return out.stdout if out.returncode == 0 else ""


def body(message: dict[str, Any]) -> Any:
    if "parsed_body" in message:
        return message["parsed_body"]
    raw = message.get("body")
    raw = raw.get("string") if isinstance(raw, dict) else raw
    if not isinstance(raw, str):
        return raw
    raw = raw.strip()
    if raw.startswith("data:") or "\ndata:" in raw:
        return [json.loads(line[5:]) for line in raw.splitlines() if line.startswith("data:") and line[5:].strip()]
    try:
        return json.loads(raw)
    except ValueError:
        return None


def day_of(chunks: list[dict[str, Any]], headers: dict[str, Any], commit_day: str) -> tuple[str, str]:
    for chunk in chunks:
        rid = chunk.get("responseId")
        if isinstance(rid, str):
            try:
                raw = base64.urlsafe_b64decode(rid + "=" * (-len(rid) % 4))
                seconds = int.from_bytes(raw[:4], "little")
                day = dt.datetime.fromtimestamp(seconds, dt.UTC).date()
                if dt.date(2023, 1, 1) <= day <= dt.date(2027, 1, 1):
                    return day.isoformat(), "responseId-timestamp"
            except ValueError:
                pass
    date = headers.get("date") or headers.get("Date")
    date = date[0] if isinstance(date, list) else date
    if isinstance(date, str):
        try:
            return dt.datetime.strptime(date, "%a, %d %b %Y %H:%M:%S %Z").date().isoformat(), "http-date-header"
        except ValueError:
            pass
    return (commit_day, "commit-date") if commit_day else ("", "unknown")


def mine(mirrors: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, paths in CASSETTES.items():
        repo = mirrors / name.replace("/", "+") / "repo"
        seen: set[str] = set()
        for path in paths:
            log = git(repo, "log", "--all", "--reverse", "--diff-filter=AMR", "--format=%H %cI", "--", path)
            for line in log.splitlines():
                commit, committed = line.split()
                blob = git(repo, "rev-parse", f"{commit}:{path}").strip()
                if not blob or blob in seen:
                    continue
                seen.add(blob)
                cassette = yaml.load(git(repo, "cat-file", "-p", blob), Loader=_Loader) or {}
                interactions = cassette.get("interactions") or cassette.get("http_interactions") or []
                for i, item in enumerate(interactions):
                    uri = item["request"].get("uri", "")
                    request, response = body(item["request"]), body(item["response"])
                    if "/models/" not in uri or not isinstance(request, dict) or response is None:
                        continue
                    chunks = response if isinstance(response, list) else [response]
                    if not any(key in json.dumps([request, chunks]) for key in CODE_KEYS):
                        continue
                    usage = next((c["usageMetadata"] for c in reversed(chunks) if c.get("usageMetadata")), None)
                    if not usage:
                        continue
                    day, basis = day_of(chunks, item["response"].get("headers") or {}, committed[:10])
                    out.append(
                        {
                            "source": f"{name}:{path} (blob {blob[:12]}; commit {commit[:10]}), interaction {i}",
                            "model": uri.split("/models/")[1].split(":")[0],
                            "api": "vertex" if "aiplatform" in uri else "gemini",
                            "recorded": day,
                            "recorded_basis": basis,
                            "request": request,
                            "response": response,
                            "usage": usage,
                        }
                    )
    return out


if __name__ == "__main__":
    json.dump(mine(Path(sys.argv[1])), sys.stdout, ensure_ascii=False, indent=0)
    sys.stdout.write("\n")
