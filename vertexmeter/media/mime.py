"""Supported MIME types, what their bytes look like, and Google's refusal for the others.

`family_of` maps a declared `mimeType` to the family whose token rules apply (image, audio,
video, pdf, text). `sniff` names the container the first bytes belong to, without any media
library, so a declared type can be checked against the bytes before a parser sees them.
"""

from __future__ import annotations

from dataclasses import dataclass

from vertexmeter.errors import VertexMeterError, invalid_argument

LEARN_MORE = "https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/send-multimodal-prompts"

# container kinds `sniff` can name
ISO_BMFF = "iso-bmff"  # MP4, MOV, M4A, 3GP, HEIF/HEIC/AVIF share the box format
EBML = "ebml"  # WebM / Matroska
MPEG_PS = "mpeg-ps"
MPEG_TS = "mpeg-ts"
MPEG_ES = "mpeg-video-es"
# kinds recognised from a very short signature (frame sync bits, 0x47 every 188 bytes)
WEAK_KINDS = frozenset({"mp3", "adts", "mpeg-ts"})


@dataclass(frozen=True)
class MimeType:
    """A declared MIME type: `essence` (lower case type/subtype) and its parameters."""

    essence: str
    params: dict[str, str]
    raw: str

    @property
    def family(self) -> str | None:
        return family_of(self.essence)


# family -> declared essence -> container kinds its bytes may be in
_ACCEPTED: dict[str, dict[str, frozenset[str]]] = {
    "image": {
        "image/png": frozenset({"png"}),
        "image/jpeg": frozenset({"jpeg"}),
        "image/jpg": frozenset({"jpeg"}),
        "image/webp": frozenset({"webp"}),
        "image/heic": frozenset({"heif"}),
        "image/heif": frozenset({"heif"}),
        "image/gif": frozenset({"gif"}),
    },
    "audio": {
        "audio/mpeg": frozenset({"mp3"}),
        "audio/mp3": frozenset({"mp3"}),
        "audio/mpga": frozenset({"mp3"}),
        "audio/wav": frozenset({"wav"}),
        "audio/x-wav": frozenset({"wav"}),
        "audio/wave": frozenset({"wav"}),
        "audio/flac": frozenset({"flac"}),
        "audio/x-flac": frozenset({"flac"}),
        "audio/aac": frozenset({"adts", ISO_BMFF}),
        "audio/x-aac": frozenset({"adts", ISO_BMFF}),
        "audio/m4a": frozenset({ISO_BMFF}),
        "audio/x-m4a": frozenset({ISO_BMFF}),
        "audio/mp4": frozenset({ISO_BMFF}),
        "audio/ogg": frozenset({"ogg"}),
        "audio/opus": frozenset({"ogg"}),
        "audio/webm": frozenset({EBML}),
        "audio/pcm": frozenset({"raw"}),
        "audio/l16": frozenset({"raw"}),
    },
    "video": {
        "video/mp4": frozenset({ISO_BMFF}),
        "video/mov": frozenset({ISO_BMFF}),
        "video/quicktime": frozenset({ISO_BMFF}),
        "video/3gpp": frozenset({ISO_BMFF}),
        "video/webm": frozenset({EBML}),
        "video/mpeg": frozenset({MPEG_PS, MPEG_TS, MPEG_ES}),
        "video/mpg": frozenset({MPEG_PS, MPEG_TS, MPEG_ES}),
        "video/mpegps": frozenset({MPEG_PS}),
        "video/avi": frozenset({"avi"}),
        "video/x-msvideo": frozenset({"avi"}),
        "video/wmv": frozenset({"asf"}),
        "video/x-ms-wmv": frozenset({"asf"}),
        "video/flv": frozenset({"flv"}),
        "video/x-flv": frozenset({"flv"}),
    },
    "pdf": {"application/pdf": frozenset({"pdf"})},
    # Plain-text documents: read as text (spec §7.6). Vertex lists text/plain; the Gemini API's
    # document page adds the others.
    "text": {
        essence: frozenset({"text"})
        for essence in (
            "text/plain",
            "text/html",
            "text/css",
            "text/csv",
            "text/xml",
            "text/rtf",
            "text/md",
            "text/markdown",
            "text/javascript",
            "text/x-python",
            "application/x-javascript",
            "application/x-python",
            "text/x-typescript",
        )
    },
}
_FAMILY: dict[str, str] = {essence: family for family, table in _ACCEPTED.items() for essence in table}

