"""Check that every citation is an exact span of its source before anyone sees it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

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
        page=chunk.page_at(start),
    )


def span_matches(citation: Citation, chunk: ChunkRecord) -> bool:
    """True when ``source_text[start:end] == text``, read through the chunk that holds it."""
    if not (chunk.start <= citation.start <= citation.end <= chunk.end):
        return False
    return chunk.text[citation.start - chunk.start : citation.end - chunk.start] == citation.text


def verify_citations(
    answer: Answer,
    chunks: Mapping[str, list[ChunkRecord]],
    given: Sequence[ChunkRecord] = (),
) -> None:
    """Raise ``CitationError`` unless each citation is found verbatim at its offsets.

    ``given`` are the chunks the answer was written from (the retrieved passages, as read
    from the store for this question); a span is checked in them first, so a document
    re-ingested while the question was answered cannot fail the citations its own passages
    hold. ``chunks`` maps a document id to its chunks in the index (read only when a span is
    in none of ``given``: a list item quoted from the chunk after a passage).
    """
    for citation in answer.citations:
        if any(c.doc_id == citation.doc_id and span_matches(citation, c) for c in given):
            continue
        owners = chunks.get(citation.doc_id, [])
        if not any(span_matches(citation, c) for c in owners):
            raise CitationError(
                f"Citation [{citation.n}] does not match {citation.source} at "
                f"{citation.start}:{citation.end}."
            )


MARKER = re.compile(r"\[(\d+)\]")  # a citation marker in answer text: [1], [2]
INERT_OPEN, INERT_CLOSE = "\uff3b", "\uff3d"  # fullwidth [ ]: read alike, never a marker


def inert_markers(text: str) -> str:
    """``text`` with every ``[n]`` written with fullwidth brackets, so no renderer links it."""
    return MARKER.sub(rf"{INERT_OPEN}\1{INERT_CLOSE}", text)


def neutralize_quoted_markers(answer: Answer) -> Answer:
    """Make bracketed numbers inside quoted document text inert in the answer.

    A document sentence such as "three sources [1] [2] [3]" is quoted verbatim by the
    extractive answerer; left alone, the UI and widget would turn those into links to real
    citations the answer never made. Only the answer text (and its ``unsupported_claims``)
    changes; ``citations[].text`` stays the exact span of the source.
    """
    quoted = sorted(
        {c.text.strip() for c in answer.citations if MARKER.search(c.text)}, key=len, reverse=True
    )
    if not quoted:
        return answer
    for text in quoted:
        answer.answer = answer.answer.replace(text, inert_markers(text))
        answer.unsupported_claims = [
            claim.replace(text, inert_markers(text)) for claim in answer.unsupported_claims
        ]
    return answer
