"""Layout through the real pipeline: whole sentences, sections."""

from __future__ import annotations

from pathlib import Path

from tests.support.techdocs import TECHDOCS


def test_real_pipeline_cites_whole_sentences_with_sections(embedder, tmp_path: Path) -> None:
    """Real model, real Chroma: a hard-wrapped manual answers with a whole sentence, its
    section on the citation, and the span exact in the document."""
    from assistant.core import Assistant
    from assistant.settings import Settings

    assistant = Assistant(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    report = assistant.ingest([TECHDOCS / "git-stash.txt"], progress=False)
    assert report.ok
    answer = assistant.answer("Where is the latest stash stored?")
    assert not answer.abstained
    first = answer.citations[0]
    assert first.text.startswith("The latest stash you created is stored in `refs/stash`;")
    assert first.text.endswith("`stash@{2.hours.ago}`\nis also possible).")  # one sentence
    assert first.section == "DESCRIPTION"
    text = assistant.document(first.doc_id).text
    for c in answer.citations:
        assert text[c.start : c.end] == c.text
    assert "section" in answer.model_dump()["citations"][0]
