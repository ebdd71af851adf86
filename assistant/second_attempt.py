"""The second, constrained attempt when the claim checker rejects every claim of the first.

A small model often has the right fact but wraps it in words no passage says ("...with 30
leaders from 12 countries"), and the checker rightly refuses the sentence. Before refusing,
the model is asked once more to copy the one passage sentence that answers the question,
with its marker. A model that takes a GBNF grammar (the in-process llama.cpp one) can then
only write one of the candidate sentences, word for word: it chooses, it cannot invent.
Other models are only asked to copy. Either way the reply goes
through the same checker as the first.

Candidates are the passage sentences that can answer this kind of question (a number for
"how many", a time for "when": ``answer_type_ok``), the few that share the most of the
question's words (IDF-weighted): a 135M model choosing among thirty sentences by their first
tokens picks one that merely starts like an answer ("The Commander-in-Chief ..."). The attempt is made only when the
extractive answerer, whose abstention is calibrated, finds that the passages answer the
question, so a copied sentence never stands in for an honest "the documents don't say".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.answer_types import answer_type_ok
from assistant.lexical import terms
from assistant.retrieval import Passage

MAX_CANDIDATE_CHARS = 400  # longer "sentences" are lists or run-ons, not an answer to copy
MAX_CANDIDATES = 4  # the sentences that share the most of the question's words
PREFIX = 6  # "attended" meets "attend", as in the claim checker
MAX_TOKENS = 160  # enough for the longest candidate with its marker
NOTE = (
    "The language model's first answer was not supported by the documents (see "
    "unsupported_claims); this second answer copies the passage sentence it chose."
)


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
    passages: Sequence[Passage],
    idf: Callable[[str], float] = lambda term: 1.0,
    limit: int = MAX_CANDIDATES,
) -> list[Candidate]:
    """The passage sentences most likely to answer ``question``, best first."""
    wanted = {t[:PREFIX]: idf(t) for t in terms(question)}
    total = sum(wanted.values()) or 1.0
    scored: list[tuple[float, int, Candidate]] = []
    seen: set[str] = set()
    for n, p in enumerate(passages, 1):
        c = p.chunk
        for s, e in c.units:
            text = " ".join(c.text[s - c.start : e - c.start].split())
            if (
                not text
                or text in seen
                or len(text) > MAX_CANDIDATE_CHARS
                or len(terms(text)) < 2
                or not answer_type_ok(question, text)
            ):
                continue
            seen.add(text)
            have = {t[:PREFIX] for t in terms(text)}
            share = sum(w for t, w in wanted.items() if t in have) / total
            if share > 0:
                scored.append((share, -len(scored), Candidate(n, text)))
    scored.sort(reverse=True)
    return [c for _, _, c in scored[:limit]]


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
