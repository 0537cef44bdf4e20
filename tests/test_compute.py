"""computeTokens: golden ids, token bytes that round-trip to the input, roles and instances."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vertexmeter
from vertexmeter.errors import VertexMeterError

LONGEST = "What's the longest word in the English language?"


def joined_bytes(info: dict) -> bytes:
    return b"".join(base64.b64decode(token) for token in info["tokens"])


def test_vertex_doc_sample_ids_on_a_gemma2_model() -> None:
    result = vertexmeter.compute_tokens(
        "gemini-1.5-flash-002", {"contents": [{"role": "user", "parts": [{"text": LONGEST}]}]}
    )
    (info,) = result["tokensInfo"]
    assert info["tokenIds"] == [
        "1841",
        "235303",
        "235256",
        "573",
        "32514",
        "2204",
        "575",
        "573",
        "4645",
        "5255",
        "235336",
    ]
    assert [base64.b64decode(t) for t in info["tokens"]][:4] == [b"What", b"'", b"s", b" the"]
    assert info["role"] == "user"


def test_gemma3_ids_match_the_live_notebook() -> None:
    (info,) = vertexmeter.compute_tokens("gemini-2.5-flash", {"contents": [{"parts": [{"text": LONGEST}]}]})[
        "tokensInfo"
    ]
    assert info["tokenIds"][:5] == ["3689", "236789", "236751", "506", "27801"]
    assert "role" not in info  # the request gave no role


def test_sdk_unicode_sample_round_trips() -> None:
    text = "这是一条unicode测试🤪❤★"
    for model in ("gemini-1.5-pro", "gemini-2.5-pro", "gemini-3.1-pro-preview"):
        (info,) = vertexmeter.compute_tokens(model, {"contents": [{"role": "user", "parts": [{"text": text}]}]})[
            "tokensInfo"
        ]
        assert joined_bytes(info).decode("utf-8") == text


@settings(deadline=None, max_examples=150)
@given(st.text(min_size=1, max_size=300), st.sampled_from(["gemini-1.5-flash", "gemini-2.5-flash", "gemini-3.5-flash"]))
def test_token_bytes_concatenate_to_the_utf8_input(text: str, model: str) -> None:
    (info,) = vertexmeter.compute_tokens(model, {"contents": [{"role": "user", "parts": [{"text": text}]}]})[
        "tokensInfo"
    ]
    assert joined_bytes(info) == text.encode("utf-8")
    assert len(info["tokens"]) == len(info["tokenIds"])
    assert vertexmeter.count(model, {"contents": [{"parts": [{"text": text}]}]}).total_tokens == len(info["tokenIds"])


def test_one_tokens_info_per_text_part_with_its_role() -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "Hello"}, {"text": "there"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "greet", "args": {"who": "you"}}}]},
        ]
    }
    infos = vertexmeter.compute_tokens("gemini-2.5-flash", body)["tokensInfo"]
    assert [i["role"] for i in infos] == ["user", "user", "model", "model", "model"]
    assert [joined_bytes(i) for i in infos] == [b"Hello", b"there", b"greet", b"who", b"you"]


def test_legacy_instances_give_one_tokens_info_each() -> None:
    body = {"instances": [{"prompt": "first"}, {"prompt": "second prompt"}]}
    infos = vertexmeter.compute_tokens("text-bison@002", body)["tokensInfo"]
    assert [joined_bytes(i) for i in infos] == [b"first", b"second prompt"]
    chat = {"instances": [{"context": "Be kind.", "messages": [{"author": "u", "content": "Hi"}]}]}
    (info,) = vertexmeter.compute_tokens("chat-bison", chat)["tokensInfo"]
    assert joined_bytes(info) == b"Be kind.Hi"


def test_media_is_refused_for_compute() -> None:
    body = {"contents": [{"parts": [{"fileData": {"fileUri": "gs://b/x.png", "mimeType": "image/png"}}]}]}
    with pytest.raises(VertexMeterError) as caught:
        vertexmeter.compute_tokens("gemini-2.5-flash", body)
    assert caught.value.status == "INVALID_ARGUMENT"
    assert caught.value.field_path == "contents[0].parts[0].file_data"


def test_compute_refuses_count_only_fields() -> None:
    body = {"contents": [{"parts": [{"text": "x"}]}], "systemInstruction": {"parts": [{"text": "y"}]}}
    with pytest.raises(VertexMeterError, match='Unknown name "systemInstruction"'):
        vertexmeter.compute_tokens("gemini-2.5-flash", body)


def test_the_typed_layer_is_the_json() -> None:
    from vertexmeter.counting import ComputeResult, compute

    body = {
        "contents": [
            {"role": "user", "parts": [{"text": LONGEST}, {"text": "héllo 世界"}]},
            {"parts": [{"text": "no role"}]},
        ]
    }
    typed = compute("gemini-2.5-flash", body)
    assert isinstance(typed, ComputeResult)
    assert typed.model.id == "gemini-2.5-flash"
    assert typed.to_rest() == vertexmeter.compute_tokens("gemini-2.5-flash", body)
    assert [info.role for info in typed.tokens_info] == ["user", "user", None]
    assert typed.token_count == sum(len(info["tokenIds"]) for info in typed.to_rest()["tokensInfo"])
    assert b"".join(typed.tokens_info[1].tokens).decode("utf-8") == "héllo 世界"
    # Vertex's countTokens adds nothing to text-only contents: the same total as the listed tokens
    assert typed.token_count == vertexmeter.count_tokens("gemini-2.5-flash", body)["totalTokens"] == 17


def test_token_pieces_are_remembered_per_tokenizer_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The base64 pieces the answer gives come from a per-tokenizer memo; they equal each token's bytes
    encoded afresh, the typed result compares as before, and a full memo starts afresh."""
    import base64
    import importlib

    compute_module = importlib.import_module("vertexmeter.counting.compute")
    from vertexmeter.tokenizing import get_tokenizer

    tokenizer = get_tokenizer("gemma3")
    monkeypatch.setattr(compute_module, "_PIECES", {})
    monkeypatch.setattr(compute_module, "_MAX_PIECES", 8)
    text = "Überprüfung 가나다 ☃ the quick brown fox, 12345 and the lazy dog"
    ids = tokenizer.encode(text)
    made = compute_module._tokens_info(tokenizer, ids, "user")
    assert made.tokens == tuple(tokenizer.token_bytes(i) for i in ids)
    assert made.to_rest()["tokens"] == [base64.b64encode(tokenizer.token_bytes(i)).decode("ascii") for i in ids]
    plain = compute_module.TokensInfo(made.ids, made.tokens, "user")
    assert plain == made and plain.to_rest() == made.to_rest()
    assert b"".join(made.tokens).decode("utf-8").replace("\u2581", " ") == text
    memo = compute_module._PIECES[tokenizer]
    assert 0 < memo.filled <= len(set(ids))
    raw, encoded, names = memo.columns
    for token_id in ids:
        assert raw[token_id] == tokenizer.token_bytes(token_id) and names[token_id] == str(token_id)
        assert encoded[token_id] == base64.b64encode(raw[token_id]).decode("ascii")
    assert made.to_rest()["tokenIds"] == [str(i) for i in ids]
    again = compute_module._tokens_info(tokenizer, list(reversed(ids)), None)
    assert again.to_rest()["tokens"] == list(reversed(made.to_rest()["tokens"])) and "role" not in again.to_rest()
    assert memo.filled <= 8 + len(set(ids))  # started afresh once over the bound, then filled by one text at most
    # an id past the memo's lists (a vocabulary larger than them): longer lists, the same pieces
    monkeypatch.setattr(compute_module, "_PIECES", {tokenizer: compute_module._Pieces(4)})
    monkeypatch.setattr(compute_module, "_MAX_PIECES", 1 << 16)
    grown = compute_module._tokens_info(tokenizer, ids, "user")
    assert grown == made and grown.to_rest() == made.to_rest()
    assert len(compute_module._PIECES[tokenizer].columns[0]) > max(ids)
    single = compute_module._tokens_info(tokenizer, ids[:1], None)
    assert single.tokens == made.tokens[:1] and single.to_rest()["tokenIds"] == [str(ids[0])]
    assert compute_module._tokens_info(tokenizer, [], None).to_rest() == {"tokens": [], "tokenIds": []}


