"""Sentence spans with exact character offsets, so every citation maps back to the source.

The text is first cut into layout blocks (``index.layout``). Prose blocks and list items
are split into sentences by ``sentencex`` (chosen by ``benchmarks/segmenters.py``: the most
accurate of the four candidates on our documents and the fastest), reading soft line
breaks as spaces; code blocks and tables stay whole; headings are not spans at all: they
become the ``section`` of the spans that follow, so an answer never quotes a heading alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sentencex

from index.layout import CODE, HEADING, TABLE, Block, parse, reflow

_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range ``[start, end)`` of the document text.

    ``lead`` is where the heading above starts when this span is the first one after it
    (so a chunk opening here can show its heading), else ``start``.
    """

    start: int
    end: int
    paragraph: int = 0
    section: str = ""
    kind: str = "prose"
    lead: int = -1


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def sentence_bounds(view: str, a: int, b: int) -> list[tuple[int, int]]:
    """Sentences of ``view[a:b]`` (already reflowed) as trimmed absolute spans."""
    out = []
    for found in sentencex.get_sentence_boundaries(_LANGUAGE, view[a:b]):
        s, e = _trim(view, a + found["start_index"], a + found["end_index"])
        if s < e:
            out.append((s, e))
    return out


def split_blocks(text: str, blocks: Sequence[Block]) -> list[Span]:
    """Spans of the given blocks: sentences of prose and items, whole code and tables."""
    view = reflow(text)
    spans: list[Span] = []
    lead = -1
    for block in blocks:
        if block.kind == HEADING:
            lead = block.start
            continue
        if block.kind in (CODE, TABLE):
            pieces = [(block.start, block.end)]
        else:
            pieces = sentence_bounds(view, block.start, block.end)
        for s, e in pieces:
            spans.append(Span(s, e, block.paragraph, block.section, block.kind, lead))
            lead = -1
    if not spans:  # a document of headings alone is still searchable, by its headings
        spans = [Span(b.start, b.end, b.paragraph, b.section) for b in blocks]
    return spans


def split_sentences(
    text: str,
    start: int = 0,
    fmt: str = "text",
    headings: Sequence[tuple[int, int]] = (),
) -> list[Span]:
    """Split ``text[start:]`` into spans: sentences, code blocks and table blocks.

    Leading and trailing whitespace is excluded from each span, so ``text[s.start:s.end]``
    is a clean sentence that can be quoted verbatim; ``paragraph`` numbers layout blocks.
    ``fmt`` and ``headings`` are the loader's hints (see ``index.layout.parse``).
    """
    return split_blocks(text, parse(text, start, fmt, headings))
