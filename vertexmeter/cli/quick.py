"""`vertexmeter count -m MODEL [--api API] [--json] TEXT...` without click, and usually without the library.

This one form is parsed here, and MODEL is resolved here to a registry model's id as registry.resolve() does
(`canonical`): resource prefixes (`models/`, `publishers/…/models/`, `projects/…`), a dated alias by today's
date, version suffixes (`@001`, `-002`, `-latest`, …), then a redirect (models.yaml) by name, API and today's
date; a name this does not resolve goes to the library. A first count needs no library: the packaged index
(quick_index.py, written by tools/quick_index.py) holds, per model id and API, the tokenizer family, the
tokens the service adds beyond the texts (the role overhead of one user turn or the instances' template;
accounting.yaml), the answer's shape (tokens, plus billable characters for the character-priced and most
legacy models) and the confidence note (each model's own), and the registry's names, dated aliases, redirects
and APIs (`registry_tables`); it is used while the registry files are the ones it was made from (their hash)
and no other data set is installed. The texts are counted straight from the family's memory-mapped core table,
the overhead added and the characters counted: no json, re, typing, dataclasses or click is imported, which is
most of the command's start. The table file must exist (the library makes it the first time a family is used).

Where the index does not hold (an edited registry, an installed data set), the library counts the texts
the first time on an API with a given number of texts (the same call as the click command,
cli/counting.py) and this module keeps the same facts for that model and for every other registry model
(the library is loaded by then), with the registry's names, in the user cache. The memory is kept under a
fingerprint of this package's version and of the registry, counting and request code and data it was
derived from, so an upgrade or an edit starts it afresh. Entries are keyed by model id, not by the name
typed, so they do not expire with the day: a dated alias is resolved again on every run, and a count
without a date is today's service, which the registry holds as each model's current vocabulary and rules
(dated vocabularies only answer an explicit date). An answer is remembered only when it had exactly a
shape printed here, and a text whose billable characters are zero (an answer that omits the field) goes to
the library.

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
from vertexmeter.tokenizing import ENGINE_ONLY_ENV, PURE_PYTHON_ENV

TYPE_CHECKING = False  # not typing's: see above
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    Periods = tuple[tuple[str | None, str | None, str], ...]  # a dated alias's (first day, last day, model id)
    Redirects = tuple[tuple[str, str], ...]  # a name's redirects on one API: (first day, model id), by first day

MODEL_FLAGS = ("-m", "--model")
API_FLAGS = ("--api",)
JSON_FLAGS = ("--json",)
_CLICK_ONLY_ENV = ("VERTEXMETER_MEDIA_ROOT", "_VERTEXMETER_COMPLETE")  # envvar options, shell completion
# With these set, tokenizers load another way (an override file, the engines, pure Python): no memory.
_LIBRARY_ONLY_ENV = (TOKENIZER_DIR_ENV, ENGINE_ONLY_ENV, PURE_PYTHON_ENV)
_MEMORY_FILE = "quick-count.v4.marshal"
_DERIVED_FROM = ("registry", "counting", "requests", "tokenizing", os.path.join("tokenizing", "core"))
_MAX_ENTRIES = 256
# countTokens' answer for text, as json.dumps(..., indent=2) writes it (tests/test_cli_quick.py checks)
ANSWER = (
    '{\n  "totalTokens": %d,\n  "promptTokensDetails": [\n    {\n      "modality": "TEXT",\n'
    '      "tokenCount": %d\n    }\n  ]\n}\n'
)
# the same with the billable characters of a character-priced model (totalTokens, characters, total)
# a legacy (PaLM, Codey, embedding) model's: tokens and billable characters, no details (totalTokens, characters)
LEGACY_ANSWER = '{\n  "totalTokens": %d,\n  "totalBillableCharacters": %d\n}\n'
# a legacy model's that bills no characters (the embedding models priced by tokens)
TOKENS_ANSWER = '{\n  "totalTokens": %d\n}\n'
PLAIN, BILLED, LEGACY, TOKENS = 0, 1, 2, 3  # the answer's shape, as remembered
BILLED_ANSWER = (
    '{\n  "totalTokens": %d,\n  "totalBillableCharacters": %d,\n  "promptTokensDetails": [\n'
    '    {\n      "modality": "TEXT",\n      "tokenCount": %d\n    }\n  ]\n}\n'
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
    # the index first: it needs no fingerprint of the package's files (a scan and a stat of each, ~1 ms)
    remembered = _from_index(model, api, texts) or _from_memory(model, api, texts)
    if remembered is not None:
        total, characters, shape, note = remembered
        if shape == PLAIN:
            sys.stdout.write(ANSWER % (total, total))
        elif shape == BILLED:
            sys.stdout.write(BILLED_ANSWER % (total, characters, total))
        else:
            sys.stdout.write(LEGACY_ANSWER % (total, characters) if shape == LEGACY else TOKENS_ANSWER % total)
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
    """The library's countTokens JSON and the model's confidence note ("" when exact); None for a refusal.
    What it was made of is remembered, and so is
    what every registry model's answer to the same texts on the same API is made of: the library is
    loaded by now, and a first count with another model then starts from the memory too."""
    from vertexmeter.counting import count
    from vertexmeter.errors import VertexMeterError
    from vertexmeter.media import MediaOptions
    from vertexmeter.registry import all_models
    from vertexmeter.vocabulary import APIS, VERTEX

    if api is not None and api not in APIS:
        return None
    try:
        result = count(model, texts, api=api or VERTEX, media_options=MediaOptions())
    except VertexMeterError:
        return None  # click's path reports it, in Google's shape, with its exit status
    note = result.model.confidence_note or ""
    if any(os.environ.get(name) for name in _LIBRARY_ONLY_ENV):
        return result.to_rest(), note
    entries = _load_memory(_fingerprint())["entries"]
    if len(entries) >= _MAX_ENTRIES:
        entries = {}
    _remember(entries, result.model.id, api, texts, result)
    for info in all_models():
        if (api or VERTEX) not in info.apis:
            continue  # not served on this API: the library says so when asked
        if (info.id, api, len(texts)) not in entries:
            try:
                # the model's own facts, by its entry: a redirect (models.yaml) is resolved per run, by name and day
                _remember(
                    entries, info.id, api, texts, count(info, texts, api=api or VERTEX, media_options=MediaOptions())
                )
            except VertexMeterError:
                continue  # not served on this API: the library says so when asked
    _store_memory(entries, registry_tables(), _fingerprint())
    return result.to_rest(), note


def billable(texts: list[str]) -> int:
    """The texts' billable characters: code points, whitespace excluded (counting's billable_characters)."""
    from vertexmeter.tokenizing import billable_characters

    return sum(billable_characters(text) for text in texts)


def _remember(
    entries: dict[tuple[str, str | None, int], tuple[str, int, int, str]],
    model: str,
    api: str | None,
    texts: list[str],
    result: Any,
) -> None:
    """Add (table file, overhead, shape, confidence note) for (model, api, number of texts) to `entries` when the
    answer has a shape printed here and the tokenizer is the native core over a stored table."""
    rest = result.to_rest()
    total = result.total_tokens
    details = [{"modality": "TEXT", "tokenCount": total}]
    characters = billable(texts)
    if total <= 0 or characters == 0:
        return  # an answer that omits a zero field does not show its shape
    shapes = {  # each shape as the answer must be, keys in the order the constants above print them
        PLAIN: {"totalTokens": total, "promptTokensDetails": details},
        BILLED: {"totalTokens": total, "totalBillableCharacters": characters, "promptTokensDetails": details},
        LEGACY: {"totalTokens": total, "totalBillableCharacters": characters},
        TOKENS: {"totalTokens": total},
    }
    shape = next((k for k, v in shapes.items() if rest == v and list(rest) == list(v)), None)
    if shape is None:
        return
    from vertexmeter.tokenizing import CoreBpeTokenizer, get_tokenizer, table_path

    tokenizer = get_tokenizer(result.tokenizer)
    path = str(table_path(result.tokenizer))
    if not isinstance(tokenizer, CoreBpeTokenizer) or not os.path.exists(path):
        return
    overhead = total - sum(tokenizer.count(text) for text in texts)
    entries[(model, api, len(texts))] = (path, overhead, shape, result.model.confidence_note or "")


def _from_memory(model: str, api: str | None, texts: list[str]) -> tuple[int, int | None, int, str] | None:
    """(tokens, billable characters or None, shape, confidence note) from the memory of (model, api, number of
    texts), or None."""
    if any(os.environ.get(name) for name in _LIBRARY_ONLY_ENV):
        return None
    memory = _load_memory(_fingerprint())
    found = canonical(model, api or "vertex", today(), memory)
    entry = memory["entries"].get((found, api, len(texts))) if found is not None else None
    if entry is None:
        return None
    return _counted(entry, texts)


def _from_index(model: str, api: str | None, texts: list[str]) -> tuple[int, int | None, int, str] | None:
    """The same from the packaged index (quick_index.py, tools/quick_index.py) for any name the registry resolves,
    while the registry files are the ones it was made from and no other data set is installed."""
    if any(os.environ.get(name) for name in _LIBRARY_ONLY_ENV):
        return None
    from vertexmeter.cli import quick_index
    from vertexmeter.cli.quick_index import ENTRIES, REGISTRY

    found = canonical(model, api or "vertex", today(), quick_index.TABLES)
    entry = ENTRIES.get((found, api or "vertex")) if found is not None else None
    if entry is None or os.path.exists(installed_manifest()) or registry_hash() != REGISTRY:
        return None
    from vertexmeter.tokenizing import stored_table_file

    family, overhead, step, shape, note = entry
    path = stored_table_file(family)
    if path is None:
        return None
    return _counted((path, overhead + step * (len(texts) - 1), shape, note), texts)


def today() -> str:
    """Today's ISO date, the day a dated alias is resolved by: the local date, as `datetime.date.today()` gives."""
    import time

    return time.strftime("%Y-%m-%d", time.localtime())