# ---- the plain-text path: the full path's answers, without its request objects --------------------------

PLAIN_MODELS = [info.id for info in vertexmeter.all_models()]


def _computed(model: str, request: object, full: bool) -> object:
    """compute_tokens' answer (full: the typed layer's, which always takes the full path), or its error."""
    from vertexmeter.counting import compute

    try:
        return compute(model, request).to_rest() if full else vertexmeter.compute_tokens(model, request)
    except VertexMeterError as exc:
        return (exc.code, str(exc), exc.field_path)


def _user(texts: list[str]) -> dict:
    return {"contents": [{"role": "user", "parts": [{"text": t} for t in texts]}]}


@pytest.mark.parametrize("model", PLAIN_MODELS)
def test_every_model_computes_plain_texts_as_the_full_path_does(model: str) -> None:
    conversation = {
        "contents": [
            {"role": "user", "parts": [{"text": "Hello"}]},
            {"role": "model", "parts": [{"text": "Hi! 😀"}, {"text": " 설명서"}]},
            {"role": "user", "parts": [{"text": "  \t\n"}]},
        ]
    }
    for request in [
        "hi",
        "  \t\n",
        "Hello, world! 안녕 😀",
        _user(["a", " b ", "설명서"]),
        _user(["x" * 3000]),
        conversation,
        {**conversation, "systemInstruction": {"parts": [{"text": "refused"}]}},
    ]:
        assert _computed(model, request, full=False) == _computed(model, request, full=True), request


