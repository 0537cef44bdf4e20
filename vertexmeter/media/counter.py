"""count_media_part: one inlineData / fileData part -> MediaCounts, by the rules of the model's generation."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from vertexmeter.errors import VertexMeterError, failed_precondition, invalid_argument
from vertexmeter.media.inspect import (
    MediaData,
    pcm_duration,
    probe_av,
    probe_image,
    probe_pdf,
    read_text,
    unreadable,
)
from vertexmeter.media.mime import (
    LEARN_MORE,
    WEAK_KINDS,
    MimeType,
    accepted_kinds,
    family_of,
    mime_for_kind,
    mismatched_mime,
    parse_mime,
    sniff,
    unsupported_mime,
)
from vertexmeter.media.rules import (
    GenerationRules,
    Limits,
    as_decimal,
    frames_sampled,
    load_rules,
    pick,
    rules_changing,
    rules_for,
    uncertain_audio,
    uncertain_media,
)
from vertexmeter.media.sources import YouTube, resolve_file_uri
from vertexmeter.media.types import MediaContext, MediaCount
from vertexmeter.requests import decode_bytes

MAX_FPS = Fraction(24)


class _Part:
    """What a media part says, with the field paths errors point at."""

    def __init__(self, part: dict[str, Any], path: str, context: MediaContext) -> None:
        self.raw = part
        self.path = path
        self.context = context
        self.inline = "inlineData" in part
        if self.inline:
            blob = part["inlineData"] or {}
            self.where = f"{path}.inline_data"
            self.data_path = f"{self.where}.data"
            self.mime_raw: str | None = blob.get("mimeType")
            self.data: bytes = blob.get("data") or b""
            self.uri: str | None = None
        else:
            file_data = part["fileData"] or {}
            self.where = f"{path}.file_data"
            self.data_path = f"{self.where}.file_uri"
            self.mime_raw = file_data.get("mimeType")
            self.uri = file_data.get("fileUri")
            self.data = b""
        self.mime_path = f"{self.where}.mime_type"
        self.video_metadata: dict[str, Any] = part.get("videoMetadata") or {}


def count_part(part: dict[str, Any], path: str, context: MediaContext) -> list[MediaCount]:
    if "legacyMedia" in part:
        return _legacy(part["legacyMedia"], path, context)
    gen = rules_for(context.model.rules_generation, context.api, context.call, context.day)
    p = _Part(part, path, context)
    if p.inline and not p.data:
        raise invalid_argument(
            "Unable to submit request because it has an empty inlineData parameter. Add a value to the "
            f"parameter and try again. Learn more: {LEARN_MORE}",
            p.data_path,
        )
    if not p.inline and not p.uri:
        raise invalid_argument(
            "Unable to submit request because it has an empty fileUri parameter. Add a value to the "
            f"parameter and try again. Learn more: {LEARN_MORE}",
            p.data_path,
        )
    mime = _declared_mime(p)
    if mime is not None and mime.family is None:  # refused before any file is read or fetched
        raise unsupported_mime(mime.raw, p.mime_path)
    source: MediaData | YouTube = (
        MediaData(data=p.data) if p.inline else resolve_file_uri(p.uri or "", context.options, p.data_path)
    )
    if mime is None:  # Gemini API fileData without mimeType: the File API knows it; we sniff
        mime = parse_mime("video/mp4") if isinstance(source, YouTube) else _mime_from_bytes(source, p)
    family = mime.family
    if family is None:
        raise unsupported_mime(mime.raw, p.mime_path)
    if isinstance(source, YouTube):
        if family != "video":
            raise unsupported_mime(mime.raw, p.mime_path)
        return _youtube(p, gen)
    limits = _limits(context)
    _check_size(p, family, source, limits)
    kind = _check_kind(p, mime, source)
    if family == "image":
        return [_image(p, gen, source, kind, limits)]
    if family == "video":
        return _video(p, gen, source, limits)
    if family == "audio":
        return [_audio(p, gen, source, mime, limits)]
    if family == "pdf":
        return [_pdf(p, gen, source, limits)]
    return [_text(p, source, mime)]


# ---- checks -------------------------------------------------------------------------------------
def _limits(context: MediaContext) -> Limits:
    limits = load_rules().limits
    return limits.get(context.api, limits["vertex"])


def _declared_mime(p: _Part) -> MimeType | None:
    if p.mime_raw:
        return parse_mime(p.mime_raw)
    if not p.inline and p.context.api == "gemini":
        return None
    raise invalid_argument(
        "Unable to submit request because it has an empty mimeType parameter. Add a value to the parameter "
        f"and try again. Learn more: {LEARN_MORE}",
        p.mime_path,
    )


def _mime_from_bytes(source: MediaData, p: _Part) -> MimeType:
    essence = mime_for_kind(sniff(source.head()))
    if essence is not None:
        return parse_mime(essence)
    raise invalid_argument(
        "Unable to submit request because it has a fileData without mimeType and the file's type cannot be "
        f"recognised. Add a mimeType and try again. Learn more: {LEARN_MORE}",
        p.mime_path,
    )


def _check_kind(p: _Part, mime: MimeType, source: MediaData) -> str:
    """The container the bytes are in, which the declared mimeType must allow."""
    accepted = accepted_kinds(mime.essence)
    if accepted & {"text", "raw"}:
        found = sniff(source.head())
        # Frame-sync and MPEG-TS signatures are a byte or two: text can match them by chance.
        if found is not None and found not in WEAK_KINDS and "text" in accepted:
            raise mismatched_mime(mime.raw, found, p.mime_path)
        return next(iter(accepted))
    found = sniff(source.head())
    if found is None:
        raise invalid_argument(
            f"Unable to submit request because it has a mimeType parameter with value {mime.raw}, but the data "
            f"is not a recognisable {mime.family} file. Check the data and the mimeType and try again. "
            f"Learn more: {LEARN_MORE}",
            p.data_path,
        )
    if found not in accepted:
        # The Gemini API reads an image by its bytes: a JPEG declared image/png was answered (oinfm-0001, -0002,
        # -0005, Arize-ai/openinference, 2025-12 and 2026-01); Vertex refuses it.
        if p.context.api == "gemini" and mime.family == "image" and family_of(mime_for_kind(found) or "") == "image":
            return found
        raise mismatched_mime(mime.raw, found, p.mime_path)
    return found


def _check_size(p: _Part, family: str, source: MediaData, limits: Limits) -> None:
    size = source.size
    tally = p.context.tally
    if p.inline:
        tally.inline_bytes += size
        if limits.inline_request_bytes is not None and tally.inline_bytes > limits.inline_request_bytes:
            raise invalid_argument(
                f"Request payload size exceeds the limit: {limits.inline_request_bytes} bytes.", p.data_path
            )
        if family == "image" and limits.inline_image_bytes is not None and size > limits.inline_image_bytes:
            raise invalid_argument(
                f"Unable to submit request because the inline image is {size:,} bytes, more than the "
                f"{limits.inline_image_bytes:,} bytes (7 MB) allowed for an inline image. Send a smaller image "
                f"or a Cloud Storage URI (fileData) and try again. Learn more: {LEARN_MORE}",
                p.data_path,
            )
    if family in ("pdf", "text") and limits.document_bytes is not None and size > limits.document_bytes:
        raise invalid_argument(
            f"Unable to submit request because the document is {size:,} bytes, more than the "
            f"{limits.document_bytes:,} bytes (50 MB) allowed per document. Learn more: {LEARN_MORE}",
            p.data_path,
        )


def _too_many(what: str, limit: int, p: _Part) -> VertexMeterError:
    return invalid_argument(
        f"Unable to submit request because it has more than {limit} {what} in the prompt, the maximum "
        f"for {p.context.model.id}. Remove some {what} and try again. Learn more: {LEARN_MORE}",
        p.where,
    )


def _level(p: _Part, gen: GenerationRules) -> tuple[str, str]:
    """The mediaResolution level that applies (part first, then generationConfig) and its field path."""
    if not gen.honors_media_resolution:
        return "UNSPECIFIED", p.path
    part_level = (p.raw.get("mediaResolution") or {}).get("level")
    if part_level and part_level != "MEDIA_RESOLUTION_UNSPECIFIED":
        return str(part_level).removeprefix("MEDIA_RESOLUTION_"), f"{p.path}.media_resolution.level"
    global_level = p.context.generation_config.get("mediaResolution")
    if global_level and global_level != "MEDIA_RESOLUTION_UNSPECIFIED":
        level = str(global_level).removeprefix("MEDIA_RESOLUTION_")
        if level == "ULTRA_HIGH":
            raise invalid_argument(
                "Media resolution MEDIA_RESOLUTION_ULTRA_HIGH can only be set per part "
                "(Part.mediaResolution), not in generationConfig.",
                "generation_config.media_resolution",
            )
        return level, "generation_config.media_resolution"
    return "UNSPECIFIED", p.path


# ---- per family ---------------------------------------------------------------------------------
def _image(p: _Part, gen: GenerationRules, source: MediaData, kind: str, limits: Limits) -> MediaCount:
    safety = load_rules().safety
    info = probe_image(source, kind, p.data_path, safety.max_image_pixels)
    level, level_path = _level(p, gen)
    lone = _lone(p, level)

    def tokens(rules: GenerationRules) -> int:
        table = pick(rules.image_tokens, level, "images", level_path)
        return rules.sized(rules.image_sizing, table, info.width, info.height, lone)

    tally = p.context.tally
    tally.images += 1
    cap = limits.images_per_request_by_model.get(p.context.model.id, limits.images_per_request)
    if cap is not None and tally.images > cap:
        raise _too_many("images", cap, p)
    count = MediaCount("IMAGE", tokens(gen), images=1, width=info.width, height=info.height)
    return _uncertain(count, p, gen, "image", tokens)


def _widen(count: MediaCount, other: int, reason: str) -> None:
    """Stretch the count's bounds to reach `other`, another reading's tokens, and say why."""
    low, high = count.bounds or (count.tokens, count.tokens)
    count.bounds = (min(low, other), max(high, other))
    count.bounds_reason = f"{count.bounds_reason}; {reason}" if count.bounds_reason else reason


def _uncertain(
    count: MediaCount, p: _Part, gen: GenerationRules, family: str, tokens: Callable[[GenerationRules], int]
) -> MediaCount:
    """The count with the bounds of the `uncertain_media` readings of `family` that may hold on the day counted:
    `tokens` counts the item under the rules with a reading's fields in place."""
    ctx = p.context
    day = ctx.day or dt.date.today()
    for reading in uncertain_media(ctx.model.rules_generation, ctx.api, ctx.call, ctx.model.id, family, day):
        other = tokens(reading.applied(gen))
        if other != count.tokens:
            _widen(count, other, f"{reading.reason}: {other} ({reading.source}; rules.yaml uncertain_media)")
    return count


