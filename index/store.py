"""Chroma storage of documents and chunks (with their sentences), named after what built them.

Collections share a prefix derived from the schema version, the embedding model and the
chunking settings, so an index built with other settings is never mixed with this one.
Sentence vectors travel inside their chunk's record (``index.sentence_vectors``).

Writes follow one order per document: chunks, then the document record. The
document record (with its content hash) is the commit: readers only use chunks whose hash
matches a committed record, and ``repair`` deletes anything a crash left half-written.
A fourth collection, ``-meta``, holds the writer lease and the change log (``index.lease``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import StoreError
from index import sentence_vectors
from index.chroma_client import NoEmbedding, open_client
from index.lease import ChangeLog, Lease
from index.records import ChunkRecord, DocumentWrite, chunk_records

log = logging.getLogger(__name__)
SCHEMA_VERSION = 3  # 2: layout-aware units with sections (issue 17); 3: no -units (16)
_BATCH = 2000  # stay under Chroma's maximum batch size
_RELOAD_AFTER_FAILURE_S = 5.0
_OPEN_STORES: weakref.WeakSet[Store] = weakref.WeakSet()  # see Store.reload


def index_name(model_identity: str, chunk_tokens: int, unit_tokens: int) -> str:
    """Collection prefix: a hash of everything that shapes the vectors."""
    key = json.dumps([SCHEMA_VERSION, model_identity, chunk_tokens, unit_tokens])
    return "idx-" + hashlib.sha256(key.encode()).hexdigest()[:12]


class Store:
    """The index on disk (or on a Chroma server)."""

    def __init__(
        self,
        data_dir: Path,
        model_identity: str,
        chunk_tokens: int,
        unit_tokens: int,
        chroma_url: str | None = None,
    ) -> None:
        self.prefix = index_name(model_identity, chunk_tokens, unit_tokens)
        self.manifest = {
            "schema": SCHEMA_VERSION,
            "model": model_identity,
            "chunk_tokens": chunk_tokens,
            "unit_tokens": unit_tokens,
        }
        self.location = chroma_url or str(data_dir)
        self.data_dir = data_dir
        self.chroma_url = chroma_url
        self._client = open_client(data_dir, chroma_url)
        self._open()
        self.lease = Lease(self.meta, self._guard)
        self.changes = ChangeLog(self.meta, self._guard)
        self.known_seq = self.log_head()  # the change this store's Chroma view reflects
        self._system = getattr(self._client, "_system", None)
        self._retired: Any = None
        self._units = sentence_vectors.UnitCache()
        self._reloaded_at = 0.0
        _OPEN_STORES.add(self)

    def reload(self) -> None:
        """Read a local index afresh from disk, after another process has written to it.

        Chroma's embedded client keeps its own in-memory view of the vector index and does
        not see other processes' writes: after ``assistant ingest`` ran next to a running
        server, every question reaching the new document failed with "Error finding id",
        and searches missed its sentences. Chroma shares one client per folder in a
        process, so that cached one is dropped. Calls still running on it finish on it; it
        is stopped at the next reload, unless another Store still uses it. With a Chroma
        server there is one shared view and nothing to do.
        """
        if self.chroma_url:
            return
        from chromadb.api.client import SharedSystemClient as Shared

        stale = getattr(self._client, "_identifier", None)
        Shared._identifier_to_system.pop(stale, None)
        Shared._identifier_to_refcount.pop(stale, None)
        retired, self._retired = self._retired, self._system
        self._client = open_client(self.data_dir, None)
        self._system = getattr(self._client, "_system", None)
        self._open()
        self._reloaded_at = time.monotonic()
        self.lease.collection = self.changes.collection = self.meta
        self.known_seq = self.log_head()
        in_use = {id(s._system) for s in _OPEN_STORES} | {id(s._retired) for s in _OPEN_STORES}
        if retired is not None and id(retired) not in in_use:
            retired.stop()

    def _open(self) -> None:
        meta = {f"built_with_{k}": v for k, v in self.manifest.items()}
        ef = NoEmbedding()
        try:
            self.docs = self._client.get_or_create_collection(
                f"{self.prefix}-docs", metadata=meta, embedding_function=ef
            )
            self.chunks = self._client.get_or_create_collection(
                f"{self.prefix}-chunks",
                metadata={**meta, "hnsw:space": "cosine"},
                embedding_function=ef,
            )
            self.meta = self._client.get_or_create_collection(
                f"{self.prefix}-meta", metadata=meta, embedding_function=ef
            )
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"Cannot open the index at {self.location}: {exc}") from exc
        others = [
            c
            for c in self._collection_names()
            if c.endswith("-docs") and not c.startswith(self.prefix)
        ]
        if others and self.docs.count() == 0:
            log.warning(
                "The data dir holds an index built with other settings (%s); this one "
                "starts empty. Re-run `assistant ingest` to index with the current settings.",
                ", ".join(others),
            )

    def _collection_names(self) -> list[str]:
        return [c if isinstance(c, str) else c.name for c in self._client.list_collections()]

    def _guard(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a Chroma call; turn connection failures into a clear ``StoreError``."""
        try:
            return fn(*args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:
            if not self.chroma_url:
                self._reload_quietly()  # most often a view made stale by another process
            raise StoreError(f"The index at {self.location} failed while {what}: {exc}") from exc

    def _reload_quietly(self) -> None:
        if time.monotonic() - self._reloaded_at < _RELOAD_AFTER_FAILURE_S:
            return  # a failure storm must not reload (and stop clients) in a loop
        try:
            self.reload()
        except Exception:  # the original failure is the one to report
            log.debug("Reloading the index after a failure failed too.", exc_info=True)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writer lock of this index: one ingest or removal at a time, anywhere.

        ``repair`` deletes parts that no committed record owns, and the parts another writer
        has stored but not yet committed look exactly like that: two ingests at once (the
        CLI while the server ingests an upload) left documents committed without their
        chunks. Readers never take this lock. Two locks are taken: a file lock in the data
        dir (instant between processes of this machine, released by the kernel when one
        dies) and the lease record in the store (``index.lease``), which also covers
        writers on other machines of a Chroma server. The lease's inherited intents tell
        which documents a writer that died left half-written; those are repaired first.
        """
        with self._file_lock():
            carried, hint, first = self.lease.acquire()
            try:
                head = self.changes.head(max(hint, self.known_seq))
                if head != self.known_seq:
                    self.reload()  # write on top of what is stored, never a stale view
                    self.known_seq = head
                if first:
                    self.repair()  # an index from before leases: look everywhere once
                elif carried:
                    self.repair_documents(carried)
                yield
            finally:
                self.lease.release(self.known_seq)

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: the lease alone
            yield
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "ingest.lock", "a+b") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("Waiting for another ingest into %s to finish...", self.location)
                fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def log_head(self) -> int:
        """The number of the last change recorded in the index's change log."""
        return self.changes.head(self.changes.hint())

    def _log(self, doc_ids: list[str]) -> None:
        self.known_seq = self.changes.append(self.lease.owner, doc_ids, self.known_seq)

    def _intend(self, doc_ids: list[str]) -> None:
        """Record intents (when the lease is held) before writing any part of ``doc_ids``."""
        if self.lease.gen:
            self.lease.note(doc_ids, self.known_seq)

    def _done(self, doc_ids: list[str]) -> None:
        if self.lease.gen:
            self.lease.done(doc_ids, self.known_seq)

    def _fence(self) -> None:
        if self.lease.gen:
            self.lease.check()

    # ----- reading -------------------------------------------------------------------------

    def committed(self) -> dict[str, dict[str, Any]]:
        """Document records by id (metadata only): the committed state of the index."""
        got = self._guard("listing documents", self.docs.get, include=["metadatas"])
        return {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def committed_of(self, doc_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The committed records of ``doc_ids`` that exist (metadata only)."""
        if not doc_ids:
            return {}
        got = self._guard(
            "reading documents", self.docs.get, ids=list(doc_ids), include=["metadatas"]
        )
        return {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def document(self, doc_id: str) -> tuple[str, dict[str, Any]] | None:
        got = self._guard(
            "reading a document", self.docs.get, ids=[doc_id], include=["documents", "metadatas"]
        )
        if not got["ids"]:
            return None
        return got["documents"][0], dict(got["metadatas"][0] or {})

    def all_chunks(self, committed: dict[str, dict[str, Any]] | None = None) -> list[ChunkRecord]:
        """Every chunk of a committed document, in document order (reads them all)."""
        committed = self.committed() if committed is None else committed
        got = self._guard("reading chunks", self.chunks.get, include=["documents", "metadatas"])
        return self._read(got, committed)

    def chunks_of(self, committed: dict[str, dict[str, Any]]) -> list[ChunkRecord]:
        """The chunks of the documents in ``committed`` (their committed version only)."""
        if not committed:
            return []
        got = self._guard(
            "reading chunks",
            self.chunks.get,
            where={"doc_id": {"$in": list(committed)}},
            include=["documents", "metadatas"],
        )
        return self._read(got, committed)

    def _read(self, got: dict[str, Any], committed: dict[str, dict[str, Any]]) -> list[ChunkRecord]:
        self._units.put(got["ids"], got["metadatas"])  # the answerer asks for them next
        return chunk_records(got, committed)

    def chunk_texts(self, committed: dict[str, dict[str, Any]]) -> list[tuple[str, int, str]]:
        """(doc id, position, text) of the committed chunks of these documents.

        Reads texts only: a chunk's id names its document, version and position, so the
        metadata (with its sentence vectors, several KB a chunk) need not travel.
        """
        if not committed:
            return []
        got = self._guard(
            "reading chunks",
            self.chunks.get,
            where={"doc_id": {"$in": list(committed)}},
            include=["documents"],
        )
        out = []
        for cid, text in zip(got["ids"], got["documents"], strict=True):
            doc_id, digest, ordinal = cid.split(":")
            if committed[doc_id].get("content_hash", "")[:12] == digest:
                out.append((doc_id, int(ordinal), text))
        return out

    def chunks_by_id(
        self, chunk_ids: Sequence[str], committed: dict[str, dict[str, Any]]
    ) -> dict[str, ChunkRecord]:
        """The chunks of ``chunk_ids`` that exist and belong to a document in ``committed``."""
        if not chunk_ids:
            return {}
        got = self._guard(
            "reading chunks",
            self.chunks.get,
            ids=list(chunk_ids),
            include=["documents", "metadatas"],
        )
        return {r.chunk_id: r for r in self._read(got, committed)}

    def query_units(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Nearest sentences as (unit id, cosine similarity), best first.

        Chunks are found by their own vectors (``n // 2`` of them, at least 10), then their
        sentences are ranked against ``vector`` (``index.sentence_vectors``).
        """
        count = self._guard("counting", self.chunks.count)
        if count == 0:
            return []
        got = self._guard(
            "searching",
            self.chunks.query,
            query_embeddings=[vector.tolist()],
            n_results=min(max(n // 2, 10), count),
            include=["metadatas"],
        )
        ids, metas = got["ids"][0], got["metadatas"][0]
        self._units.put(ids, metas)
        hits = []
        for cid in ids:
            vecs = self._units.get(cid)
            if vecs is not None and len(vecs):
                sims = sentence_vectors.cosines(vecs, vector)
                hits.extend((f"{cid}/{j}", float(s)) for j, s in enumerate(sims))
        hits.sort(key=lambda h: h[1], reverse=True)
        return hits[:n]

    def unit_vectors(self, unit_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors of sentences by unit id (``chunk_id/j``); unknown ids are left out."""
        wanted = {u: u.rpartition("/") for u in unit_ids}
        missing = sorted({c for c, _, _ in wanted.values() if self._units.get(c) is None})
        if missing:
            got = self._guard(
                "reading vectors", self.chunks.get, ids=missing, include=["metadatas"]
            )
            self._units.put(got["ids"], got["metadatas"])
        out = {}
        for unit_id, (cid, _, j) in wanted.items():
            vecs = self._units.get(cid)
            if vecs is not None and j.isdigit() and int(j) < len(vecs):
                out[unit_id] = vecs[int(j)]
        return out

    def unit_count(self) -> int:
        """Sentences of the committed documents (as their records count them)."""
        return sum(int(m.get("units", 0)) for m in self.committed().values())

    # ----- writing -------------------------------------------------------------------------

    def write_documents(self, docs: Sequence[DocumentWrite]) -> None:
        """Store documents so that a reader never sees one half-written (module docstring).

        All chunks of the batch go first, then the document records (the commit),
        then the old parts of changed documents are deleted. Few large writes are much faster
        than many small ones: each Chroma write is a transaction.
        """
        committed = self.committed_of([d.doc_id for d in docs])
        self._intend([d.doc_id for d in docs])
        chunks: dict[str, list[Any]] = {
            "ids": [],
            "embeddings": [],
            "metadatas": [],
            "documents": [],
        }
        records: dict[str, list[Any]] = {
            "ids": [],
            "embeddings": [],
            "metadatas": [],
            "documents": [],
        }
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for doc in docs:
            doc_hash = doc.meta["content_hash"]
            row = 0
            for i, (start, end, spans) in enumerate(doc.chunks):
                cid = f"{doc.doc_id}:{doc_hash[:12]}:{i}"
                sections = list(doc.sections[i]) if i < len(doc.sections) else []
                vecs = doc.unit_vectors[row : row + len(spans)]
                row += len(spans)
                chunks["ids"].append(cid)
                chunks["embeddings"].append(doc.chunk_vectors[i])
                chunks["documents"].append(doc.text[start:end])
                chunks["metadatas"].append(
                    {
                        "doc_id": doc.doc_id,
                        "doc_hash": doc_hash,
                        "start": start,
                        "end": end,
                        "ord": i,
                        "units": json.dumps([list(s) for s in spans]),
                        "sections": json.dumps(sections),
                        "unit_vecs": sentence_vectors.encode(vecs),
                        "unit_dim": int(vecs.shape[1]) if len(vecs) else 0,
                    }
                )
            record = {
                **doc.meta,
                "chunks": len(doc.chunks),
                "units": len(doc.unit_vectors),
                "chars": len(doc.text),
                "indexed_at": now,
            }
            records["ids"].append(doc.doc_id)
            records["embeddings"].append(np.ones(1, dtype=np.float32))
            records["documents"].append(doc.text)
            records["metadatas"].append({k: v for k, v in record.items() if v is not None})
        self._upsert("writing chunks", self.chunks, chunks)
        self._fence()
        self._upsert("committing documents", self.docs, records)
        self._log([d.doc_id for d in docs])
        for doc in docs:
            old = committed.get(doc.doc_id)
            if old is not None and old.get("content_hash") != doc.meta["content_hash"]:
                self._delete_parts(doc.doc_id, keep_hash=doc.meta["content_hash"])
        self._done([d.doc_id for d in docs])

    def _upsert(self, what: str, collection: Any, batch: dict[str, list[Any]]) -> None:
        for a in range(0, len(batch["ids"]), _BATCH):
            part = {k: v[a : a + _BATCH] for k, v in batch.items()}
            part["embeddings"] = np.asarray(part["embeddings"], dtype=np.float32)
            self._guard(what, collection.upsert, **part)

    def _delete_parts(self, doc_id: str, keep_hash: str | None = None) -> None:
        where: dict[str, Any] = {"doc_id": doc_id}
        if keep_hash is not None:
            where = {"$and": [{"doc_id": doc_id}, {"doc_hash": {"$ne": keep_hash}}]}
        self._guard("deleting chunks", self.chunks.delete, where=where)

    def delete_document(self, doc_id: str) -> None:
        """Remove a document: the record first (uncommit), then its parts."""
        self._intend([doc_id])
        self._fence()
        self._guard("deleting a document", self.docs.delete, ids=[doc_id])
        self._log([doc_id])
        self._delete_parts(doc_id)
        self._done([doc_id])

    def repair_documents(self, doc_ids: Sequence[str]) -> None:
        """Delete the parts of ``doc_ids`` that their committed record (if any) does not own.

        What an interrupted writer's intents name (``Store.writing``); logged as a change,
        since that writer may have committed some of them without logging it.
        """
        committed = self.committed_of(doc_ids)
        for doc_id in doc_ids:
            keep = committed.get(doc_id, {}).get("content_hash")
            self._delete_parts(doc_id, keep_hash=keep)
        log.info("Repaired %d documents an interrupted ingest was writing.", len(doc_ids))
        self._log(list(doc_ids))
        self._done(list(doc_ids))

    def orphans(self) -> dict[tuple[str, str], tuple[int, int]]:
        """Parts no committed document owns: {(doc_id, doc_hash): (chunks, sentences)}.

        What a crash between writing parts and committing leaves behind; ``repair`` deletes
        exactly these, and ``assistant doctor`` reports them without touching anything.
        """
        committed = self.committed()
        stale: dict[tuple[str, str], tuple[int, int]] = {}
        got = self._guard("checking chunks", self.chunks.get, include=["metadatas"])
        for m in got["metadatas"]:
            if committed.get(m["doc_id"], {}).get("content_hash") != m["doc_hash"]:
                key = (m["doc_id"], m["doc_hash"])
                chunks, units = stale.get(key, (0, 0))
                stale[key] = (chunks + 1, units + len(json.loads(m.get("units") or "[]")))
        return stale

    def repair(self) -> int:
        """Delete chunks that no committed document owns; returns how many."""
        stale = self.orphans()
        for doc_id, doc_hash in stale:
            where = {"$and": [{"doc_id": doc_id}, {"doc_hash": doc_hash}]}
            self._guard("repairing", self.chunks.delete, where=where)
        removed = sum(chunks for chunks, _ in stale.values())
        if stale:
            log.info("Removed %d chunks left by an interrupted ingest.", removed)
        return removed

    @staticmethod
    def revision_of(committed: dict[str, dict[str, Any]]) -> str:
        """Changes whenever a document is added, changed or removed."""
        items = sorted((i, m.get("content_hash")) for i, m in committed.items())
        return hashlib.sha1(json.dumps(items).encode()).hexdigest()
