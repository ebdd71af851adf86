"""What kind of answer a question asks for, and whether a sentence can be one.

"How many" wants a number, "when" a time, and "how many troops" or "what is the budget of"
wants that thing mentioned. A feature of the extractive answerer's sentence model.
"""

from __future__ import annotations

import re

from assistant.answer.lexical import terms

_NUMBER_Q = re.compile(
    r"\bhow (?:many|much|long|old|far|large|big|tall|high)\b|"
    r"\bwhat (?:number|percentage|percent|amount|proportion)\b",
    re.I,
)
# "When" asks for a time only as the question's own word: at the start of a sentence or clause
# ("When did", "Thanks. When did", "..., and when?", "since when"). Inside a question it opens
# a condition ("What happens to the stash when pop fails?"), and "When should I use it?" or
# "When I modify the file, what must happen?" ask for a circumstance, not a date.
_DATE_Q = re.compile(
    r"(?:^\W*|[,;:(.!?\-\u2013\u2014\"'\u201c]\s*|\b(?:and|or|but|so|since|until|till)\s+)"
    r"when\b(?!\s+(?:should|shall|can|could|may|might|must|would|i|you|we)\b)"
    r"(?![^?]*,[^?]*\b(?:what|which|who|whom|whose|how|where|why)\b)"
    r"(?![^?]*,\s*(?:is|are|do|does|can|must|should)\b)|"
    r"\b(?:what|which|in what) (?:year|date|day|month|century|decade|time)\b",
    re.I,
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    "forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen|"
    "half|several|single|double"
)
_HAS_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)
_HAS_DATE = re.compile(
    r"\b\d{3,4}s?\b|\b\d{1,2}(?:st|nd|rd|th)\b|\b(?:january|february|march|april|may|june|july|"
    r"august|september|october|november|december|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|century|centuries|year|years|decade|today|yesterday|ago|era|age)\b",
    re.I,
)

_HOW_MANY = re.compile(r"\bhow (?:many|much) (\w+)", re.I)
_WHAT_OF = re.compile(
    r"\b(?:what|which) (?:is|was|are|were|will be) the (\w+) (?:of|for|in)\b", re.I
)
# Focus words that name the kind of answer rather than something the answer must mention.
_GENERIC = frozenset(
    terms(
        "name names term type kind sort number percentage amount part example word title value "
        "size total majority role reason result meaning effect cause date year purpose main "
        "first last largest biggest most least best goal use idea way method process form "
        "population area"
    )
)
_VERBS = frozenset(
    (
        "do",
        "does",
        "did",
        "is",
        "are",
        "was",
        "were",
        "will",
        "would",
        "can",
        "could",
        "has",
        "have",
        "had",
        "should",
    )
)


def focus_term(question: str) -> str | None:
    """The thing a "how many N" or "what is the N of" question asks about, when specific."""
    m = _HOW_MANY.search(question) or _WHAT_OF.search(question)
    if m is None or m.group(1).lower() in _VERBS:
        return None
    found = terms(m.group(1))
    return found[0] if found and found[0] not in _GENERIC else None


def answer_type_ok(question: str, sentence: str) -> bool:
    """Whether the sentence can answer this kind of question: a "how many" question needs a
    number, a "when" question a time (the thing asked about is ``focus_ok``)."""
    if _NUMBER_Q.search(question):
        return bool(_HAS_NUMBER.search(sentence))
    if _DATE_Q.search(question):
        return bool(_HAS_DATE.search(sentence))
    return True


def focus_ok(question: str, sentence_terms: set[str]) -> bool:
    """Whether a sentence mentions the specific thing a "how many troops" or "what is the
    budget of" question asks about (true when the question names none).

    A separate signal from the answer's kind: "How many people came?" is answered by
    "attended by 30 leaders", which has the number but not the word.
    """
    focus = focus_term(question)
    return focus is None or focus in sentence_terms
