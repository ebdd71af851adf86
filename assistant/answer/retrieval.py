"""Hybrid retrieval: dense search in Chroma and BM25 in memory, fused by reciprocal rank."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from assistant.answer.bm25 import BM25
from assistant.answer.lexical import terms
from assistant.settings import RetrievalSettings
from index.ingest import Embedder
from index.records import ChunkRecord
from index.store import Store

_REFRESH_EVERY_S = 0.25  # one small read of the change log, at most this often
_BUILD_BATCH = 4000  # chunks read from the store (and tokenized) at once in a full build


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk with its scores; ``score`` is its best sentence similarity, 0..1."""

    chunk: ChunkRecord
    score: float
    fused: float
    rank: int


@dataclass(frozen=True, slots=True)
class DocEntry:
    """A committed document as the snapshot knows it; its chunks are rows ``first..``."""

    doc_id: str
    meta: dict[str, Any]  # the committed record (content_hash, source, title, date, ...)
    first: int
    count: int


@dataclass(frozen=True)
class Snapshot:
    """One committed state of the index: BM25 over its chunks and where each chunk is.

    No chunk text is kept: a chunk is a BM25 row, and the documents' rows are consecutive,
    so a row's chunk id is computed from its document's entry. Texts are read from the
    store for the few passages a question needs. Immutable and swapped in by one
    assignment, so a search that started before a refresh keeps rows, scores and
    documents that belong together; ``seq`` is the last change (``index.lease``) it holds.
    """

    seq: int
    bm25: BM25
    docs: dict[str, DocEntry]  # live documents
    entries: tuple[DocEntry, ...]  # every entry ever added, in row order (removed ones too)
    firsts: np.ndarray  # entries' first rows, for bisection

    @classmethod
    def empty(cls) -> Snapshot:
        return cls(0, BM25(), {}, (), np.zeros(0, dtype=np.int64))

    def chunk_id(self, row: int) -> str:
        e = self.entries[int(np.searchsorted(self.firsts, row, side="right")) - 1]
        return f"{e.doc_id}:{e.meta['content_hash'][:12]}:{row - e.first}"

    def row_of(self, chunk_id: str) -> int | None:
        """The row of a chunk of a live document, else None (not committed, or replaced)."""
        doc_id, _, rest = chunk_id.partition(":")
        e = self.docs.get(doc_id)
        digest, _, ordinal = rest.partition(":")
        if e is None or e.meta["content_hash"][:12] != digest or not ordinal.isdigit():
            return None
        i = int(ordinal)
        return e.first + i if i < e.count else None

    def committed(self, doc_ids: Any = None) -> dict[str, dict[str, Any]]:
        ids = self.docs if doc_ids is None else doc_ids
        return {d: self.docs[d].meta for d in ids if d in self.docs}

    def changed(
        self,
        records: dict[str, dict[str, Any]],
        chunks: list[tuple[str, int, str]],
        seq: int,
        gone: Any,
    ) -> Snapshot:
        """A copy without the documents in ``gone`` and with ``chunks`` (doc id, position,
        text) of the documents in ``records``."""
        rows = [
            r
            for d in gone
            if d in self.docs
            for r in range(self.docs[d].first, self.docs[d].first + self.docs[d].count)
        ]
        bm25 = self.bm25.remove(rows)
        docs = {d: e for d, e in self.docs.items() if d not in gone}
        entries, firsts = list(self.entries), [int(x) for x in self.firsts]
        by_doc: dict[str, list[tuple[int, str]]] = {}
        for doc_id, ordinal, text in chunks:
            by_doc.setdefault(doc_id, []).append((ordinal, text))
        bags: list[list[str]] = []
        for doc_id, parts in by_doc.items():
            parts.sort()
            if [o for o, _ in parts] != list(range(len(parts))):
                continue  # not all of it is there (being replaced): the next change brings it
            e = DocEntry(doc_id, records[doc_id], bm25.rows + len(bags), len(parts))
            docs[doc_id] = e
            entries.append(e)
            firsts.append(e.first)
            bags.extend(terms(text) for _, text in parts)
        bm25 = bm25.add_terms(bags)
        return Snapshot(seq, bm25, docs, tuple(entries), np.asarray(firsts, dtype=np.int64))


@dataclass
class Found:
    """One question's retrieval: the query, its vector, the snapshot it searched and the
    passages found.

    The answerer and citation verification read this object, never the searcher's current
    state, so an answer cannot mix the snapshot its passages came from with a newer one (a
    re-ingest mid-answer), and the question is embedded once per answer.
    """

    query: str
    vector: np.ndarray
    snapshot: Snapshot
    passages: list[Passage] = field(default_factory=list)

    def keeping(self, passages: Sequence[Passage]) -> Found:
        """The same question and snapshot with fewer (or other) passages."""
        return replace(self, passages=list(passages))


