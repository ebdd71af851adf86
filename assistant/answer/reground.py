"""What a wholly unsupported answer becomes: the passage sentence it was trying to say.

A small model often has the right fact but wraps it in words no passage says ("...with 30
leaders from 12 countries"), and the claim checker rightly rejects the sentence. Rather than
refuse at once, the rejected sentences are matched to the passage sentence closest to them
(the checker's own blend: embedding cosine and IDF-weighted word overlap), and that sentence
is shown, copied exactly with its marker and checked again, with a note saying so and the
model's own words listed in ``unsupported_claims``. No second model call: on two busy cores
that would double the wait.

The sentence is chosen only among the few that the extractive answerer ranks highest for the
question (its sentence model is fitted out-of-fold) and that are of the right answer type (a
number for "how many", a time for "when": ``answer_type_ok``), and only when the extractive
answerer, whose abstention is calibrated, answers the question: so a copied sentence does
not stand in for an honest "the documents don't say", and the model's answer chooses among
relevant sentences only. The answer is as sure as the extractive answerer is: where it is
unsure, the answer says "The closest the documents come is: ..." and ``uncertain`` is true,
as on the extractive path (measured: without that, 4 of 5 unanswerable held-out SQuAD
questions got a plain answer; requiring a sure extractive answer instead would refuse the
sample article's own "How many leaders attended ...?", where it is unsure at 0.52).
(Measured first, and dropped: a second, grammar-constrained generation that makes the 135M
model copy one of them; it picked a sentence that merely starts like an answer, e.g. Thomas
Süssli's for "Which two countries will send a joint mission?".)"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from assistant.answer.answer_types import answer_type_ok
from assistant.answer.lexical import terms
from assistant.answer.retrieval import Passage, Searcher
from assistant.answer.support import DENSE_WEIGHT, MARKER, prefix, words_to_digits

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
MAX_CANDIDATE_CHARS = 400  # longer "sentences" are lists or run-ons, not an answer to quote
MAX_CANDIDATES = 3  # the extractive answerer's best few
UNSURE_PREFIX = "The closest the documents come is: "  # as ExtractiveAnswerer writes it
NOTE = (
    "The language model's answer was not supported by the documents (see unsupported_claims); "
    "shown instead is the passage sentence closest to it, among those that answer the question."
)


class Ranked(Protocol):
    """A ranked sentence, as ``ExtractiveAnswerer.candidates`` returns them."""

    passage: Passage
    text: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A passage sentence that may stand in for the answer, and the passage's number (from 1)."""

    n: int
    text: str

    @property
    def reply(self) -> str:
        return f"{self.text} [{self.n}]"


def candidates(
    question: str,
    ranked: Sequence[Ranked],
    passages: Sequence[Passage],
    limit: int = MAX_CANDIDATES,
) -> list[Candidate]:
    """The best-ranked sentences that could answer ``question``, with their passage numbers."""
    number = {p.chunk.chunk_id: n for n, p in enumerate(passages, 1)}
    out: list[Candidate] = []
    for r in ranked:
        text = " ".join(r.text.split())
        n = number.get(r.passage.chunk.chunk_id)
        if (
            n is None
            or not text
            or len(text) > MAX_CANDIDATE_CHARS
            or len(terms(text)) < 2
            or not answer_type_ok(question, text)
            or any(c.text == text for c in out)
        ):
            continue
        out.append(Candidate(n, text))
        if len(out) == limit:
            break
    return out


def closest(
    question: str, claims: Sequence[str], cands: Sequence[Candidate], searcher: Searcher
) -> Candidate | None:
    """The candidate nearest to what the model wrote (the checker's cosine + overlap blend).

    Only a candidate that has a word the model added to the question's own ("30" in "...with
    30 leaders from 12 countries") can be what it meant; an answer sharing none with any
    candidate ("Bananas grow on the moon") is refused, not replaced.
    """
    said = words_to_digits(" ".join(MARKER.sub("", c) for c in claims))
    asked = {prefix(t) for t in terms(words_to_digits(question))}
    added = {prefix(t) for t in terms(said)} - asked
    have = [{prefix(t) for t in terms(words_to_digits(c.text))} for c in cands]
    eligible = [i for i in range(len(cands)) if added & have[i]]
    # A number is the fact a model asserts most plainly: when it stated any, the sentence
    # shown for it must hold one of them ("30" for "...30 leaders from 12 countries"), so an
    # invented "50,000 troops in the Arctic" never becomes a sentence about other troops.
    stated = _numbers(said)
    if stated:
        eligible = [i for i in eligible if stated & _numbers(words_to_digits(cands[i].text))]
    if not eligible:
        return None
    qvec = np.asarray(searcher.query_vector(said), dtype=np.float32)
    vecs = np.asarray(searcher.embedder.encode([cands[i].text for i in eligible]), np.float32)
    norms = np.linalg.norm(vecs, axis=1) * max(float(np.linalg.norm(qvec)), 1e-9)
    cosines = dict(zip(eligible, vecs @ qvec / np.maximum(norms, 1e-9), strict=True))
    weights = {prefix(t): searcher.bm25.idf_of(t) for t in terms(said)}
    total = sum(weights.values()) or 1.0

    def score(i: int) -> float:
        overlap = sum(w for t, w in weights.items() if t in have[i]) / total
        return DENSE_WEIGHT * max(float(cosines[i]), 0.0) + (1 - DENSE_WEIGHT) * overlap

    return cands[max(eligible, key=score)]


def _numbers(text: str) -> set[str]:
    """The numbers written in ``text``, thousands separators dropped ("50,000" -> "50000")."""
    return {n.replace(",", "") for n in _NUMBER.findall(text)}
