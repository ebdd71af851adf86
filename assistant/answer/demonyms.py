"""Country names and their derived forms ("Irish" -> "Ireland"), from a kept data package.

Readers ask "What is Ireland prepared to do?" about a text that says "the Irish Prime
Minister"; no stemmer relates the two. The pairs come from the ``countryinfo`` package's
country data (name, alternative spellings, demonym), not from a hand-kept alias table, so
every country it knows is covered the same way.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from importlib.resources import files

_WORD = re.compile(r"[^\W\d_]+")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return _WORD.findall(_fold(text))


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _name_for(demonym: str, names: list[list[str]]) -> str | None:
    """The word of a country's names that a one-word demonym derives from.

    A one-word country name is that word ("Dutch" -> "netherlands"); otherwise the last word
    of the name or of an alternative spelling that shares the longest start with the demonym
    ("British" -> "britain" from "Great Britain"), at least two letters of it.
    """
    if len(names[0]) == 1:
        return names[0][0]
    best, best_len = None, 1
    for words in names:
        if not words:
            continue
        n = _common_prefix(words[-1], demonym)
        if n > best_len and len(words[-1]) >= 4:
            best, best_len = words[-1], n
    return best


def _read_countries() -> list[dict]:
    """Every country record of the ``countryinfo`` package's data."""
    out = []
    for path in files("countryinfo").joinpath("data").iterdir():
        if path.name.endswith(".json"):
            out.append(json.loads(path.read_text(encoding="utf-8")))
    return out


@lru_cache(maxsize=1)
def demonym_words() -> dict[str, str]:
    """Folded demonym word -> folded country-name word ("irish" -> "ireland").

    Multi-word forms are aligned from the end ("South Korean" -> "South Korea": "korean" ->
    "korea"); a demonym several countries share keeps the country whose name shares the
    longest start with it ("French" -> "france", not "mayotte").
    """
    found: dict[str, tuple[int, str]] = {}
    for country in _read_countries():
        name = _words(country.get("name") or "")
        demonym = _words((country.get("demonym") or "").split(",")[0])
        if not name or not demonym:
            continue
        alts = [_words(a) for a in country.get("altSpellings") or [] if not a.isupper()]
        if len(demonym) > 1:  # "South Korean": the differing last words
            if demonym[:-1] != name[:-1]:
                continue
            demonym, name = demonym[-1:], name[-1:]
        word = demonym[0]
        target = _name_for(word, [name, *alts])
        if target is None or target == word:
            continue
        rank = _common_prefix(word, target)
        if word not in found or rank > found[word][0]:
            found[word] = (rank, target)
    return {word: target for word, (_, target) in found.items()}
