"""`vertexmeter count -m MODEL [--api API] [--json] TEXT...` without click, and usually without the library.

This one form is parsed here. The first time a (model, API, number of texts) is counted on a day, the
library counts it (the same call as the click command, cli/counting.py) and this module keeps what the
answer was made of in the user cache: the tokenizer's table file and the tokens the service adds beyond
the texts (the role overhead of one user turn; accounting.yaml). Later the same day, the texts are
counted straight from that memory-mapped table and the overhead added: no json, re, typing, dataclasses
or click is imported, which is most of the command's start. The memory is kept under a fingerprint of
this package's version and of the registry, counting and request code and data it was derived from, so
an upgrade or an edit starts it afresh; it is kept only when the answer had exactly the shape printed
here (tokens of text, no billable characters, no legacy model).

tests/test_cli_quick.py holds both answers equal to the click command's on generated command lines and
checks that the flag spellings below are the click command's. Any other word, flag, `--`, option-like
text, a TEXT that names an existing file (click adds a hint on stderr), a set $VERTEXMETER_MEDIA_ROOT
or a shell-completion request makes `answer` return False before
any work, and any refusal (an unknown model, say) returns False too, so that click gives its usual help
and errors.
"""

from __future__ import annotations

import os

from vertexmeter.paths import PACKAGE_DIR, TOKENIZER_DIR_ENV, cache_root, installed_manifest
from vertexmeter.tokenizing import ENGINE_ONLY_ENV
from vertexmeter.tokenizing.core import PURE_PYTHON_ENV

TYPE_CHECKING = False  # not typing's: see above
if TYPE_CHECKING:
    from typing import Any

MODEL_FLAGS = ("-m", "--model")
API_FLAGS = ("--api",)
JSON_FLAGS = ("--json",)
_CLICK_ONLY_ENV = ("VERTEXMETER_MEDIA_ROOT", "_VERTEXMETER_COMPLETE")  # envvar options, shell completion
# With these set, tokenizers load another way (an override file, the engines, pure Python): no memory.
_LIBRARY_ONLY_ENV = (TOKENIZER_DIR_ENV, ENGINE_ONLY_ENV, PURE_PYTHON_ENV)
_MEMORY_FILE = "quick-count.v2.marshal"
_DERIVED_FROM = ("registry", "counting", "requests", "tokenizing", os.path.join("tokenizing", "core"))
_MAX_ENTRIES = 256
# countTokens' answer for text, as json.dumps(..., indent=2) writes it (tests/test_cli_quick.py checks)
ANSWER = (
    '{\n  "totalTokens": %d,\n  "promptTokensDetails": [\n    {\n      "modality": "TEXT",\n'
    '      "tokenCount": %d\n    }\n  ]\n}\n'
)


def plain_count(argv: list[str]) -> tuple[str, str | None, list[str]] | None:
    """(model, api or None for the default, texts) when `argv` is the plain count form, else None."""
    if not argv or argv[0] != "count" or any(os.environ.get(name) for name in _CLICK_ONLY_ENV):
        return None
    values: dict[str, str] = {}
    texts: list[str] = []
    words = argv[1:]
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word in JSON_FLAGS:
            continue
        name, eq, value = word.partition("=") if word.startswith("--") else (word, "", "")
        key = "model" if name in MODEL_FLAGS else "api" if name in API_FLAGS else None
        if key is None:
            if word.startswith("-") or not word or os.path.isfile(word):
                return None  # another flag, `--`, `-mMODEL`, an option-like or empty text, a file name: click's
            texts.append(word)
            continue
        if not eq:
            if i == len(words):
                return None
            value = words[i]
            i += 1
        if not value or value.startswith("-") or key in values:
            return None
        values[key] = value
    if "model" not in values or not texts:
        return None
    return values["model"], values.get("api"), texts


def answer(argv: list[str]) -> bool:
    """Print the count for the plain form and return True; False (having printed nothing) otherwise."""
    plan = plain_count(argv)
    if plan is None:
        return False
    import sys

    model, api, texts = plan
    remembered = _from_memory(model, api, texts)
    if remembered is not None:
        total, note = remembered
        sys.stdout.write(ANSWER % (total, total))
        if note:  # an inferred count says so on stderr, as the click command does
            sys.stdout.flush()
            sys.stderr.write(note + "\n")
        return True
    answered = _from_library(model, api, texts)
    if answered is None:
        return False
    import json

    rest, note = answered
    sys.stdout.write(json.dumps(rest, ensure_ascii=False, indent=2) + "\n")
    if note:
        sys.stdout.flush()
        sys.stderr.write(note + "\n")
    return True


