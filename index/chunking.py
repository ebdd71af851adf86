"""Sentence-aware chunks that fit the embedding model's window, with exact offsets.

Each chunk is a run of whole sentences. A sentence longer than the model window is cut at
word boundaries into several *units*, so no text is ever truncated by the model. Units are
what gets embedded (and what an extractive answer quotes); chunks are what retrieval returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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


@dataclass(slots=True)
class Chunk:
    """Consecutive units of one document; ``text[start:end]`` is the passage shown in context."""

    start: int
    end: int
    units: list[Unit] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return sum(u.tokens for u in self.units)


def _windows(text: str, span: Span, budget: int, count: TokenCounter) -> list[Unit]:
    """Cut one overlong sentence at word boundaries into pieces of at most ``budget`` tokens."""
    words = list(_WORD.finditer(text, span.start, span.end))
    sizes = count([w.group() for w in words])
    units: list[Unit] = []
    first, used = 0, 0
    for i, size in enumerate(sizes):
        if used + size > budget and i > first:
            units.append(Unit(words[first].start(), words[i - 1].end(), used, span.paragraph))
            first, used = i, 0
        used += min(size, budget)
    units.append(Unit(words[first].start(), words[-1].end(), used, span.paragraph))
    return units


def split_units(text: str, count: TokenCounter, unit_tokens: int, start: int = 0) -> list[Unit]:
    """Sentences of ``text[start:]`` as units of at most ``unit_tokens`` word pieces."""
    spans = split_sentences(text, start)
    sizes = count([text[s.start : s.end] for s in spans])
    units: list[Unit] = []
    for span, size in zip(spans, sizes, strict=True):
        if size <= unit_tokens:
            units.append(Unit(span.start, span.end, size, span.paragraph))
        else:
            units.extend(_windows(text, span, unit_tokens, count))
    return units


def chunk_units(units: Sequence[Unit], max_tokens: int) -> list[Chunk]:
    """Group units into chunks of at most ``max_tokens``, preferring paragraph breaks.

    A chunk closes early at a paragraph boundary once it is more than half full, so passages
    tend to be whole paragraphs; a single unit larger than ``max_tokens`` is a chunk alone.
    """
    chunks: list[Chunk] = []
    current: Chunk | None = None
    for unit in units:
        if current is not None:
            full = current.tokens + unit.tokens > max_tokens
            new_paragraph = unit.paragraph != current.units[-1].paragraph
            if full or (new_paragraph and current.tokens * 2 >= max_tokens):
                chunks.append(current)
                current = None
        if current is None:
            current = Chunk(unit.start, unit.end, [unit])
        else:
            current.units.append(unit)
            current.end = unit.end
    if current is not None:
        chunks.append(current)
    return chunks


def chunk_text(
    text: str, count: TokenCounter, max_tokens: int, unit_tokens: int, start: int = 0
) -> list[Chunk]:
    """Split a document into chunks of sentence units; see the module docstring."""
    return chunk_units(split_units(text, count, unit_tokens, start), max_tokens)
