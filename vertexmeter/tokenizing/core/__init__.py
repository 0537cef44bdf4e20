"""vertexmeter's counting core: split where no piece spans, count chunks through a bounded cache.

The public face is small: `derive` a `CoreTable` from a model file (or `load_table` it from its
compact, hash-checked form in the user cache), then make a `Splitter` (count/bounds/encode) and, for
tokenizers-format models, a `Bpe` (exact ids without the `tokenizers` package). Both come from the
C extension `_native` when it is built, else from `pure` (also chosen by VERTEXMETER_PURE_PYTHON=1).
Why cutting is exact: docs/tokenizing.md.
"""

from __future__ import annotations

import mmap
import os

from vertexmeter.lazy import lazy_attributes
from vertexmeter.tokenizing import PURE_PYTHON_ENV
from vertexmeter.tokenizing.core.layout import FORMAT, table_file

TYPE_CHECKING = False  # not typing's: importing this package must stay cheap (the quick count path)
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    from vertexmeter.tokenizing.core.tables import CoreTable

CACHE_BYTES = 16 * 1024 * 1024  # per family, each: the chunk -> count and chunk -> ids caches are emptied past it
MAX_CACHED_CHUNK = 256  # characters; longer chunks are counted every time, never kept

_impl: Any
if os.environ.get(PURE_PYTHON_ENV, "") not in ("", "0"):
    from vertexmeter.tokenizing.core import pure as _impl

    IMPLEMENTATION = "pure"
else:
    try:
        from vertexmeter.tokenizing.core import _native as _impl  # type: ignore[attr-defined,no-redef]

        IMPLEMENTATION = "native"
    except ImportError:  # no compiler at install time: same algorithm, slower
        from vertexmeter.tokenizing.core import pure as _impl

        IMPLEMENTATION = "pure"

billable_characters: Callable[[str], int] = _impl.billable_characters
"""billable_characters(text) -> int: the code points that are not whitespace (exactly str.isspace's)."""

__all__ = [
    "CACHE_BYTES",
    "IMPLEMENTATION",
    "MAX_CACHED_CHUNK",
    "CoreTable",
    "billable_characters",
    "derive",
    "load_table",
    "make_bpe",
    "make_splitter",
]


# CoreTable loads on first use, with the table code (json, dataclasses)
__getattr__ = lazy_attributes(__name__, {"CoreTable": "vertexmeter.tokenizing.core.tables"})


def derive(kind: str, model: bytes) -> CoreTable:
    """The core table of a model file: "sentencepiece" (ModelProto) or "tokenizers" (tokenizer.json)."""
    from vertexmeter.tokenizing.core.tables import from_sentencepiece, from_tokenizers_json

    if kind == "sentencepiece":
        return from_sentencepiece(model)
    if kind == "tokenizers":
        return from_tokenizers_json(model)
    raise ValueError(f"unknown model kind {kind!r}")


def make_splitter(table: CoreTable, cache_bytes: int = CACHE_BYTES, max_chunk: int = MAX_CACHED_CHUNK) -> Any:
    return splitter_of(table.pairs, cache_bytes, max_chunk)


def splitter_of(pairs: Any, cache_bytes: int = CACHE_BYTES, max_chunk: int = MAX_CACHED_CHUNK) -> Any:
    """A Splitter over a pair table (a table's `pairs` section)."""
    return _impl.Splitter(pairs, cache_bytes, max_chunk)


def make_bpe(table: CoreTable) -> Any:
    """The exact encoder for a chunkable table; None for a SentencePiece model under the pure core.

    (Pure Python has no SentencePiece BPE of its own: there the sentencepiece engine encodes misses,
    which is faster than Python would be and exact by definition.) The native encoder borrows its
    built tables from `table.encoder_image` when the table carries one; a stale image is rebuilt.
    """
    if table.kind == "sentencepiece":
        sp_bpe = getattr(_impl, "SpBpe", None)
        if sp_bpe is None:
            return None
        return _from_image(table) or sp_bpe(
            table.vocab_offsets, table.vocab_blob, table.scores, table.types, table.byte_ids, table.unk_id
        )
    return _from_image(table) or _impl.Bpe(table.chars, table.merges, table.byte_ids, table.unk_id, table.specials)


