"""Layout through the real pipeline: whole sentences, sections."""

from __future__ import annotations

from pathlib import Path

from tests.support.techdocs import ROOT, TECHDOCS


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


def test_a_synopsis_never_leads_the_answer(embedder, tmp_path: Path) -> None:
    """The SYNOPSIS block names every subcommand, so it matches "What does git stash branch
    do?" best by words; stored as code, it may follow a sentence of prose, never lead."""
    from assistant.core import Assistant
    from assistant.settings import Settings

    assistant = Assistant(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    assert assistant.ingest([TECHDOCS / "git-stash.txt"], progress=False).ok
    chunks = [c for cs in assistant.searcher.chunks_by_doc().values() for c in cs]
    kinds = {
        c.text[s - c.start : e - c.start].split("\n")[0]: kind
        for c in chunks
        for (s, e), kind in zip(c.units, c.kinds, strict=True)
    }
    assert kinds["'git stash' list [<log-options>]"] == "code"
    branch = "Creates and checks out a new branch named `<branchname>` starting from"
    assert kinds[branch] == "prose"
    for question in ("What does git stash branch do?", "What does git stash list show?"):
        answer = assistant.answer(question)
        assert answer.citations, question
        assert kinds[answer.citations[0].text.split("\n")[0]] == "prose", question


def test_a_definition_term_counts_as_said_by_its_definition(embedder, tmp_path: Path) -> None:
    """In an HTML definition list the term ("dialout") stands alone and its definition
    ("Full and direct access to serial ports.") never repeats it: the term is what the
    definition says, so asking about it is not asking about something the documents lack."""
    from assistant.core import Assistant
    from assistant.settings import Settings

    doc = ROOT / "tests" / "data" / "reader-dev" / "docs" / "debian-users-and-groups.html"
    assistant = Assistant(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    assert assistant.ingest([doc], progress=False).ok
    answer = assistant.answer("What is the dialout group for?")
    assert not answer.abstained
    assert answer.citations[0].text.startswith("Full and direct access to serial ports.")