def _lone(p: _Part, level: str) -> bool:
    """The prompt's only media item at the default resolution (tiled on some calls, rules.yaml)."""
    return p.context.media_parts == 1 and level == "UNSPECIFIED"


def _clip(p: _Part, duration: Fraction | None) -> tuple[Fraction, Fraction]:
    vm = p.video_metadata
    start = Fraction(repr(vm["startOffset"])) if "startOffset" in vm else Fraction(0)
    end = Fraction(repr(vm["endOffset"])) if "endOffset" in vm else duration
    raw_fps = float(vm.get("fps", 1.0))
    if not (math.isfinite(raw_fps) and 0 < raw_fps <= MAX_FPS):
        raise invalid_argument(
            f"Invalid video_metadata.fps {raw_fps}: it must be greater than 0 and at most 24.",
            f"{p.path}.video_metadata.fps",
        )
    fps = Fraction(repr(raw_fps))
    if start < 0:
        raise invalid_argument("video_metadata.start_offset must not be negative.", f"{p.path}.video_metadata")
    if end is None:
        raise failed_precondition("The video's duration is unknown; set videoMetadata.endOffset.", p.path)
    if duration is not None:
        end = min(end, duration)
    if end <= start:
        raise invalid_argument(
            f"Invalid video_metadata: start_offset ({float(start)}s) must be before end_offset ({float(end)}s) "
            "and inside the video.",
            f"{p.path}.video_metadata",
        )
    return end - start, fps


