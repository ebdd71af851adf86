"""The committed document records of a local index, read without importing Chroma.

``import chromadb`` alone takes about a second here, longer than listing the documents
should. A local Chroma keeps record metadata in SQLite (``chroma.sqlite3``), so
``assistant documents`` reads that file directly, read-only. Only when everything checks out
-- the tables this reader knows, the metadata segment caught up with Chroma's write log --
is the answer used; otherwise ``None`` tells the caller to ask Chroma itself.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_DEFAULT_DB = ("default_tenant", "default_database")  # what chromadb.PersistentClient uses


def read_committed(data_dir: Path, prefix: str) -> dict[str, dict[str, Any]] | None:
    """``Store.committed()`` for the index ``prefix`` in ``data_dir``, or None if unsure."""
    return read_metadata(data_dir, f"{prefix}-docs")


def has_orphans(data_dir: Path, prefix: str, committed: dict[str, dict[str, Any]]) -> bool | None:
    """Whether chunks exist that no committed record owns (left by a writer that died before
    its commit), or None if unsure."""
    for part in ("chunks",):
        found = read_metadata(data_dir, f"{prefix}-{part}")
        if found is None:
            return None
        for meta in found.values():
            doc = committed.get(str(meta.get("doc_id")), {})
            if doc.get("content_hash") != meta.get("doc_hash"):
                return True
    return False


def collection_names(data_dir: Path) -> list[str] | None:
    """Names of every Chroma collection of a local store, or None if unsure."""
    path = data_dir / "chroma" / "chroma.sqlite3"
    if not path.is_file():
        return []
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return None
    try:
        rows = db.execute(
            "SELECT c.name FROM collections c JOIN databases d ON c.database_id = d.id "
            "WHERE d.tenant_id = ? AND d.name = ?",
            _DEFAULT_DB,
        ).fetchall()
    except sqlite3.Error as exc:
        log.debug("Listing collections in %s directly failed (%s); asking Chroma.", path, exc)
        return None
    finally:
        db.close()
    return [row[0] for row in rows]


def read_metadata(data_dir: Path, collection: str) -> dict[str, dict[str, Any]] | None:
    """Metadata by record id of one collection of a local Chroma, or None if unsure."""
    path = data_dir / "chroma" / "chroma.sqlite3"
    if not path.is_file():
        return {}  # nothing was ever indexed here; Store would create an empty index
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return None
    try:
        return _read(db, collection)
    except sqlite3.Error as exc:  # another Chroma schema, a locked file: let Chroma answer
        log.debug("Reading %s directly failed (%s); asking Chroma.", path, exc)
        return None
    finally:
        db.close()


def _read(db: sqlite3.Connection, name: str) -> dict[str, dict[str, Any]] | None:
    row = db.execute(
        "SELECT c.id FROM collections c JOIN databases d ON c.database_id = d.id "
        "WHERE c.name = ? AND d.tenant_id = ? AND d.name = ?",
        (name, *_DEFAULT_DB),
    ).fetchone()
    if row is None:
        return {}
    collection = row[0]
    segment = db.execute(
        "SELECT id FROM segments WHERE collection = ? AND scope = 'METADATA'", (collection,)
    ).fetchone()
    if segment is None:
        return None
    applied = db.execute("SELECT seq_id FROM max_seq_id WHERE segment_id = ?", segment).fetchone()
    logged = db.execute(
        "SELECT MAX(seq_id) FROM embeddings_queue WHERE topic LIKE ?", (f"%/{collection}",)
    ).fetchone()
    if logged and logged[0] is not None and (applied is None or int(applied[0]) < logged[0]):
        return None  # Chroma has writes it has not applied to the metadata yet
    records: dict[str, dict[str, Any]] = {}
    for doc_id in db.execute("SELECT embedding_id FROM embeddings WHERE segment_id = ?", segment):
        records[doc_id[0]] = {}
    rows = db.execute(
        "SELECT e.embedding_id, m.key, m.string_value, m.int_value, m.float_value, m.bool_value "
        "FROM embeddings e JOIN embedding_metadata m ON m.id = e.id "
        "WHERE e.segment_id = ? AND m.key NOT LIKE 'chroma:%'",
        segment,
    )
    for doc_id, key, text, integer, real, flag in rows:
        if flag is not None:
            value: Any = bool(flag)
        elif integer is not None:
            value = int(integer)
        elif real is not None:
            value = float(real)
        else:
            value = text
        records.setdefault(doc_id, {})[key] = value
    return records


def document_info(doc_id: str, meta: dict[str, Any]) -> dict[str, Any]:
    """A document record's metadata as ``DocumentInfo`` fields."""
    return {
        "doc_id": doc_id,
        "source": meta.get("source", doc_id),
        "title": meta.get("title", ""),
        "date": meta.get("date"),
        "chars": meta.get("chars", 0),
        "chunks": meta.get("chunks", 0),
        "content_hash": meta.get("content_hash", ""),
        "indexed_at": meta.get("indexed_at", ""),
        "path": meta.get("path", ""),
        "format": meta.get("format", ""),
        "pages": len(page_starts(meta)),
        "file_hash": meta.get("file_hash", ""),
    }


def page_starts(meta: dict[str, Any]) -> list[int]:
    """Where each page of a PDF starts in its text, from the document record."""
    import json

    try:
        starts = json.loads(meta.get("page_starts") or "[]")
    except (TypeError, ValueError):
        return []
    return [int(s) for s in starts] if isinstance(starts, list) else []


def document_infos(committed: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents of an index as ``DocumentInfo`` fields, sorted by source name as every
    front end lists them."""
    docs = [document_info(i, m) for i, m in committed.items()]
    return sorted(docs, key=lambda d: str(d["source"]).lower())
