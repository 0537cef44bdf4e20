"""Media flows through the server unchanged: inline images and fileData from the media root count
exactly as the library counts them with the same MediaOptions."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import types

import vertexmeter
from tests.server.server_helpers import RunningServer
from vertexmeter.errors import VertexMeterError
from vertexmeter.media import MediaOptions

Image = pytest.importorskip("PIL.Image")


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 90)).save(out, format="PNG")
    return out.getvalue()


def library(model: str, body: dict[str, Any], api: str, options: MediaOptions) -> tuple[int, dict[str, Any]]:
    try:
        return 200, vertexmeter.count(model, body, api=api, media_options=options).to_rest()
    except VertexMeterError as error:
        return error.code, error.to_json()


@pytest.mark.parametrize("model", ["gemini-2.5-flash", "gemini-3-pro-preview"])
@pytest.mark.parametrize("api", ["vertex", "gemini"])
def test_inline_image(http: httpx.Client, model: str, api: str) -> None:
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png(1200, 800)).decode()}},
                    {"text": "What is in this picture?"},
                ],
            }
        ]
    }
    path = f"/v1/models/{model}:countTokens" if api == "gemini" else f"/v1/publishers/google/models/{model}:countTokens"
    response = http.post(path, json=body)
    expected = library(model, body, api, MediaOptions())
    assert (response.status_code, response.json()) == expected
    assert response.status_code == 200
    assert any(d["modality"] == "IMAGE" for d in response.json()["promptTokensDetails"])


def test_inline_image_through_the_sdk(open_server: RunningServer) -> None:
    client = genai.Client(vertexai=True, api_key="any", http_options=types.HttpOptions(base_url=open_server.base_url))
    image = png(640, 480)
    contents: Any = [types.Part.from_bytes(data=image, mime_type="image/png"), "Describe it."]
    response = client.models.count_tokens(model="gemini-2.5-flash", contents=contents)
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(image).decode()}},
                    {"text": "Describe it."},
                ],
            }
        ]
    }
    assert response.total_tokens == library("gemini-2.5-flash", body, "vertex", MediaOptions())[1]["totalTokens"]


def test_file_data_from_the_media_root(server_factory: Any, tmp_path: Path) -> None:
    (tmp_path / "bucket").mkdir()
    (tmp_path / "bucket" / "photo.png").write_bytes(png(300, 300))
    server: RunningServer = server_factory(quota_rpm=0, media_root=str(tmp_path))
    body = {
        "contents": [
            {"role": "user", "parts": [{"fileData": {"mimeType": "image/png", "fileUri": "gs://bucket/photo.png"}}]}
        ]
    }
    with server.client() as client:
        response = client.post("/v1/publishers/google/models/gemini-2.5-flash:countTokens", json=body)
        missing = client.post(
            "/v1/publishers/google/models/gemini-2.5-flash:countTokens",
            json={
                "contents": [
                    {
                        "role": "user",
                        "parts": [{"fileData": {"mimeType": "image/png", "fileUri": "gs://bucket/absent.png"}}],
                    }
                ]
            },
        )
    assert (response.status_code, response.json()) == library(
        "gemini-2.5-flash", body, "vertex", MediaOptions(media_root=str(tmp_path))
    )
    assert response.status_code == 200
    assert 400 <= missing.status_code < 500
    assert set(missing.json()["error"]) == {"code", "message", "status", "details"}