def _check_duration(what: str, seconds: Fraction, size: int, limit: int, p: _Part) -> None:
    """Refuse a stated duration past `limit` or past what `size` bytes can hold, before any counting."""
    floor = load_rules().safety.min_bytes_per_second
    if seconds > limit:
        raise invalid_argument(
            f"Unable to process input {what}: its stated duration ({float(seconds):,.0f} s) is longer than the "
            f"{limit:,} s vertexmeter counts for one {what} file.",
            p.data_path,
        )
    if floor and seconds * floor > size:
        raise invalid_argument(
            f"Unable to process input {what}: the file states a duration of {float(seconds):,.0f} s, which "
            f"{size:,} bytes cannot hold; the {what} file is malformed.",
            p.data_path,
        )


def _video(p: _Part, gen: GenerationRules, source: MediaData, limits: Limits) -> list[MediaCount]:
    # A silent video's billed sound may last its frames (rules.yaml `silent_sound`): read them only then.
    frames = gen.video_audio_always and gen.video_audio_track and gen.silent_sound == "frames"
    info = probe_av(source, "video", p.data_path, video_frames=frames)
    if not info.has_video:
        raise unreadable("video", "it has no video stream", p.data_path)
    _check_duration("video", info.duration, source.size, load_rules().safety.max_video_seconds, p)
    sound = info.video_frames_duration if frames and not info.has_audio else None
    if sound is not None:  # timestamps are the file's word too: the same caps as its stated duration
        _check_duration("video", sound, source.size, load_rules().safety.max_video_seconds, p)
    return _video_counts(p, gen, info.duration, info.has_audio, limits, (info.width, info.height), sound)


