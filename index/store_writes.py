"""The write side of ``Store``: the writer lock, commits in order, intents, repair.

Writes follow one order per document: chunks (with their sentence vectors), then the
document record, which is the commit; then the change-log entry; then the old version's
chunks are deleted. See ``index.store`` and ``index.lease``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from index import sentence_vectors
from index.records import DocumentWrite

if TYPE_CHECKING:
    from index.store import Store

log = logging.getLogger(__name__)
_BATCH = 2000  # stay under Chroma's maximum batch size


class StoreWrites:
    """Mixed into ``Store``."""

    @contextmanager
    def writing(self: Store) -> Iterator[None]:
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
    def _file_lock(self: Store) -> Iterator[None]:
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

    def log_head(self: Store) -> int:
        """The number of the last change recorded in the index's change log."""
        return self.changes.head(self.changes.hint())

    def _log(self: Store, doc_ids: list[str]) -> None:
        self.known_seq = self.changes.append(self.lease.owner, doc_ids, self.known_seq)

    def _intend(self: Store, doc_ids: list[str]) -> None:
        """Record intents (when the lease is held) before writing any part of ``doc_ids``."""
        if self.lease.gen:
            self.lease.note(doc_ids, self.known_seq)

    def _done(self: Store, doc_ids: list[str]) -> None:
        if self.lease.gen:
            self.lease.done(doc_ids, self.known_seq)

    def _fence(self: Store) -> None:
        if self.lease.gen:
            self.lease.check()

    def write_documents(self: Store, docs: Sequence[DocumentWrite]) -> None:
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
                kinds = list(doc.kinds[i]) if i < len(doc.kinds) else []
                page, breaks = doc.pages[i] if i < len(doc.pages) else (0, ())
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
                        "kinds": json.dumps(kinds),
                        "page": page,
                        "page_breaks": json.dumps(list(breaks)),
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

    def _upsert(self: Store, what: str, collection: Any, batch: dict[str, list[Any]]) -> None:
        for a in range(0, len(batch["ids"]), _BATCH):
            part: dict[str, Any] = {k: v[a : a + _BATCH] for k, v in batch.items()}
            part["embeddings"] = np.asarray(part["embeddings"], dtype=np.float32)
            self._guard(what, collection.upsert, **part)

    def _delete_parts(self: Store, doc_id: str, keep_hash: str | None = None) -> None:
        where: dict[str, Any] = {"doc_id": doc_id}
        if keep_hash is not None:
            where = {"$and": [{"doc_id": doc_id}, {"doc_hash": {"$ne": keep_hash}}]}
        self._guard("deleting chunks", self.chunks.delete, where=where)

    def delete_document(self: Store, doc_id: str) -> None:
        """Remove a document: the record first (uncommit), then its parts."""
        self._intend([doc_id])
        self._fence()
        self._guard("deleting a document", self.docs.delete, ids=[doc_id])
        self._log([doc_id])
        self._delete_parts(doc_id)
        self._done([doc_id])

    def repair_documents(self: Store, doc_ids: Sequence[str]) -> None:
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

    def orphans(self: Store) -> dict[tuple[str, str], tuple[int, int]]:
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

    def repair(self: Store) -> int:
        """Delete chunks that no committed document owns; returns how many."""
        stale = self.orphans()
        for doc_id, doc_hash in stale:
            where = {"$and": [{"doc_id": doc_id}, {"doc_hash": doc_hash}]}
            self._guard("repairing", self.chunks.delete, where=where)
        removed = sum(chunks for chunks, _ in stale.values())
        if stale:
            log.info("Removed %d chunks left by an interrupted ingest.", removed)
        return removed
