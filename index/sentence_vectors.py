"""Sentence vectors kept inside their chunk's record, not in a vector index of their own.

Until issue 16 every sentence was a record in a ``-units`` collection with its own HNSW
entry: about 7 per chunk, so at 100,000 chunks 740,000 vectors to insert (most of the build
time) and to hold in memory (about 1.2 GB of HNSW in every serving process). What they buy
is the answerer's sentence-level scoring, and a chunk ranked by its best sentence. Both
need sentence vectors only for chunks already found, so they travel in the chunk's
metadata (float16, base64: 1 KB per sentence; float16 changes a cosine by under 1e-3), and
dense search finds chunks by their own vectors, then ranks them by their best sentence.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import numpy as np

_CACHE = 2048  # chunks whose decoded sentence vectors are kept (about 20 MB)


def encode(vectors: np.ndarray) -> str:
    """Sentence vectors (rows) as the text stored in a chunk's ``unit_vecs`` metadata."""
    return base64.b64encode(np.asarray(vectors, dtype=np.float16).tobytes()).decode("ascii")


def decode(meta: dict[str, Any]) -> np.ndarray:
    """The sentence vectors of a chunk's metadata, one float32 row per sentence."""
    dim = int(meta.get("unit_dim") or 0)
    if not dim:
        return np.zeros((0, 0), dtype=np.float32)
    raw = np.frombuffer(base64.b64decode(meta["unit_vecs"]), dtype=np.float16)
    return raw.reshape(-1, dim).astype(np.float32)


def cosines(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    q = query / max(float(np.linalg.norm(query)), 1e-9)
    return (vectors @ q) / np.maximum(np.linalg.norm(vectors, axis=1), 1e-9)


class UnitCache:
    """Decoded sentence vectors of recently read chunks, by chunk id (LRU)."""

    def __init__(self, size: int = _CACHE) -> None:
        self.size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()

    def put(self, ids: Iterable[str], metas: Iterable[dict[str, Any] | None]) -> None:
        for cid, meta in zip(ids, metas, strict=True):
            if meta and "unit_vecs" in meta:
                self._items[cid] = decode(meta)
                self._items.move_to_end(cid)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def get(self, chunk_id: str) -> np.ndarray | None:
        return self._items.get(chunk_id)