def _video_counts(
    p: _Part,
    gen: GenerationRules,
    duration: Fraction | None,
    has_audio: bool,
    limits: Limits,
    size: tuple[int, int] = (0, 0),
    silent_sound: Fraction | None = None,
) -> list[MediaCount]:
    """`silent_sound`: the seconds billed for the sound of a video without a sound track when they are not the
    clip's (its frames' span, rules.yaml `silent_sound: frames`); a clip cut by offsets bills its own seconds."""
    seconds, fps = _clip(p, duration)
    level, level_path = _level(p, gen)
    frames = frames_sampled(seconds, fps, gen.frame_rounding)

    def tokens(rules: GenerationRules) -> int:
        per_frame = pick(rules.frame_tokens, level, "video", level_path)
        return frames * rules.sized(rules.video_sizing, per_frame, *size, False)

    tally = p.context.tally
    tally.videos += 1
    if limits.videos_per_request is not None and tally.videos > limits.videos_per_request:
        raise _too_many("videos", limits.videos_per_request, p)
    counts = [MediaCount("VIDEO", tokens(gen), video_seconds=as_decimal(seconds), frames=frames)]
    ctx = p.context
    changing = rules_changing(ctx.model.rules_generation, ctx.api, ctx.call, ctx.day)
    if changing is not None:
        other = tokens(changing.rules)
        if other != counts[0].tokens:
            _widen(
                counts[0],
                other,
                f"between the last answer billing this video {counts[0].tokens} ({changing.seen_otherwise_before}) and "
                f"the first billing it {other} ({changing.since}), either may hold (rules.yaml call_overrides `from`)",
            )
    _uncertain(counts[0], p, gen, "video", tokens)
    if (has_audio or gen.video_audio_always) and gen.video_audio_track:
        # The sound of a video: AUDIO tokens, but billed with the video's seconds (audio_seconds 0).
        cut = "startOffset" in p.video_metadata or "endOffset" in p.video_metadata
        sound = silent_sound if silent_sound is not None and not has_audio and not cut else seconds
        counts.append(MediaCount("AUDIO", gen.audio.tokens(sound), from_video=True))
    return counts


