"""Token rules per model generation (docs/media.md, "Rules"), on media made in the tests."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

import vertexmeter
from tests.media import mediafactory as mf
from vertexmeter.errors import VertexMeterError

# One model per generation; Vertex dialect (no per-request overhead on 1.x/2.5/3; +1 on 2.0).
MODELS = {
    "1.0": "gemini-1.0-pro-vision",
    "1.5": "gemini-1.5-flash",
    "2.0": "gemini-2.0-flash",
    "2.5": "gemini-2.5-flash",
    "3": "gemini-3-flash-preview",
}
# The documented rule table (docs/media.md), restated independently of rules.yaml.
IMAGE = {
    "1.0": {"UNSPECIFIED": 258, "LOW": 258, "MEDIUM": 258, "HIGH": 258},
    "1.5": {"UNSPECIFIED": 258, "LOW": 258, "MEDIUM": 258, "HIGH": 258},
    "2.0": {"UNSPECIFIED": 258, "LOW": 66, "MEDIUM": 258, "HIGH": 258},
    "2.5": {"UNSPECIFIED": 258, "LOW": 66, "MEDIUM": 258, "HIGH": 258},
    "3": {"UNSPECIFIED": 1120, "LOW": 280, "MEDIUM": 560, "HIGH": 1120, "ULTRA_HIGH": 2240},
}
FRAME = {
    "1.0": {"UNSPECIFIED": 258, "LOW": 258},
    "1.5": {"UNSPECIFIED": 258, "LOW": 258},
    "2.0": {"UNSPECIFIED": 258, "LOW": 66, "MEDIUM": 258, "HIGH": 258},
    "2.5": {"UNSPECIFIED": 258, "LOW": 66, "MEDIUM": 258, "HIGH": 258},
    "3": {"UNSPECIFIED": 70, "LOW": 70, "MEDIUM": 70, "HIGH": 280},
}
PAGE = {
    "1.0": {"UNSPECIFIED": 258},
    "1.5": {"UNSPECIFIED": 258},
    "2.0": {"UNSPECIFIED": 258, "LOW": 66, "MEDIUM": 258, "HIGH": 258},
    "2.5": {"UNSPECIFIED": 258, "LOW": 66, "MEDIUM": 258, "HIGH": 258},
    "3": {"UNSPECIFIED": 560, "LOW": 280, "MEDIUM": 560, "HIGH": 1120},
}


# Gemini 3 reads the numbers above as an area budget per image / page / frame (accounting.md §4):
# floor(w k) x floor(h k) with k = sqrt(budget / (w h)); its PDF pages are reported as IMAGE.
PDF_MODALITY = {"1.0": "DOCUMENT", "1.5": "DOCUMENT", "2.0": "DOCUMENT", "2.5": "DOCUMENT", "3": "IMAGE"}
LETTER = (612, 792)  # mediafactory's blank PDF pages, in points
VIDEO_SIZE = (64, 64)  # mediafactory's videos


def sized(generation: str, table: dict[str, dict[str, int]], level: str, size: tuple[int, int]) -> int:
    tokens = table[generation][level]
    if generation != "3":
        return tokens
    width, height = size
    k = math.sqrt(tokens / (width * height))
    return math.floor(width * k) * math.floor(height * k)


def audio_tokens(generation: str, seconds: Fraction) -> int:
    """32 tokens/s (25/s on Gemini 3); rounding and per-item extra as documented per generation."""
    if generation == "3":
        return math.ceil(25 * seconds)
    if generation == "1.0":
        return 32 * math.ceil(seconds)
    if generation == "1.5":
        return 32 * math.ceil(seconds)  # the recorded +1 was the Gemini API's role token (accounting.yaml)
    if generation == "2.0":
        return 32 * math.floor(seconds)
    return math.ceil(32 * seconds) + 2


def details(result: vertexmeter.CountResult) -> dict[str, int]:
    return dict(result.tokens_by_modality)


def media_only(model: str, *parts: dict, **top: object) -> dict[str, int]:
    """Tokens by modality, the text overhead of the dialect removed."""
    by = details(vertexmeter.count(model, mf.request(*parts, **top)))
    by.pop("TEXT", None)
    return by


@pytest.fixture(scope="module")
def small_png() -> bytes:
    return mf.image(200, 100)


@pytest.fixture(scope="module")
def large_jpeg() -> bytes:
    return mf.image(2000, 1500, "jpeg")


@pytest.fixture(scope="module")
def clip_mp4() -> bytes:
    return mf.video("mp4", seconds=3, fps=10, with_audio=True)


@pytest.fixture(scope="module")
def silent_mp4() -> bytes:
    return mf.video("mp4", seconds=3, fps=10, with_audio=False)


# ---- images -------------------------------------------------------------------------------------
@pytest.mark.parametrize("generation", MODELS)
@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp", "gif"])
@pytest.mark.slow  # encodes large images of every format for every generation
def test_default_image_tokens_do_not_depend_on_size(generation: str, fmt: str) -> None:
    for width, height in [(1, 1), (384, 384), (1000, 700), (3000, 2000)]:
        data = mf.image(width, height, fmt)
        got = media_only(MODELS[generation], mf.inline(f"image/{fmt}", data))
        # countTokens: a fixed number per image up to 2.5; Gemini 3 sizes it by its area.
        assert got == {"IMAGE": sized(generation, IMAGE, "UNSPECIFIED", (width, height))}, (width, height)


def test_gemini_3_image_formula_matches_recorded_answers() -> None:
    """400x301 -> 1102 and 597x566 -> 1088 (accounting.md §4)."""
    for (width, height), tokens in {(400, 301): 1102, (597, 566): 1088}.items():
        got = media_only(MODELS["3"], mf.inline("image/png", mf.image(width, height)))
        assert got == {"IMAGE": tokens}


def test_heic_image_counts_like_other_images() -> None:
    data = mf.image(640, 480, "heic")
    for generation in ("2.5", "3"):
        assert media_only(MODELS[generation], mf.inline("image/heic", data)) == {
            "IMAGE": sized(generation, IMAGE, "UNSPECIFIED", (640, 480))
        }


@pytest.mark.parametrize("generation", MODELS)
@pytest.mark.parametrize("level", ["LOW", "MEDIUM", "HIGH"])
def test_image_media_resolution_per_part_and_global(generation: str, level: str, small_png: bytes) -> None:
    model = MODELS[generation]
    per_part = mf.inline("image/png", small_png, mediaResolution={"level": f"MEDIA_RESOLUTION_{level}"})
    want = {"IMAGE": sized(generation, IMAGE, level, (200, 100))}
    assert media_only(model, per_part) == want
    global_level = {"generationConfig": {"mediaResolution": f"MEDIA_RESOLUTION_{level}"}}
    assert media_only(model, mf.inline("image/png", small_png), **global_level) == want


def test_part_resolution_wins_over_global(small_png: bytes) -> None:
    low = mf.inline("image/png", small_png, mediaResolution={"level": "MEDIA_RESOLUTION_LOW"})
    plain = mf.inline("image/png", small_png)
    config = {"generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_HIGH"}}
    got = media_only(MODELS["3"], low, plain, **config)
    assert got == {"IMAGE": sized("3", IMAGE, "LOW", (200, 100)) + sized("3", IMAGE, "HIGH", (200, 100))}


def test_ultra_high_is_per_part_and_image_only(small_png: bytes, silent_mp4: bytes) -> None:
    ultra = {"mediaResolution": {"level": "MEDIA_RESOLUTION_ULTRA_HIGH"}}
    assert media_only(MODELS["3"], mf.inline("image/png", small_png, **ultra)) == {
        "IMAGE": sized("3", IMAGE, "ULTRA_HIGH", (200, 100))
    }
    with pytest.raises(VertexMeterError) as err:
        media_only(
            MODELS["3"],
            mf.inline("image/png", small_png),
            generationConfig={"mediaResolution": "MEDIA_RESOLUTION_ULTRA_HIGH"},
        )
    assert err.value.status == "INVALID_ARGUMENT"
    assert err.value.field_path == "generation_config.media_resolution"
    with pytest.raises(VertexMeterError) as err:
        media_only(MODELS["3"], mf.inline("video/mp4", silent_mp4, **ultra))
    assert err.value.status == "INVALID_ARGUMENT"
    assert err.value.field_path == "contents[0].parts[0].media_resolution.level"


def test_images_are_counted_one_by_one(small_png: bytes, large_jpeg: bytes) -> None:
    result = vertexmeter.count(
        MODELS["2.5"], mf.request(mf.inline("image/png", small_png), mf.inline("image/jpeg", large_jpeg))
    )
    assert result.tokens_by_modality["IMAGE"] == 2 * 258
    assert result.media.images == 2


# ---- video --------------------------------------------------------------------------------------
@pytest.mark.parametrize("generation", MODELS)
def test_video_default_one_frame_per_second_plus_sound(generation: str, clip_mp4: bytes) -> None:
    got = media_only(MODELS[generation], mf.inline("video/mp4", clip_mp4))
    expected = {"VIDEO": 3 * sized(generation, FRAME, "UNSPECIFIED", VIDEO_SIZE)}
    if generation != "1.0":  # 1.0 Pro Vision does not hear the sound track
        expected["AUDIO"] = audio_tokens(generation, Fraction(3))
    assert got == expected


@pytest.mark.parametrize("generation", MODELS)
def test_video_without_sound_has_no_audio_tokens(generation: str, silent_mp4: bytes) -> None:
    got = media_only(MODELS[generation], mf.inline("video/mp4", silent_mp4))
    assert got == {"VIDEO": 3 * sized(generation, FRAME, "UNSPECIFIED", VIDEO_SIZE)}


@pytest.mark.parametrize(
    ("start", "end", "fps"),
    [("0.5s", "2.5s", 2.0), ("1s", None, 1.0), ("0s", "1.25s", 4.0), ("0.2s", "2.9s", 0.5), (None, "10s", 24.0)],
)
@pytest.mark.parametrize("generation", ["1.5", "2.5", "3"])
def test_video_clip_and_fps(generation: str, start: str | None, end: str | None, fps: float, clip_mp4: bytes) -> None:
    metadata: dict[str, object] = {"fps": fps}
    if start:
        metadata["startOffset"] = start
    if end:
        metadata["endOffset"] = end
    got = media_only(MODELS[generation], mf.inline("video/mp4", clip_mp4, videoMetadata=metadata))
    s = Fraction(start[:-1]) if start else Fraction(0)
    e = min(Fraction(end[:-1]), Fraction(3)) if end else Fraction(3)  # the video is 3 s long
    frames = math.ceil((e - s) * Fraction(str(fps)))
    assert got == {
        "VIDEO": frames * sized(generation, FRAME, "UNSPECIFIED", VIDEO_SIZE),
        "AUDIO": audio_tokens(generation, e - s),
    }


@pytest.mark.parametrize("generation", ["2.0", "2.5", "3"])
@pytest.mark.parametrize("level", ["LOW", "HIGH"])
def test_video_media_resolution(generation: str, level: str, silent_mp4: bytes) -> None:
    part = mf.inline("video/mp4", silent_mp4, mediaResolution={"level": f"MEDIA_RESOLUTION_{level}"})
    assert media_only(MODELS[generation], part) == {"VIDEO": 3 * sized(generation, FRAME, level, VIDEO_SIZE)}


@pytest.mark.parametrize("fps", [0, -1, 24.5, 60, "NaN", "Infinity"])
def test_fps_outside_documented_range_is_refused(fps: float | str, silent_mp4: bytes) -> None:
    with pytest.raises(VertexMeterError) as err:
        media_only(MODELS["2.5"], mf.inline("video/mp4", silent_mp4, videoMetadata={"fps": fps}))
    assert err.value.status == "INVALID_ARGUMENT"
    assert err.value.field_path == "contents[0].parts[0].video_metadata.fps"


def test_clip_outside_the_video_is_refused(silent_mp4: bytes) -> None:
    for metadata in ({"startOffset": "5s"}, {"startOffset": "2s", "endOffset": "1s"}):
        with pytest.raises(VertexMeterError) as err:
            media_only(MODELS["2.5"], mf.inline("video/mp4", silent_mp4, videoMetadata=metadata))
        assert err.value.status == "INVALID_ARGUMENT"


def test_video_quantities_for_pricing(clip_mp4: bytes) -> None:
    result = vertexmeter.count(
        MODELS["1.5"], mf.request(mf.inline("video/mp4", clip_mp4, videoMetadata={"startOffset": "1s"}))
    )
    assert result.media.video_seconds == 2
    assert result.media.audio_seconds == 0  # a video's sound is billed with the video's seconds


# ---- audio --------------------------------------------------------------------------------------
@pytest.mark.parametrize("generation", MODELS)
@pytest.mark.parametrize("seconds", [Fraction(1), Fraction(5, 2), Fraction(60), Fraction(1001, 1000)])
def test_audio_32_tokens_per_second(generation: str, seconds: Fraction) -> None:
    got = media_only(MODELS[generation], mf.inline("audio/wav", mf.wav(seconds)))
    assert got == {"AUDIO": audio_tokens(generation, seconds)}


@pytest.mark.parametrize(
    ("mime", "container", "codec", "rate"),
    [
        ("audio/flac", "flac", "flac", 8000),
        ("audio/mpeg", "mp3", "libmp3lame", 8000),
        ("audio/ogg", "ogg", "libopus", 48000),
        ("audio/m4a", "ipod", "aac", 16000),
        ("audio/aac", "adts", "aac", 16000),
        ("audio/webm", "webm", "libopus", 48000),
    ],
)
def test_audio_formats(mime: str, container: str, codec: str, rate: int) -> None:
    data = mf.audio(container, codec, 4, rate)
    result = vertexmeter.count(MODELS["1.5"], mf.request(mf.inline(mime, data)))
    # Lossy codecs pad the last frame: the stated duration is 4 s plus at most a few frames.
    assert 4 <= result.media.audio_seconds < Fraction(41, 10)
    assert result.tokens_by_modality == {"AUDIO": 32 * math.ceil(result.media.audio_seconds)}


def test_raw_pcm_needs_its_rate() -> None:
    pcm = bytes(2 * 16000 * 3)  # 3 s of 16 kHz 16-bit mono
    assert media_only(MODELS["2.5"], mf.inline("audio/pcm;rate=16000", pcm)) == {"AUDIO": 3 * 32 + 2}
    assert media_only(MODELS["2.5"], mf.inline("audio/pcm;rate=8000", pcm)) == {"AUDIO": 6 * 32 + 2}


# ---- documents ----------------------------------------------------------------------------------
@pytest.mark.parametrize("generation", MODELS)
@pytest.mark.parametrize("pages", [1, 3, 12])
def test_pdf_pages(generation: str, pages: int) -> None:
    result = vertexmeter.count(MODELS[generation], mf.request(mf.inline("application/pdf", mf.blank_pdf(pages))))
    modality = PDF_MODALITY[generation]
    assert result.tokens_by_modality.get(modality) == pages * sized(generation, PAGE, "UNSPECIFIED", LETTER)
    assert result.media.pdf_pages == pages


@pytest.mark.parametrize("level", ["LOW", "MEDIUM", "HIGH"])
def test_pdf_resolution_on_gemini_3(level: str) -> None:
    part = mf.inline("application/pdf", mf.blank_pdf(2), mediaResolution={"level": f"MEDIA_RESOLUTION_{level}"})
    assert media_only(MODELS["3"], part) == {"IMAGE": 2 * sized("3", PAGE, level, LETTER)}


def test_pdf_pages_on_gemini_3_are_images_by_area() -> None:
    """612x792 pt -> 520 at the default (accounting.md §4); a page's text adds nothing beside it."""
    texts = ["Quarterly revenue grew by twelve percent.", "Costs fell; margins widened considerably."]
    pdf = mf.text_pdf(texts)
    assert media_only(MODELS["3"], mf.inline("application/pdf", mf.blank_pdf(1))) == {"IMAGE": 520}
    pages = 2 * sized("3", PAGE, "UNSPECIFIED", LETTER)
    assert media_only(MODELS["3"], mf.inline("application/pdf", pdf)) == {"IMAGE": pages}
    assert media_only(MODELS["2.5"], mf.inline("application/pdf", pdf)) == {"DOCUMENT": 2 * 258}


