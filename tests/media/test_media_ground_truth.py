"""The multimodal answers recorded in tests/data/ground_truth.jsonl, replayed on regenerated media.

The records keep media properties (size, pages, duration), not the bytes (except the tiny PNGs of
gt-0130/gt-0131, kept verbatim). A medium the mined media set keeps (tests/data/media_blobs.jsonl.gz: the same
SHA-256 as the record's `<omitted: …, sha256=…>`) is replayed with its real bytes. Others are regenerated: images
at the recorded size, PDFs as blank US Letter pages (the page size is not recorded), audio and video at the recorded
duration; the 1961 State of the Union MP3 at the duration ffprobe reports for the real file, 2610.128938 s (printed
in the Counting_Tokens cookbook notebooks: `ffprobe -show_entries format=duration sample.mp3`).
Each record is replayed through the call it was recorded from (tests/ground_truth.py).
"""

from __future__ import annotations

import copy
import io
import re
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import pytest

import vertexmeter
from tests.ground_truth import Replay, is_multimodal, load_records, media_blobs, replay
from tests.media import mediafactory as mf
from vertexmeter.media import MediaOptions

pytestmark = pytest.mark.slow  # decodes every recorded media file

RECORDS = {r["id"]: r for r in load_records()}
MULTIMODAL = sorted(i for i, r in RECORDS.items() if is_multimodal(r))
SOTU_SECONDS = "2610.128938"
FILE_URI = "https://generativelanguage.googleapis.com/v1beta/files/sotu-1961-mp3"
# Measured 2026-12-01: 21/22 replayable records exact (95.5 %; nt-0168, 2.5 audio, was open); 2026-12-07: 22/22,
# nt-0168 replayed with its real MP3 (mined_media) and Gemini API 2.5's MP3s counted by their frames.
FLOOR = 1.0


