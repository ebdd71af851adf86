"""The one call every front end wraps: ``Assistant.answer(question, history) -> Answer``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from assistant.types import Answer, DocumentInfo, DocumentText, Message

HistoryLike = Sequence[Message | dict]


class AssistantAPI(Protocol):
    """What the CLI, UI, widget and API need from the assistant."""

    def answer(self, question: str, history: HistoryLike | None = None) -> Answer:
        """Answer one question; raises ``InputError`` for an empty or overlong question."""
        ...

    def stream(self, question: str, history: HistoryLike | None = None) -> Iterator[str | Answer]:
        """Yield the answer text in pieces as it is produced, then the final ``Answer``."""
        ...

    def documents(self) -> list[DocumentInfo]:
        """The indexed documents."""
        ...

    def document(self, doc_id: str) -> DocumentText:
        """One document with its full text; raises ``NotFoundError``."""
        ...

    def ingest(self, paths: Sequence[Path]) -> object:
        """Index files; returns an ``IngestReport`` (documents, chunks, errors)."""
        ...
