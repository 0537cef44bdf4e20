"""The multimodal answers recorded in shared/spec/ground_truth_public.jsonl, on regenerated media.

The records keep media dimensions and durations, not the bytes (except the tiny PNGs of
gt-0130/gt-0131, kept verbatim). Images are regenerated at the recorded size; the 1961 State of the
Union MP3 is regenerated at the duration ffprobe reports for the real file, 2610.128938 s (printed
in the Counting_Tokens cookbook notebooks: `ffprobe -show_entries format=duration sample.mp3`).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import mediafactory as mf
import pytest
from ground_truth import is_multimodal, load_records

import vertexmeter
from vertexmeter.media import MediaOptions

RECORDS = {r["id"]: r for r in load_records()}
MULTIMODAL = sorted(i for i, r in RECORDS.items() if is_multimodal(r))
EXPECTED_IDS = ["gt-0130", "gt-0131", *(f"gt-{n:04d}" for n in range(137, 147))]
SOTU_SECONDS = "2610.128938"
FILE_URI = "https://generativelanguage.googleapis.com/v1beta/files/sotu-1961-mp3"




@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A media root holding the regenerated MP3 where the File API URI maps to."""
    from fractions import Fraction

    root = tmp_path_factory.mktemp("media-root")
    target = root / "generativelanguage.googleapis.com" / "v1beta" / "files" / "sotu-1961-mp3"
    target.parent.mkdir(parents=True)
    target.write_bytes(mf.audio("mp3", "libmp3lame", Fraction(SOTU_SECONDS), rate=8000, bit_rate=8000))
    return root


def regenerate(record: dict[str, Any]) -> dict[str, Any]:
    """The recorded request with omitted media replaced by media of the recorded properties."""
    request = copy.deepcopy(record["request"])
    media = iter(record.get("media", []))
    for content in request["contents"]:
        for part in content["parts"]:
            if "inlineData" in part:
                info = next(media)
                if part["inlineData"]["data"].startswith("<"):
                    match = re.match(r"<image (\d+)x(\d+) omitted", part["inlineData"]["data"])
                    assert match, part["inlineData"]["data"]
                    assert (int(match[1]), int(match[2])) == (info["width"], info["height"])
                    fmt = part["inlineData"]["mimeType"].split("/")[1]
                    part["inlineData"]["data"] = mf.b64(mf.image(info["width"], info["height"], fmt))
            elif "fileData" in part:
                info = next(media)
                assert info["duration_s_approx"] == 2610, info
                part["fileData"]["fileUri"] = FILE_URI
    return request


def test_every_multimodal_record_is_covered() -> None:
    assert MULTIMODAL == EXPECTED_IDS


@pytest.mark.parametrize("record_id", EXPECTED_IDS)
def test_recorded_multimodal_answer(record_id: str, media_root: Path) -> None:
    record = RECORDS[record_id]
    api = "gemini" if record["endpoint"] == "gemini-api" else "vertex"
    result = vertexmeter.count(
        record["model"], regenerate(record), api=api, media_options=MediaOptions(media_root=str(media_root))
    )
    rest = result.to_rest()
    assert rest["totalTokens"] == record["expected"]["totalTokens"]
    if "promptTokensDetails" in record["expected"]:
        assert rest["promptTokensDetails"] == record["expected"]["promptTokensDetails"]


def test_regenerated_mp3_has_the_real_files_duration(media_root: Path) -> None:
    """The audio rules were fitted to 2610.128938 s: the regenerated file must measure the same."""
    from decimal import Decimal

    result = vertexmeter.count(
        "gemini-2.5-flash",
        {"contents": [{"parts": [{"fileData": {"mimeType": "audio/mp3", "fileUri": FILE_URI}}]}]},
        media_options=MediaOptions(media_root=str(media_root)),
    )
    assert abs(result.media.audio_seconds - Decimal(SOTU_SECONDS)) < Decimal("0.001")