class Searcher:
    """The read side of the index: BM25 rows in memory, texts and vectors in Chroma.

    The snapshot follows the store's change log (``index.lease``): documents another
    process (or the UI, or another replica) commits are read and added to BM25 without
    rebuilding it, so they are found within ``_REFRESH_EVERY_S`` plus the time to read
    them, and never half-written.
    """

    def __init__(self, store: Store, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._lock = threading.Lock()
        self._checked = 0.0
        self._built = False
        self.snapshot = Snapshot.empty()
        self._doc_chunks: OrderedDict[tuple[str, str], list[ChunkRecord]] = OrderedDict()
        self.refresh(force=True)

    @property
    def revision(self) -> str:
        return str(self.snapshot.seq)

    @property
    def bm25(self) -> BM25:
        return self.snapshot.bm25

    @property
    def chunks(self) -> ChunkRows:
        """The snapshot's chunks by row (each read from the store when asked for)."""
        return ChunkRows(self, self.snapshot)

    def rebuild(self) -> None:
        """Read every committed chunk afresh: at start, and when removals have piled up."""
        seq = self.store.log_head()  # first: changes made while reading are replayed after
        committed = self.store.committed()
        trim_heap()
        snap = Snapshot(seq, BM25(), {}, (), np.zeros(0, dtype=np.int64))
        batch: dict[str, dict[str, Any]] = {}
        size = 0
        for doc_id in sorted(committed):
            batch[doc_id] = committed[doc_id]
            size += int(committed[doc_id].get("chunks", 1))
            if size >= _BUILD_BATCH:
                snap = snap.changed(batch, self.store.chunk_texts(batch), seq, ())
                batch, size = {}, 0
                trim_heap()
        if batch:
            snap = snap.changed(batch, self.store.chunk_texts(batch), seq, ())
        self.snapshot = snap
        trim_heap()

    def refresh(self, force: bool = False) -> bool:
        """Take in the changes committed since the snapshot; returns whether there were any.

        ``force`` checks now instead of at most every ``_REFRESH_EVERY_S``.
        """
        now = time.monotonic()
        if not force and now - self._checked < _REFRESH_EVERY_S:
            return False
        with self._lock:
            self._checked = now
            if not self._built:
                self.rebuild()
                self._built = True
                return True
            changes = self.store.changes.since(self.snapshot.seq)
            if not changes:
                return False
            seq = changes[-1][0]
            foreign = any(owner != self.store.lease.owner for _, owner, _ in changes)
            if foreign and seq > self.store.known_seq:
                self.store.reload()  # a local Chroma does not see other processes' vectors
            doc_ids = sorted({d for _, _, ids in changes for d in ids})
            records = self.store.committed_of(doc_ids)
            snap = self.snapshot
            gone = {
                d
                for d in doc_ids
                if d in snap.docs
                and records.get(d, {}).get("content_hash") != snap.docs[d].meta["content_hash"]
            }
            new = {d: m for d, m in records.items() if d in gone or d not in snap.docs}
            snap = snap.changed(new, self.store.chunk_texts(new), seq, gone)
            if snap.bm25.rows - snap.bm25.size > max(snap.bm25.size, 10_000):
                self.rebuild()  # removed rows outnumber live ones: start afresh
            else:
                self.snapshot = snap
            return True

    def chunks_by_doc(self, snap: Snapshot | None = None) -> Mapping[str, list[ChunkRecord]]:
        """Chunks of ``snap`` (default: the current snapshot) grouped by document id, in
        document order (read when asked for)."""
        return DocChunks(self, self.snapshot if snap is None else snap)

    def rows(self, snap: Snapshot) -> ChunkRows:
        """The chunks of ``snap`` by row, as ``chunks`` gives them for the current one."""
        return ChunkRows(self, snap)

    def doc_chunks(self, snap: Snapshot, doc_id: str) -> list[ChunkRecord]:
        """The chunks of one document of ``snap``, from a small cache or the store."""
        key = (doc_id, snap.docs[doc_id].meta["content_hash"])
        found = self._doc_chunks.get(key)
        if found is None:
            found = self.store.chunks_of(snap.committed([doc_id]))
            self._doc_chunks[key] = found
            if len(self._doc_chunks) > 64:
                self._doc_chunks.popitem(last=False)
        return found

    def query_vector(self, text: str) -> np.ndarray:
        """The embedding of a question or claim (one encode call; not cached, since a
        question is embedded once, by ``begin``)."""
        return self.embedder.encode([text])[0]

    def begin(self, query: str) -> Found:
        """A question's retrieval before the search: the current snapshot and the query's
        vector, which the search, the answerer and verification then share."""
        self.refresh()
        return Found(query, self.query_vector(query), self.snapshot)

    def search(self, query: str, k: int | None = None) -> list[Passage]:
        """The ``k`` best passages for ``query``, best first."""
        return self.find(query, k).passages

    def find(self, query: str, k: int | None = None) -> Found:
        """``begin`` and ``fill``: the question's whole retrieval."""
        return self.fill(self.begin(query), k)

    def fill(self, found: Found, k: int | None = None) -> Found:
        """Search ``found``'s snapshot with its vector; sets and returns its passages."""
        k = k or self.settings.k
        n = self.settings.candidates
        snap = found.snapshot  # one consistent state for the whole answer
        if not snap.docs:
            found.passages = []
            return found
        dense: dict[str, float] = {}
        for unit_id, sim in self.store.query_units(found.vector, n * 3):
            cid = unit_id.rsplit("/", 1)[0]
            if sim > dense.get(cid, -1.0) and snap.row_of(cid) is not None:
                dense[cid] = sim
        fused: dict[str, float] = {}
        rrf = self.settings.rrf_k
        for rank, cid in enumerate(sorted(dense, key=dense.__getitem__, reverse=True)[:n]):
            fused[cid] = 1.0 / (rrf + rank)
        lexical: list[str] = []
        for rank, (row, _) in enumerate(snap.bm25.top(found.query, n)):
            cid = snap.chunk_id(row)
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (rrf + rank)
            lexical.append(cid)
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        # A passage that holds the question's exact words but that the embedding ranks low
        # (a manual's `drop [<stash>]::` item: "Remove a single stash entry") is kept too.
        best += [c for c in lexical[: self.settings.lexical_keep] if c not in best]
        got = self.store.chunks_by_id(best, snap.committed({c.partition(":")[0] for c in best}))
        hits = [c for c in best if c in got]  # a chunk replaced since the snapshot drops out
        found.passages = [
            Passage(got[c], max(0.0, min(1.0, dense.get(c, 0.0))), fused[c], r)
            for r, c in enumerate(hits)
        ]
        return found


def trim_heap() -> None:
    """Give memory freed after a large read back to the system (glibc only).

    Reading every record of a large index through Chroma leaves hundreds of MB freed but
    held by the C allocator's arenas (measured at 100,000 chunks: RSS 1,140 MB after the
    build, about 600 MB of it free heap); ``malloc_trim`` returns it. Elsewhere a no-op.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class ChunkRows(Sequence[ChunkRecord]):
    """``searcher.chunks``: row -> chunk, read from the store on access.

    Indexing a removed row gives a placeholder with no document; iterating gives every live
    chunk in row order (it reads them all: for tools and tests, not for answering).
    """

    def __init__(self, searcher: Searcher, snap: Snapshot) -> None:
        self._searcher, self._snap = searcher, snap

    def __len__(self) -> int:
        return self._snap.bm25.rows

    def __getitem__(self, row: Any) -> Any:
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        cid = self._snap.chunk_id(row)
        doc_id = cid.partition(":")[0]
        if self._snap.row_of(cid) == row:
            found = self._searcher.store.chunks_by_id([cid], self._snap.committed([doc_id]))
            if cid in found:
                return found[cid]
        return ChunkRecord(cid, "", "", "", None, "", 0, 0, ())

    def __iter__(self) -> Iterator[ChunkRecord]:
        for e in self._snap.entries:
            if self._snap.docs.get(e.doc_id) is e:
                yield from self._searcher.doc_chunks(self._snap, e.doc_id)


class DocChunks(Mapping[str, list[ChunkRecord]]):
    """``searcher.chunks_by_doc()``: a document's chunks, read from the store when asked."""

    def __init__(self, searcher: Searcher, snap: Snapshot) -> None:
        self._searcher, self._snap = searcher, snap

    def __getitem__(self, doc_id: str) -> list[ChunkRecord]:
        if doc_id not in self._snap.docs:
            raise KeyError(doc_id)
        return self._searcher.doc_chunks(self._snap, doc_id)

    def __iter__(self) -> Iterator[str]:
        return iter(self._snap.docs)

    def __len__(self) -> int:
        return len(self._snap.docs)
