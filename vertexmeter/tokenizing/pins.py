"""The tokenizer model files vertexmeter pins: family -> (engine, file name, SHA-256 of the file).

No imports: a start that loads a tokenizer from its stored core table reads only this (assets.py holds
the rest of each record: where it comes from, under what licence, and the loader).
"""

PINS = {
    "gemma2": ("sentencepiece", "gemma2.spm.model", "61a7b147390c64585d6c3543dd6fc636906c9af3865a5548f27f31aee1d4c8e2"),
    "gemma3": ("sentencepiece", "gemma3.spm.model", "1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c"),
    "gemma4": (
        "tokenizers",
        "gemma4.tokenizer.json",
        "cc8d3a0ce36466ccc1278bf987df5f71db1719b9ca6b4118264f45cb627bfe0f",
    ),
}
