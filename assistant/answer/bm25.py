"""Okapi BM25 that grows and shrinks by document without rebuilding: a segmented index.

Postings (row, term frequency) live in immutable column-major segments, one per batch of
added texts; small segments are merged into larger ones as they accumulate (at most about
log4(N) segments), and a removed row is only marked dead. Nothing is weighted in advance:
the document frequency of a query term is counted over its live postings at query time and
the BM25 weights are computed for those postings only, so adding or removing a text never
touches the postings of any other. Every operation returns a new index and leaves the old
one intact, so a search that began before an update keeps a consistent view.

Memory per row: a length (4 B), a live flag (1 B) and one posting (4 B row + 4 B count) per
distinct term of the text; plus one vocabulary entry per distinct term of the corpus.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.answer.lexical import terms

_MERGE_RATIO = 4  # merge the last segment into the one before while that is < 4x as large


@dataclass(frozen=True, slots=True)
class _Segment:
    """Postings of some rows, grouped by term: rows[indptr[t]:indptr[t + 1]] hold term t."""

    indptr: np.ndarray  # int64, one more than the vocabulary size when built
    rows: np.ndarray  # int32
    tf: np.ndarray  # float32

    @property
    def size(self) -> int:
        return len(self.rows)

    def postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        if term_id + 1 >= len(self.indptr):
            return self.rows[:0], self.tf[:0]
        a, b = self.indptr[term_id], self.indptr[term_id + 1]
        return self.rows[a:b], self.tf[a:b]


def _segment(rows: np.ndarray, cols: np.ndarray, tf: np.ndarray, n_terms: int) -> _Segment:
    order = np.lexsort((rows, cols))
    counts = np.bincount(cols, minlength=n_terms)
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return _Segment(indptr, rows[order].astype(np.int32), tf[order].astype(np.float32))


def _merge(a: _Segment, b: _Segment, alive: np.ndarray) -> _Segment:
    """One segment holding the live postings of ``a`` and ``b``."""
    n_terms = max(len(a.indptr), len(b.indptr)) - 1
    parts = []
    for seg in (a, b):
        cols = np.repeat(np.arange(len(seg.indptr) - 1), np.diff(seg.indptr))
        keep = alive[seg.rows]
        parts.append((seg.rows[keep], cols[keep], seg.tf[keep]))
    rows, cols, tf = (np.concatenate(x) for x in zip(*parts, strict=True))
    return _segment(rows, cols, tf, n_terms)


class BM25:
    """Okapi BM25 over texts addressed by row number; see the module docstring.

    ``BM25(texts)`` indexes ``texts`` as rows 0..n-1; ``add`` and ``remove`` return updated
    copies. The vocabulary (term -> id) only grows and is shared by all copies.
    """

    def __init__(
        self, texts: Sequence[str] = (), k1: float = 1.2, b: float = 0.75, *, _empty: bool = False
    ) -> None:
        self.k1, self.b = k1, b
        self._vocab: dict[str, int] = {}
        self.segments: tuple[_Segment, ...] = ()
        self.lengths = np.zeros(0, dtype=np.float32)
        self.alive = np.zeros(0, dtype=bool)
        self.live = 0
        self.total_length = 0.0
        self._df: dict[int, int] = {}
        if texts and not _empty:
            self._become(self.add(texts))

    def _become(self, other: BM25) -> None:
        for name in ("segments", "lengths", "alive", "live", "total_length", "_df"):
            setattr(self, name, getattr(other, name))

    def _copy(self) -> BM25:
        new = BM25(k1=self.k1, b=self.b, _empty=True)
        new._vocab = self._vocab
        new.segments, new.lengths, new.alive = self.segments, self.lengths, self.alive
        new.live, new.total_length = self.live, self.total_length
        return new

    # ----- changes -------------------------------------------------------------------------

    def add(self, texts: Iterable[str]) -> BM25:
        """A copy with ``texts`` appended as the next rows (``self.rows`` onwards)."""
        return self.add_terms([terms(t) for t in texts])

    def add_terms(self, bags: Sequence[Sequence[str]]) -> BM25:
        """Like ``add``, for texts already turned into ``terms``."""
        new = self._copy()
        if not bags:
            return new
        first = len(self.lengths)
        rows: list[int] = []
        cols: list[int] = []
        counts: list[int] = []
        lengths = np.zeros(len(bags), dtype=np.float32)
        vocab = self._vocab
        for i, toks in enumerate(bags):
            bag: dict[int, int] = {}
            for tok in toks:
                j = vocab.get(tok)
                if j is None:
                    j = vocab[tok] = len(vocab)
                bag[j] = bag.get(j, 0) + 1
            lengths[i] = len(toks)
            rows.extend([first + i] * len(bag))
            cols.extend(bag.keys())
            counts.extend(bag.values())
        seg = _segment(
            np.asarray(rows, dtype=np.int32),
            np.asarray(cols, dtype=np.int64),
            np.asarray(counts, dtype=np.float32),
            len(vocab),
        )
        new.lengths = np.concatenate([self.lengths, lengths])
        new.alive = np.concatenate([self.alive, np.ones(len(bags), dtype=bool)])
        new.live = self.live + len(bags)
        new.total_length = self.total_length + float(lengths.sum())
        segments = [*self.segments, seg]
        while len(segments) > 1 and segments[-2].size < _MERGE_RATIO * segments[-1].size:
            last = segments.pop()
            segments[-1] = _merge(segments[-1], last, new.alive)
        new.segments = tuple(segments)
        return new

    def remove(self, rows: Iterable[int]) -> BM25:
        """A copy in which ``rows`` no longer exist (their postings go at the next merge)."""
        rows = np.fromiter((r for r in rows if self.alive[r]), dtype=np.int64)
        new = self._copy()
        if len(rows) == 0:
            return new
        new.alive = self.alive.copy()
        new.alive[rows] = False
        new.live = self.live - len(rows)
        new.total_length = self.total_length - float(self.lengths[rows].sum())
        return new

    # ----- reading -------------------------------------------------------------------------

    @property
    def rows(self) -> int:
        """Rows ever added (live or removed): the next row number."""
        return len(self.lengths)

    @property
    def size(self) -> int:
        """Live rows."""
        return self.live

    @property
    def vocab(self) -> _LiveTerms:
        """The terms that occur in some live row (supports ``term in bm25.vocab``)."""
        return _LiveTerms(self)

    def _live_postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        found = [seg.postings(term_id) for seg in self.segments]
        rows = np.concatenate([r for r, _ in found]) if found else np.zeros(0, np.int32)
        tf = np.concatenate([t for _, t in found]) if found else np.zeros(0, np.float32)
        keep = self.alive[rows]
        return rows[keep], tf[keep]

    def df(self, term: str) -> int:
        """Live rows containing ``term``."""
        j = self._vocab.get(term)
        if j is None:
            return 0
        cached = self._df.get(j)
        if cached is None:
            cached = len(self._live_postings(j)[0])
            if len(self._df) > 4096:
                self._df.clear()
            self._df[j] = cached
        return cached

    def _idf(self, df: int) -> float:
        return math.log1p((self.live - df + 0.5) / (df + 0.5))

    def idf_of(self, term: str) -> float:
        """IDF of a term; unseen terms get the highest possible weight."""
        if not self.live:
            return 1.0
        df = self.df(term)
        return self._idf(df) if df else math.log1p(self.live + 0.5)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row (0 for removed rows) for ``query``."""
        out = np.zeros(self.rows, dtype=np.float32)
        if not self.live:
            return out
        avg = self.total_length / self.live or 1.0
        k1, b = self.k1, self.b
        for t in terms(query):  # a repeated query term counts again, as in the original
            j = self._vocab.get(t)
            if j is None:
                continue
            rows, tf = self._live_postings(j)
            if not len(rows):
                continue
            norm = k1 * (1 - b + b * self.lengths[rows] / avg)
            idf = np.float32(self._idf(len(rows)))
            out[rows] += tf * (k1 + 1) / (tf + norm) * idf
        return out

    def top(self, query: str, n: int) -> list[tuple[int, float]]:
        """Best ``n`` (row, score) pairs with a positive score."""
        scores = self.scores(query)
        n = min(n, int((scores > 0).sum()))
        if n == 0:
            return []
        idx = np.argpartition(-scores, n - 1)[:n]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return [(int(i), float(scores[i])) for i in idx]

    def nbytes(self) -> int:
        """Bytes held in arrays (postings, lengths, flags), the vocabulary not counted."""
        seg = sum(s.indptr.nbytes + s.rows.nbytes + s.tf.nbytes for s in self.segments)
        return seg + self.lengths.nbytes + self.alive.nbytes


class _LiveTerms:
    """``term in bm25.vocab``: whether a live row contains the term."""

    def __init__(self, index: BM25) -> None:
        self._index = index

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self._index.df(term) > 0

    def __len__(self) -> int:
        return len(self._index._vocab)
