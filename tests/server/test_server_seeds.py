"""Replay the exact request bodies of the seed pages (Korean Vertex docs) with a plain HTTP client.

`seed_requests.json` holds every "JSON 요청 본문" block and every curl example of the seeds, byte for
byte (curl's $'…' quoting undone). Two of them are not valid JSON as printed — a trailing comma in
the chat-bison curl example, an unterminated string in the media example — and get Google's
"Invalid JSON payload received" 400; repaired, they count like the library.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.server.server_helpers import RunningServer, library_answer

SEED_REQUESTS: list[dict[str, str]] = json.loads(
    (Path(__file__).parent / "seed_requests.json").read_text(encoding="utf-8")
)
PLACEHOLDERS = {
    "${PROJECT_ID}": "my-project",
    "PROJECT_ID": "my-project",
    "LOCATION": "us-central1",
    "MODEL_ID": "gemini-2.5-flash",
}


def seed_dir() -> Path | None:
    base = os.environ.get("VERTEXMETER_SHARED")
    candidates = [Path(base)] if base else []
    candidates.append(Path(__file__).resolve().parents[3] / "shared")
    for candidate in candidates:
        if (candidate / "spec" / "seeds").is_dir():
            return candidate / "spec" / "seeds"
    return None


def extract_requests(directory: Path) -> list[dict[str, str]]:
    """Every request body of the seed pages: the documented template bodies and the curl examples."""
    found: list[dict[str, str]] = []
    for path in sorted(directory.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        url: str | None = None
        i = 0
        while i < len(lines):
            line = lines[i].strip()
            post = re.match(r"^POST (https://\S+)$", line)
            if post:
                url = post.group(1)
            if line == "JSON 요청 본문:" and url:
                j = i + 1
                while not lines[j].strip():
                    j += 1
                block = []
                while j < len(lines) and not lines[j].startswith("요청을 보내려면"):
                    block.append(lines[j])
                    j += 1
                found.append({"seed": path.name, "kind": "request-body", "url": url, "body": "\n".join(block).strip()})
                i = j
                continue
            curl = re.match(r"^(https://\S+:countTokens) -d \\$", line)
            if curl and i + 1 < len(lines) and lines[i + 1].startswith("$'"):
                j = i + 1
                block = []
                while True:
                    block.append(lines[j])
                    if lines[j].endswith("'") and (j > i + 1 or len(lines[j]) > 3):
                        break
                    j += 1
                body = "\n".join(block)[2:-1].replace("\\'", "'")  # undo bash $'…' quoting
                found.append({"seed": path.name, "kind": "curl-example", "url": curl.group(1), "body": body})
                i = j
            i += 1
    return found


def test_the_stored_bodies_are_the_seed_pages_bodies() -> None:
    directory = seed_dir()
    if directory is None:
        pytest.skip("shared/spec/seeds is not beside the checkout")
    assert extract_requests(directory) == SEED_REQUESTS


def local_path(url: str) -> str:
    path = urlparse(url).path
    for placeholder, value in PLACEHOLDERS.items():
        path = path.replace(placeholder, value)
    return path


def expected_answer(path: str, body: str) -> tuple[int, dict[str, Any]]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return 400, {}
    model = path.rsplit("/", 1)[1].split(":", 1)[0]
    return library_answer("countTokens", model, parsed)


@pytest.mark.parametrize("item", SEED_REQUESTS, ids=lambda it: f"{it['kind']}-{it['url'].rsplit('/', 1)[1]}")
def test_replay_seed_body(keyed_server: RunningServer, item: dict[str, str]) -> None:
    path = local_path(item["url"])
    with keyed_server.client() as client:
        response = client.post(
            path,
            content=item["body"].encode("utf-8"),
            headers={"Authorization": "Bearer test-token", "Content-Type": "application/json; charset=utf-8"},
        )
    code, expected = expected_answer(path, item["body"])
    assert response.status_code == code
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    if code == 400 and not expected:
        assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
        assert response.json()["error"]["message"].startswith("Invalid JSON payload received.")
    else:
        assert response.json() == expected


def repair(body: str) -> str:
    """The two printing slips of the seed pages: a trailing comma, an unterminated "TEXT string."""
    return re.sub(r",(\s*[}\]])", r"\1", body).replace('"TEXT\n', '"TEXT"\n')


def test_two_seed_bodies_are_not_json_as_printed() -> None:
    broken = []
    for item in SEED_REQUESTS:
        try:
            json.loads(item["body"])
        except ValueError:
            broken.append(item)
            json.loads(repair(item["body"]))  # and are JSON once repaired
    assert len(broken) == 2


@pytest.mark.parametrize(
    "item",
    [it for it in SEED_REQUESTS if repair(it["body"]) != it["body"]],
    ids=lambda it: f"{it['kind']}-{it['url'].rsplit('/', 1)[1]}",
)
def test_replay_repaired_seed_body(keyed_server: RunningServer, item: dict[str, str]) -> None:
    path = local_path(item["url"])
    body = repair(item["body"])
    with keyed_server.client() as client:
        response = client.post(path, content=body.encode("utf-8"), headers={"x-goog-api-key": "express-key-1"})
    code, expected = expected_answer(path, body)
    assert (response.status_code, response.json()) == (code, expected)


def test_seed_bodies_with_real_text_are_counted(keyed_server: RunningServer) -> None:
    """The curl examples carry real prompts: they must be answered with a count, not refused."""
    counted = 0
    with keyed_server.client(headers={"x-goog-api-key": "express-key-1"}) as client:
        for item in SEED_REQUESTS:
            if item["kind"] != "curl-example":
                continue
            response = client.post(local_path(item["url"]), content=repair(item["body"]).encode("utf-8"))
            assert response.status_code == 200, response.text
            assert response.json()["totalTokens"] > 0
            counted += 1
    assert counted == 6
