"""Negation in questions and sentences: one list of negators for the answerer and the
claim checker, and what counts as a sentence answering a negated question.

A question put negatively ("What happens when no askpass program is configured?", "What
error do you get when deleting a name that is not bound?") is answered by sentences that
say it other ways than with "not": a condition turned round ("Otherwise, the user is
prompted"), or the negated word with a negating prefix ("unbound", "invalid"). Counting
only "not" in the sentence took those for a negation the passage lacks.
"""

from __future__ import annotations

import re

NEGATORS = "not|no|never|none|nobody|nothing|neither|nor|cannot|without"
NEGATION = re.compile(rf"\b(?:{NEGATORS})\b|n['’]t\b", re.I)
# "If X is set, ... Otherwise, Y": Y is what happens when X is not set.
_TURNED = re.compile(r"\b(?:otherwise|unless|else)\b", re.I)
# The word a negator applies to: "not bound", "isn't defined", "no longer valid".
_NEGATED_WORD = re.compile(
    r"(?:\b(?:not|never|no)|n['’]t)\s+(?:(?:be|been|being|yet|longer|a|an|the)\s+)?([a-z]{3,})",
    re.I,
)
_PREFIXES = ("un", "non", "non-", "in", "im", "il", "ir", "dis")


def asks_negated(question: str) -> bool:
    """Whether the question says "not", "no", "never", "n't"..."""
    return bool(NEGATION.search(question))


def answers_negation(question: str, sentence: str) -> bool:
    """Whether ``sentence`` says a negation the way a negated question needs it: a negator,
    a condition turned round, or a negated question word with a negating prefix."""
    if NEGATION.search(sentence) or _TURNED.search(sentence):
        return True
    words = set(re.findall(r"[a-z][a-z-]+", sentence.lower()))
    negated = [m.lower() for m in _NEGATED_WORD.findall(question)]
    return any(p + w in words for w in negated for p in _PREFIXES)