def registry_tables() -> dict[str, Any]:
    """The loaded registry's names as `canonical` reads them: `names` (every id and alias -> the model's id),
    `dated` (dated alias -> its periods: (first day or None, last day or None, model id)), `redirects` ((name, api)
    -> (first day, model id) of each redirect that can serve it, by first day) and `served` (id -> its APIs); ISO
    dates. The redirects are read through registry.redirect_for, day by day back from the last one."""
    import datetime as dt

    from vertexmeter.registry import all_models, dated_aliases, redirect_for, resolve
    from vertexmeter.vocabulary import APIS

    names = {name: info.id for info in all_models() for name in (info.id, *info.aliases)}
    dated = {  # a period's target by its model's id (a snapshot's, models.yaml `snapshots`, is its model's)
        alias: tuple(
            (
                p.start.isoformat() if p.start else None,
                p.until.isoformat() if p.until else None,
                resolve(p.model, any_api=True).id,
            )
            for p in periods
        )
        for alias, periods in dated_aliases().items()
    }
    redirects: dict[tuple[str, str], Redirects] = {}
    for name in names:
        for api in APIS:
            found, day = [], dt.date.max
            while (redirect := redirect_for(name, api=api, on=day)) is not None:
                found.append((redirect.start.isoformat(), redirect.model))
                if redirect.start == dt.date.min:
                    break
                day = redirect.start - dt.timedelta(days=1)
            if found:
                redirects[(name, api)] = tuple(reversed(found))
    served = {info.id: info.apis for info in all_models()}
    return {"names": names, "dated": dated, "redirects": redirects, "served": served}


