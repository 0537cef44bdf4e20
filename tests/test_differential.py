"""Differential tests: vertexmeter against raw sentencepiece and against google-genai's LocalTokenizer."""

from __future__ import annotations

import pytest
import sentencepiece
from hypothesis import given, settings
from hypothesis import strategies as st

import vertexmeter
from tests.tokenizer_files import packaged_bytes

# Text that exercises the tokenizers: code, whitespace runs, CJK, emoji, combining marks, control chars.
snippets = st.sampled_from(
    [
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\u00a0",
        "\u200b",
        "e\u0301",
        "👩‍💻",
        "日本",
        "<bos>",
        "▁",
        "def f(x):\n    return x",
    ]
)
interesting = (
    st.lists(st.one_of(st.text(st.characters(codec="utf-8"), max_size=40), snippets), min_size=1, max_size=12)
    .map("".join)
    .filter(bool)
)


@pytest.fixture(scope="module")
def raw_spm() -> dict[str, sentencepiece.SentencePieceProcessor]:
    processors = {}
    for family in ("gemma2", "gemma3"):
        sp = sentencepiece.SentencePieceProcessor()
        sp.LoadFromSerializedProto(packaged_bytes(family))
        processors[family] = sp
    return processors


@settings(deadline=None, max_examples=200)
@given(st.lists(interesting, min_size=1, max_size=4))
def test_counts_equal_raw_sentencepiece(raw_spm: dict, texts: list[str]) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": t} for t in texts]}]}
    for model, family in (("gemini-1.5-pro", "gemma2"), ("gemini-2.5-pro", "gemma3")):
        expected = sum(len(raw_spm[family].encode(t)) for t in texts)
        assert vertexmeter.count(model, body).total_tokens == expected
        ids = [int(i) for info in vertexmeter.compute_tokens(model, body)["tokensInfo"] for i in info["tokenIds"]]
        assert ids == [i for t in texts for i in raw_spm[family].encode(t)]


@settings(deadline=None, max_examples=100)
@given(st.lists(interesting, min_size=1, max_size=3), st.lists(interesting, max_size=2))
def test_counts_equal_google_genai_local_tokenizer(
    sdk_local_tokenizer_dir: str, user: list[str], model: list[str]
) -> None:
    from google.genai import local_tokenizer, types

    contents = [types.Content(role="user", parts=[types.Part(text=t) for t in user])]
    if model:
        contents.append(types.Content(role="model", parts=[types.Part(text=t) for t in model]))
    sdk = local_tokenizer.LocalTokenizer("gemini-2.5-flash").count_tokens(contents).total_tokens
    # Vertex dialect on 2.5 adds nothing to the raw texts, which is the SDK's method.
    assert vertexmeter.count("gemini-2.5-flash", contents).total_tokens == sdk


def test_sdk_tools_and_schema_walk_agree(sdk_local_tokenizer_dir: str) -> None:
    from google.genai import local_tokenizer, types

    tool = types.Tool(
        function_declarations=[
            types.FunctionDeclaration(
                name="find_books",
                description="Finds books by an author.",
                parameters=types.Schema(
                    type="OBJECT",
                    properties={
                        "author": types.Schema(type="STRING", description="Full name"),
                        "genre": types.Schema(type="STRING", enum=["fiction", "poetry"]),
                    },
                    required=["author"],
                ),
            )
        ]
    )
    schema = types.Schema(type="ARRAY", items=types.Schema(type="STRING", format="isbn"))
    config = types.CountTokensConfig(
        tools=[tool],
        system_instruction="Answer briefly.",
        generation_config=types.GenerationConfig(response_schema=schema),
    )
    contents = [
        types.Content(
            role="user",
            parts=[
                types.Part(text="Books by Le Guin?"),
                types.Part(function_call=types.FunctionCall(name="f", args={"q": "x"})),
            ],
        )
    ]
    sdk = local_tokenizer.LocalTokenizer("gemini-2.5-flash").count_tokens(contents, config=config).total_tokens
    body = {
        "contents": [c.model_dump(mode="json", exclude_none=True, by_alias=True) for c in contents],
        "tools": [tool.model_dump(mode="json", exclude_none=True, by_alias=True)],
        "systemInstruction": {"parts": [{"text": "Answer briefly."}]},
        "generationConfig": {"responseSchema": schema.model_dump(mode="json", exclude_none=True, by_alias=True)},
    }
    # The SDK sums the texts; Vertex adds its tool template on top (1 per typed schema node, accounting.yaml).
    from vertexmeter.counting.accounting import tool_template_tokens
    from vertexmeter.registry import accounting_for, resolve

    template = accounting_for(resolve("gemini-2.5-flash"), "vertex", "countTokens").tools
    typed = tool_template_tokens(body["tools"], template)
    assert vertexmeter.count("gemini-2.5-flash", body).total_tokens == sdk + typed


def test_google_genai_types_are_accepted() -> None:
    types = pytest.importorskip("google.genai.types")
    content = types.Content(role="user", parts=[types.Part(text="What is your name?")])
    assert vertexmeter.count_tokens("gemini-2.5-flash", content)["totalTokens"] == 5
    assert vertexmeter.count_tokens("gemini-2.5-flash", [content, content])["totalTokens"] == 10
    (info,) = vertexmeter.compute_tokens("gemini-2.5-flash", [content])["tokensInfo"]
    assert len(info["tokenIds"]) == 5