def _from_library(model: str, api: str | None, texts: list[str]) -> tuple[dict[str, Any], str] | None:
    """The library's countTokens JSON and the model's confidence note ("" when exact); None for a refusal. What
    the answer was made of is remembered for the day."""
    from vertexmeter.counting import count
    from vertexmeter.errors import VertexMeterError
    from vertexmeter.media import MediaOptions
    from vertexmeter.vocabulary import APIS, VERTEX

    if api is not None and api not in APIS:
        return None
    try:
        result = count(model, texts, api=api or VERTEX, media_options=MediaOptions())
    except VertexMeterError:
        return None  # click's path reports it, in Google's shape, with its exit status
    rest = result.to_rest()
    total = result.total_tokens
    note = result.model.confidence_note or ""
    if total > 0 and rest == {"totalTokens": total, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": total}]}:
        _remember(model, api, texts, result, note)
    return rest, note


def _remember(model: str, api: str | None, texts: list[str], result: Any, note: str) -> None:
    """Keep (day, table file, overhead) for (model, api, number of texts) when the tokenizer is the native
    core over a stored table; a cache that cannot be written only costs the library next time."""
    if any(os.environ.get(name) for name in _LIBRARY_ONLY_ENV) or result.model.is_legacy:
        return
    from vertexmeter.tokenizing import CoreBpeTokenizer, get_tokenizer, table_path

    tokenizer = get_tokenizer(result.tokenizer)
    path = str(table_path(result.tokenizer))
    if not isinstance(tokenizer, CoreBpeTokenizer) or not os.path.exists(path):
        return
    overhead = result.total_tokens - sum(tokenizer.count(text) for text in texts)
    fingerprint = _fingerprint()
    entries = _load_memory(fingerprint)
    if len(entries) >= _MAX_ENTRIES:
        entries = {}
    entries[(model, api, len(texts))] = (_today(), path, overhead, note)
    _store_memory(entries, fingerprint)


def _from_memory(model: str, api: str | None, texts: list[str]) -> tuple[int, str] | None:
    """The count and the confidence note from the day's memory of (model, api, number of texts), or None."""
    if any(os.environ.get(name) for name in _LIBRARY_ONLY_ENV):
        return None
    entry = _load_memory(_fingerprint()).get((model, api, len(texts)))
    if entry is None or entry[0] != _today():
        return None
    from vertexmeter.tokenizing.core import mapped_counter

    counter = mapped_counter(entry[1])
    if counter is None:
        return None
    splitter, encoder = counter
    try:
        total = sum(splitter.count(text, encoder) for text in texts) + entry[2]
    except (UnicodeError, ValueError):
        return None  # a lone surrogate, say: the library says what is wrong
    return (total, entry[3]) if total > 0 else None


def _today() -> str:
    import time

    return time.strftime("%Y-%m-%d")  # the library's default day too (local time)


def _memory_path() -> str:
    return os.path.join(cache_root(), "data", _MEMORY_FILE)


def _fingerprint() -> str:
    """This install and the code and data the counts come from: any edit or upgrade gives another."""
    import sys

    marks = [sys.modules["vertexmeter"].__version__]
    for folder in _DERIVED_FROM:
        with os.scandir(os.path.join(PACKAGE_DIR, folder)) as found:
            for entry in sorted(found, key=lambda e: e.name):
                if entry.name.endswith((".py", ".yaml", ".so", ".c")):
                    stat = entry.stat()
                    marks.append(f"{folder}/{entry.name}:{stat.st_size}:{stat.st_mtime_ns}")
    try:  # an installed data set (vertexmeter data update) changes the models and rules too
        stat = os.stat(installed_manifest())
        marks.append(f"dataset:{stat.st_size}:{stat.st_mtime_ns}")
    except OSError:
        pass
    return "\n".join(marks)


def _load_memory(fingerprint: str) -> dict[tuple[str, str | None, int], tuple[str, str, int, str]]:
    import marshal

    import xxhash

    try:
        with open(_memory_path(), "rb") as handle:
            data = handle.read()
        if xxhash.xxh3_64_digest(data[8:]) != data[:8]:  # marshal only reads what this module wrote
            return {}
        memory = marshal.loads(data[8:])
        if memory["fingerprint"] != fingerprint:
            return {}
        entries: dict[tuple[str, str | None, int], tuple[str, str, int, str]] = memory["entries"]
        return entries
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        return {}


def _store_memory(entries: dict[tuple[str, str | None, int], tuple[str, str, int, str]], fingerprint: str) -> None:
    import marshal
    import tempfile

    import xxhash

    body = marshal.dumps({"fingerprint": fingerprint, "entries": entries})
    folder = os.path.dirname(_memory_path())
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as tmp:
            tmp.write(xxhash.xxh3_64_digest(body) + body)
        os.replace(tmp.name, _memory_path())
    except OSError:
        return