def canonical(name: str, api: str, day: str, tables: Mapping[str, Any]) -> str | None:
    """The model id the registry resolves `name` to on `api` on `day` (an ISO date), from `tables` (as
    `registry_tables` makes them), or None where the library must say (an unknown or uncountable name, a dated
    alias that named nothing that day, a model `api` does not serve, a name this does not read).

    The registry's resolve() step by step, without `re` (importing it is ~half a bare start): the prefixes
    stripped, then a dated alias looked up, else the version suffixes stripped one at a time until a name is
    known and the redirect that serves that name on `api` that day applied. The regexes' `\\d` is any Unicode
    digit and their `$` also matches before a final newline, so only printable ASCII is read here.
    tests/test_cli_quick.py holds it to resolve() on every registry name and on generated spellings."""
    names: Mapping[str, str] = tables["names"]
    bare = name.strip()
    if not bare or not bare.isascii() or not bare.isprintable():
        return None
    if bare.startswith("projects/"):  # ^projects/[^/]+/locations/[^/]+/publishers/[^/]+/models/
        parts = bare.split("/", 7)
        if len(parts) == 8 and parts[2::2] == ["locations", "publishers", "models"] and all(parts[1:6:2]):
            bare = parts[7]
    if bare.startswith("publishers/"):  # ^publishers/[^/]+/models/
        parts = bare.split("/", 3)
        if len(parts) == 4 and parts[1] and parts[2] == "models":
            bare = parts[3]
    if bare.startswith("models/"):
        bare = bare[7:]
    periods: Periods | None = tables["dated"].get(bare)
    model = None
    if periods is not None:
        for start, until, target in periods:
            if (start is None or start <= day) and (until is None or day <= until):
                model = target
                break
    else:
        while bare not in names:
            shorter = _without_version(bare)
            if shorter is None:
                return None
            bare = shorter
        model = names[bare]
        redirects: Redirects = tables["redirects"].get((bare, api), ())
        for start, target in reversed(redirects):
            if start <= day:
                model = target
                break
    return model if model is not None and api in tables["served"].get(model, ()) else None


