"""Ingest with a fake embedder and a real Chroma: no repeated work, no duplicates, no mixing."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core import Assistant
from assistant.settings import Settings
from index.ingest import remove
from index.store import Store
from tests.support.fakes import HashEmbeddings


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "alpha.txt").write_text("Alpha is a red planet. It has two moons.\n\nIt is cold.")
    (folder / "beta.md").write_text("# Beta\n\nBeta has rings. Its rings are made of ice.")
    return folder


def make(tmp_path: Path, **index: int) -> tuple[Assistant, HashEmbeddings]:
    fake = HashEmbeddings()
    settings = Settings(data_dir=tmp_path / "data", index=index or {})
    return Assistant(settings, embedder=fake), fake


def test_reingest_unchanged_does_no_embedding_work(tmp_path: Path, corpus: Path) -> None:
    assistant, fake = make(tmp_path)
    first = assistant.ingest([corpus])
    assert sorted(first.added) == ["alpha.txt", "beta.md"] and first.ok
    embedded, chunks = len(fake.embedded), assistant.store.chunks.count()
    second = assistant.ingest([corpus])
    assert sorted(second.unchanged) == ["alpha.txt", "beta.md"]
    assert len(fake.embedded) == embedded
    assert assistant.store.chunks.count() == chunks


def test_changed_file_replaces_its_chunks(tmp_path: Path, corpus: Path) -> None:
    assistant, _ = make(tmp_path)
    assistant.ingest([corpus])
    (corpus / "alpha.txt").write_text("Alpha is now blue. Nothing else is known.")
    report = assistant.ingest([corpus])
    assert report.updated == ["alpha.txt"]
    texts = [c.text for c in assistant.store.all_chunks()]
    assert not any("red planet" in t for t in texts)
    assert any("now blue" in t for t in texts)
    got = assistant.store.chunks.get(include=["documents"])["documents"]
    assert not any("red planet" in t for t in got), "old chunks must be deleted, not hidden"


def test_sync_and_remove_drop_documents(tmp_path: Path, corpus: Path) -> None:
    assistant, _ = make(tmp_path)
    assistant.ingest([corpus])
    (corpus / "beta.md").unlink()
    report = assistant.ingest([corpus], sync=True)
    assert report.removed == ["beta.md"]
    assert [d.source for d in assistant.documents()] == ["alpha.txt"]
    assert remove(["alpha.txt"], assistant.store) == ["alpha.txt"]
    assert assistant.documents() == [] and assistant.store.chunks.count() == 0


def test_bad_file_is_reported_and_others_indexed(tmp_path: Path, corpus: Path) -> None:
    (corpus / "broken.txt").write_bytes(b"\xff\xfe\x00\x00garbage")
    assistant, _ = make(tmp_path)
    report = assistant.ingest([corpus])
    assert not report.ok and [e.source for e in report.errors] == ["broken.txt"]
    assert sorted(report.added) == ["alpha.txt", "beta.md"]


def test_other_chunk_settings_use_a_separate_index(tmp_path: Path, corpus: Path) -> None:
    assistant, _ = make(tmp_path)
    assistant.ingest([corpus])
    other, _ = make(tmp_path, chunk_tokens=64)
    assert other.store.prefix != assistant.store.prefix
    assert other.documents() == [], "vectors built with other settings must not be mixed in"
    assert len(assistant.documents()) == 2


def test_uncommitted_chunks_are_invisible_and_repaired(tmp_path: Path, corpus: Path) -> None:
    assistant, fake = make(tmp_path)
    assistant.ingest([corpus])
    store: Store = assistant.store
    # Simulate a crash after chunks were written but before the document was committed.
    store.chunks.upsert(
        ids=["ghost:000:0"],
        embeddings=[[0.0] * 63 + [1.0]],
        documents=["ghost text"],
        metadatas=[
            {
                "doc_id": "ghost",
                "doc_hash": "000",
                "start": 0,
                "end": 10,
                "ord": 0,
                "units": "[[0, 10]]",
            }
        ],
    )
    assert all(c.doc_id != "ghost" for c in store.all_chunks())
    assert store.repair() == 1
    assert store.chunks.get(ids=["ghost:000:0"])["ids"] == []


def test_citation_offsets_survive_reindex(tmp_path: Path, corpus: Path) -> None:
    assistant, _ = make(tmp_path)
    assistant.ingest([corpus])
    answer = assistant.answer("How many moons does Alpha have?")
    for c in answer.citations:
        doc = assistant.document(c.doc_id)
        assert doc.text[c.start : c.end] == c.text
    assistant.ingest([corpus])  # unchanged
    for c in answer.citations:
        assert assistant.document(c.doc_id).text[c.start : c.end] == c.text