@settings(deadline=None, max_examples=80)
@given(
    model=st.sampled_from(["gemini-1.5-pro", "gemini-2.5-flash", "gemini-3.5-flash", "text-bison"]),
    texts=st.lists(st.text(min_size=0, max_size=60), min_size=1, max_size=3),
    bare=st.booleans(),
)
def test_generated_plain_requests_get_the_full_paths_tokens(model: str, texts: list[str], bare: bool) -> None:
    request: object = texts[0] if bare else _user(texts)
    assert _computed(model, request, full=False) == _computed(model, request, full=True)


@settings(deadline=None, max_examples=60)
@given(
    model=st.sampled_from(["gemini-1.5-pro", "gemini-2.5-flash", "gemini-3.5-flash", "text-bison"]),
    turns=st.lists(
        st.tuples(st.sampled_from(["user", "model"]), st.lists(st.text(max_size=30), min_size=1, max_size=3)),
        min_size=1,
        max_size=4,
    ),
)
def test_generated_conversations_get_the_full_paths_tokens(model: str, turns: list[tuple[str, list[str]]]) -> None:
    request = {"contents": [{"role": role, "parts": [{"text": t} for t in texts]} for role, texts in turns]}
    assert _computed(model, request, full=False) == _computed(model, request, full=True)


@pytest.mark.parametrize(
    "request_",
    [
        "",
        _user([""]),
        _user(["ok", "bad \ud800 surrogate"]),
        "lone \udc00",
        {"contents": [{"role": "model", "parts": [{"text": "hi"}]}]},
        {"contents": [{"parts": [{"text": "hi"}]}]},
        {"contents": [{"role": "user", "parts": [{"text": 3}]}]},
        {"contents": [{"role": "user", "parts": []}]},
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {}},
    ],
)
@pytest.mark.parametrize("model", ["gemini-2.5-flash", "gemini-1.5-pro", "gemini-3.5-flash", "text-bison", "nope-9"])
def test_requests_outside_the_plain_shape_or_refused_get_the_full_paths_answer(request_: object, model: str) -> None:
    assert _computed(model, request_, full=False) == _computed(model, request_, full=True)


def test_plain_texts_skip_the_request_objects_and_a_legacy_model_takes_the_full_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    compute_module = importlib.import_module("vertexmeter.counting.compute")
    expected = _computed("gemini-2.5-flash", _user(["Hello", "there"]), full=True)
    conversation = {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}, {"role": "model", "parts": [{"text": "!"}]}]
    }
    expected_conversation = _computed("gemini-2.5-flash", conversation, full=True)
    assert [info["role"] for info in expected_conversation["tokensInfo"]] == ["user", "model"]  # type: ignore[index]
    legacy = _computed("text-bison", "Hello", full=True)
    monkeypatch.setattr(compute_module, "parse_compute_request", lambda *a: pytest.fail("the full path ran"))
    assert vertexmeter.compute_tokens("gemini-2.5-flash", _user(["Hello", "there"])) == expected
    assert vertexmeter.compute_tokens("gemini-2.5-flash", conversation) == expected_conversation
    with pytest.raises(BaseException, match="the full path ran"):
        vertexmeter.compute_tokens("text-bison", "Hello")
    monkeypatch.undo()
    assert vertexmeter.compute_tokens("text-bison", "Hello") == legacy