def _without_version(name: str) -> str | None:
    """`name` without the first of the registry's VERSION_SUFFIXES that ends it, or None; in their order:
    @\\d+$, -\\d{3}$, -latest$, -preview-\\d{2}-\\d{2,4}$, -exp-\\d{4}$ (on printable ASCII)."""
    at = name.rfind("@")
    if at >= 0 and name[at + 1 :].isdigit():
        return name[:at]
    if len(name) >= 4 and name[-4] == "-" and name[-3:].isdigit():
        return name[:-4]
    if name.endswith("-latest"):
        return name[:-7]
    dash = name.rfind("-")
    head = name[:dash]  # -preview-DD before the last dash, 2 to 4 digits after it
    tail_ok = dash >= 0 and 2 <= len(name) - dash - 1 <= 4 and name[dash + 1 :].isdigit()
    if tail_ok and head[-2:].isdigit() and head[:-2].endswith("-preview-"):
        return head[:-11]
    if len(name) >= 9 and name[-4:].isdigit() and name[:-4].endswith("-exp-"):
        return name[:-9]
    return None


def registry_hash() -> str:
    """The hash of the packaged registry files (models, accounting rules) the answers' shapes come from."""
    import xxhash

    digest = xxhash.xxh3_128()
    for name in ("models.yaml", "accounting.yaml"):
        with open(os.path.join(PACKAGE_DIR, "registry", name), "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def _counted(entry: tuple[str, int, int, str], texts: list[str]) -> tuple[int, int | None, int, str] | None:
    """(tokens, billable characters or None, shape, note) of `texts` over the table file `entry` names."""
    from vertexmeter.tokenizing import mapped_counter

    counter = mapped_counter(entry[0])
    if counter is None:
        return None
    splitter, encoder = counter
    try:
        total = sum(splitter.count(text, encoder) for text in texts) + entry[1]
    except (UnicodeError, ValueError):
        return None  # a lone surrogate, say: the library says what is wrong
    characters = billable(texts) if entry[2] in (BILLED, LEGACY) else None
    if total <= 0 or characters == 0:
        return None  # the answer omits a zero: the library writes it
    return total, characters, entry[2], entry[3]


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


def _load_memory(fingerprint: str) -> dict[str, Any]:
    """The memory under `fingerprint`: `entries` by (model id, api, number of texts), and the registry's tables
    they were made with (`registry_tables`); all empty when there is none."""
    import marshal

    import xxhash

    empty: dict[str, Any] = {"entries": {}, "names": {}, "dated": {}, "redirects": {}, "served": {}}
    try:
        with open(_memory_path(), "rb") as handle:
            data = handle.read()
        if xxhash.xxh3_64_digest(data[8:]) != data[:8]:  # marshal only reads what this module wrote
            return empty
        memory = marshal.loads(data[8:])
        if memory["fingerprint"] != fingerprint:
            return empty
        return {key: memory[key] for key in empty}
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        return empty


def _store_memory(
    entries: dict[tuple[str, str | None, int], tuple[str, int, int, str]],
    tables: dict[str, Any],
    fingerprint: str,
) -> None:
    import marshal
    import tempfile

    import xxhash

    body = marshal.dumps({"fingerprint": fingerprint, "entries": entries, **tables})
    folder = os.path.dirname(_memory_path())
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as tmp:
            tmp.write(xxhash.xxh3_64_digest(body) + body)
        os.replace(tmp.name, _memory_path())
    except OSError:
        return
