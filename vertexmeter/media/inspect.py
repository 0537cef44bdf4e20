"""Reading what token rules need from media bytes: header and container metadata only.

* images: width and height from the header (Pillow, pillow-heif); pixels are never decoded,
  except a JPEG's 1/8-scale draft to notice a truncated file.
* audio and video: duration, streams and frame rate from the container (PyAV / FFmpeg);
  packets are demuxed (not decoded) only when the container states no duration.
* PDF: page count and, when a rule wants it, the native text (pypdf).
* text documents: UTF-8 text.

Media libraries are imported lazily: without the `media` extra, vertexmeter imports and counts
text, and a media part gets a FAILED_PRECONDITION naming `pip install 'vertexmeter[media]'`.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import io
import logging
import re
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import IO, Any

from vertexmeter.errors import VertexMeterError, failed_precondition, invalid_argument

HEAD_BYTES = 512
# FFmpeg probing bounds: how much it may read and how long it may analyse before answering.
_AV_OPTIONS = {"probesize": "10000000", "analyzeduration": "20000000"}
_DEMUX_DEADLINE_S = 10.0
_NO_DURATION_FORMATS = frozenset({"mpeg", "mpegts", "mpegvideo"})


@dataclass(frozen=True)
class MediaData:
    """Media bytes in memory (`data`) or in a local file (`path`), never both."""

    data: bytes | None = None
    path: Path | None = None

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size

    def head(self, n: int = HEAD_BYTES) -> bytes:
        if self.data is not None:
            return self.data[:n]
        assert self.path is not None
        with self.path.open("rb") as f:
            return f.read(n)

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if self.data is not None:
            yield io.BytesIO(self.data)
        else:
            assert self.path is not None
            with self.path.open("rb") as f:
                yield f


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    format: str


@dataclass(frozen=True)
class AVInfo:
    duration: Fraction  # seconds
    has_video: bool
    has_audio: bool
    fps: Fraction | None
    format: str
    width: int = 0  # of the first video stream (0: none or unknown)
    height: int = 0
    frames_duration: Fraction | None = None  # an MP3's every frame, untrimmed (the same as `duration` otherwise)
    # The first video stream's frames, first timestamp to the last frame's end, an edit list not applied (asked for
    # with `video_frames`; None otherwise)
    video_frames_duration: Fraction | None = None


@dataclass(frozen=True)
class PdfInfo:
    pages: int
    text: str
    page_sizes: tuple[tuple[float, float], ...] = ()  # (width, height) in points, rotation applied
    exact: bool = True  # False: the page tree was not walked past the limit; `pages` is a lower bound


# Libraries that log about damaged input: the refusal says it to the caller, so their loggers are quieted,
# once, when the library is first loaded (not on every call).
_NOISY_LOGGERS = {"av": "libav", "pypdf": "pypdf"}


@cache
def _quiet(module: str) -> None:
    if module in _NOISY_LOGGERS:
        logging.getLogger(_NOISY_LOGGERS[module]).setLevel(logging.CRITICAL)


def require(module: str, what: str, field_path: str) -> Any:
    """Import an optional media library, or say how to install it."""
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        raise failed_precondition(
            f"Counting {what} needs the optional media libraries, which are not installed "
            f"({module} is missing). Install them with: pip install 'vertexmeter[media]'",
            field_path,
        ) from exc
    _quiet(module)
    return loaded


# A Python object's repr in a library's message (`<_io.BytesIO object at 0x…>`) says nothing to the reader.
_OBJECT_REPR = re.compile(r"\s*<[^<>]* object at 0x[0-9a-fA-F]+>")


def unreadable(what: str, detail: str, field_path: str) -> VertexMeterError:
    detail = _OBJECT_REPR.sub("", str(detail)).strip() or "unreadable"
    return invalid_argument(
        f"Unable to process input {what}: the data is not a valid, complete {what} file ({detail}).",
        field_path,
    )


# ---- images ---------------------------------------------------------------------------------------
def probe_image(media: MediaData, kind: str, field_path: str, max_pixels: int) -> ImageInfo:
    image_module = require("PIL.Image", "images", field_path)
    if kind == "heif":
        heif = require("pillow_heif", "HEIC/HEIF images", field_path)
        heif.register_heif_opener()
    try:
        with media.open() as f, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with image_module.open(f) as im:  # reads the header only
                width, height = im.size
                fmt = str(im.format or kind)
                if width <= 0 or height <= 0:
                    raise unreadable("image", f"declared size {width}x{height}", field_path)
                if width * height > max_pixels:
                    raise invalid_argument(
                        f"Unable to process input image: its declared size {width}x{height} "
                        f"({width * height:,} pixels) exceeds the {max_pixels:,} pixels vertexmeter reads.",
                        field_path,
                    )
                _check_complete(im, kind)
    except VertexMeterError:
        raise
    except image_module.DecompressionBombError as exc:
        raise invalid_argument(f"Unable to process input image: {exc}", field_path) from exc
    except Exception as exc:  # a parser of untrusted bytes may raise anything; all of it is bad input
        raise unreadable("image", str(exc) or type(exc).__name__, field_path) from exc
    return ImageInfo(width, height, fmt)


def _check_complete(im: Any, kind: str) -> None:
    """Notice truncation cheaply: PNG chunk CRCs; a JPEG decoded as a 1/8-scale draft."""
    if kind == "png":
        im.verify()
    elif kind == "jpeg":
        im.draft("L", (max(1, im.size[0] // 8), max(1, im.size[1] // 8)))
        im.load()


# ---- audio and video ------------------------------------------------------------------------------
def probe_av(
    media: MediaData, what: str, field_path: str, mp3_frames: bool = False, video_frames: bool = False
) -> AVInfo:
    """`mp3_frames`: also read an MP3's every frame (`frames_duration`; its packets are demuxed, never decoded);
    `video_frames`: the seconds the video stream's frames span (`video_frames_duration`, demuxed alike)."""
    av = require("av", f"{what} files", field_path)
    source: Any = str(media.path) if media.path is not None else io.BytesIO(media.data or b"")
    try:
        with av.open(source, mode="r", options=dict(_AV_OPTIONS), metadata_errors="ignore") as container:
            info = _av_info(av, container, what, field_path, mp3_frames)
            if video_frames and info.has_video:
                info = replace(info, video_frames_duration=_video_frames_duration(av, container, field_path, what))
            return info
    except VertexMeterError:
        raise
    except Exception as exc:  # FFmpeg errors and anything else from untrusted bytes
        raise unreadable(what, str(exc) or type(exc).__name__, field_path) from exc


