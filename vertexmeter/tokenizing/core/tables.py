"""Core tables: what the counting core needs from a tokenizer model, derived from the model itself.

`from_sentencepiece` reads a SentencePiece ModelProto (a few fields, no protobuf dependency) and
`from_tokenizers_json` a Hugging Face tokenizer.json. Each checks the conditions under which cutting
a text where no piece spans is exact (docs/tokenizing.md) and records why not when they fail; the
character-pair table is always derived from the vocabulary at hand, never written down.

A table is stored in a compact binary form (`dump`/`parse`, laid out by `layout.py`): a hash, a small
header and raw arrays, each 8-byte aligned, so that loading it is mapping a file and checking a hash
(~1 ms for 20 MB with XXH3; SHA-256 would be ~15 ms a start). The native encoder's built hash tables
travel in the same file (`encoder_image`), so a process maps them rather than rebuilding them.
"""

from __future__ import annotations

import json
import mmap
import operator
import struct
from array import array
from dataclasses import dataclass, field
from typing import Any

from vertexmeter.tokenizing.core import layout

Buffer = bytes | bytearray | memoryview | mmap.mmap

_SPACE, _SPACE_MARK = " ", "\u2581"
_SP_NORMAL, _SP_USER_DEFINED, _SP_UNUSED = 1, 4, 5
_ZERO_SCORE = struct.pack("<f", 0.0)
_SP_BPE = 2


@dataclass
class CoreTable:
    """A model's core tables. `chunkable` False means: count with the engine on the whole text."""

    kind: str  # "sentencepiece" | "tokenizers"
    source_sha256: str
    chunkable: bool
    reason: str  # why the model is (not) chunkable, for `status` and the tests
    pairs: bytes = b""  # uint64 (a << 32 | b): every character pair inside some piece, spaces as "▁"
    # tokenizers BPE only (the native/pure Bpe's inputs), and the vocabulary for token bytes:
    chars: bytes = b""  # int32 [codepoint, id]* for single-character tokens
    merges: bytes = b""  # int32 [left, right, new_id]* in rank order
    byte_ids: bytes = b""  # int32[256]: the ids of <0x00> .. <0xFF>
    unk_id: int = -1
    specials: list[tuple[str, int]] = field(default_factory=list)
    vocab_offsets: bytes = b""  # uint32[n + 1] into vocab_blob
    vocab_blob: bytes = b""  # the pieces' UTF-8, id order
    # SentencePiece BPE only:
    scores: bytes = b""  # float32[n]
    types: bytes = b""  # uint8[n]: 1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte
    # the native encoder's tables as built (its image(); machine-specific, b"" until a native process adds it):
    encoder_image: bytes = field(default=b"", compare=False)

    def piece(self, token_id: int) -> str:
        offsets = memoryview(self.vocab_offsets).cast("I")
        if not 0 <= token_id < len(offsets) - 1:
            raise ValueError(f"token id {token_id} is outside the vocabulary ({len(offsets) - 1} pieces)")
        return bytes(self.vocab_blob[offsets[token_id] : offsets[token_id + 1]]).decode("utf-8")


def _pairs(pieces: list[str]) -> bytes:
    found: set[str] = set()
    for piece in pieces:
        if len(piece) > 1:
            text = piece.replace(_SPACE, _SPACE_MARK)
            found.update(map(operator.add, text, text[1:]))
    return array("Q", sorted(ord(p[0]) << 32 | ord(p[1]) for p in found)).tobytes()


