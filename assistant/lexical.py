"""Tokenizing for lexical matching, and a BM25 index that stays fast at 100,000 chunks.

BM25 weights are precomputed into a sparse document-term matrix, so a query is one sparse
column slice and a sum: no Python loop over documents.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import snowballstemmer
from scipy import sparse

STOPWORDS = frozenset(
    """
    a an the and or but if then else of to in on at by for with from as into about over
    after before between through during without within under above is are was were be been
    being am do does did doing have has had having it its this that these those there here
    he she they them his her their our we you your i me my mine what which who whom whose
    when where why how not no nor so than too very can could would should will shall may
    might must also such any all each both few more most other some only own same just s t
    don now up down out off again further once one
    """.split()  # noqa: SIM905 - a word list reads better as text
)
_TOKEN = re.compile(r"\w+")
_STEMMER = snowballstemmer.stemmer("english")


def fold(text: str) -> str:
    """Lower-case and strip accents, so "Süssli" matches "Sussli"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball (Porter 2) English stem: "opposed"/"opposing" -> "oppos".

    A kept library rather than a hand-written suffix list or alias table, so it behaves the
    same on any English document.
    """
    return _STEMMER.stemWord(word)


@lru_cache(maxsize=1)
def _derived_stems() -> dict[str, str]:
    from assistant.demonyms import demonym_words

    return {stem(d): stem(n) for d, n in demonym_words().items()}


@lru_cache(maxsize=200_000)
def term(word: str) -> str:
    """A folded word's matching term: its stem, with a country's derived form ("irish",
    "australians") read as the country ("ireland", "australia"); see ``assistant.demonyms``."""
    s = stem(word)
    return _derived_stems().get(s, s)


_LINE_END_HYPHEN = re.compile(r"(\w+)-\n[ \t]*(\w+)")


def terms(text: str) -> list[str]:
    """Content terms of ``text``: folded, stop words removed, stemmed, demonyms read as
    their country (``term``).

    A word hyphenated at a line end ("infor-\nmation", PDF text) also counts as the whole
    word, so it matches a question that spells it whole; its halves are kept, for the
    compounds that really have a hyphen ("command-\nline").
    """
    if "-\n" in text:
        text = _LINE_END_HYPHEN.sub(r"\1\2 \1 \2", text)
    return [term(t) for t in _TOKEN.findall(fold(text)) if t not in STOPWORDS]


class BM25:
    """Okapi BM25 over a fixed list of texts."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.vocab: dict[str, int] = {}
        rows, cols, counts = [], [], []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for i, text in enumerate(texts):
            bag: dict[int, int] = {}
            toks = terms(text)
            lengths[i] = len(toks)
            for tok in toks:
                j = self.vocab.setdefault(tok, len(self.vocab))
                bag[j] = bag.get(j, 0) + 1
            rows.extend([i] * len(bag))
            cols.extend(bag.keys())
            counts.extend(bag.values())
        n = len(texts)
        shape = (n, max(len(self.vocab), 1))
        tf = sparse.csr_matrix((np.asarray(counts, dtype=np.float32), (rows, cols)), shape=shape)
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=shape[1]).astype(np.float32)
        self.idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avg = float(lengths.mean()) if n else 1.0
        norm = k1 * (1 - b + b * lengths / (avg or 1.0))
        tf = tf.tocoo()
        weights = tf.data * (k1 + 1) / (tf.data + norm[tf.row]) * self.idf[tf.col]
        self.matrix = sparse.csc_matrix((weights, (tf.row, tf.col)), shape=shape)
        self.size = n

    def idf_of(self, term: str) -> float:
        """IDF of a term; unseen terms get the highest possible weight."""
        j = self.vocab.get(term)
        return (
            float(self.idf[j])
            if j is not None
            else math.log1p(self.size + 0.5)
            if self.size
            else 1.0
        )

    def scores(self, query: str) -> np.ndarray:
        cols = [self.vocab[t] for t in terms(query) if t in self.vocab]
        if not cols or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.matrix[:, cols].sum(axis=1)).ravel()

    def top(self, query: str, n: int) -> list[tuple[int, float]]:
        """Best ``n`` (index, score) pairs with a positive score."""
        scores = self.scores(query)
        n = min(n, int((scores > 0).sum()))
        if n == 0:
            return []
        idx = np.argpartition(-scores, n - 1)[:n]
        idx = idx[np.argsort(-scores[idx])]
        return [(int(i), float(scores[i])) for i in idx]