def _av_info(av: Any, container: Any, what: str, field_path: str, mp3_frames: bool = False) -> AVInfo:
    videos = [s for s in container.streams.video if not _is_cover_art(av, s)]
    audios = list(container.streams.audio)
    if not videos and not audios:
        raise unreadable(what, "no audio or video stream", field_path)
    # MPEG program/transport streams state no duration; FFmpeg's bitrate estimate can be far off.
    timestamped = str(container.format.name) in _NO_DURATION_FORMATS
    duration = None if timestamped else _duration(container, [*videos, *audios])
    if duration is None:
        duration = _demuxed_duration(container, [*videos, *audios], field_path, what)
    if duration is None or duration <= 0:
        raise unreadable(what, "its duration cannot be determined", field_path)
    fps: Fraction | None = None
    if videos:
        rate = videos[0].average_rate or videos[0].guessed_rate
        fps = Fraction(rate) if rate else None
    width = int(videos[0].codec_context.width or 0) if videos else 0
    height = int(videos[0].codec_context.height or 0) if videos else 0
    # An MP3's every frame, the encoder's delay and padding a LAME/Xing header tells FFmpeg to trim included: what
    # some generations bill (rules.yaml audio `duration: frames`; docs/media.md "MP3 duration").
    mp3 = mp3_frames and _is_mp3(container, videos, audios)
    frames = _frames_duration(container, audios[0], field_path, what) if mp3 else None
    name = str(container.format.name)
    return AVInfo(duration, bool(videos), bool(audios), fps, name, width, height, frames or duration)


