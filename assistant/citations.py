"""Check that every citation is an exact span of its source before anyone sees it."""

from __future__ import annotations

from assistant.errors import AssistantError
from assistant.types import Answer, Citation
from index.store import ChunkRecord


class CitationError(AssistantError):
    """A citation does not match its source text: a bug, never shown as a valid answer."""


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
