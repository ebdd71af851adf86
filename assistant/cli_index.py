"""What the CLI reads of an index without the answering chain: the store alone, and the
catalog's Chroma-free reads of a local index (``index.catalog``), so listing, counting and
re-ingesting unchanged files load no model (issue 13's start-up figures rest on this)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.types import DocumentInfo


def open_store(settings: Any, collection: str | None = None, embedder: Any = None) -> Any:
    """The index of ``collection`` alone; the embedder (lazy by default) loads only if used."""
    from index.encoders import LazyEmbeddings
    from index.store import Store

    idx = settings.index
    identity = (embedder or LazyEmbeddings(settings)).identity
    return Store(
        settings.data_dir,
        identity,
        idx.chunk_tokens,
        idx.unit_tokens,
        settings.chroma_url,
        collection=collection,
        chroma_timeout_s=idx.chroma_timeout_s,
        lease_ttl_s=idx.lease_ttl_s,
    )


def local_prefix(settings: Any, collection: str) -> str | None:
    """The Chroma prefix of ``collection`` when its records can be read without Chroma (a
    local store and a model whose identity is known without loading it), else None."""
    from index.collection_names import store_prefix
    from index.encoders import model_identity
    from index.store import index_name

    identity = model_identity(settings.embedding_model)
    if identity is None or settings.chroma_url:
        return None
    idx = settings.index
    return store_prefix(index_name(identity, idx.chunk_tokens, idx.unit_tokens), collection)


def committed(settings: Any, collection: str) -> dict[str, dict[str, Any]]:
    """The committed document records, from the SQLite file when it can, else from Chroma."""
    from index.catalog import read_committed

    prefix = local_prefix(settings, collection)
    found = read_committed(settings.data_dir, prefix) if prefix else None
    return found if found is not None else open_store(settings, collection).committed()


def documents(settings: Any, collection: str = "default") -> list[DocumentInfo]:
    """The indexed documents of ``collection``, sorted as every front end lists them."""
    from index.catalog import document_infos

    return [DocumentInfo(**d) for d in document_infos(committed(settings, collection))]


def unchanged(settings: Any, paths: list[Path], collection: str = "default") -> Any:
    """The report when every file is indexed as it is and the index is whole, read without
    Chroma; None when the full ingest must run."""
    from index.catalog import has_orphans, read_committed
    from index.ingest import unchanged_report

    prefix = local_prefix(settings, collection)
    if prefix is None:
        return None
    records = read_committed(settings.data_dir, prefix)
    if not records or has_orphans(settings.data_dir, prefix, records) is not False:
        return None
    return unchanged_report(paths, records, int(settings.index.max_file_mb * 1e6))