def _youtube(p: _Part, gen: GenerationRules) -> list[MediaCount]:
    if "endOffset" not in p.video_metadata:
        raise failed_precondition(
            f"YouTube videos cannot be fetched offline ({p.uri}). State the part of the video to count with "
            "videoMetadata.endOffset (the video's duration, or the end of the clip) and optionally "
            "videoMetadata.startOffset; the video is assumed to have sound.",
            f"{p.path}.video_metadata.end_offset",
        )
    return _video_counts(p, gen, None, True, _limits(p.context))


def _audio(p: _Part, gen: GenerationRules, source: MediaData, mime: MimeType, limits: Limits) -> MediaCount:
    if mime.essence in ("audio/pcm", "audio/l16"):
        duration = pcm_duration(source, mime.params, p.data_path)
        _check_duration("audio", duration, source.size, load_rules().safety.max_audio_seconds, p)
        stated = duration
    else:
        info = probe_av(source, "audio", p.data_path, mp3_frames=gen.audio.duration == "frames")
        if not info.has_audio:
            raise unreadable("audio", "it has no audio stream", p.data_path)
        _check_duration("audio", info.duration, source.size, load_rules().safety.max_audio_seconds, p)
        duration = stated = info.duration
        if gen.audio.duration == "frames" and info.frames_duration is not None:
            duration = info.frames_duration  # an MP3's every frame (rules.yaml audio `duration`)
    tally = p.context.tally
    tally.audio_files += 1
    if limits.audio_files_per_request is not None and tally.audio_files > limits.audio_files_per_request:
        raise _too_many("audio files", limits.audio_files_per_request, p)
    count = MediaCount("AUDIO", gen.audio.tokens(duration), audio_seconds=as_decimal(duration))
    return _bounded(count, p.context, stated, duration)


def _bounded(count: MediaCount, context: MediaContext, stated: Fraction, frames: Fraction) -> MediaCount:
    """An audio file's count with the bounds of the `uncertain_audio` readings that may hold on the day counted, each
    reading the stated (trimmed) seconds or, when its `duration` says so, every frame's (`frames`)."""
    day = context.day or dt.date.today()
    for reading in uncertain_audio(context.model.rules_generation, context.api, context.call, day):
        audio = reading.audio
        tokens = audio.tokens(frames if audio.duration == "frames" else stated)
        if tokens == count.tokens:
            continue
        said = (
            f"{reading.reason}: {tokens} "
            if reading.reason
            else f"{reading.source}'s answers of {reading.first_seen} to {reading.last_seen} bill this audio {tokens} "
        )
        rule = f"({audio.tokens_per_second} per second, {audio.rounding.replace('_', ' ')}" + (
            f" + {audio.extra_per_item}" if audio.extra_per_item else ""
        )
        where = (
            "), rules.yaml uncertain_audio"
            if reading.reason
            else "), one repository against the rule (rules.yaml uncertain_audio)"
        )
        _widen(count, tokens, said + rule + where)
    return count


# Where the counting engine places a function response's media parts (vertexmeter.counting: `_media_parts`).
_FUNCTION_RESPONSE_PART = ".function_response.parts["


