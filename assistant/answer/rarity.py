"""How rare a question's words are in English at large, beside how rare they are here.

A question word the documents never use is either content they lack ("Which encryption
algorithm ...") or the reader's own wording ("What happens when ...", "a bare raise").
The documents' IDF cannot tell the two apart: both are unseen, so both get the highest
IDF. Word frequencies of English at large (``wordfreq``, a kept library whose data ships
in its wheel, so nothing is downloaded) can: everyday words weigh little as missing
content, rare names and terms weigh fully.
"""

from __future__ import annotations

from functools import lru_cache

from assistant.answer.lexical import content_words, term

_ZIPF_TOP = 7.0  # zipf of the commonest words ("the" is 7.7); 0 for a word never seen


@lru_cache(maxsize=50_000)
def english_rarity(word: str) -> float:
    """0 for the commonest English words, 1 for words English text never uses."""
    from wordfreq import zipf_frequency

    return max(0.0, min(1.0, 1.0 - zipf_frequency(word, "en") / _ZIPF_TOP))


def warm() -> None:
    """Load the word list now (0.3 s: the import and the English table), not at the first
    question."""
    english_rarity("the")


def term_rarity(text: str) -> dict[str, float]:
    """English rarity of each content term of ``text`` (``lexical.terms``), from the
    rarest word that has that term."""
    out: dict[str, float] = {}
    for word in content_words(text):
        t = term(word)
        out[t] = max(out.get(t, 0.0), english_rarity(word))
    return out


def absence_weights(question: str, idf: dict[str, float]) -> dict[str, float]:
    """How much each question term's absence says the documents lack what is asked: its
    IDF here times its rarity in English, so a reader's everyday word the
    documents happen not to use ("happens", "bare") weighs little."""
    rare = term_rarity(question)
    return {t: w * rare.get(t, 1.0) for t, w in idf.items()}
