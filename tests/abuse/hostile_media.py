"""Hostile media and request bodies of the abuse suite (no server imports: they also run on old checkouts)."""

from __future__ import annotations

import base64
import io
import struct
from typing import Any


def media_body(mime: str, data: bytes) -> dict[str, Any]:
    part = {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}
    return {"contents": [{"role": "user", "parts": [part]}]}


def file_body(uri: str, mime: str = "image/png") -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"fileData": {"mimeType": mime, "fileUri": uri}}]}]}


def flat_page_tree_pdf(kids: int, count: int) -> bytes:
    """A PDF whose one page-tree node lists the same page `kids` times and states `/Count count`."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count %d /Kids [" % count + b"3 0 R " * kids + b"] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def lying_wav(samples: int = 0xFFFFFFFF, rate: int = 1, payload: int = 1400) -> bytes:
    """A ~1.4 KB IMA-ADPCM WAV whose `fact` chunk states `samples` samples at `rate` Hz (136 years)."""
    fmt = struct.pack("<HHIIHH", 0x11, 1, rate, rate * 256, 256, 4) + struct.pack("<H", 0)
    data = b"\x00" * payload
    chunks = (
        b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"fact"
        + struct.pack("<II", 4, samples)
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks
