"""The answer contract shared by the CLI, UI, widget and API (see DESIGN.md, "Answer JSON")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Message(BaseModel):
    """One earlier turn of the conversation."""

    role: Literal["user", "assistant"]
    content: str


class Citation(BaseModel):
    """An exact span of a source document: ``document_text[start:end] == text``."""

    n: int = Field(description="Marker number used as [n] in the answer text.")
    source: str = Field(description="Document name, e.g. the file name.")
    text: str = Field(description="The cited passage, verbatim.")
    start: int = Field(description="Character offset of the span in the document text.")
    end: int = Field(description="Character offset one past the span's end.")
    score: float = Field(
        description="0..1: the cited sentence's similarity to the question (extractive), or "
        "how well the passage supports the claim (generative)."
    )
    supported: bool = Field(description="Whether the cited text supports the answer sentence.")
    doc_id: str = Field(
        default="", description="Store id of the document (GET /api/documents/{id})."
    )
    title: str = Field(default="", description="Document title.")
    date: str | None = Field(default=None, description="Date the document states, ISO format.")
    passage_start: int = Field(
        default=0, description="Start of the retrieved chunk around the span."
    )
    passage_end: int = Field(default=0, description="End of the retrieved chunk around the span.")
    section: str | None = Field(
        default=None, description="The heading the cited span sits under, where known."
    )
    page: int | None = Field(
        default=None, description="1-based page where the span starts, for paged formats (PDF)."
    )


class Answer(BaseModel):
    """What every front end shows: the answer text with [n] markers and its citations."""

    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    timing_ms: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list, description="Visible notes, e.g. a fallback.")
    unsupported_claims: list[str] = Field(default_factory=list)
    standalone_question: str | None = Field(
        default=None, description="The question as retrieval saw it after reading the history."
    )
    confidence: float = Field(
        default=0.0,
        description="0..1: the calibrated probability that the documents answer the question.",
    )
    uncertain: bool = Field(
        default=False,
        description='An answer given but marked uncertain ("The closest the documents come is").',
    )
    answered_by: str = Field(
        default="extractive",
        description="Who wrote the answer: `extractive`, `llm:<provider:model>`, or "
        "`extractive (LLM failed: ...)` when the configured LLM could not answer.",
    )


class DocumentInfo(BaseModel):
    """A document in the index, as the Documents tab and the API list it."""

    doc_id: str
    source: str
    title: str
    date: str | None = None
    chars: int
    chunks: int
    content_hash: str
    indexed_at: str = Field(description="ISO timestamp of the last (re)index.")
    path: str = ""
    format: str = Field(
        default="", description='How it was read: "text", "markdown", "html", "pdf" or "docx".'
    )
    pages: int = Field(default=0, description="Number of pages (PDF); 0 for unpaged formats.")
    file_hash: str = Field(
        default="",
        description="sha256 of the indexed file; GET /api/documents/{id}/file serves only it.",
    )


class DocumentText(DocumentInfo):
    """A document with its full text, so citation offsets can be shown in context."""

    text: str
    page_starts: list[int] = Field(
        default_factory=list,
        description="PDF: offset in `text` where each page starts (page 1 first).",
    )
