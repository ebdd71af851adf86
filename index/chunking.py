"""Sentence-aware chunks that fit the embedding model's window, with exact offsets.

Each chunk is a run of whole sentences (or whole code blocks and tables) of one section.
A sentence longer than the model window is cut at word boundaries, and a code block or
table at line boundaries, into several *units*, so no text is ever truncated by the model.
Units are what gets embedded (and what an extractive answer quotes); chunks are what
retrieval returns. A chunk that opens a section starts at the section's heading, so the
passage (and the late-chunked sentence vectors) read the heading, though no unit quotes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from index.layout import CODE, TABLE
from index.sentences import Span, split_sentences

TokenCounter = Callable[[Sequence[str]], list[int]]
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Unit:
    """A sentence (or a window of a very long one): ``text[start:end]``, ``tokens`` word pieces."""

    start: int
    end: int
    tokens: int
    paragraph: int
    section: str = ""
    kind: str = "prose"
    gap: int = 0  # word pieces of the text between the previous unit and this one
    lead: int = -1  # start of the heading above, when this unit is the first after it
    lead_tokens: int = 0  # word pieces of text[lead:start]


@dataclass(slots=True)
class Chunk:
    """Consecutive units of one document; ``text[start:end]`` is the passage shown in context."""

    start: int
    end: int
    units: list[Unit] = field(default_factory=list)
    extra: int = 0  # word pieces of the text between and before the units (headings, markup)

    @property
    def tokens(self) -> int:
        return sum(u.tokens for u in self.units) + self.extra

    @property
    def section(self) -> str:
        return self.units[0].section if self.units else ""


_LINE = re.compile(r"[^\n]*\S[^\n]*")


def _entry_start(lines: list[re.Match[str]], first: int, i: int) -> int:
    """Where to cut ``lines[first:i + 1]`` of code: before the last of its least indented
    lines, so an entry wrapped over indented lines (a synopsis, a statement) stays whole."""

    def indent(m: re.Match[str]) -> int:
        return len(m.group()) - len(m.group().lstrip())

    least = min(indent(m) for m in lines[first : i + 1])
    return next((j for j in range(i, first, -1) if indent(lines[j]) == least), i)


def _windows(
    text: str, span: Span, budget: int, count: TokenCounter, pattern: re.Pattern[str] = _WORD
) -> list[Unit]:
    """Cut one overlong span into pieces of at most ``budget`` tokens, at the boundaries of
    ``pattern`` matches (words; lines for code and tables)."""
    words = list(pattern.finditer(text, span.start, span.end))
    sizes = count([w.group() for w in words])
    if pattern is not _WORD and max(sizes) > budget:
        return _windows(text, span, budget, count)  # a line longer than the window
    pieces: list[tuple[int, int, int]] = []
    first, used = 0, 0
    for i, size in enumerate(sizes):
        if used + size > budget and i > first:
            cut = i if pattern is _WORD else _entry_start(words, first, i)
            pieces.append((words[first].start(), words[cut - 1].end(), sum(sizes[first:cut])))
            first, used = cut, sum(sizes[cut:i])
        used += min(size, budget)
    pieces.append((words[first].start(), words[-1].end(), used))
    return [
        Unit(a, b, n, span.paragraph, span.section, span.kind, lead=span.lead if k == 0 else -1)
        for k, (a, b, n) in enumerate(pieces)
    ]


def split_units(
    text: str,
    count: TokenCounter,
    unit_tokens: int,
    start: int = 0,
    fmt: str = "text",
    headings: Sequence[tuple[int, int]] = (),
) -> list[Unit]:
    """Spans of ``text[start:]`` as units of at most ``unit_tokens`` word pieces, each with
    the word pieces of the text before it (``gap``, ``lead_tokens``) for exact budgets."""
    spans = split_sentences(text, start, fmt, headings)
    sizes = count([text[s.start : s.end] for s in spans])
    units: list[Unit] = []
    for span, size in zip(spans, sizes, strict=True):
        if size <= unit_tokens:
            units.append(
                Unit(
                    span.start,
                    span.end,
                    size,
                    span.paragraph,
                    span.section,
                    span.kind,
                    0,
                    span.lead,
                )
            )
        else:
            lines = _LINE if span.kind in (CODE, TABLE) else _WORD
            units.extend(_windows(text, span, unit_tokens, count, lines))
    if not units:
        return []
    gaps = [text[a.end : b.start] for a, b in zip(units, units[1:], strict=False)]
    leads = [text[u.lead : u.start] if u.lead >= 0 else "" for u in units]
    between = count([*gaps, *leads]) if gaps or leads else []
    gap_sizes = [0, *between[: len(gaps)]]
    lead_sizes = between[len(gaps) :]
    return [
        Unit(u.start, u.end, u.tokens, u.paragraph, u.section, u.kind, g, u.lead, n)
        for u, g, n in zip(units, gap_sizes, lead_sizes, strict=True)
    ]


def chunk_units(units: Sequence[Unit], max_tokens: int, window: int = 0) -> list[Chunk]:
    """Group units into chunks of at most ``max_tokens``, preferring paragraph breaks.

    A chunk never spans two sections, and closes early at a paragraph boundary once it is
    more than half full, so passages tend to be whole paragraphs, unless the rest of its
    section fits: a short section (a manual's ``drop::`` item and its continuation
    paragraph) stays one passage with its heading. A single unit larger than
    ``max_tokens`` is a chunk alone. A chunk opening a section starts at its heading when
    the heading still fits in ``window`` (the model's window; ``max_tokens`` when 0).
    """
    window = max(window, max_tokens)
    rest = _section_rest(units)
    chunks: list[Chunk] = []
    current: Chunk | None = None
    for i, unit in enumerate(units):
        if current is not None:
            full = current.tokens + unit.gap + unit.tokens > max_tokens
            new_paragraph = unit.paragraph != current.units[-1].paragraph
            new_section = unit.section != current.units[-1].section or unit.lead >= 0
            fits = current.tokens + rest[i] <= max_tokens  # the section's rest, this unit on
            early = new_paragraph and current.tokens * 2 >= max_tokens and not fits
            if full or new_section or early:
                chunks.append(current)
                current = None
        if current is None:
            current = Chunk(unit.start, unit.end, [unit])
            if unit.lead >= 0 and unit.tokens + unit.lead_tokens <= window:
                current.start, current.extra = unit.lead, unit.lead_tokens
        else:
            current.units.append(unit)
            current.end = unit.end
            current.extra += unit.gap
    if current is not None:
        chunks.append(current)
    return chunks


def _section_rest(units: Sequence[Unit]) -> list[int]:
    """For each unit, the word pieces from it to the end of its section (gaps included)."""
    rest = [0] * len(units)
    total = 0
    for i in range(len(units) - 1, -1, -1):
        nxt = units[i + 1] if i + 1 < len(units) else None
        if nxt is None or nxt.section != units[i].section or nxt.lead >= 0:
            total = 0  # units[i] ends its section
        total += units[i].gap + units[i].tokens
        rest[i] = total
    return rest


def chunk_text(
    text: str,
    count: TokenCounter,
    max_tokens: int,
    unit_tokens: int,
    start: int = 0,
    fmt: str = "text",
    headings: Sequence[tuple[int, int]] = (),
) -> list[Chunk]:
    """Split a document into chunks of sentence units; see the module docstring."""
    units = split_units(text, count, unit_tokens, start, fmt, headings)
    return chunk_units(units, max_tokens, unit_tokens)
