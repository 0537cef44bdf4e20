"""Regenerate tests/data/mined.jsonl from pydantic-ai's recorded Google cassettes (not run by the tests).

usage: python tests/data/mine_pydantic_ai.py PATH-TO-A-PYDANTIC-AI-GIT-CHECKOUT > tests/data/mined.jsonl

Every record is a real answer of Google's service as the cassette recorded it: the request body
verbatim and `usageMetadata.promptTokenCount` (or countTokens' `totalTokens`). Kept: text-only
requests (no inlineData / fileData anywhere), one record per distinct (model, API, call, body).
`recorded` is the day the service answered, read from the response's `responseId` (its first four
bytes are the Unix time of the answer, little-endian: checked against the HTTP Date header of 57
llm-gemini answers, within seconds); without a responseId, the date of the last commit that touched
the cassette (an upper bound; the cassettes keep no Date header). No value comes from a local tokenizer.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import yaml
from mine_vcr_history import _git, _has_media, response_day  # this folder is on sys.path when run


def main(repo: str) -> None:
    commit = _git(repo, "rev-parse", "HEAD").strip()
    paths = [
        p
        for p in _git(repo, "ls-tree", "-r", "--name-only", "HEAD").split()
        if "cassettes" in p and p.endswith(".yaml") and re.search(r"google|gemini|vertex", p, re.I)
    ]
    seen: set[str] = set()
    n = 0
    for path in sorted(paths):
        try:
            data = yaml.safe_load(_git(repo, "show", f"HEAD:{path}"))
        except (yaml.YAMLError, subprocess.CalledProcessError):  # unparsable, or absent from the snapshot
            continue
        if not isinstance(data, dict):
            continue
        recorded = _git(repo, "log", "-1", "--format=%cs", "HEAD", "--", path).strip()
        for i, interaction in enumerate(data.get("interactions") or []):
            request = interaction.get("request") or {}
            uri, body = request.get("uri", ""), request.get("parsed_body")
            calls = ("countTokens", "generateContent", "streamGenerateContent")
            call = next((c for c in calls if f":{c}" in uri), None)
            if call is None or not isinstance(body, dict) or _has_media(body):
                continue
            answer = (interaction.get("response") or {}).get("parsed_body")
            if isinstance(answer, list) and answer:
                answer = answer[-1]
            if not isinstance(answer, dict):
                continue
            usage = answer.get("usageMetadata") or {}
            value = answer.get("totalTokens") if call == "countTokens" else usage.get("promptTokenCount")
            if not isinstance(value, int):
                continue
            model = uri.split("/models/")[1].split(":")[0]
            endpoint = "gemini-api" if "generativelanguage" in uri else "vertex"
            key = json.dumps([model, endpoint, call, body], sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            n += 1
            answered = response_day(answer.get("responseId"))
            record = {
                "id": f"mined-{n:04d}",
                "source": f"pydantic/pydantic-ai:{path} (commit {commit[:10]}), interaction {i}",
                "api": "countTokens" if call == "countTokens" else "generateContent.usage",
                "model": model,
                "kind": "input",
                "endpoint": endpoint,
                "request": body,
                "expected": {"totalTokens": value},
                "raw_usage": usage or None,
                "recorded": answered or recorded,
                "recorded_basis": "responseId-timestamp" if answered else "commit-date (upper bound)",
                "confidence": "high",
                "notes": f"modelVersion={answer.get('modelVersion')}; {uri.split('/models/')[0].split('//')[1]}",
            }
            print(json.dumps(record, ensure_ascii=False, sort_keys=False))


if __name__ == "__main__":
    main(sys.argv[1])
