"""How a sentence's wording stands to the question's: what it names, what it restates.

Plain functions over ``lexical.terms``, shared by the sentence and answerability features
of ``answer.extractive``; no model, no index.
"""

from __future__ import annotations

import re

from assistant.answer.lexical import terms

CAPITALISED = re.compile(r"\b(?:[A-Z][\w'’-]+|\d[\d.,]*)")


def novel(question: str, sentence: str) -> bool:
    """Whether the sentence names something (a name, a number) the question does not."""
    asked = set(terms(question))
    return any(terms(w) and terms(w)[0] not in asked for w in CAPITALISED.findall(sentence)[1:])


# Words that name the corpus rather than a subject: "Summarize the documents" asks about none,
# and "Who is the British prime minister mentioned in the article?" asks about the minister.
CORPUS_WORDS = frozenset(terms("document article text passage source file mentioned"))


def question_terms(question: str, chunk_texts: list[str]) -> set[str]:
    """The question's content terms, less words for the corpus itself ("in the article")
    that the passages do not contain: asked about nothing, they cannot be missing."""
    found = set(terms(question))
    meta = found & CORPUS_WORDS
    if meta:
        present = {t for text in chunk_texts for t in terms(text)}
        found -= meta - present
    return found


def is_label(text: str) -> bool:
    """One word and no closing punctuation: a label or term, not a sentence."""
    words = text.split()
    return len(words) == 1 and not words[0].endswith((".", "!", "?", ":"))


def novel_share(question_terms: set[str], sentence: str) -> float:
    """Share of the sentence's content terms the question does not contain.

    Low: the sentence restates the question (its premise, context); high: it adds
    something, which is where an answer is.
    """
    found = terms(sentence)
    return sum(t not in question_terms for t in found) / (len(found) or 1)


# A command-line option as written ("-c", "--keep-index"): matched exactly, case and dashes
# included, since "c" and "C" (grep's count and context) and "--exclude-tag" and
# "--exclude-tag-under" are different options whose words ``terms`` cannot tell apart.
OPTION = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*(?<!-)")


def options(text: str) -> set[str]:
    """The command-line options ``text`` names, exactly as written."""
    return set(OPTION.findall(text)) if "-" in text else set()
