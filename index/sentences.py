"""Sentence spans with exact character offsets, so every citation maps back to the source."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that end in a period without ending a sentence.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e a.m p.m u.s u.k u.n e.u no fig approx
    jan feb mar apr jun jul aug sep sept oct nov dec gen col lt sgt capt gov sen rep inc
    ltd co corp dept est vol pp ca cf al
    """.split()  # noqa: SIM905 - a word list reads better as text
)
# A sentence may end after . ! ? (plus closing quotes/brackets) when whitespace follows.
_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_PARAGRAPH = re.compile(r"\n\s*\n|\n")


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range ``[start, end)`` of the document text."""

    start: int
    end: int
    paragraph: int = 0


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at ``dot`` closes an abbreviation or an initial, not a sentence."""
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lstrip("(\"'“‘").lower()
    if word in _ABBREVIATIONS:
        return True
    # Single capital initial ("J. Smith") or dotted acronym ("U.S.").
    return (len(word) == 1 and word.isalpha()) or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def _split_paragraph(text: str, start: int, end: int, paragraph: int) -> list[Span]:
    spans: list[Span] = []
    cursor = start
    for match in _END.finditer(text, start, end):
        stop = match.end()
        if match.group() == "." and _is_abbreviation(text, match.start()):
            continue
        nxt = stop
        while nxt < end and text[nxt].isspace():
            nxt += 1
        # Only break before something that can start a sentence.
        if nxt < end and not (
            text[nxt].isupper() or text[nxt].isdigit() or text[nxt] in "\"'“‘«(["
        ):
            continue
        spans.append(Span(cursor, stop, paragraph))
        cursor = nxt
    if cursor < end:
        spans.append(Span(cursor, end, paragraph))
    return spans


def split_sentences(text: str, start: int = 0) -> list[Span]:
    """Split ``text[start:]`` into sentence spans; line breaks always end a sentence.

    Leading and trailing whitespace is excluded from each span, so ``text[s.start:s.end]``
    is a clean sentence that can be quoted verbatim. ``paragraph`` counts lines.
    """
    spans: list[Span] = []
    pos = start
    for paragraph, match in enumerate([*_PARAGRAPH.finditer(text, start), None]):
        stop = match.start() if match else len(text)
        a, b = pos, stop
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            spans.extend(_split_paragraph(text, a, b, paragraph))
        if match:
            pos = match.end()
    return spans
