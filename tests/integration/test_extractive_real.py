"""The extractive answerer over a real index."""

from __future__ import annotations

import pytest


@pytest.mark.integration
def test_a_document_of_labels_only_is_refused_not_an_error(embedder, tmp_path) -> None:
    from assistant.core import Assistant
    from assistant.settings import Settings

    (tmp_path / "words.txt").write_text("Alpha\n\nBeta\n\nGamma\n", encoding="utf-8")
    assistant = Assistant(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    assert assistant.ingest([tmp_path / "words.txt"], progress=False).ok
    answer = assistant.answer("What is Beta?")
    assert answer.abstained and not answer.citations
