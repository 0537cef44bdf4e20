"""vertexmeter.LocalTokenizer: google-genai's LocalTokenizer interface, answered exactly.

The oracle for text is google-genai's own LocalTokenizer (fed the packaged gemma3 file, no network):
for the model names it knows, both answer the same counts, ids and token bytes, in the SDK's types.
"""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from typing import Any

import pytest
from google.genai import types
from google.genai._local_tokenizer_loader import _GEMINI_MODELS_TO_TOKENIZER_NAMES  # the names the SDK knows
from hypothesis import given, settings
from hypothesis import strategies as st

import vertexmeter
from vertexmeter.errors import VertexMeterError

SDK_MODELS = sorted(_GEMINI_MODELS_TO_TOKENIZER_NAMES)
texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)


def sdk_tokenizer(model: str) -> Any:
    from google.genai import local_tokenizer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK's "experimental" warning
        return local_tokenizer.LocalTokenizer(model)


def sdk_compute(tokenizer: Any, contents: Any) -> Any:
    """The SDK's compute_tokens, step for step with its own helpers. Its last step calls sentencepiece's
    `EncodeAsImmutableProto`, which the installed sentencepiece spells `encode(return_type="proto")`."""
    from google.genai import _transformers, local_tokenizer

    accumulator, roles = local_tokenizer._TextsAccumulator(), []
    for content in _transformers.t_contents(contents):
        accumulator.add_content(content)
        roles.extend(content.role for _ in content.parts or [])
    protos = tokenizer._tokenizer.encode(list(accumulator.get_texts()), return_type="proto")
    pieces = tokenizer._model_proto.pieces
    return types.ComputeTokensResult(
        tokens_info=[
            types.TokensInfo(
                token_ids=[p.id for p in proto.pieces],
                tokens=[local_tokenizer._token_str_to_bytes(p.piece, pieces[p.id].type) for p in proto.pieces],
                role=role,
            )
            for proto, role in zip(protos, roles, strict=True)
        ]
    )


