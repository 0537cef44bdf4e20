"""The core table's file layout: what `tables.dump` writes and `read` reads back, with no more than the
standard library's `marshal`, `struct` and the `xxhash` wheel (the quick count path reads tables through
this module without importing json, dataclasses or typing).

    magic (8) | XXH3-128 of everything after it (16) | header length (4) | marshal(header) | padding |
    sections, each padded to 8 bytes

The hash is checked before the header is unmarshalled: `marshal` only ever reads bytes this code wrote.
It guards against damage, not an adversary (whoever can write the user's cache can write the package).
"""

from __future__ import annotations

import marshal
import struct

import xxhash

TYPE_CHECKING = False
if TYPE_CHECKING:
    import mmap
    from typing import Any

FORMAT = 5  # in the file name too: installs of other versions sharing a cache keep their own files
MAGIC = b"VMCORE%d\n" % FORMAT
SECTIONS = ("pairs", "chars", "merges", "byte_ids", "vocab_offsets", "vocab_blob", "scores", "types", "encoder_image")
_ALIGN = 8
_DIGEST = 16
_FIXED = len(MAGIC) + _DIGEST + 4


def table_file(name: str, source_sha256: str) -> str:
    """The cache file name of a family's table derived from the model file with this hash."""
    return f"{name}-{source_sha256[:16]}.v{FORMAT}.vmcore"


def write(header: dict[str, Any], parts: list[bytes]) -> bytes:
    """The file holding `header` (plain data: str, int, bool, lists) and the sections `parts`, in SECTIONS order."""
    header = {**header, "sizes": [len(part) for part in parts]}
    head = marshal.dumps(header)
    head += b"\0" * (-(_FIXED + len(head)) % _ALIGN)  # the sections start aligned
    body = struct.pack("<I", len(head)) + head + b"".join(part + b"\0" * (-len(part) % _ALIGN) for part in parts)
    return MAGIC + xxhash.xxh3_128_digest(body) + body


def read(data: bytes | bytearray | memoryview | mmap.mmap) -> tuple[dict[str, Any], dict[str, memoryview]]:
    """(header, sections) of a table file: views into `data`, aligned as the file is; ValueError when it is
    not one of this format or its hash does not match."""
    view = memoryview(data)
    if len(view) < _FIXED or view[: len(MAGIC)] != MAGIC:
        raise ValueError("not a vertexmeter core table (or one of another version)")
    if xxhash.xxh3_128_digest(view[len(MAGIC) + _DIGEST :]) != view[len(MAGIC) : len(MAGIC) + _DIGEST]:
        raise ValueError("core table does not match its hash")
    (head_len,) = struct.unpack_from("<I", view, len(MAGIC) + _DIGEST)
    header = marshal.loads(view[_FIXED : _FIXED + head_len])
    sizes = header["sizes"]
    pos = _FIXED + head_len
    if len(view) - pos != sum(size + (-size % _ALIGN) for size in sizes) or len(sizes) != len(SECTIONS):
        raise ValueError("core table is truncated")
    sections: dict[str, memoryview] = {}
    for name, size in zip(SECTIONS, sizes, strict=True):
        sections[name] = view[pos : pos + size]
        pos += size + (-size % _ALIGN)
    return header, sections
