"""Citations are verified against the passages the answer was written from.

A document re-ingested while a question is answered must not fail the citations of that
question's own passages (it used to: verification re-read the index, which had moved on),
and a span that is in neither the passages nor the index still fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer.chain import finish
from assistant.answer.citations import CitationError
from assistant.core import Assistant
from assistant.settings import Settings
from assistant.types import Citation
from tests.support.fakes import SAMPLE, HashEmbeddings

QUESTION = "Which countries opposed Macron's proposal?"


def test_a_re_ingest_mid_answer_keeps_the_passages_citations(tmp_path: Path) -> None:
    doc = tmp_path / "article.txt"
    doc.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    bot = Assistant(Settings(data_dir=tmp_path / "data"), embedder=HashEmbeddings())
    assert bot.ingest([doc]).ok
    inputs = bot.prepare.invoke({"question": QUESTION, "history": []})
    answer = bot.extractive.answer(inputs["found"])
    assert answer.citations

    # The document changes before the answer is checked: every offset after the new first
    # paragraph moves, so the index now holds other text at the cited offsets.
    doc.write_text("A new first paragraph.\n\n" + SAMPLE.read_text(encoding="utf-8"), "utf-8")
    assert bot.ingest([doc]).ok
    new_text = bot.document(answer.citations[0].doc_id).text
    moved = [c for c in answer.citations if new_text[c.start : c.end] != c.text]
    assert moved, "the re-ingest must move the cited spans, or this test proves nothing"

    checked = finish(answer, inputs, bot.retriever)
    passages = {p.chunk.chunk_id: p.chunk for p in inputs["found"].passages}
    for c in checked.citations:
        assert any(
            ch.doc_id == c.doc_id and ch.text[c.start - ch.start : c.end - ch.start] == c.text
            for ch in passages.values()
        )


def test_a_span_in_neither_the_passages_nor_the_index_fails(tmp_path: Path) -> None:
    bot = Assistant(Settings(data_dir=tmp_path / "data"), embedder=HashEmbeddings())
    assert bot.ingest([SAMPLE]).ok
    inputs = bot.prepare.invoke({"question": QUESTION, "history": []})
    answer = bot.extractive.answer(inputs["found"])
    real = answer.citations[0]
    forged = Citation(**{**real.model_dump(), "text": "Norway opposed the idea."})
    answer.citations = [forged]
    with pytest.raises(CitationError):
        finish(answer, inputs, bot.retriever)