def sdk_call(method: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return method(*args, **kwargs)


@pytest.mark.parametrize("model", SDK_MODELS)
def test_text_answers_what_the_sdk_answers(sdk_local_tokenizer_dir: str, model: str) -> None:
    ours, theirs = vertexmeter.LocalTokenizer(model), sdk_tokenizer(model)
    contents = [
        types.Content(role="user", parts=[types.Part(text="What is your name?"), types.Part(text="日本 👩‍💻\n")]),
        types.Content(role="model", parts=[types.Part(text="  def f(x):\n\treturn x")]),
    ]
    for given_contents in ("What is your name?", contents, ["a", "b c"]):
        counted = ours.count_tokens(given_contents)
        assert isinstance(counted, types.CountTokensResult)
        assert counted == sdk_call(theirs.count_tokens, given_contents)
        computed = ours.compute_tokens(given_contents)
        assert isinstance(computed, types.ComputeTokensResult)
        assert computed == sdk_compute(theirs, given_contents)
    config = types.CountTokensConfig(system_instruction="Answer briefly.")
    assert ours.count_tokens("Hi", config=config) == sdk_call(theirs.count_tokens, "Hi", config=config)


@settings(deadline=None, max_examples=60)
@given(st.lists(texts, min_size=1, max_size=3))
def test_any_text_answers_what_the_sdk_answers(sdk_local_tokenizer_dir: str, parts: list[str]) -> None:
    ours, theirs = vertexmeter.LocalTokenizer("gemini-2.5-flash"), sdk_tokenizer("gemini-2.5-flash")
    contents = [types.Content(role="user", parts=[types.Part(text=t) for t in parts])]
    assert ours.count_tokens(contents) == sdk_call(theirs.count_tokens, contents)
    assert ours.compute_tokens(contents) == sdk_compute(theirs, contents)


@pytest.mark.parametrize("model", ["gemini-3-flash-preview", "gemini-1.5-pro", "gemini-2.5-flash"])
def test_every_registry_model_and_media(model: str) -> None:
    """Models and parts the SDK's tokenizer refuses (an image: "LocalTokenizers do not support non-text")."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "png")
    contents = ["What is this?", types.Part.from_bytes(data=buffer.getvalue(), mime_type="image/png")]
    counted = vertexmeter.LocalTokenizer(model).count_tokens(contents)
    assert counted.total_tokens == vertexmeter.count_tokens(model, contents)["totalTokens"]
    assert counted.total_tokens > 200
    gemini = vertexmeter.LocalTokenizer(model, api="gemini").count_tokens("What is your name?")
    assert gemini.total_tokens == vertexmeter.count_tokens(model, "What is your name?", api="gemini")["totalTokens"]


def test_refusals_are_vertexmeter_errors() -> None:
    with pytest.raises(VertexMeterError) as unknown:
        vertexmeter.LocalTokenizer("gemini-2.5-flsh")
    assert unknown.value.status == "NOT_FOUND" and "gemini-2.5-flash" in unknown.value.message
    with pytest.raises(VertexMeterError) as media:
        vertexmeter.LocalTokenizer("gemini-2.5-flash").compute_tokens(
            [types.Part.from_bytes(data=b"\x89PNG\r\n\x1a\n", mime_type="image/png")]
        )
    assert "text only" in media.value.message


def test_without_google_genai_it_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.genai", None)  # import google.genai now raises ImportError
    with pytest.raises(VertexMeterError) as missing:
        vertexmeter.LocalTokenizer("gemini-2.5-flash")
    assert "pip install 'vertexmeter[genai]'" in missing.value.message


def test_importing_vertexmeter_does_not_import_google_genai() -> None:
    code = (
        "import sys, vertexmeter; vertexmeter.count_tokens('gemini-2.5-flash', 'hi'); "
        "vertexmeter.LocalTokenizer; print('google.genai' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_one_line_import_change(sdk_local_tokenizer_dir: str) -> None:
    """The README's switch: the same code, the other import."""
    from vertexmeter import LocalTokenizer

    tokenizer = LocalTokenizer(model_name="gemini-2.5-flash")
    assert tokenizer.count_tokens("What is your name?").total_tokens == 5
    assert tokenizer.compute_tokens("What is your name?").tokens_info[0].token_ids == [3689, 563, 822, 1463, 236881]


@pytest.mark.parametrize("api", ["vertex", "gemini"])
@pytest.mark.parametrize("model", ["gemini-1.5-pro", "gemini-2.5-flash", "gemini-3.5-flash", "text-bison"])
def test_plain_texts_are_counted_as_the_full_path_counts_them(
    model: str, api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text or one user turn of text parts takes count_tokens' plain path: the full path's total, in the
    SDK's type; anything else (other shapes, refused text, a config) takes the full path as before."""
    import importlib

    count_module = importlib.import_module("vertexmeter.counting.count")
    tokenizer = vertexmeter.LocalTokenizer(model, api=api)
    requests: list[Any] = [
        "Hello, world! 안녕 😀",
        {"contents": [{"role": "user", "parts": [{"text": "a"}, {"text": " b 설명서"}]}]},
        "lone \udc00",
        "",
        [types.Content(role="user", parts=[types.Part(text="typed")])],
    ]
    for contents in requests:
        try:
            expected: Any = vertexmeter.count(model, contents, api=api).total_tokens
        except VertexMeterError as exc:
            expected = (exc.code, str(exc))
        try:
            got: Any = tokenizer.count_tokens(contents).total_tokens
        except VertexMeterError as exc:
            got = (exc.code, str(exc))
        assert got == expected, contents
    if model != "text-bison":  # a legacy model's bare text is an instance: the full path's
        monkeypatch.setattr(count_module, "parse_count_request", lambda *a: pytest.fail("the full path ran"))
        assert tokenizer.count_tokens("Hello there").total_tokens > 0
