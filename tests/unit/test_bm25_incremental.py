"""The incremental BM25 (assistant/answer/bm25.py): same scores as a fresh build, by construction.

Adding or removing texts must give exactly the ranking and scores that indexing the
remaining texts from scratch gives, whatever the order of the changes and merges.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from assistant.answer.bm25 import BM25
from assistant.answer.lexical import terms

_WORDS = "river harbour orchard glacier market library canyon forge boat tree stone stall book "
WORDS = (_WORDS + "bird leader summit troop peace force minister army treaty vote law").split()


def texts(rng: random.Random, n: int) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30))) for _ in range(n)]


def reference(docs: list[str], query: str, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """Okapi BM25 written out directly, as the matrix version before issue 16 computed it."""
    bags = [terms(d) for d in docs]
    n = len(bags)
    avg = sum(map(len, bags)) / n
    out = np.zeros(n)
    for t in terms(query):
        df = sum(t in bag for bag in bags)
        if not df:
            continue
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        for i, bag in enumerate(bags):
            tf = bag.count(t)
            if tf:
                out[i] += tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(bag) / avg)) * idf
    return out


def test_fresh_index_matches_the_formula() -> None:
    rng = random.Random(1)
    docs = texts(rng, 60)
    bm = BM25(docs)
    for q in ("river boat", "summit leader leader", "law court treaty vote"):
        assert np.allclose(bm.scores(q), reference(docs, q), rtol=1e-5)


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_adds_and_removes_equal_a_rebuild(seed: int) -> None:
    rng = random.Random(seed)
    bm = BM25()
    live: dict[int, str] = {}
    for _ in range(40):  # many small batches: exercises the segment merges
        batch = texts(rng, rng.randint(1, 12))
        first = bm.rows
        bm = bm.add(batch)
        live.update({first + i: t for i, t in enumerate(batch)})
        if live and rng.random() < 0.5:
            gone = rng.sample(sorted(live), min(len(live), rng.randint(1, 6)))
            bm = bm.remove(gone)
            for r in gone:
                del live[r]
    assert len(bm.segments) <= 6, "segments are merged as they accumulate"
    order = sorted(live)
    docs = [live[r] for r in order]
    for q in ("river boat", "minister army", "glacier canyon forge stone"):
        got = bm.scores(q)
        assert np.allclose(got[order], reference(docs, q), rtol=1e-4)
        dead = np.setdiff1d(np.arange(bm.rows), order)
        assert not got[dead].any(), "removed rows never score"
    assert bm.size == len(live)
    assert bm.idf_of("river") == pytest.approx(BM25(docs).idf_of("river"))


def test_an_update_leaves_the_old_copy_unchanged() -> None:
    bm = BM25(["cats purr softly", "dogs bark loudly at night"])
    before = bm.scores("dogs bark").copy()
    grown = bm.add(["dogs and more dogs"]).remove([1])
    assert np.array_equal(bm.scores("dogs bark"), before)
    assert grown.top("dogs", 5) == [(2, pytest.approx(grown.scores("dogs")[2]))]
    assert "dog" in bm.vocab and "dog" in grown.vocab
    assert "cat" in grown.vocab and "purr" not in grown.remove([0]).vocab
