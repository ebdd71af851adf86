"""Chroma storage of documents, chunks and sentence units, named after what built them.

Three collections share a prefix derived from the schema version, the embedding model and
the chunking settings, so an index built with other settings is never mixed with this one.

Writes follow one order per document: units, then chunks, then the document record. The
document record (with its content hash) is the commit: readers only use chunks whose hash
matches a committed record, and ``repair`` deletes anything a crash left half-written.
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
from index.chroma_client import NoEmbedding, open_client
from index.records import ChunkRecord, DocumentWrite

log = logging.getLogger(__name__)
SCHEMA_VERSION = 3  # 2: layout-aware units with sections (issue 17); 3: PDF pages (issue 14)
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
        collection: str | None = None,
    ) -> None:
        from index.collection_names import DEFAULT, store_prefix

        self.base_prefix = index_name(model_identity, chunk_tokens, unit_tokens)
        self.collection = collection or DEFAULT  # see index.collection_names
        self.prefix = store_prefix(self.base_prefix, self.collection)
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
        self.known_revision = self.revision_of(self.committed())
        self._system = getattr(self._client, "_system", None)
        self._retired: Any = None
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
        self.known_revision = self.revision_of(self.committed())
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
            self.units = self._client.get_or_create_collection(
                f"{self.prefix}-units",
                metadata={**meta, "hnsw:space": "cosine"},
                embedding_function=ef,
            )
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"Cannot open the index at {self.location}: {exc}") from exc
        others = [
            c
            for c in self._collection_names()
            if c.endswith("-docs") and not c.startswith(self.base_prefix)
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
        """Hold the writer lock of this data dir: one ingest or removal at a time.

        ``repair`` deletes parts that no committed record owns, and the parts another writer
        has stored but not yet committed look exactly like that: two ingests at once (the
        CLI while the server ingests an upload) left documents committed without their
        chunks. Readers never take this lock. It is a local file lock, so with a Chroma
        server it covers the writers on this machine only.
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no cross-process lock
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
                if self.revision_of(self.committed()) != self.known_revision:
                    self.reload()  # write on top of what is on disk, never a stale view
                yield
                self.known_revision = self.revision_of(self.committed())
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # ----- reading -------------------------------------------------------------------------

    def committed(self) -> dict[str, dict[str, Any]]:
        """Document records by id (metadata only): the committed state of the index."""
        got = self._guard("listing documents", self.docs.get, include=["metadatas"])
        return {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def document(self, doc_id: str) -> tuple[str, dict[str, Any]] | None:
        got = self._guard(
            "reading a document", self.docs.get, ids=[doc_id], include=["documents", "metadatas"]
        )
        if not got["ids"]:
            return None
        return got["documents"][0], dict(got["metadatas"][0] or {})

    def all_chunks(self, committed: dict[str, dict[str, Any]] | None = None) -> list[ChunkRecord]:
        """Every chunk of a committed document, in document order."""
        committed = self.committed() if committed is None else committed
        got = self._guard("reading chunks", self.chunks.get, include=["documents", "metadatas"])
        records = []
        for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            doc = committed.get(meta["doc_id"])
            if doc is None or doc.get("content_hash") != meta["doc_hash"]:
                continue  # left over from an interrupted write: not visible
            records.append(
                ChunkRecord(
                    chunk_id=cid,
                    doc_id=meta["doc_id"],
                    source=doc["source"],
                    title=doc["title"],
                    date=doc.get("date") or None,
                    text=text,
                    start=meta["start"],
                    end=meta["end"],
                    units=tuple(tuple(u) for u in json.loads(meta["units"])),
                    sections=tuple(json.loads(meta.get("sections") or "[]")),
                    page=int(meta.get("page") or 0),
                    page_breaks=tuple(json.loads(meta.get("page_breaks") or "[]")),
                )
            )
        records.sort(key=lambda r: (r.doc_id, r.start))
        return records

    def query_units(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Nearest units as (unit id, cosine similarity)."""
        count = self._guard("counting", self.units.count)
        if count == 0:
            return []
        got = self._guard(
            "searching",
            self.units.query,
            query_embeddings=[vector.tolist()],
            n_results=min(n, count),
            include=["distances"],
        )
        return [(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]

    def unit_vectors(self, unit_ids: Sequence[str]) -> dict[str, np.ndarray]:
        got = self._guard(
            "reading vectors", self.units.get, ids=list(unit_ids), include=["embeddings"]
        )
        return {
            i: np.asarray(e, dtype=np.float32)
            for i, e in zip(got["ids"], got["embeddings"], strict=True)
        }

    # ----- writing -------------------------------------------------------------------------

    def write_documents(self, docs: Sequence[DocumentWrite]) -> None:
        """Store documents so that a reader never sees one half-written (module docstring).

        All units and chunks of the batch go first, then the document records (the commit),
        then the old parts of changed documents are deleted. Few large writes are much faster
        than many small ones: each Chroma write is a transaction.
        """
        committed = self.committed()
        units: dict[str, list[Any]] = {
            "ids": [],
            "embeddings": [],
            "metadatas": [],
            "documents": [],
        }
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
                page, breaks = doc.pages[i] if i < len(doc.pages) else (0, ())
                for j, (us, ue) in enumerate(spans):
                    units["ids"].append(f"{cid}/{j}")
                    units["embeddings"].append(doc.unit_vectors[row])
                    units["documents"].append(doc.text[us:ue])
                    units["metadatas"].append(
                        {
                            "doc_id": doc.doc_id,
                            "doc_hash": doc_hash,
                            "chunk_id": cid,
                            "start": us,
                            "end": ue,
                        }
                    )
                    row += 1
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
                        "page": page,
                        "page_breaks": json.dumps(list(breaks)),
                    }
                )
            record = {
                **doc.meta,
                "chunks": len(doc.chunks),
                "chars": len(doc.text),
                "indexed_at": now,
            }
            records["ids"].append(doc.doc_id)
            records["embeddings"].append(np.ones(1, dtype=np.float32))
            records["documents"].append(doc.text)
            records["metadatas"].append({k: v for k, v in record.items() if v is not None})
        self._upsert("writing sentences", self.units, units)
        self._upsert("writing chunks", self.chunks, chunks)
        self._upsert("committing documents", self.docs, records)
        for doc in docs:
            old = committed.get(doc.doc_id)
            if old is not None and old.get("content_hash") != doc.meta["content_hash"]:
                self._delete_parts(doc.doc_id, keep_hash=doc.meta["content_hash"])

    def _upsert(self, what: str, collection: Any, batch: dict[str, list[Any]]) -> None:
        for a in range(0, len(batch["ids"]), _BATCH):
            part = {k: v[a : a + _BATCH] for k, v in batch.items()}
            part["embeddings"] = np.asarray(part["embeddings"], dtype=np.float32)
            self._guard(what, collection.upsert, **part)

    def _delete_parts(self, doc_id: str, keep_hash: str | None = None) -> None:
        where: dict[str, Any] = {"doc_id": doc_id}
        if keep_hash is not None:
            where = {"$and": [{"doc_id": doc_id}, {"doc_hash": {"$ne": keep_hash}}]}
        self._guard("deleting units", self.units.delete, where=where)
        self._guard("deleting chunks", self.chunks.delete, where=where)

    def delete_document(self, doc_id: str) -> None:
        """Remove a document: the record first (uncommit), then its parts."""
        self._guard("deleting a document", self.docs.delete, ids=[doc_id])
        self._delete_parts(doc_id)

    def drop(self) -> None:
        """Delete this index's Chroma collections (``assistant collections delete``).

        Under the writer lock the records go first (readers then see an empty index), then
        the parts; the emptied record collection is deleted last, once the lock is released.
        """
        with self.writing():
            ids = list(self.committed())
            for a in range(0, len(ids), _BATCH):
                self._guard("deleting documents", self.docs.delete, ids=ids[a : a + _BATCH])
            for part in ("chunks", "units"):
                name = f"{self.prefix}-{part}"
                self._guard("deleting the collection", self._client.delete_collection, name)
        docs = f"{self.prefix}-docs"
        self._guard("deleting the collection", self._client.delete_collection, docs)

    def orphans(self) -> dict[tuple[str, str], tuple[int, int]]:
        """Parts no committed document owns: {(doc_id, doc_hash): (chunks, units)}.

        What a crash between writing parts and committing leaves behind; ``repair`` deletes
        exactly these, and ``assistant doctor`` reports them without touching anything.
        """
        committed = self.committed()
        stale: dict[tuple[str, str], tuple[int, int]] = {}
        for collection, what in ((self.chunks, "checking chunks"), (self.units, "checking units")):
            got = self._guard(what, collection.get, include=["metadatas"])
            for m in got["metadatas"]:
                if committed.get(m["doc_id"], {}).get("content_hash") != m["doc_hash"]:
                    key = (m["doc_id"], m["doc_hash"])
                    chunks, units = stale.get(key, (0, 0))
                    is_chunk = collection is self.chunks
                    stale[key] = (chunks + is_chunk, units + (not is_chunk))
        return stale

    def repair(self) -> int:
        """Delete chunks and units that no committed document owns; returns how many chunks."""
        stale = self.orphans()
        for doc_id, doc_hash in stale:
            where = {"$and": [{"doc_id": doc_id}, {"doc_hash": doc_hash}]}
            self._guard("repairing", self.units.delete, where=where)
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
