"""The searcher follows the store's change log: no rebuild, no chunk texts held.

Two assistants on one data dir stand for a server and an ingesting process (or two
replicas): what one commits, the other's next refresh takes in by reading only the
documents that changed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core import Assistant
from assistant.settings import Settings
from index.ingest import remove
from tests.support.fakes import HashEmbeddings


def make(data: Path) -> Assistant:
    return Assistant(
        Settings(data_dir=data, embedding_model="hash-test"), embedder=HashEmbeddings()
    )


def three_documents(tmp_path: Path) -> Path:
    """A folder of three one-paragraph documents with words no other document has."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in {
        "a.txt": "Alpha keeps seven quorvel lanterns. They glow at night.",
        "b.txt": "Beta trades in brindlewood. Its harbour is deep.",
        "c.txt": "Gamma has a stone bridge. The bridge is old.",
    }.items():
        (docs / name).write_text(text)
    return docs


def test_changes_arrive_without_a_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = three_documents(tmp_path)
    writer = make(tmp_path / "data")
    writer.ingest([docs])
    reader = make(tmp_path / "data")
    assert {d.source for d in reader.documents()} == {"a.txt", "b.txt", "c.txt"}

    def no_rebuild() -> None:
        raise AssertionError("a change must not rebuild the snapshot")

    monkeypatch.setattr(reader.searcher, "rebuild", no_rebuild)
    (docs / "a.txt").write_text("Alpha sold its lanterns. It keeps zephyrine mirrors now.")
    (docs / "d.txt").write_text("Delta grows saffron on terraced hills.")
    writer.ingest([docs])
    remove(["b.txt"], writer.store)

    assert reader.searcher.refresh(force=True)
    snap = reader.searcher.snapshot
    assert set(snap.docs) == set(writer.store.committed())
    assert snap.bm25.size == sum(e.count for e in snap.docs.values())

    def sources(query: str) -> list[str]:
        return [p.chunk.source for p in reader.searcher.search(query, 3)]

    assert sources("zephyrine mirrors")[0] == "a.txt"
    assert sources("saffron terraces")[0] == "d.txt"
    assert "b.txt" not in sources("brindlewood harbour")
    assert reader.searcher.bm25.top("quorvel", 5) == [], "the old version of a.txt is gone"
    passage = reader.searcher.search("saffron", 1)[0]
    assert passage.chunk.text == "Delta grows saffron on terraced hills."
    assert not reader.searcher.refresh(force=True), "nothing new: nothing done"


def test_the_snapshot_holds_no_chunk_text(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Alpha keeps seven quorvel lanterns. They glow at night.")
    assistant = make(tmp_path / "data")
    assistant.ingest([docs])
    snap = assistant.searcher.snapshot
    held = [v for e in snap.docs.values() for v in e.meta.values() if isinstance(v, str)]
    assert not any("quorvel" in v for v in held)
    [chunk] = list(assistant.searcher.chunks)  # read from the store on demand
    assert "quorvel" in chunk.text
    assert assistant.searcher.snapshot.row_of(chunk.chunk_id) == 0
    assert assistant.searcher.chunks_by_doc()[chunk.doc_id] == [chunk]


def test_bm25s_best_hits_are_read_when_fusion_ranks_them_below_k(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A passage with the question's exact words that the embedding misses (a manual's
    `drop [<stash>]::` item) is still handed to the answerer, up to ``lexical_keep``."""
    docs = three_documents(tmp_path)
    make(tmp_path / "data").ingest([docs])

    def bot(keep: int) -> Assistant:
        settings = Settings(
            data_dir=tmp_path / "data",
            embedding_model="hash-test",
            retrieval={"k": 1, "lexical_keep": keep},
        )
        b = Assistant(settings, embedder=HashEmbeddings())
        b.searcher.refresh(force=True)
        ids = {c.source: c.chunk_id for c in b.searcher.chunks}
        # The embedding ranks the other two documents first and never finds a.txt.
        hits = [(f"{ids['b.txt']}/0", 0.9), (f"{ids['c.txt']}/0", 0.8)]
        monkeypatch.setattr(b.searcher.store, "query_units", lambda vector, n: hits)
        return b

    def sources(passages) -> list[str]:
        return [p.chunk.source for p in passages]

    assert sources(bot(0).searcher.search("quorvel lanterns")) == ["b.txt"]
    kept = bot(2)
    found = kept.searcher.search("quorvel lanterns")
    assert sources(found) == ["b.txt", "a.txt"] and [p.rank for p in found] == [0, 1]
    # The chain's answerer reads them too, while the LangChain retriever keeps its k.
    inputs = kept.prepare.invoke({"question": "quorvel lanterns", "history": []})
    assert sources(inputs["found"].passages) == ["b.txt", "a.txt"]
    assert [d.metadata["source"] for d in kept.retriever.invoke("quorvel lanterns")] == ["b.txt"]
