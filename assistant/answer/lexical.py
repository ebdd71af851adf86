"""Tokenizing for lexical matching: folding, stop words, stems (BM25: ``answer.bm25``)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

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
    if text.isascii():  # the common case, and nothing to decompose: 20x faster
        return text.lower()
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
    from assistant.answer.demonyms import demonym_words

    return {stem(d): stem(n) for d, n in demonym_words().items()}


@lru_cache(maxsize=200_000)
def term(word: str) -> str:
    """A folded word's matching term: its stem, with a country's derived form ("irish",
    "australians") read as the country ("ireland", "australia"); see ``answer.demonyms``."""
    s = stem(word)
    return _derived_stems().get(s, s)


# "-", and the hyphen and soft hyphen typesetters put at a line end (groff's manual pages,
# some PDF text): U+2010, U+00AD.
_LINE_END_HYPHEN = re.compile(r"(\w+)[-\u2010\u00ad]\n[ \t]*(\w+)")
_HYPHENS_AT_END = ("-\n", "\u2010\n", "\u00ad\n")


def terms(text: str) -> list[str]:
    """Content terms of ``text``: folded, stop words removed, stemmed, demonyms read as
    their country (``term``).

    A word hyphenated at a line end ("infor-\nmation": PDF text, manual pages) also counts
    as the whole word, so it matches a question that spells it whole; its halves are kept,
    for the compounds that really have a hyphen ("command-\nline").
    """
    if any(h in text for h in _HYPHENS_AT_END):
        text = _LINE_END_HYPHEN.sub(r"\1\2 \1 \2", text)
    return [term(w) for w in content_words(text)]


def content_words(text: str) -> list[str]:
    """The folded words of ``text`` that ``terms`` stems: stop words left out."""
    return [w for w in _TOKEN.findall(fold(text)) if w not in STOPWORDS]


def __getattr__(name: str) -> object:
    """``BM25`` moved to ``answer.bm25`` (incremental since issue 16); still importable here."""
    if name == "BM25":
        from assistant.answer.bm25 import BM25

        return BM25
    raise AttributeError(name)
