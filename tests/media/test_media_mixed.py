"""One request mixing every modality, per generation, through the library and the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import vertexmeter
from tests.media import mediafactory as mf
from tests.media.test_media_rules import FRAME, IMAGE, LETTER, MODELS, PAGE, PDF_MODALITY, audio_tokens, sized
from vertexmeter.cli import main
from vertexmeter.media import MediaOptions

TEXT = "Compare the two pictures, summarise the clip, the recording and the report."
CLIP_START, CLIP_END, CLIP_FPS = Fraction(1, 2), Fraction(5, 2), Fraction(2)  # 2 s at 2 fps = 4 frames
AUDIO_SECONDS = Fraction(7, 2)
PDF_PAGES = 3


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The request, with the PDF as a gs:// fileData resolved through a media root."""
    root = tmp_path_factory.mktemp("root")
    (root / "reports").mkdir()
    (root / "reports" / "q3.pdf").write_bytes(mf.blank_pdf(PDF_PAGES))
    body = mf.request(
        {"text": TEXT},
        mf.inline("image/png", mf.image(320, 240)),
        mf.inline("image/jpeg", mf.image(2400, 1600, "jpeg"), mediaResolution={"level": "MEDIA_RESOLUTION_LOW"}),
        mf.inline(
            "video/mp4",
            mf.video("mp4", seconds=4, fps=10, with_audio=True),
            videoMetadata={"startOffset": "0.5s", "endOffset": "2.5s", "fps": 2},
        ),
        mf.inline("audio/flac", mf.audio("flac", "flac", AUDIO_SECONDS)),
        {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://reports/q3.pdf"}},
    )
    return body, root


def expected(generation: str, text_tokens: int) -> dict[str, int]:
    low = "LOW" if "LOW" in IMAGE[generation] else "UNSPECIFIED"
    frames = math.ceil((CLIP_END - CLIP_START) * CLIP_FPS)
    sound = audio_tokens(generation, AUDIO_SECONDS)
    if generation != "1.0":
        sound += audio_tokens(generation, CLIP_END - CLIP_START)
    out = {
        "TEXT": text_tokens,
        "IMAGE": sized(generation, IMAGE, "UNSPECIFIED", (320, 240)) + sized(generation, IMAGE, low, (2400, 1600)),
        "VIDEO": frames * sized(generation, FRAME, "UNSPECIFIED", (64, 64)),
        "AUDIO": sound,
    }
    pages = PDF_PAGES * sized(generation, PAGE, "UNSPECIFIED", LETTER)
    out[PDF_MODALITY[generation]] = out.get(PDF_MODALITY[generation], 0) + pages
    return out


def text_only(model: str) -> int:
    return vertexmeter.count(model, {"contents": [{"role": "user", "parts": [{"text": TEXT}]}]}).total_tokens


@pytest.mark.parametrize("generation", MODELS)
def test_mixed_request_library(generation: str, mixed: tuple[dict[str, Any], Path]) -> None:
    body, root = mixed
    model = MODELS[generation]
    result = vertexmeter.count(model, body, media_options=MediaOptions(media_root=str(root)))
    want = expected(generation, text_only(model))
    rest = result.to_rest()
    assert rest["promptTokensDetails"] == [{"modality": m, "tokenCount": n} for m, n in want.items()]
    assert rest["totalTokens"] == sum(want.values())
    text_billable = vertexmeter.count(model, {"contents": [{"parts": [{"text": TEXT}]}]}).billable_characters
    assert result.billable_characters == text_billable  # media adds no billable characters
    assert (result.media.images, result.media.pdf_pages) == (2, PDF_PAGES)
    assert result.media.video_seconds == 2
    assert result.media.audio_seconds == Fraction(7, 2)


@pytest.mark.parametrize("generation", MODELS)
def test_mixed_request_cli_matches_library(generation: str, mixed: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    body, root = mixed
    model = MODELS[generation]
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body))
    run = CliRunner().invoke(main, ["count", "-m", model, "--file", str(path), "--media-root", str(root)])
    assert run.exit_code == 0, run.output
    library = vertexmeter.count(model, body, media_options=MediaOptions(media_root=str(root))).to_rest()
    assert json.loads(run.stdout) == library
    want = expected(generation, text_only(model))
    assert json.loads(run.stdout)["totalTokens"] == sum(want.values())


def test_mixed_request_real_entry_point(mixed: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    body, root = mixed
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body))
    done = subprocess.run(
        [sys.executable, "-m", "vertexmeter", "count", "-m", "gemini-2.5-flash", "--file", str(path)],
        capture_output=True,
        text=True,
        env={"VERTEXMETER_MEDIA_ROOT": str(root), "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    details = {d["modality"]: d["tokenCount"] for d in json.loads(done.stdout)["promptTokensDetails"]}
    assert details == expected("2.5", text_only("gemini-2.5-flash"))
    human = CliRunner().invoke(
        main, ["count", "-m", "gemini-2.5-flash", "--file", str(path), "--media-root", str(root), "--human"]
    )
    assert human.exit_code == 0
    for modality in ("IMAGE", "VIDEO", "AUDIO", "DOCUMENT"):
        assert f"{modality} tokens" in human.stdout
