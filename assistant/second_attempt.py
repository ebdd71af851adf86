"""The second, constrained attempt when the claim checker rejects every claim of the first.

A small model often has the right fact but wraps it in words no passage says ("...with 30
leaders from 12 countries"), and the checker rightly refuses the sentence. Before refusing,
the model is asked once more to copy the one passage sentence that answers the question,
with its marker. A model that takes a GBNF grammar (the in-process llama.cpp one) can then
only write one of the candidate sentences, word for word: it chooses, it cannot invent.
Other models are only asked to copy. Either way the reply goes
through the same checker as the first.

Candidates are the few passage sentences the extractive answerer ranks highest for the
question (its sentence model is fitted out-of-fold), of the right answer type (a number for
"how many", a time for "when": ``answer_type_ok``): a 135M model choosing among thirty
sentences by their first tokens picks one that merely starts like an answer. The attempt is
made only when the extractive answerer, whose abstention is calibrated, finds that the
passages answer the question, so a copied sentence never stands in for an honest "the
documents don't say". The model's part is the choice among those few; its quality is
bounded by that ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.answer_types import answer_type_ok
from assistant.lexical import terms
from assistant.retrieval import Passage

MAX_CANDIDATE_CHARS = 400  # longer "sentences" are lists or run-ons, not an answer to copy
MAX_CANDIDATES = 3  # the extractive answerer's best few
MAX_TOKENS = 160  # enough for the longest candidate with its marker
NOTE = (
    "The language model's first answer was not supported by the documents (see "
    "unsupported_claims); this second answer copies the passage sentence it chose."
)


class Ranked(Protocol):
    """A ranked sentence, as ``ExtractiveAnswerer.candidates`` returns them."""

    passage: Passage
    text: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A passage sentence the second attempt may copy, and the passage's number (from 1)."""

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


def gbnf_literal(text: str) -> str:
    """``text`` as a GBNF string literal (quotes, backslashes and control characters escaped)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def grammar(cands: Sequence[Candidate]) -> str:
    """A GBNF grammar whose only sentences are the candidates' replies.

    No abstention among them: whether to answer was decided before (see the module docstring),
    and a small model offered "The documents don't say." takes it even when a candidate answers.
    """
    return "root ::= " + " | ".join(gbnf_literal(c.reply) for c in cands) + "\n"
