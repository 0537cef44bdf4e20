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
    assert 0 < len(memo) <= len(set(ids))
    again = compute_module._tokens_info(tokenizer, list(reversed(ids)), None)
    assert again.to_rest()["tokens"] == list(reversed(made.to_rest()["tokens"])) and "role" not in again.to_rest()
    assert len(memo) <= 8 + len(set(ids))  # cleared once over the bound, then filled by one text at most
