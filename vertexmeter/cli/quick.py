"""`vertexmeter count -m MODEL [--api API] [--json] TEXT...` without click.

This one form is parsed here and answered with the same call and the same JSON as the click command
(cli/counting.py; tests/test_cli_quick.py holds the two equal on generated command lines and checks
that the flag spellings below are the click command's). Any other word, flag, `--`, option-like text,
a set $VERTEXMETER_MEDIA_ROOT or a shell-completion request makes `answer` return False before any
work, and any refusal (an unknown model, say) returns False too, so that click gives its usual help
and errors.
"""

from __future__ import annotations

import os

MODEL_FLAGS = ("-m", "--model")
API_FLAGS = ("--api",)
JSON_FLAGS = ("--json",)
_CLICK_ONLY_ENV = ("VERTEXMETER_MEDIA_ROOT", "_VERTEXMETER_COMPLETE")  # envvar options, shell completion


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
            if word.startswith("-") or not word:
                return None  # another flag, `--`, `-mMODEL`, an option-like or empty text: click's
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
    import json
    import sys

    from vertexmeter.counting import count
    from vertexmeter.errors import VertexMeterError
    from vertexmeter.media import MediaOptions
    from vertexmeter.vocabulary import APIS, VERTEX

    model, api, texts = plan
    if api is not None and api not in APIS:
        return False
    try:
        result = count(model, texts, api=api or VERTEX, media_options=MediaOptions())
    except VertexMeterError:
        return False  # click's path reports it, in Google's shape, with its exit status
    sys.stdout.write(json.dumps(result.to_rest(), ensure_ascii=False, indent=2) + "\n")
    return True
