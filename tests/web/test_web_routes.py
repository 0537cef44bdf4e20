"""The web routes over plain HTTP (no browser): headers that keep the page on its origin, the asset
allow-list, the model listing, offline /docs assets, and the batch route's progress stream and refusals."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

import vertexmeter
from tests.web.web_helpers import WEB_KEY, Served
from vertexmeter.batch import estimate_batch
from vertexmeter.web import BATCH_PARAMETERS


def get(served: Served, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(served.base_url + path, timeout=30, **kwargs)


def test_page_and_assets_stay_on_the_origin(server: Served) -> None:
    page = get(server, "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "connect-src 'self'" in csp and "default-src 'self'" in csp and "unsafe-inline" not in csp
    # Every URL the page names is a path on this server.
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(url.startswith(("/", "#")) for url in urls), urls
    for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css"), ("favicon.svg", "image/svg+xml")):
        asset = get(server, f"/web/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
        text = asset.text.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a namespace name, not a fetch
        assert "http://" not in text and "https://" not in text, name


def test_unknown_assets_are_google_shaped_404s(server: Served) -> None:
    for path in ("/web/static/index.py", "/web/static/..%2Frouter.py", "/web/docs-assets/secret.txt", "/redoc"):
        answer = get(server, path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["status"] == "NOT_FOUND"


def test_models_listing_is_the_registry(server: Served, keyed_server: Served) -> None:
    listing = get(server, "/web/api/models").json()
    registry = vertexmeter.all_models()
    assert [m["id"] for m in listing["models"]] == [m.id for m in registry]
    for shown, model in zip(listing["models"], registry, strict=True):
        assert shown["aliases"] == list(model.aliases)
        assert shown["inputTokenLimit"] == model.input_token_limit
    assert listing["modes"] == ["online", "batch", "flex", "priority"]
    assert listing["authRequired"] is False
    assert get(keyed_server, "/web/api/models").json()["authRequired"] is True


def test_docs_are_served_from_the_package(server: Served) -> None:
    docs = get(server, "/docs")
    assert docs.status_code == 200
    assert "cdn.jsdelivr.net" not in docs.text and "https://" not in docs.text.replace("https://fastapi", "")
    assets = re.findall(r"/web/docs-assets/[\w.-]+", docs.text)
    assert {a.rsplit("/", 1)[1] for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    for asset in set(assets):
        assert get(server, asset).status_code == 200
    schema = get(server, "/openapi.json").json()
    page_routes = [p for p in schema["paths"] if p == "/" or p.startswith(("/web/", "/docs"))]
    assert page_routes == ["/web/api/batch"]  # the page's routes stay out, but scripts may upload batches too


def test_the_batch_route_is_documented_as_it_is_served(server: Served) -> None:
    operation = get(server, "/openapi.json").json()["paths"]["/web/api/batch"]["post"]
    assert [p["name"] for p in operation["parameters"]] == list(BATCH_PARAMETERS)
    assert all(p["in"] == "query" and not p["required"] for p in operation["parameters"])
    assert set(operation["requestBody"]["content"]) == {"application/jsonl", "application/octet-stream"}
    assert set(operation["responses"]["200"]["content"]) == {"application/x-ndjson"}
    assert {"400", "401", "403", "408", "413", "429", "503", "504"} <= set(operation["responses"])
    # What the document says is refused is refused: an enum value outside the list, a query option not listed.
    assert post_batch(server, b"", "?api=palm").status_code == 400
    assert post_batch(server, b"", "?colour=blue").status_code == 400


def post_batch(served: Served, body: bytes, query: str = "", **headers: str) -> httpx.Response:
    return httpx.post(f"{served.base_url}/web/api/batch{query}", content=body, headers=headers, timeout=60)


def test_batch_route_streams_progress_then_the_engine_summary(server: Served, tmp_path: Any) -> None:
    lines = [json.dumps({"contents": [{"role": "user", "parts": [{"text": f"line {i}"}]}]}) for i in range(120)]
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    answer = post_batch(server, path.read_bytes(), "?model=gemini-2.0-flash&outputTokens=10&date=2026-01-15&name=b")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/x-ndjson"
    messages = [json.loads(line) for line in answer.text.splitlines()]
    progress = [m for m in messages if "done" in m]
    assert progress[0] == {"done": 0, "total": 120} and progress[-1] == {"done": 120, "total": 120}
    assert [m["done"] for m in progress] == sorted(m["done"] for m in progress) and len(progress) > 3
    summary = messages[-1]["summary"]
    expected = estimate_batch(str(path), "gemini-2.0-flash", output_tokens=10, as_of="2026-01-15", workers=1).summary()
    expected["run"]["inputs"] = ["b"]
    for volatile in ("seconds", "lines_per_second", "mb_per_second"):
        summary["run"].pop(volatile), expected["run"].pop(volatile)
    assert summary == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?mode=cheapest", "mode"),
        ("?colour=red", "colour"),
        ("?outputTokens=-3", "outputTokens"),
        ("?date=yesterday", "as_of"),
    ],
)
def test_batch_route_refuses_bad_options_before_running(server: Served, query: str, field: str) -> None:
    answer = post_batch(server, b'{"contents": [{"parts": [{"text": "hi"}]}]}\n', query)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert field in json.dumps(error)


def test_batch_route_needs_the_key_when_keys_are_set(keyed_server: Served) -> None:
    body = b'{"contents": [{"parts": [{"text": "hi"}]}]}\n'
    assert post_batch(keyed_server, body).json()["error"]["status"] == "UNAUTHENTICATED"
    assert post_batch(keyed_server, body, **{"x-goog-api-key": "wrong"}).status_code == 403
    answer = post_batch(keyed_server, body, "?model=gemini-2.5-flash", **{"x-goog-api-key": WEB_KEY})
    assert answer.status_code == 200 and json.loads(answer.text.splitlines()[-1])["summary"]["counted"] == 1


@pytest.mark.parametrize("chunked", [False, True], ids=["declared-length", "chunked"])
def test_batch_route_refuses_a_body_over_the_cap(keyed_server: Served, chunked: bool) -> None:
    big = b'{"contents": [{"parts": [{"text": "' + b"x" * 70_000 + b'"}]}]}\n'
    body: Any = iter([big[:30_000], big[30_000:]]) if chunked else big  # an iterator is sent chunked
    answer = httpx.post(
        f"{keyed_server.base_url}/web/api/batch?model=gemini-2.5-flash",
        content=body,
        headers={"x-goog-api-key": WEB_KEY},
        timeout=60,
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["message"] == "Request payload size exceeds the limit: 65536 bytes."