def _video_frames_duration(av: Any, container: Any, field_path: str, what: str) -> Fraction | None:
    """The seconds the first video stream's frames span, by their timestamps (an edit list that shortens the
    container's duration is not applied); None when the stream cannot be read again from its start."""
    videos = [s for s in container.streams.video if not _is_cover_art(av, s)]
    try:
        container.seek(0)
    except Exception:  # a stream that cannot seek: the stated duration stands
        return None
    return _demuxed_duration(container, videos[:1], field_path, what)


def _is_mp3(container: Any, videos: list[Any], audios: list[Any]) -> bool:
    return str(container.format.name) == "mp3" and bool(audios) and not videos


def _is_cover_art(av: Any, stream: Any) -> bool:
    """An MP3/M4A cover picture shows up as a one-frame video stream flagged attached_pic."""
    disposition = getattr(getattr(av, "stream", None), "Disposition", None)
    if disposition is None:
        return False
    return bool(stream.disposition & disposition.attached_pic)


def _duration(container: Any, streams: list[Any]) -> Fraction | None:
    if container.duration is not None and container.duration > 0:
        return Fraction(int(container.duration), 1_000_000)  # AV_TIME_BASE units
    known = [Fraction(s.duration) * Fraction(s.time_base) for s in streams if s.duration and s.time_base]
    return max(known) if known else None


def _frames_duration(container: Any, stream: Any, field_path: str, what: str) -> Fraction | None:
    """The seconds of every frame of an audio stream, untrimmed: the sum of its packets' durations (read, never
    decoded)."""
    deadline = time.monotonic() + _DEMUX_DEADLINE_S
    total = 0
    for packet in container.demux(stream):
        if time.monotonic() > deadline:
            raise unreadable(what, "reading its frames took too long", field_path)
        if packet.size and packet.duration:
            total += int(packet.duration)
    return Fraction(total) * Fraction(stream.time_base) if total and stream.time_base else None


def _demuxed_duration(container: Any, streams: list[Any], field_path: str, what: str) -> Fraction | None:
    """The end of the last packet; packets are read, never decoded."""
    deadline = time.monotonic() + _DEMUX_DEADLINE_S
    end: Fraction | None = None
    start: Fraction | None = None
    for packet in container.demux(streams):
        if time.monotonic() > deadline:
            raise unreadable(what, "the container states no duration and reading it took too long", field_path)
        if packet.pts is None or packet.time_base is None:
            continue
        t0 = Fraction(packet.pts) * Fraction(packet.time_base)
        t1 = t0 + Fraction(packet.duration or 0) * Fraction(packet.time_base)
        start = t0 if start is None else min(start, t0)
        end = t1 if end is None else max(end, t1)
    if end is None or start is None:
        return None
    return end - start


def pcm_duration(media: MediaData, params: dict[str, str], field_path: str) -> Fraction:
    """Raw 16-bit PCM (`audio/pcm;rate=16000`): bytes / (rate x channels x 2)."""
    try:
        rate = int(params.get("rate", "16000"))
        channels = int(params.get("channels", "1"))
    except ValueError as exc:
        raise invalid_argument(f"Invalid audio/pcm parameters: {exc}", field_path) from exc
    if rate <= 0 or channels <= 0:
        raise invalid_argument("Invalid audio/pcm parameters: rate and channels must be positive.", field_path)
    return Fraction(media.size, rate * channels * 2)


# ---- PDF ------------------------------------------------------------------------------------------
# pypdf is pure Python and a few crafted bytes can keep it busy for seconds: the CPU time reading one
# document may take grows with its size (a 1,000-page, 50 MB document reads in well under a second).
PDF_CPU_SECONDS = 0.5
PDF_CPU_SECONDS_PER_MB = 0.2


class _OverBudget(BaseException):
    """Raised inside pypdf (a BaseException: its `except Exception` recoveries must not swallow it)."""


@contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Raise _OverBudget in this thread once it has spent `seconds` of CPU time inside the block.

    A watcher thread reads this thread's CPU clock and, past the budget, has the interpreter raise the
    exception here at the next bytecode. Where thread CPU clocks are unavailable the block is unbounded.
    The cyclic garbage collector's passes in this thread are not charged: they collect the whole
    process's garbage, so a collection that happens to start here says nothing of the document. No
    exception is raised during a pass (it would land in a weakref callback, which swallows it); one
    swallowed elsewhere is raised again until the block ends.
    """
    thread_id = threading.get_ident()
    try:
        clock = time.pthread_getcpuclockid(thread_id)
        start = time.clock_gettime(clock)
    except (AttributeError, OSError):
        yield
        return
    lock = threading.Lock()
    state = {"open": True, "fired": False}
    collecting: dict[str, float] = {"spent": 0.0}  # "since": CPU clock at the start of a pass in progress
    stop = threading.Event()

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if threading.get_ident() != thread_id:
            return
        now = time.clock_gettime(clock)
        if phase == "start":
            collecting["since"] = now
        elif "since" in collecting:
            collecting["spent"] += now - collecting.pop("since")

    def watch() -> None:
        while not stop.wait(0.02):
            try:
                now = time.clock_gettime(clock)
            except OSError:  # the thread is gone
                return
            if "since" in collecting or now - start - collecting["spent"] <= seconds:
                continue
            with lock:
                if not state["open"]:
                    return
                _raise_in(thread_id, _OverBudget)
                state["fired"] = True
            stop.wait(0.1)  # raised and not yet out of the block after this: swallowed, so again

    gc.callbacks.append(on_collection)
    watcher = threading.Thread(target=watch, daemon=True, name="vertexmeter-pdf-budget")
    watcher.start()
    try:
        yield
    finally:
        with lock:
            state["open"] = False
            if state["fired"]:  # raised already, or still pending: never let it out later
                _raise_in(thread_id, None)
        stop.set()
        gc.callbacks.remove(on_collection)


def _raise_in(thread_id: int, exception: type[BaseException] | None) -> None:
    """Have the interpreter raise `exception` in the thread (None: forget one not raised yet)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception is not None else None
    )


def probe_pdf(media: MediaData, field_path: str, *, want_text: bool, max_pages: int | None) -> PdfInfo:
    """`read_pdf` within a CPU budget that grows with the document's size; over it, INVALID_ARGUMENT."""
    size = media.size
    budget = PDF_CPU_SECONDS + PDF_CPU_SECONDS_PER_MB * size / 1e6
    require("pypdf", "PDF documents", field_path)  # a first import is not the document's cost
    try:
        with cpu_budget(budget):
            return read_pdf(media, field_path, want_text=want_text, max_pages=max_pages)
    except _OverBudget:
        raise invalid_argument(
            f"Unable to process input document: reading this PDF takes more than the {budget:.1f} s of CPU "
            "time this document may take (its structure is unusually costly).",
            field_path,
        ) from None


def read_pdf(media: MediaData, field_path: str, *, want_text: bool, max_pages: int | None) -> PdfInfo:
    """Page count (and native text when wanted). With `max_pages`, the count is read from the page tree's
    root (`/Count`) and the tree is then walked only as far as `max_pages` allows, before pypdf walks it
    (pypdf flattens the whole tree, however many pages it lists); over the limit, `exact` is False."""
    pypdf = require("pypdf", "PDF documents", field_path)
    if max_pages is not None:
        stated = stated_page_count(media)
        if stated is not None and stated > max_pages:
            return PdfInfo(stated, "")  # refused from the bytes: pypdf does not even parse the tree
    try:
        with media.open() as f, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = pypdf.PdfReader(f, strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise invalid_argument("Unable to process input document: the PDF is password-protected.", field_path)
            if max_pages is not None:
                declared = declared_page_count(reader)
                if declared is not None and declared > max_pages:
                    return PdfInfo(declared, "")  # the caller refuses it; the tree is not walked
                walked = count_pages_capped(reader, max_pages, field_path)
                if walked > max_pages:
                    return PdfInfo(walked, "", exact=False)
            pages = len(reader.pages)
            if pages == 0:
                raise unreadable("PDF", "it has no pages", field_path)
            if max_pages is not None and pages > max_pages:
                return PdfInfo(pages, "")  # the caller refuses it; no need to read text
            text = "\n".join((page.extract_text() or "") for page in reader.pages) if want_text else ""
            sizes = tuple(_page_size(page) for page in reader.pages[:1])
    except VertexMeterError:
        raise
    except Exception as exc:  # pypdf raises PyPdfError, NotImplementedError (filters), KeyError, ...
        raise unreadable("PDF", str(exc) or type(exc).__name__, field_path) from exc
    return PdfInfo(pages, text.strip(), sizes)


def _page_size(page: Any) -> tuple[float, float]:
    """A page's (width, height) in points, as displayed (a 90/270 degree rotation swaps them)."""
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    if int(page.get("/Rotate", 0) or 0) % 180:
        width, height = height, width
    return abs(width), abs(height)


_PAGES_NODE = re.compile(rb"/Type\s*/Pages\b")
_COUNT = re.compile(rb"/Count\s+(\d{1,12})")
_OBJ_START = re.compile(rb"\d+\s+\d+\s+obj\b")


def stated_page_count(media: MediaData) -> int | None:
    """The largest `/Count` of a `/Type /Pages` node written in plain (not compressed) objects: a
    page tree's root states the document's page count. A byte scan, no parsing; None when there is none
    (pages trees inside compressed object streams are left to pypdf)."""
    with media.open() as f:
        data = f.read()
    best: int | None = None
    for match in _PAGES_NODE.finditer(data):
        starts = [m.end() for m in _OBJ_START.finditer(data, max(0, match.start() - 4096), match.start())]
        start = starts[-1] if starts else max(0, match.start() - 4096)
        end = data.find(b"endobj", match.end())
        for count in _COUNT.finditer(data, start, end if end != -1 else len(data)):
            value = int(count.group(1))
            best = value if best is None else max(best, value)
    return best


def declared_page_count(reader: Any) -> int | None:
    """`/Root /Pages /Count`: the page count the document states (None when absent or not a number)."""
    count = reader.trailer["/Root"]["/Pages"].get("/Count")
    try:
        value = int(count)
    except (TypeError, ValueError):
        return None
    return value if value >= 0 else None


def count_pages_capped(reader: Any, cap: int, field_path: str) -> int:
    """Leaves of the page tree, counted as pypdf counts them, without recursion, stopping at `cap` + 1.

    A `/Count` can lie; this walk cannot be made long: it stops one page past the cap, visits each
    intermediate node once (cycles end), and gives up after a bounded number of steps."""
    steps_left = 20 * cap + 1000
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer["/Root"].raw_get("/Pages")]
    pages = 0
    while stack:
        steps_left -= 1
        if steps_left < 0:
            raise unreadable("PDF", "its page tree is too large or malformed", field_path)
        reference = stack.pop()
        node = reference.get_object()
        kids = node.get("/Kids") if hasattr(node, "get") else None
        if kids is None or node.get("/Type") == "/Page":
            pages += 1
            if pages > cap:
                return pages
            continue
        key = (getattr(reference, "idnum", id(node)), getattr(reference, "generation", 0))
        if key in seen:
            continue
        seen.add(key)
        items = kids.get_object() if hasattr(kids, "get_object") else kids
        for kid in reversed(list(items)[: cap + 2 + steps_left]):
            stack.append(kid)
    return pages


# ---- text documents -------------------------------------------------------------------------------
def read_text(media: MediaData, field_path: str, charset: str | None) -> str:
    with media.open() as f:
        raw = f.read()
    encoding = (charset or "utf-8").lower()
    try:
        text = raw.decode("utf-8-sig" if encoding in ("utf-8", "utf8") else encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise invalid_argument(
            f"Unable to process input document: the text is not valid {encoding} ({exc}).", field_path
        ) from exc
    if "\x00" in text:
        raise invalid_argument("Unable to process input document: the text contains NUL bytes.", field_path)
    return text
