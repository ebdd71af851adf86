"""Ingest files: load, chunk, embed and store; skip unchanged files; report every failure."""

from __future__ import annotations

import bisect
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.chunking import Chunk, chunk_text
from index.errors import DocumentError, UserFacingError
from index.loaders import LoadedDocument, discover, load
from index.records import DocumentWrite
from index.store import Store

log = logging.getLogger(__name__)
_GROUP_UNITS = 4096  # embed many documents together: full, length-sorted batches
# Chunks per call to the embedder (one batch). It holds its model lock for a whole call and
# questions need that lock to embed themselves, so while a large batch is ingested a question
# waits for one slice (under a second on 2 cores), not for the whole group.
_EMBED_SLICE = 32
_BAR_MIN_PAGES = 50  # a PDF this long shows a bar of pages read (when progress is on)
_LOOKUP_BATCH = 256  # files whose records are read from the store at once


class Embedder(Protocol):
    @property
    def identity(self) -> str: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

    def encode_chunks(
        self, chunks: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...


@dataclass
class IngestReport:
    """What an ingest did, for the summary line and for callers."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # indexed, but e.g. a page had no text
    chunks: int = 0
    chars: int = 0
    embedded_units: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        docs = len(self.added) + len(self.updated)
        rate = self.chars / self.seconds if self.seconds else 0.0
        parts = [
            f"{docs} documents indexed ({len(self.added)} new, {len(self.updated)} changed)",
            f"{len(self.unchanged)} unchanged",
            f"{self.chunks} chunks",
            f"{self.chars:,} characters",
            f"{self.seconds:.1f} s ({rate:,.0f} chars/s)",
        ]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        if self.errors:
            parts.append(f"{len(self.errors)} failed")
        if self.warnings:
            parts.append(f"{len(self.warnings)} warnings")
        return ", ".join(parts)


@dataclass
class _Pending:
    doc: LoadedDocument
    chunks: list[Chunk]
    replaces: bool


def _meta(doc: LoadedDocument) -> dict[str, object]:
    return {
        "source": doc.source,
        "title": doc.title,
        "date": doc.date,
        "path": str(doc.path),
        "content_hash": doc.content_hash,
        "format": doc.fmt,
        "file_hash": doc.file_hash,
        "page_starts": json.dumps(list(doc.pages)) if doc.pages else None,
    }


def chunk_pages(pages: Sequence[int], start: int, end: int) -> tuple[int, list[int]]:
    """The page where ``[start, end)`` starts and the page starts inside it; (0, []) unpaged."""
    if not pages:
        return 0, []
    first = bisect.bisect_right(pages, start)
    return first, [p for p in pages[first:] if start < p < end]


def ingest(
    paths: Sequence[Path],
    store: Store,
    embedder: Embedder,
    *,
    chunk_tokens: int,
    unit_tokens: int,
    max_bytes: int,
    sync: bool = False,
    progress: bool | None = None,
) -> IngestReport:
    """Index ``paths`` (files and folders) into ``store``.

    Unchanged documents (same path, same content hash) cost no embedding work; a changed one
    replaces its old chunks; with ``sync``, documents whose file is gone are removed. Holds
    the store's writer lock throughout (see ``Store.writing``).
    """
    began = time.perf_counter()
    with store.writing():
        report = _ingest(
            paths, store, embedder, chunk_tokens, unit_tokens, max_bytes, sync, progress
        )
    report.seconds = time.perf_counter() - began
    return report


def unchanged_report(
    paths: Sequence[Path], committed: dict[str, dict[str, object]], max_bytes: int
) -> IngestReport | None:
    """The report of an ingest with nothing to do, or None as soon as a file is new, changed
    or unreadable (the full ``ingest`` then runs and reports it).

    With the committed records read without Chroma (``index.catalog``), an unchanged
    re-ingest opens neither Chroma nor the model.
    """
    began = time.perf_counter()
    files, errors = discover(list(paths))
    if errors or not files:
        return None
    report = IngestReport()
    for path in files:
        try:
            doc = load(path, max_bytes)
        except DocumentError:
            return None
        old = committed.get(doc.doc_id)
        if old is None or old.get("content_hash") != doc.content_hash:
            return None
        report.unchanged.append(doc.source)
    report.seconds = time.perf_counter() - began
    return report


class PageBar:
    """A progress bar over the pages of one PDF, shown once it turns out to be long (or
    always with ``progress=True``; never with ``False``). On stderr, like tqdm's others."""

    def __init__(self, name: str, progress: bool | None, min_pages: int = _BAR_MIN_PAGES) -> None:
        self.name, self.progress, self.min_pages = name, progress, min_pages
        self.bar: Any = None  # a tqdm bar once the document is long enough

    def update(self, done: int, total: int) -> None:
        if self.progress is False:
            return
        if self.bar is None:
            if self.progress is None and total < self.min_pages:
                self.progress = False
                return
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="page", desc=f"Reading {self.name}", leave=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()  # type: ignore[attr-defined]


def _ingest(
    paths: Sequence[Path],
    store: Store,
    embedder: Embedder,
    chunk_tokens: int,
    unit_tokens: int,
    max_bytes: int,
    sync: bool,
    progress: bool | None,
) -> IngestReport:
    from tqdm import tqdm

    report = IngestReport()
    files, report.errors = discover(list(paths))
    pending: list[_Pending] = []
    for doc, old in _with_records(files, store, max_bytes, report, progress):
        if old is not None and old.get("content_hash") == doc.content_hash:
            report.unchanged.append(doc.source)
            continue
        report.warnings.extend(doc.warnings)
        chunks = chunk_text(
            doc.text,
            embedder.count_tokens,
            chunk_tokens,
            unit_tokens,
            doc.body_start,
            doc.fmt,
            doc.headings,
        )
        if not chunks:
            report.errors.append(DocumentError(doc.source, "no sentences found"))
            continue
        pending.append(_Pending(doc, chunks, old is not None))

    total_units = sum(len(c.units) for p in pending for c in p.chunks)
    bar = tqdm(
        total=total_units,
        unit="sentence",
        desc="Embedding",
        disable=progress is False or (progress is None and total_units < 2000),
        leave=False,
    )
    group: list[_Pending] = []
    for i, item in enumerate(pending):
        group.append(item)
        size = sum(len(c.units) for p in group for c in p.chunks)
        if size >= _GROUP_UNITS or i == len(pending) - 1:
            _embed_and_write(group, store, embedder, report)
            bar.update(size)
            group = []
    bar.close()
    if sync:
        present = {str(p) for p in files}
        for doc_id, meta in store.committed().items():
            if meta.get("path") and meta["path"] not in present and not Path(meta["path"]).exists():
                store.delete_document(doc_id)
                report.removed.append(meta.get("source", doc_id))
    return report


def _with_records(
    files: list[Path],
    store: Store,
    max_bytes: int,
    report: IngestReport,
    progress: bool | None = None,
) -> Iterator[tuple[LoadedDocument, dict[str, object] | None]]:
    """Each readable file with its committed record, looked up a batch of files at a time
    (listing every record would cost O(index) per ingest)."""
    for a in range(0, len(files), _LOOKUP_BATCH):
        loaded = []
        for path in files[a : a + _LOOKUP_BATCH]:
            pages = PageBar(path.name, progress)
            try:
                loaded.append(load(path, max_bytes, pages.update))
            except DocumentError as exc:
                report.errors.append(exc)
            finally:
                pages.close()
        committed = store.committed_of([doc.doc_id for doc in loaded])
        for doc in loaded:
            yield doc, committed.get(doc.doc_id)


def _embed_and_write(
    group: list[_Pending], store: Store, embedder: Embedder, report: IngestReport
) -> None:
    items = [(p, c) for p in group for c in p.chunks]
    chunk_vecs, unit_vecs = _embed_in_slices(
        embedder,
        [p.doc.text[c.start : c.end] for p, c in items],
        [[(u.start - c.start, u.end - c.start) for u in c.units] for p, c in items],
    )
    writes, row = [], 0
    for item in group:
        n = len(item.chunks)
        writes.append(
            DocumentWrite(
                doc_id=item.doc.doc_id,
                text=item.doc.text,
                meta=_meta(item.doc),
                chunks=[(c.start, c.end, [(u.start, u.end) for u in c.units]) for c in item.chunks],
                sections=[[u.section for u in c.units] for c in item.chunks],
                kinds=[[u.kind for u in c.units] for c in item.chunks],
                pages=[chunk_pages(item.doc.pages, c.start, c.end) for c in item.chunks],
                chunk_vectors=chunk_vecs[row : row + n],
                unit_vectors=np.concatenate(unit_vecs[row : row + n]),
            )
        )
        row += n
    try:
        store.write_documents(writes)
    except UserFacingError as exc:
        report.errors.extend(DocumentError(item.doc.source, str(exc)) for item in group)
        return
    for item in group:
        (report.updated if item.replaces else report.added).append(item.doc.source)
        report.chunks += len(item.chunks)
        report.chars += len(item.doc.text)
        report.embedded_units += sum(len(c.units) for c in item.chunks)


def _embed_in_slices(
    embedder: Embedder, texts: list[str], spans: list[list[tuple[int, int]]]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """``embedder.encode_chunks`` over slices of similar length (see ``_EMBED_SLICE``)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    chunk_vecs: list[np.ndarray] = [np.zeros(0)] * len(texts)
    unit_vecs: list[np.ndarray] = [np.zeros(0)] * len(texts)
    for a in range(0, len(order), _EMBED_SLICE):
        part = order[a : a + _EMBED_SLICE]
        vecs, units = embedder.encode_chunks([texts[i] for i in part], [spans[i] for i in part])
        for row, i in enumerate(part):
            chunk_vecs[i], unit_vecs[i] = vecs[row], units[row]
    return np.asarray(chunk_vecs, dtype=np.float32), unit_vecs


def remove(sources: Sequence[str], store: Store) -> list[str]:
    """Remove documents by file name, path or id; returns what was removed."""
    removed = []
    wanted = set(sources)
    wanted_paths = {str(Path(s).resolve()) for s in sources}
    with store.writing():
        for doc_id, meta in store.committed().items():
            if doc_id in wanted or meta.get("source") in wanted or meta.get("path") in wanted_paths:
                store.delete_document(doc_id)
                removed.append(meta.get("source", doc_id))
    return removed
