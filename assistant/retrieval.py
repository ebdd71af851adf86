"""Hybrid retrieval: dense search in Chroma and BM25 in memory, fused by reciprocal rank."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.lexical import BM25
from assistant.settings import RetrievalSettings
from index.ingest import Embedder
from index.records import ChunkRecord
from index.store import Store

_REFRESH_EVERY_S = 1.0


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk with its scores; ``score`` is its best sentence similarity, 0..1."""

    chunk: ChunkRecord
    score: float
    fused: float
    rank: int


@dataclass(frozen=True)
class Snapshot:
    """One committed state of the index, for BM25 and for mapping dense hits to chunks.

    Immutable and swapped in by one assignment, so a search that started before a refresh
    keeps positions, BM25 scores and chunks that belong together.
    """

    revision: str
    chunks: list[ChunkRecord]
    bm25: BM25
    by_id: dict[str, int]
    by_doc: dict[str, list[ChunkRecord]]

    @classmethod
    def build(cls, revision: str, chunks: list[ChunkRecord]) -> Snapshot:
        by_doc: dict[str, list[ChunkRecord]] = {}
        for c in chunks:
            by_doc.setdefault(c.doc_id, []).append(c)
        by_id = {c.chunk_id: i for i, c in enumerate(chunks)}
        return cls(revision, chunks, BM25([c.text for c in chunks]), by_id, by_doc)


class Searcher:
    """The read side of the index: an in-memory snapshot for BM25, Chroma for dense search.

    The snapshot is rebuilt when the store's revision changes, so documents ingested by
    another process (or the UI) become visible without a restart, and never half-written.
    """

    def __init__(self, store: Store, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._lock = threading.Lock()
        self._checked = 0.0
        self.snapshot = Snapshot.build("", [])
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.refresh(force=True)

    @property
    def revision(self) -> str:
        return self.snapshot.revision

    @property
    def chunks(self) -> list[ChunkRecord]:
        return self.snapshot.chunks

    @property
    def bm25(self) -> BM25:
        return self.snapshot.bm25

    @property
    def by_id(self) -> dict[str, int]:
        return self.snapshot.by_id

    def refresh(self, force: bool = False) -> bool:
        """Reload the snapshot if the index changed; returns whether it did."""
        now = time.monotonic()
        if not force and now - self._checked < _REFRESH_EVERY_S:
            return False
        with self._lock:
            self._checked = now
            committed = self.store.committed()
            revision = self.store.revision_of(committed)
            if revision == self.snapshot.revision and not force:
                return False
            if revision != self.store.known_revision:  # another process wrote
                self.store.reload()
            self.snapshot = Snapshot.build(revision, self.store.all_chunks(committed))
            return True

    def chunks_by_doc(self) -> dict[str, list[ChunkRecord]]:
        """Chunks grouped by document id, in document order."""
        return self.snapshot.by_doc

    def query_vector(self, text: str) -> np.ndarray:
        """The question's embedding, cached because the chain needs it twice per question."""
        vec = self._vectors.get(text)
        if vec is None:
            vec = self.embedder.encode([text])[0]
            self._vectors[text] = vec
            if len(self._vectors) > 256:
                self._vectors.popitem(last=False)
        return vec

    def search(self, query: str, k: int | None = None) -> list[Passage]:
        """The ``k`` best passages for ``query``, best first."""
        self.refresh()
        k = k or self.settings.k
        n = self.settings.candidates
        snap = self.snapshot  # one consistent state for the whole search
        chunks, by_id = snap.chunks, snap.by_id
        if not chunks:
            return []
        dense: dict[int, float] = {}
        for unit_id, sim in self.store.query_units(self.query_vector(query), n * 3):
            i = by_id.get(unit_id.rsplit("/", 1)[0])
            if i is not None and sim > dense.get(i, -1.0):
                dense[i] = sim
        fused: dict[int, float] = {}
        rrf = self.settings.rrf_k
        for rank, i in enumerate(sorted(dense, key=dense.__getitem__, reverse=True)[:n]):
            fused[i] = 1.0 / (rrf + rank)
        for rank, (i, _) in enumerate(snap.bm25.top(query, n)):
            fused[i] = fused.get(i, 0.0) + 1.0 / (rrf + rank)
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        return [
            Passage(chunks[i], max(0.0, min(1.0, dense.get(i, 0.0))), fused[i], r)
            for r, i in enumerate(best)
        ]


def passage_to_document(p: Passage) -> Document:
    c = p.chunk
    return Document(
        page_content=c.text,
        id=c.chunk_id,
        metadata={
            "chunk_id": c.chunk_id,
            "doc_id": c.doc_id,
            "source": c.source,
            "title": c.title,
            "date": c.date,
            "start": c.start,
            "end": c.end,
            "units": [list(u) for u in c.units],
            "section": c.sections[0] if c.sections else "",
            "page": c.page or None,  # 1-based page the chunk starts on (PDF), else None
            "score": p.score,
            "rank": p.rank,
        },
    )


class HybridRetriever(BaseRetriever):
    """LangChain retriever over the hybrid search; documents carry exact offsets."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    searcher: Any
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        return [passage_to_document(p) for p in self.searcher.search(query, k)]