class NotReplayable(Exception):
    """The record's media cannot be regenerated (e.g. a text document whose bytes were not kept)."""


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A media root holding the regenerated MP3 where the File API URI maps to."""
    root = tmp_path_factory.mktemp("media-root")
    target = root / "generativelanguage.googleapis.com" / "v1beta" / "files" / "sotu-1961-mp3"
    target.parent.mkdir(parents=True)
    target.write_bytes(mf.audio("mp3", "libmp3lame", Fraction(SOTU_SECONDS), rate=8000, bit_rate=8000))
    return root


def clip(width: int, height: int, seconds: float, fps: int = 30) -> bytes:
    """An H.264 MP4 of width x height, round(seconds x fps) frames, with an AAC track of `seconds`."""
    buf = io.BytesIO()
    frames = max(1, round(seconds * fps))
    with av.open(buf, "w", format="mp4") as out:
        vstream = out.add_stream("libx264", rate=fps)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        astream = out.add_stream("aac", rate=16000, layout="mono")
        for i in range(frames):
            frame = av.VideoFrame(width, height, "yuv420p")
            frame.pts = i
            for packet in vstream.encode(frame):
                out.mux(packet)
        for packet in vstream.encode():
            out.mux(packet)
        for frame in mf._audio_frames(astream, round(seconds * 16000), 16000):
            for packet in astream.encode(frame):
                out.mux(packet)
        for packet in astream.encode():
            out.mux(packet)
    return buf.getvalue()


_KEPT = re.compile(r"<omitted: \d+ bytes, sha256=([0-9a-f]{64})>")


def media_bytes(info: dict[str, Any]) -> bytes:
    mime = info["mimeType"]
    if mime.startswith("image/"):
        return mf.image(info["width"], info["height"], mime.split("/")[1])
    if mime == "application/pdf":
        return mf.blank_pdf(int(info.get("pages", 1)))
    if mime in ("audio/mpeg", "audio/mp3"):
        return mf.audio("mp3", "libmp3lame", Fraction(str(info["duration_s"])), rate=16000)
    if mime == "video/mp4":
        return clip(info["width"], info["height"], float(info["duration_s"]), round(info.get("fps", 30)))
    raise NotReplayable(f"{mime} bytes were not kept")


def regenerate(record: dict[str, Any]) -> dict[str, Any]:
    """The recorded request with omitted media replaced by media of the recorded properties."""
    request = copy.deepcopy(record["request"])
    media = iter(record.get("media", []))
    for content in request["contents"]:
        for part in content["parts"]:
            blob = part.get("inlineData", part.get("inline_data"))
            if blob is not None:
                info = next(media)
                data = blob["data"]
                kept = _KEPT.match(data)
                if kept and kept[1] in media_blobs():
                    blob["data"] = media_blobs()[kept[1]]  # the real bytes (tests/data/mined_media)
                elif data.startswith("<image"):
                    match = re.match(r"<image (\d+)x(\d+) omitted", data)
                    assert match, data
                    assert (int(match[1]), int(match[2])) == (info["width"], info["height"])
                    blob["data"] = mf.b64(media_bytes(info))
                elif data.startswith("<"):
                    blob["data"] = mf.b64(media_bytes(info))
            elif "fileData" in part:
                info = next(media)
                assert round(info.get("duration_s_approx", info.get("duration_s", 0))) == 2610, info
                part["fileData"]["fileUri"] = FILE_URI
    return request


def replay_all(media_root: Path) -> tuple[list[Replay], list[str]]:
    results, skipped = [], []
    for record_id in MULTIMODAL:
        record = RECORDS[record_id]
        try:
            request = regenerate(record)
        except NotReplayable as why:
            skipped.append(f"{record_id}: {why}")
            continue
        results.append(replay(record, request, MediaOptions(media_root=str(media_root))))
    return results, skipped


def test_parity_on_recorded_multimodal_answers(media_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results, skipped = replay_all(media_root)
    groups: dict[str, list[Replay]] = defaultdict(list)
    for r in results:
        groups[r.group].append(r)
    exact = sum(r.exact for r in results)
    with capsys.disabled():
        print()
        for group, items in sorted(groups.items()):
            print(f"parity {group}: {sum(r.exact for r in items)}/{len(items)} exact")
            for r in items:
                if not r.exact:
                    print(f"  miss {r.record['id']}: expected {r.expected}, got {r.got} {r.note[:60]}")
        print(f"parity TOTAL media: {exact}/{len(results)} exact ({exact / len(results):.1%})")
        print(f"not replayable: {skipped}")
    assert len(skipped) <= 1
    assert exact / len(results) >= FLOOR


@pytest.mark.parametrize("record_id", ["gt-0130", "gt-0131", "gt-0137", "gt-0141", "gt-0144", "gt-0145", "gt-0146"])
def test_recorded_multimodal_answer(record_id: str, media_root: Path) -> None:
    """Records whose every detail the rules reproduce, details per modality included."""
    record = RECORDS[record_id]
    result = replay(record, regenerate(record), MediaOptions(media_root=str(media_root)))
    assert result.exact, (result.got, result.note)


def test_lone_image_is_tiled_on_gemini_2_0_generate_content() -> None:
    """The issue's example: a lone 1600x1000 PNG bills 1,806 IMAGE tokens while countTokens says 258."""
    body = mf.request(mf.inline("image/png", mf.image(1600, 1000)))
    billed = vertexmeter.usage_metadata("gemini-2.0-flash", body, api="gemini")
    counted = vertexmeter.count_tokens("gemini-2.0-flash", body, api="gemini")
    assert billed["promptTokensDetails"] == [{"modality": "IMAGE", "tokenCount": 1806}]
    assert {"modality": "IMAGE", "tokenCount": 258} in counted["promptTokensDetails"]
    # Two images are not tiled: 258 each.
    two = mf.request(mf.inline("image/png", mf.image(1600, 1000)), mf.inline("image/png", mf.image(1600, 1000)))
    assert vertexmeter.usage("gemini-2.0-flash", two, api="gemini").prompt_tokens_by_modality["IMAGE"] == 516


def test_regenerated_mp3_has_the_real_files_duration(media_root: Path) -> None:
    """The audio rules were fitted to 2610.128938 s: the regenerated file must measure the same."""
    from decimal import Decimal

    result = vertexmeter.count(
        "gemini-2.5-flash",
        {"contents": [{"parts": [{"fileData": {"mimeType": "audio/mp3", "fileUri": FILE_URI}}]}]},
        media_options=MediaOptions(media_root=str(media_root)),
    )
    assert abs(result.media.audio_seconds - Decimal(SOTU_SECONDS)) < Decimal("0.001")