@pytest.mark.parametrize("generation", MODELS)
def test_text_documents_count_as_text(generation: str) -> None:
    body = "name,city\nAda,London\nGrace,Arlington\n"
    model = MODELS[generation]
    as_text = vertexmeter.count(model, {"contents": [{"role": "user", "parts": [{"text": body}]}]})
    as_file = vertexmeter.count(model, mf.request(mf.inline("text/csv", body.encode())))
    assert as_file.to_rest() == as_text.to_rest()
    plain = vertexmeter.count(model, mf.request(mf.inline("text/plain", body.encode("utf-8-sig"))))
    assert plain.to_rest() == as_text.to_rest()


def test_text_that_looks_like_a_short_binary_signature_is_still_text() -> None:
    # 0x47 ('G') every 188 bytes is MPEG-TS's signature; text may match it by chance.
    body = ("G" + "x" * 187) * 3
    as_text = vertexmeter.count(MODELS["2.5"], {"contents": [{"role": "user", "parts": [{"text": body}]}]})
    as_file = vertexmeter.count(MODELS["2.5"], mf.request(mf.inline("text/plain", body.encode())))
    assert as_file.to_rest() == as_text.to_rest()


def test_text_document_billable_characters() -> None:
    result = vertexmeter.count(MODELS["1.5"], mf.request(mf.inline("text/plain", b"a b\tc\n")))
    assert result.billable_characters == 3
