"""Chunks measured with the model's own tokenizer."""

from __future__ import annotations

from index.chunking import chunk_text
from tests.conftest import SAMPLE


def test_real_tokenizer_chunks_stay_inside_model_window(embedder) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    chunks = chunk_text(text, embedder.count_tokens, max_tokens=200, unit_tokens=254)
    for c in chunks:
        assert embedder.count_tokens([text[c.start : c.end]])[0] <= embedder.max_tokens
