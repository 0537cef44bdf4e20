"""The pure-Python twin of _native.c: the same split, cache and BPE, for machines without a compiler.

Kept line-for-line close to the C so that the differential tests hold both to the same engines.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Callable, Sequence

_SPACE, _SPACE_MARK = " ", "\u2581"


# The ASCII characters str.isspace() is true for (the information separators \x1c-\x1f included).
_ASCII_WHITESPACE = b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "


def billable_characters(text: str) -> int:
    """Code points that are not whitespace: str.split() with no separator splits on exactly the
    str.isspace() characters; ASCII text is counted with one bytes.translate pass instead."""
    if not isinstance(text, str):
        raise TypeError("billable_characters() takes a str")
    if text.isascii():
        return len(text.encode("ascii").translate(None, _ASCII_WHITESPACE))
    return sum(map(len, text.split()))


def _refuse_surrogates(text: str) -> None:
    """A lone surrogate is no UTF-8 text: the codec's own UnicodeEncodeError, as in the C core."""
    if not text.isascii():
        text.encode("utf-8")


class Bpe:
    """tokenizers' BPE: merges by rank then position, stale heap entries skipped, byte fallback, specials."""

    def __init__(
        self, chars: bytes, merges: bytes, byte_ids: bytes, unk_id: int, specials: Sequence[tuple[str, int]]
    ) -> None:
        c, m, b = array("i"), array("i"), array("i")
        c.frombytes(chars)
        m.frombytes(merges)
        b.frombytes(byte_ids)
        if len(b) != 256 or len(c) % 2 or len(m) % 3:
            raise ValueError("malformed Bpe tables")
        self._chars = {chr(c[i]): c[i + 1] for i in range(0, len(c), 2)}
        self._merges = {(m[i], m[i + 1]): (i // 3, m[i + 2]) for i in range(0, len(m), 3)}
        self._bytes = list(b)
        self.unk_id = unk_id
        self._specials = sorted(specials, key=lambda s: -len(s[0]))  # longest first at a position
        self._special_starts = {s[0][0] for s in specials}
        if any(not s for s, _ in specials):
            raise ValueError("empty special token")

    def encode(self, text: str) -> list[int]:
        _refuse_surrogates(text)
        out: list[int] = []
        if not self._special_starts:
            self._word(text, out)
            return out
        segment, i, n = 0, 0, len(text)
        while i < n:
            if text[i] in self._special_starts:
                for content, token_id in self._specials:
                    if text.startswith(content, i):
                        self._word(text[segment:i], out)
                        out.append(token_id)
                        i += len(content)
                        segment = i
                        break
                else:
                    i += 1
            else:
                i += 1
        self._word(text[segment:], out)
        return out

    def _word(self, text: str, out: list[int]) -> None:
        if not text:
            return
        ids: list[int] = []
        chars, byte_ids = self._chars, self._bytes
        for ch in text.replace(_SPACE, _SPACE_MARK):
            token = chars.get(ch)
            if token is not None:
                ids.append(token)
            else:
                ids.extend(byte_ids[b] for b in ch.encode("utf-8"))
        n = len(ids)
        if n == 1:
            out.append(ids[0])
            return
        merges = self._merges
        nxt = list(range(1, n)) + [-1]
        prv = list(range(-1, n - 1))
        alive = [True] * n
        heap = []
        for i in range(n - 1):
            found = merges.get((ids[i], ids[i + 1]))
            if found is not None:
                heap.append((found[0], i, found[1]))
        heapq.heapify(heap)
        while heap:
            _, pos, new_id = heapq.heappop(heap)
            if not alive[pos] or nxt[pos] < 0:
                continue
            right = nxt[pos]
            found = merges.get((ids[pos], ids[right]))
            if found is None or found[1] != new_id:
                continue  # a stale entry
            ids[pos] = new_id
            alive[right] = False
            nxt[pos] = nxt[right]
            if nxt[right] >= 0:
                prv[nxt[right]] = pos
            if prv[pos] >= 0:
                found = merges.get((ids[prv[pos]], new_id))
                if found is not None:
                    heapq.heappush(heap, (found[0], prv[pos], found[1]))
            if nxt[pos] >= 0:
                found = merges.get((new_id, ids[nxt[pos]]))
                if found is not None:
                    heapq.heappush(heap, (found[0], pos, found[1]))
        i = 0
        while i >= 0:
            out.append(ids[i])
            i = nxt[i]


class Splitter:
    """Cuts a text where no piece spans and counts chunk by chunk through a bounded cache."""

    def __init__(self, pairs: bytes, cache_bytes: int, max_chunk: int) -> None:
        keys = array("Q")
        keys.frombytes(pairs)
        self._pairs = {(chr(k >> 32), chr(k & 0xFFFFFFFF)) for k in keys}
        self._cache: dict[str, int] = {}
        self._cache_chars = 0
        self._cache_bytes = cache_bytes
        self._max_chunk = max_chunk
        self.hits = self.misses = self.resets = 0

    def bounds(self, text: str) -> list[int]:
        if not text:
            return []
        _refuse_surrogates(text)
        pairs = self._pairs
        canon = text.replace(_SPACE, _SPACE_MARK)
        ends = [i for i in range(1, len(canon)) if (canon[i - 1], canon[i]) not in pairs]
        ends.append(len(text))
        return ends

    def count(self, text: str, miss: Callable[[str], int] | Bpe) -> int:
        count_miss = (lambda chunk: len(miss.encode(chunk))) if isinstance(miss, Bpe) else miss
        cache = self._cache
        total, start = 0, 0
        for end in self.bounds(text):
            chunk = text[start:end]
            start = end
            known = cache.get(chunk)
            if known is not None:
                self.hits += 1
                total += known
                continue
            self.misses += 1
            counted = count_miss(chunk)
            if counted < 0:
                raise ValueError("miss() returned an impossible count")
            total += counted
            if len(chunk) <= self._max_chunk:
                # ~ what a dict entry, its str and its int hold; the cap bounds this estimate
                cost = 100 + 4 * len(chunk)
                if self._cache_chars + cost > self._cache_bytes:
                    cache.clear()
                    self._cache_chars = 0
                    self.resets += 1
                if cost <= self._cache_bytes:
                    cache[chunk] = counted
                    self._cache_chars += cost
        return total

    def encode(self, text: str, bpe: Bpe) -> list[int]:
        out: list[int] = []
        start = 0
        for end in self.bounds(text):
            out += bpe.encode(text[start:end])
            start = end
        return out

    def clear(self) -> None:
        self._cache.clear()
        self._cache_chars = 0
        self.hits = self.misses = self.resets = 0

    def stats(self) -> dict[str, int | bool]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "resets": self.resets,
            "entries": len(self._cache),
            "bytes": self._cache_chars,
            "sampling": False,  # the native core's cache policy for text that repeats little; not here
        }