def _pdf(p: _Part, gen: GenerationRules, source: MediaData, limits: Limits) -> MediaCount:
    level, level_path = _level(p, gen)
    in_function_response = _FUNCTION_RESPONSE_PART in p.path
    pick(gen.page_tokens, level, "documents", level_path)  # a level the table lacks is refused before any reading
    info = probe_pdf(source, p.data_path, want_text=gen.pdf_native_text, max_pages=limits.pdf_pages)
    if limits.pdf_pages is not None and info.pages > limits.pdf_pages:
        stated = f"{info.pages} pages, more than" if info.exact else "more than"
        raise invalid_argument(
            f"Unable to submit request because the document has {stated} the "
            f"{limits.pdf_pages} pages allowed per document. Split the document and try again. "
            f"Learn more: {LEARN_MORE}",
            p.data_path,
        )
    lone = _lone(p, level) and info.pages == 1

    def tokens(rules: GenerationRules) -> int:
        pages = rules.page_tokens
        if rules.function_response_page_tokens is not None and in_function_response:
            pages = rules.function_response_page_tokens
        per_page = pick(pages, level, "documents", level_path)
        if info.page_sizes:  # sized by the first page (lone-item tiling looks at a one-page PDF only)
            width, height = rules.page_size(*info.page_sizes[0])
            per_page = rules.sized(rules.pdf_sizing, per_page, width, height, lone)
        return info.pages * per_page

    text_tokens = p.context.count_text(info.text) if gen.pdf_native_text and info.text else 0
    count = MediaCount(gen.pdf_modality, tokens(gen) + text_tokens, pdf_pages=info.pages, text_tokens=text_tokens)
    return _uncertain(count, p, gen, "pdf", lambda rules: tokens(rules) + text_tokens)


def _text(p: _Part, source: MediaData, mime: MimeType) -> MediaCount:
    text = read_text(source, p.data_path, mime.params.get("charset"))
    characters = p.context.billable_characters(text)
    tokens = p.context.count_text(text) if text else 0
    return MediaCount("TEXT", tokens, text_characters=characters, text_tokens=tokens)


# ---- legacy multimodalembedding instances ---------------------------------------------------------
def _legacy(value: dict[str, Any], path: str, context: MediaContext) -> list[MediaCount]:
    """`instances[i].image` / `.video` of multimodalembedding: billed per image / per video second.

    These models report no tokens for media; the quantities feed the price estimate.
    """
    is_video = path.endswith(".video")
    if value.get("bytesBase64Encoded"):
        source: MediaData | YouTube = MediaData(
            data=decode_bytes(value["bytesBase64Encoded"], f"{path}.bytes_base64_encoded")
        )
        data_path = f"{path}.bytes_base64_encoded"
    elif value.get("gcsUri"):
        data_path = f"{path}.gcs_uri"
        source = resolve_file_uri(str(value["gcsUri"]), context.options, data_path)
    else:
        raise invalid_argument(f"{path} needs bytesBase64Encoded or gcsUri.", path)
    if isinstance(source, YouTube):
        raise failed_precondition("multimodalembedding does not take YouTube URLs.", data_path)
    kind = sniff(source.head())
    if not is_video:
        if kind not in ("png", "jpeg", "webp", "gif", "heif"):
            raise unreadable("image", "not a PNG, JPEG, WebP, GIF or HEIF image", data_path)
        probe_image(source, kind, data_path, load_rules().safety.max_image_pixels)
        return [MediaCount("IMAGE", 0, images=1)]
    info = probe_av(source, "video", data_path)
    segment = value.get("videoSegmentConfig") or {}
    start = Fraction(str(segment.get("startOffsetSec", 0)))
    end = min(info.duration, Fraction(str(segment.get("endOffsetSec", info.duration))))
    seconds = max(Fraction(0), end - start)
    return [MediaCount("VIDEO", 0, video_seconds=as_decimal(seconds))]
