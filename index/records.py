"""The records the store reads and writes: retrievable chunks and documents to write."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """One retrievable passage with the offsets of its units (sentences)."""

    chunk_id: str
    doc_id: str
    source: str
    title: str
    date: str | None
    text: str
    start: int
    end: int
    units: tuple[tuple[int, int], ...]
    sections: tuple[str, ...] = ()  # the heading each unit sits under ("" when none)
    kinds: tuple[str, ...] = ()  # each unit's layout kind (index.layout: "prose", "code"...)
    page: int = 0  # paged formats (PDF): the 1-based page where the chunk starts; 0: none
    page_breaks: tuple[int, ...] = ()  # document offsets inside the chunk where a page starts

    def unit_id(self, j: int) -> str:
        return f"{self.chunk_id}/{j}"

    def section_at(self, start: int) -> str:
        """The section of the unit that starts at ``start`` (else the chunk's first)."""
        for (s, _), section in zip(self.units, self.sections, strict=False):
            if s == start:
                return section
        return self.sections[0] if self.sections else ""

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding document offset ``offset``; None for unpaged formats."""
        if not self.page:
            return None
        return self.page + sum(1 for b in self.page_breaks if b <= offset)


@dataclass(frozen=True)
class DocumentWrite:
    """One document to store: text, metadata, chunk spans and their vectors."""

    doc_id: str
    text: str
    meta: dict[str, Any]
    chunks: Sequence[tuple[int, int, Sequence[tuple[int, int]]]]  # (start, end, unit spans)
    chunk_vectors: np.ndarray  # one row per chunk
    unit_vectors: np.ndarray  # one row per unit, in chunk order
    sections: Sequence[Sequence[str]] = ()  # per chunk, the section of each unit
    kinds: Sequence[Sequence[str]] = ()  # per chunk, the layout kind of each unit
    pages: Sequence[tuple[int, Sequence[int]]] = ()  # per chunk, (first page, page breaks)


def chunk_records(got: dict[str, Any], committed: dict[str, dict[str, Any]]) -> list[ChunkRecord]:
    """Chunks from a Chroma ``get``, in document order, less those no record in
    ``committed`` owns (left over from an interrupted write: not visible)."""
    records = []
    for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
        doc = committed.get(meta["doc_id"])
        if doc is None or doc.get("content_hash") != meta["doc_hash"]:
            continue
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
                kinds=tuple(json.loads(meta.get("kinds") or "[]")),
                page=int(meta.get("page") or 0),
                page_breaks=tuple(json.loads(meta.get("page_breaks") or "[]")),
            )
        )
    records.sort(key=lambda r: (r.doc_id, r.start))
    return records
