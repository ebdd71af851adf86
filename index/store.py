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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index import sentence_vectors
from index.chroma_client import SERVER_TIMEOUT_S, NoEmbedding, open_client
from index.errors import StoreError
from index.lease import LEASE_TTL_S, ChangeLog, Lease
from index.records import ChunkRecord, chunk_records
from index.store_writes import StoreWrites

log = logging.getLogger(__name__)
SCHEMA_VERSION = 5  # 2: layout-aware units with sections (issue 17); 3: PDF pages (issue 14);
# 4: sentence vectors inside their chunk records, no -units collection (issue 16);
# 5: each unit's layout kind, so a code block never leads an answer (issue 17)
_BATCH = 2000  # stay under Chroma's maximum batch size
_RELOAD_AFTER_FAILURE_S = 5.0
_OPEN_STORES: weakref.WeakSet[Store] = weakref.WeakSet()  # see Store.reload


def index_name(model_identity: str, chunk_tokens: int, unit_tokens: int) -> str:
    """Collection prefix: a hash of everything that shapes the vectors."""
    key = json.dumps([SCHEMA_VERSION, model_identity, chunk_tokens, unit_tokens])
    return "idx-" + hashlib.sha256(key.encode()).hexdigest()[:12]


class Store(StoreWrites):
    """The index on disk (or on a Chroma server); writing is in ``index.store_writes``."""

    def __init__(
        self,
        data_dir: Path,
        model_identity: str,
        chunk_tokens: int,
        unit_tokens: int,
        chroma_url: str | None = None,
        collection: str | None = None,
        chroma_timeout_s: float = SERVER_TIMEOUT_S,
        lease_ttl_s: float = LEASE_TTL_S,
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
        self._client = open_client(data_dir, chroma_url, chroma_timeout_s)
        self._open()
        self.lease = Lease(self.meta, self._guard, lease_ttl_s)
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

        stale = str(getattr(self._client, "_identifier", ""))
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

    # ----- reading -------------------------------------------------------------------------

    def committed(self) -> dict[str, dict[str, Any]]:
        """Document records by id (metadata only): the committed state of the index."""
        got = self._guard("listing documents", self.docs.get, include=["metadatas"])
        return {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def has_documents(self) -> bool:
        """Whether anything is committed (without reading every record)."""
        got = self._guard("listing documents", self.docs.get, limit=1, include=[])
        return bool(got["ids"])

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
        # No count() first: it costs 11 ms at 100,000 chunks, and Chroma (1.5, local and
        # server) returns what there is when asked for more results than it holds.
        got = self._guard(
            "searching",
            self.chunks.query,
            query_embeddings=[vector.tolist()],
            n_results=max(n // 2, 10),
            include=["metadatas"],
        )
        ids, metas = got["ids"][0], got["metadatas"][0]
        self._units.put(ids, metas)
        hits: list[tuple[str, float]] = []
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

    def drop(self) -> None:
        """Delete this index's Chroma collections (``assistant collections delete``).

        Under the writer lock the records go first (readers then see an empty index), then
        the chunks; the lease and change log (``-meta``) and the emptied record collection
        are deleted last, once the lock is released.
        """
        with self.writing():
            ids = list(self.committed())
            for a in range(0, len(ids), _BATCH):
                self._guard("deleting documents", self.docs.delete, ids=ids[a : a + _BATCH])
            name = f"{self.prefix}-chunks"
            self._guard("deleting the collection", self._client.delete_collection, name)
        for part in ("meta", "docs"):
            name = f"{self.prefix}-{part}"
            self._guard("deleting the collection", self._client.delete_collection, name)

    def unit_count(self) -> int:
        """Sentences of the committed documents (as their records count them)."""
        return sum(int(m.get("units", 0)) for m in self.committed().values())

    @staticmethod
    def revision_of(committed: dict[str, dict[str, Any]]) -> str:
        """Changes whenever a document is added, changed or removed."""
        items = sorted((i, m.get("content_hash")) for i, m in committed.items())
        return hashlib.sha1(json.dumps(items).encode()).hexdigest()
