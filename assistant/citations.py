"""Check that every citation is an exact span of its source before anyone sees it."""

from __future__ import annotations

from assistant.errors import AssistantError
from assistant.types import Answer, Citation
from index.records import ChunkRecord


class CitationError(AssistantError):
    """A citation does not match its source text: a bug, never shown as a valid answer."""


def make_citation(
    n: int, chunk: ChunkRecord, start: int, end: int, text: str, score: float, supported: bool
) -> Citation:
    """A citation of ``text`` at ``start:end`` inside ``chunk``, with the chunk as its passage."""
    return Citation(
        n=n,
        source=chunk.source,
        text=text,
        start=start,
        end=end,
        score=score,
        supported=supported,
        doc_id=chunk.doc_id,
        title=chunk.title,
        date=chunk.date,
        passage_start=chunk.start,
        passage_end=chunk.end,
        section=chunk.section_at(start) or None,
    )


def span_matches(citation: Citation, chunk: ChunkRecord) -> bool:
    """True when ``source_text[start:end] == text``, read through the chunk that holds it."""
    if not (chunk.start <= citation.start <= citation.end <= chunk.end):
        return False
    return chunk.text[citation.start - chunk.start : citation.end - chunk.start] == citation.text


def verify_citations(answer: Answer, chunks: dict[str, list[ChunkRecord]]) -> None:
    """Raise ``CitationError`` unless each citation is found verbatim at its offsets.

    ``chunks`` maps a document id to its chunks; the span may lie in any of them.
    """
    for citation in answer.citations:
        owners = chunks.get(citation.doc_id, [])
        if not any(span_matches(citation, c) for c in owners):
            raise CitationError(
                f"Citation [{citation.n}] does not match {citation.source} at "
                f"{citation.start}:{citation.end}."
            )
