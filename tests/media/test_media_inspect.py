"""Reading media: every listed container and image format, read from headers / container metadata."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

import vertexmeter
from tests.media import mediafactory as mf
from vertexmeter.media.inspect import MediaData, probe_av, probe_image, probe_pdf
from vertexmeter.media.mime import sniff

VIDEO_MIMES = {
    "mp4": ["video/mp4"],
    "mov": ["video/quicktime", "video/mov"],
    "3gp": ["video/3gpp"],
    "webm": ["video/webm"],
    "avi": ["video/avi", "video/x-msvideo"],
    "mpeg": ["video/mpeg", "video/mpg", "video/mpegps"],
    "asf": ["video/wmv"],
    "flv": ["video/x-flv", "video/flv"],
}


@pytest.mark.parametrize("fmt", list(mf.IMAGE_FORMATS))
@pytest.mark.parametrize(("width", "height"), [(1, 1), (385, 200), (1024, 3000)])
def test_image_size_from_header(fmt: str, width: int, height: int) -> None:
    data = mf.image(width, height, fmt)
    kind = sniff(data)
    assert kind is not None
    info = probe_image(MediaData(data), kind, "x", 10**9)
    assert (info.width, info.height) == (width, height)


@pytest.mark.parametrize("container", list(VIDEO_MIMES))
@pytest.mark.parametrize("with_audio", [True, False])
def test_video_containers(container: str, with_audio: bool) -> None:
    data = mf.video(container, seconds=2, fps=10, with_audio=with_audio)
    info = probe_av(MediaData(data), "video", "x")
    assert info.has_video
    assert info.has_audio is with_audio
    assert 2 <= info.duration < Fraction(22, 10)  # 2 s of pictures; a sound track may run a few ms longer
    assert info.fps == (25 if container == "mpeg" else 10)
    for mime in VIDEO_MIMES[container]:
        result = vertexmeter.count("gemini-2.5-flash", mf.request(mf.inline(mime, data)))
        frames = math.ceil(result.media.video_seconds)
        assert result.tokens_by_modality["VIDEO"] == frames * 258
        assert ("AUDIO" in result.tokens_by_modality) is with_audio


def test_mp3_cover_art_is_not_a_video_stream() -> None:
    """An MP3 with an attached picture stays audio (the picture is flagged attached_pic)."""
    import io

    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp3") as out:
        sound = out.add_stream("libmp3lame", rate=8000, layout="mono")
        cover = out.add_stream("mjpeg")
        cover.width = cover.height = 16
        cover.pix_fmt = "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        frame = av.VideoFrame(16, 16, "yuvj420p")
        for packet in cover.encode(frame):
            out.mux(packet)
        for packet in cover.encode():
            out.mux(packet)
        step = sound.codec_context.frame_size
        for i in range(0, 8000 * 2, step):
            f = av.AudioFrame(format=sound.codec_context.format.name, layout="mono", samples=step)
            f.sample_rate = 8000
            for plane in f.planes:
                plane.update(bytes(plane.buffer_size))
            f.pts = i
            for packet in sound.encode(f):
                out.mux(packet)
        for packet in sound.encode():
            out.mux(packet)
    info = probe_av(MediaData(buf.getvalue()), "audio", "x")
    assert info.has_audio and not info.has_video


def test_pdf_pages_and_text() -> None:
    info = probe_pdf(MediaData(mf.text_pdf(["alpha beta", "gamma (delta)"])), "x", want_text=True, max_pages=None)
    assert info.pages == 2
    assert info.text == "alpha beta\ngamma (delta)"
    assert probe_pdf(MediaData(mf.blank_pdf(5)), "x", want_text=True, max_pages=None) == type(info)(
        5, "", ((612.0, 792.0),)
    )


def test_local_file_is_read_in_place(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "clip.webm"
    path.write_bytes(mf.video("webm", 2, 10, False))
    assert probe_av(MediaData(path=path), "video", "x").duration == 2


def test_legacy_multimodal_embedding_media_quantities() -> None:
    """multimodalembedding reports no media tokens; images and video seconds feed the price."""
    body = {
        "instances": [
            {"text": "a red square", "image": {"bytesBase64Encoded": mf.b64(mf.image(32, 32))}},
            {
                "video": {
                    "bytesBase64Encoded": mf.b64(mf.video("mp4", 3, 10, False)),
                    "videoSegmentConfig": {"startOffsetSec": 1, "endOffsetSec": 3},
                }
            },
        ]
    }
    result = vertexmeter.count("multimodalembedding", body)
    assert result.media.images == 1
    assert result.media.video_seconds == 2
    text_only = vertexmeter.count("multimodalembedding", {"instances": [{"text": "a red square"}]})
    assert result.to_rest() == text_only.to_rest()