# ------------------------------------------------------------------ SentencePiece ModelProto


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) of one protobuf message: varints as int, length-delimited as bytes."""
    out: list[tuple[int, int | bytes]] = []
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            out.append((number, data[pos : pos + length]))
            pos += length
        elif wire == 5:
            out.append((number, data[pos : pos + 4]))
            pos += 4
        elif wire == 1:
            out.append((number, data[pos : pos + 8]))
            pos += 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    return out


def _sentence_piece(message: bytes) -> tuple[bytes, bytes, int]:
    """(piece UTF-8, score as float32 bytes, type) of a SentencePiece message.

    The common layout is read directly, anything else field by field.
    """
    if len(message) > 1 and message[0] == 0x0A and message[1] < 0x80:
        end = 2 + message[1]
        rest = message[end:]
        score = _ZERO_SCORE
        if rest[:1] == b"\x15":  # the score, a fixed32 float
            score, rest = rest[1:5], rest[5:]
        if not rest:
            return message[2:end], score, _SP_NORMAL
        if len(rest) == 2 and rest[0] == 0x18 and rest[1] < 0x80:
            return message[2:end], score, rest[1]
    piece, score, kind = b"", _ZERO_SCORE, _SP_NORMAL
    for n, v in _fields(message):
        if n == 1 and isinstance(v, bytes):
            piece = v
        elif n == 2 and isinstance(v, bytes):
            score = v
        elif n == 3 and isinstance(v, int):
            kind = v
    return piece, score, kind


def from_sentencepiece(model_proto: bytes) -> CoreTable:
    encoded: list[bytes] = []
    scores: list[bytes] = []
    types = bytearray()
    trainer: dict[int, int | bytes] = {}
    normalizer: dict[int, int | bytes] = {}
    for number, value in _fields(model_proto):
        if number == 1 and isinstance(value, bytes):
            piece, score, kind = _sentence_piece(value)
            encoded.append(piece)
            scores.append(score)
            types.append(kind & 0xFF)
        elif number == 2 and isinstance(value, bytes):
            trainer = dict(_fields(value))
        elif number == 3 and isinstance(value, bytes):
            normalizer = dict(_fields(value))
    import hashlib  # here: only deriving a table hashes its source

    sha = hashlib.sha256(model_proto).hexdigest()
    problems = []
    if trainer.get(3, 1) != _SP_BPE:
        problems.append("not a BPE model")
    if trainer.get(24, 0):
        problems.append("whitespace is a suffix")
    if normalizer.get(2, b"") or normalizer.get(6, b""):
        problems.append("the normaliser has rules")
    if normalizer.get(1, b"") not in (b"identity", b""):
        problems.append("the normaliser is not identity")
    if normalizer.get(3, 1):
        problems.append("a dummy prefix is added")
    if normalizer.get(4, 1):
        problems.append("extra whitespace is removed")
    if not normalizer.get(5, 1):
        problems.append("spaces are not escaped")
    if _SP_UNUSED in types:
        problems.append("the vocabulary has unused pieces (BPE re-splits them)")
    pieces = [p.decode("utf-8") for p in encoded]
    ids = {p: i for i, p in enumerate(pieces)}
    byte_ids = [ids.get(f"<0x{b:02X}>", -1) for b in range(256)]
    if not trainer.get(35, 0) or -1 in byte_ids:
        problems.append("no byte fallback")
    mergeable = {p for p, t in zip(pieces, types, strict=True) if t in (_SP_NORMAL, _SP_USER_DEFINED)}
    if len(mergeable) != sum(t in (_SP_NORMAL, _SP_USER_DEFINED) for t in types):
        problems.append("a piece is defined twice")
    reserved = [p for p, t in zip(pieces, types, strict=True) if t not in (_SP_NORMAL, _SP_USER_DEFINED)]
    if any(len(p) < 2 or p in mergeable for p in reserved):
        problems.append("a control, unknown or byte piece could be matched as text")
    if max(map(len, pieces), default=0) > 0xFFFF:
        problems.append("a piece is longer than 65,535 characters")
    if problems:
        return CoreTable("sentencepiece", sha, False, "; ".join(problems))
    offsets = array("I", [0])
    for piece in encoded:
        offsets.append(offsets[-1] + len(piece))
    unk = [i for i, t in enumerate(types) if t == 2]
    return CoreTable(
        "sentencepiece",
        sha,
        True,
        "BPE, identity normalisation, no dummy prefix, byte fallback",
        pairs=_pairs(pieces),
        byte_ids=array("i", byte_ids).tobytes(),
        unk_id=unk[0] if unk else -1,
        vocab_offsets=offsets.tobytes(),
        vocab_blob=b"".join(encoded),
        scores=b"".join(scores),
        types=bytes(types),
    )


# ------------------------------------------------------------------ tokenizers' tokenizer.json


def _tokenizers_problems(spec: dict) -> list[str]:  # type: ignore[type-arg]
    problems = []
    model = spec.get("model") or {}
    if model.get("type") != "BPE":
        problems.append("not a BPE model")
    if model.get("dropout") or model.get("ignore_merges"):
        problems.append("dropout or ignore_merges")
    if model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
        problems.append("subword prefix or suffix")
    if not model.get("byte_fallback"):
        problems.append("no byte fallback")
    replace_spaces = {"type": "Replace", "pattern": {"String": " "}, "content": _SPACE_MARK}
    if spec.get("normalizer") != replace_spaces:
        problems.append("the normaliser is not the space -> ▁ replacement")
    pre = spec.get("pre_tokenizer")
    # Splitting on " " after every space became "▁" is a no-op.
    if pre is not None and not (pre.get("type") == "Split" and pre.get("pattern") == {"String": " "}):
        problems.append("a pre-tokenizer splits the text")
    post = spec.get("post_processor")
    if post is not None and not (
        post.get("type") == "TemplateProcessing" and post.get("single") == [{"Sequence": {"id": "A", "type_id": 0}}]
    ):
        problems.append("the post-processor adds tokens")
    for added in spec.get("added_tokens") or []:
        if added.get("normalized") or added.get("lstrip") or added.get("rstrip") or added.get("single_word"):
            problems.append(f"added token {added.get('content')!r} has matching options")
            break
    return problems


def from_tokenizers_json(tokenizer_json: bytes) -> CoreTable:
    import hashlib  # here: only deriving a table hashes its source

    sha = hashlib.sha256(tokenizer_json).hexdigest()
    spec = json.loads(tokenizer_json)
    problems = _tokenizers_problems(spec)
    model = spec.get("model") or {}
    vocab: dict[str, int] = model.get("vocab") or {}
    byte_ids = [vocab.get(f"<0x{b:02X}>", -1) for b in range(256)]
    if -1 in byte_ids:
        problems.append("byte-fallback pieces are missing")
    byte_set = set(byte_ids)
    merges: list[int] = []
    seen: dict[tuple[int, int], int] = {}
    for entry in model.get("merges") or []:
        left, right = entry if isinstance(entry, list) else entry.split(" ", 1)
        a, b, joined = vocab.get(left), vocab.get(right), vocab.get(left + right)
        if a is None or b is None or joined is None:
            problems.append(f"merge {left!r} + {right!r} is not in the vocabulary")
            break
        if a in byte_set or b in byte_set:
            problems.append("a merge joins byte-fallback pieces (it could span characters)")
            break
        if (a, b) in seen:
            problems.append("a merge is repeated")
            break
        seen[(a, b)] = len(merges)
        merges += (a, b, joined)
    specials: list[tuple[str, int]] = []
    for added in spec.get("added_tokens") or []:
        if vocab.get(added["content"], added["id"]) != added["id"]:
            problems.append(f"added token {added['content']!r} disagrees with the vocabulary")
        specials.append((added["content"], added["id"]))
    size = max(vocab.values(), default=-1) + 1
    if size > 1 << 20 or len(merges) // 3 >= (1 << 24) - 1:  # the native merge table's packed slots
        problems.append("more than 2^20 pieces or 2^24 merges")
    pieces = [""] * size
    for piece, token_id in vocab.items():
        pieces[token_id] = piece
    for _content, token_id in specials:
        if token_id >= size:
            problems.append(f"added token id {token_id} is outside the vocabulary")
            break
    if problems:
        return CoreTable("tokenizers", sha, False, "; ".join(problems))
    encoded = [p.encode("utf-8") for p in pieces]
    offsets = array("I", [0])
    for piece_bytes in encoded:
        offsets.append(offsets[-1] + len(piece_bytes))
    chars = array("i")
    for piece, token_id in vocab.items():
        if len(piece) == 1:
            chars += array("i", (ord(piece), token_id))
    unk = model.get("unk_token")
    return CoreTable(
        "tokenizers",
        sha,
        True,
        "BPE, space -> ▁ normalisation only, byte fallback, specials matched verbatim",
        pairs=_pairs(pieces + [c for c, _ in specials]),
        chars=chars.tobytes(),
        merges=array("i", merges).tobytes(),
        byte_ids=array("i", byte_ids).tobytes(),
        unk_id=vocab.get(unk, -1) if unk else -1,
        specials=specials,
        vocab_offsets=offsets.tobytes(),
        vocab_blob=b"".join(encoded),
    )


# ------------------------------------------------------------------ compact binary form (layout.py)


def dump(table: CoreTable) -> bytes:
    header = {
        "kind": table.kind,
        "source_sha256": table.source_sha256,
        "chunkable": table.chunkable,
        "reason": table.reason,
        "unk_id": table.unk_id,
        "specials": [[content, token_id] for content, token_id in table.specials],
    }
    return layout.write(header, [bytes(getattr(table, name)) for name in layout.SECTIONS])


def parse(data: Buffer) -> CoreTable:
    """The table in `data` (bytes or a memory map); ValueError when it is not one or its hash does not match.

    The sections are views into `data`, not copies, aligned as the file is.
    """
    header, views = layout.read(data)
    sections: dict[str, Any] = dict(views)  # memoryviews where CoreTable says bytes: both are buffers
    return CoreTable(
        header["kind"],
        header["source_sha256"],
        header["chunkable"],
        header["reason"],
        unk_id=header["unk_id"],
        specials=[(c, i) for c, i in header["specials"]],
        **sections,
    )