KIND_NAMES = {
    "png": "PNG",
    "jpeg": "JPEG",
    "webp": "WebP",
    "heif": "HEIF/HEIC",
    "gif": "GIF",
    "mp3": "MP3",
    "wav": "WAV",
    "flac": "FLAC",
    "adts": "AAC (ADTS)",
    "ogg": "Ogg",
    ISO_BMFF: "MP4/MOV/M4A/3GP",
    EBML: "WebM/Matroska",
    MPEG_PS: "MPEG program stream",
    MPEG_TS: "MPEG transport stream",
    MPEG_ES: "MPEG video",
    "avi": "AVI",
    "asf": "ASF/WMV",
    "flv": "FLV",
    "pdf": "PDF",
}


def parse_mime(raw: str) -> MimeType:
    essence, *rest = raw.split(";")
    params: dict[str, str] = {}
    for item in rest:
        key, _, value = item.partition("=")
        if key.strip():
            params[key.strip().lower()] = value.strip().strip('"')
    return MimeType(essence.strip().lower(), params, raw)


def family_of(essence: str) -> str | None:
    return _FAMILY.get(essence)


def accepted_kinds(essence: str) -> frozenset[str]:
    return _ACCEPTED[_FAMILY[essence]][essence]


def mime_for_kind(kind: str | None) -> str | None:
    """The first declared type whose bytes may be in container `kind` (for a missing mimeType)."""
    for family in ("image", "video", "audio", "pdf"):
        for essence, kinds in _ACCEPTED[family].items():
            if kind in kinds:
                return essence
    return None


def unsupported_mime(value: str, field_path: str) -> VertexMeterError:
    """Vertex's answer to a mimeType it does not take (spec §5.2, [S22g])."""
    return invalid_argument(
        f"Unable to submit request because it has a mimeType parameter with value {value}, which is not "
        f"supported. Update the mimeType and try again. Learn more: {LEARN_MORE}",
        field_path,
    )


def mismatched_mime(value: str, found: str, field_path: str) -> VertexMeterError:
    return invalid_argument(
        f"Unable to submit request because it has a mimeType parameter with value {value}, which does not "
        f"match the content of the data ({KIND_NAMES.get(found, found)}). Update the mimeType and try again. "
        f"Learn more: {LEARN_MORE}",
        field_path,
    )


def sniff(head: bytes) -> str | None:
    """The container kind of a file from its first bytes (at least 64 wanted), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"):
            return "heif"
        return ISO_BMFF
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return ISO_BMFF  # QuickTime files without an ftyp box
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return EBML
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "asf"
    if head.startswith(b"FLV\x01"):
        return "flv"
    if head.startswith(b"\x00\x00\x01\xba"):
        return MPEG_PS
    if head.startswith(b"\x00\x00\x01\xb3"):
        return MPEG_ES
    if len(head) >= 377 and head[0] == 0x47 and head[188] == 0x47 and head[376] == 0x47:
        return MPEG_TS
    if head.startswith(b"ID3"):
        return "mp3"  # an ID3v2 tag; MP3 is by far the usual payload
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "adts"  # sync word, layer bits 00
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 != 0:
        return "mp3"  # MPEG audio frame sync, layer I/II/III
    return None


# File name endings whose MIME types Python's `mimetypes` does not know (or spells otherwise).
_EXTENSION_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".py": "text/x-python",
    ".ts": "text/x-typescript",
    ".m4a": "audio/mp4",
    ".opus": "audio/ogg",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".flv": "video/x-flv",
    ".3gp": "video/3gpp",
}


def file_mime(name: str, head: bytes) -> str | None:
    """The MIME type to declare for a local file: what its bytes are (`sniff`), named as its ending names it
    when that name fits the bytes (audio/mp4 for an .m4a, not video/mp4); a file no sniffer knows is a text
    document when it is UTF-8 text. None: not a type Google takes."""
    import mimetypes
    import os

    ending = os.path.splitext(name)[1].lower()
    guessed = _EXTENSION_TYPES.get(ending) or mimetypes.guess_type(name)[0]
    kind = sniff(head)
    if kind is not None:
        if guessed and family_of(guessed) and kind in accepted_kinds(guessed):
            return guessed
        return mime_for_kind(kind)
    if guessed and family_of(guessed) and "raw" in accepted_kinds(guessed):
        return guessed  # headerless PCM
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:  # not just a character cut at the end of the head
            return None
    return guessed if guessed and family_of(guessed) == "text" else "text/plain"
