"""Real media made on the spot: images of chosen sizes, audio and video of known length, PDFs.

Everything is tiny (64x64 video, 8 kHz mono audio) so the whole media suite stays fast.
"""

from __future__ import annotations

import base64
import io
import wave
import zlib
from fractions import Fraction
from typing import Any

import av
from PIL import Image

IMAGE_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF", "heic": "HEIF"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def image(width: int, height: int, fmt: str = "png") -> bytes:
    if fmt == "heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buf, format=IMAGE_FORMATS[fmt])
    return buf.getvalue()


def wav(seconds: Fraction | float, rate: int = 8000) -> bytes:
    """16-bit mono PCM WAV of exactly round(seconds x rate) samples."""
    frames = round(Fraction(seconds) * rate)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames * 2))
    return buf.getvalue()


def _audio_frames(stream: Any, total: int, rate: int) -> Any:
    """Silent frames of the stream's sample format, `total` samples in all."""
    step = stream.codec_context.frame_size or 1024
    fmt = stream.codec_context.format.name
    done = 0
    while done < total:
        n = min(step, total - done)
        frame = av.AudioFrame(format=fmt, layout="mono", samples=n)
        frame.sample_rate = rate
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.pts = done
        done += n
        yield frame


def audio(container: str, codec: str, seconds: Fraction | float, rate: int = 8000, bit_rate: int = 0) -> bytes:
    """An audio file of `seconds` of silence, encoded with PyAV (FFmpeg)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        if bit_rate:
            stream.bit_rate = bit_rate
        for frame in _audio_frames(stream, round(Fraction(seconds) * rate), rate):
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


VIDEO_CODECS: dict[str, tuple[str, str | None, int]] = {
    # container: (video codec, audio codec, audio rate)
    "mp4": ("libx264", "aac", 16000),
    "mov": ("libx264", "aac", 16000),
    "3gp": ("libx264", "aac", 16000),
    "webm": ("libvpx", "libopus", 48000),
    "avi": ("mpeg4", "libmp3lame", 16000),
    "mpeg": ("mpeg1video", "mp2", 32000),
    "asf": ("wmv2", "wmav2", 16000),
    "flv": ("flv", "aac", 16000),
}


def video(container: str = "mp4", seconds: int = 3, fps: int = 10, with_audio: bool = True, size: int = 64) -> bytes:
    """A `seconds`-long size x size video at `fps`, with a silent sound track when `with_audio`."""
    vcodec, acodec, rate = VIDEO_CODECS[container]
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        if container == "mpeg":
            vstream = out.add_stream(vcodec, rate=25)  # MPEG-1 takes standard frame rates only
            fps = 25
        else:
            vstream = out.add_stream(vcodec, rate=fps)
        vstream.width = vstream.height = size
        vstream.pix_fmt = "yuv420p"
        astream = out.add_stream(acodec, rate=rate, layout="mono") if with_audio and acodec else None
        if astream is not None:
            astream.bit_rate = 32000
        for i in range(seconds * fps):
            frame = av.VideoFrame(size, size, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([16 + (i * 7) % 200]) * plane.buffer_size)
            frame.pts = i
            for packet in vstream.encode(frame):
                out.mux(packet)
        for packet in vstream.encode():
            out.mux(packet)
        if astream is not None:
            for frame in _audio_frames(astream, seconds * rate, rate):
                for packet in astream.encode(frame):
                    out.mux(packet)
            for packet in astream.encode():
                out.mux(packet)
    return buf.getvalue()


def blank_pdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def text_pdf(page_texts: list[str]) -> bytes:
    """A hand-written PDF: one page per text, Helvetica, one line each (ASCII text)."""
    objects: list[bytes] = []
    n = len(page_texts)
    # 1 catalog, 2 pages, 3 font, then per page: page object, content stream
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for i, text in enumerate(page_texts):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = zlib.compress(f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1"))
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def inline(mime: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"inlineData": {"mimeType": mime, "data": b64(data)}, **extra}


def request(*parts: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": list(parts)}], **top}