def _from_image(table: CoreTable) -> Any:
    return encoder_of_image(table.kind, table.encoder_image, table.specials)


def encoder_of_image(kind: str, image: Any, specials: Any) -> Any:
    """The native encoder over a table's encoder image; None without a usable one (another machine
    or version of the core: then it is rebuilt). Borrowing an image is O(1): it only checks its shape."""
    if not image or IMPLEMENTATION != "native":
        return None
    try:
        if kind == "sentencepiece":
            return _impl.SpBpe.from_image(image)
        return _impl.Bpe.from_image(image, specials)
    except ValueError:
        return None


def mapped_counter(path: str) -> tuple[Any, Any] | None:
    """(splitter, encoder) straight from a stored table file, without building a CoreTable: what the quick
    count path uses. None when the file is unreadable, not chunkable or carries no usable encoder image."""
    found = mapped_tokenizer_parts(path)
    return None if found is None else (found[0], found[1])


def mapped_tokenizer_parts(
    path: str, source_sha256: str | None = None
) -> tuple[Any, Any, Callable[[], CoreTable]] | None:
    """(splitter, encoder, table loader) from a stored table file, when it was derived from the model file
    with hash `source_sha256` (any, when None), is chunkable and carries a usable encoder image; else None.
    The loader gives the CoreTable (json and dataclasses load then, not before) over the same map."""
    from vertexmeter.tokenizing.core import layout

    try:
        with open(path, "rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        header, sections = layout.read(mapped)  # the views keep the map open
    except (OSError, ValueError, KeyError):
        return None
    if not header.get("chunkable") or (source_sha256 is not None and header.get("source_sha256") != source_sha256):
        return None
    specials = [(content, token_id) for content, token_id in header["specials"]]
    encoder = encoder_of_image(header["kind"], sections["encoder_image"], specials)
    if encoder is None:
        return None

    def table() -> CoreTable:
        from vertexmeter.tokenizing.core.tables import parse

        return parse(mapped)

    return splitter_of(sections["pairs"]), encoder, table


def load_table(directory: Path, name: str, source_sha256: str, build: Callable[[], CoreTable]) -> CoreTable:
    """The table stored as `<directory>/<name>-<sha>.v<format>.vmcore`, else `build()` it and store it there.

    The file is memory-mapped, not read: the sections are views into the map, shared by every process
    on the machine. A stored table whose hash does not match, or that was derived from another file,
    is rebuilt; under the native core a table without a usable encoder image gets one and is stored
    again; a directory that cannot be written only costs the rebuild next time.
    """
    path = directory / table_file(name, source_sha256)
    table = _mapped(path)
    changed = table is None or table.source_sha256 != source_sha256
    if table is None or changed:
        table = build()
    if IMPLEMENTATION == "native" and table.chunkable and _from_image(table) is None:
        table.encoder_image = make_bpe(table).image()
        changed = True
    if changed:
        _store(directory, path, table)
    return table


def _mapped(path: Path) -> CoreTable | None:
    from vertexmeter.tokenizing.core.tables import parse

    try:
        with open(path, "rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return parse(mapped)  # its views keep the map open
    except (OSError, ValueError, KeyError):
        return None


def _store(directory: Path, path: Path, table: CoreTable) -> None:
    import tempfile  # here: only a first start writes

    from vertexmeter.tokenizing.core.tables import dump

    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, delete=False, suffix=".tmp") as tmp:
            tmp.write(dump(table))
        os.replace(tmp.name, path)  # a new file: processes that mapped the old one keep reading it
    except OSError:
        return
    for stale in directory.glob(f"{path.name.split('-')[0]}-*.vmcore"):
        if _older_format(stale.name):
            stale.unlink(missing_ok=True)  # an older install's table: ~20 MB that nothing newer reads


def _older_format(name: str) -> bool:
    """Whether a table file name is of an earlier format (v2 names had no version; later ones .v<N>)."""
    stem = name.removesuffix(".vmcore")
    version = stem.rpartition(".v")[2] if ".v" in stem else "2"
    return version.isdigit() and int(version) < FORMAT
