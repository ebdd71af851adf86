"""What each UI event does: ask the assistant, then hand the result to ``render``.

Plain Python over an ``AssistantAPI`` (no Gradio layout here), so it is tested with the fake.
The assistant is fetched through ``get_assistant`` on every call, never before: the page must
load while the model is still loading in the background.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from assistant.errors import AssistantError
from assistant.serve.document_file import pdf_available
from assistant.serve.registry import Collections, not_found
from assistant.serve.security import scrub_paths
from assistant.serve.service import AssistantAPI
from assistant.serve.ui import render
from assistant.settings import Settings
from assistant.textguard import require_valid_unicode, unicode_problem
from assistant.types import Answer, Citation, DocumentText
from index.collection_names import DEFAULT, check_name

log = logging.getLogger(__name__)

ChatMessages = list[dict[str, Any]]
Turns = list[dict[str, Any]]
THINKING = "_Searching the documents…_"


def stream_answer(
    assistant: AssistantAPI, question: str, history: Sequence[dict]
) -> Iterator[str | Answer]:
    """The answer text so far after each streamed piece, then the final ``Answer``."""
    partial = ""
    for piece in assistant.stream(question, list(history)):
        if isinstance(piece, Answer):
            yield piece
            return
        partial += piece
        yield partial
    raise AssistantError("The assistant stopped before finishing its answer.")


def document_texts(assistant: AssistantAPI, citations: Sequence[Citation]) -> dict[str, str]:
    """Full text of each cited document, so passages can be cut out by their offsets."""
    texts: dict[str, str] = {}
    for doc_id in dict.fromkeys(c.doc_id for c in citations if c.doc_id):
        try:
            texts[doc_id] = assistant.document(doc_id).text
        except AssistantError:
            log.warning("cited document %s is not in the index", doc_id)
    return texts


class Handlers:
    """The UI's event handlers, bound to one way of getting the assistant.

    ``collections`` (``assistant.serve.registry``) opens the other collections; without it the UI
    has only the default one. Each answer remembers its collection, so its citations open
    in the documents it was answered from.
    """

    def __init__(
        self,
        get_assistant: Callable[[], AssistantAPI],
        settings: Settings,
        collections: Collections | None = None,
    ) -> None:
        self.get_assistant = get_assistant
        self.settings = settings
        self.collections = collections

    def assistant(self, collection: str | None = None) -> AssistantAPI:
        """The assistant of ``collection``; ``AssistantError`` for a bad or unknown name."""
        name = check_name(collection)
        if self.collections is not None:
            return self.collections.get(name)
        if name != DEFAULT:
            raise not_found(name)
        return self.get_assistant()

    def collection_names(self) -> list[str]:
        """The collections to offer in the selector (the default one when listing fails)."""
        if self.collections is None:
            return [DEFAULT]
        try:
            return self.collections.names()
        except AssistantError:
            log.warning("listing the collections failed", exc_info=True)
            return [DEFAULT]

    def respond(
        self,
        question: str,
        chat: ChatMessages,
        history: ChatMessages,
        turns: Turns,
        collection: str | None = None,
    ) -> Iterator[tuple[ChatMessages, ChatMessages, Turns, str]]:
        """Stream one answer into the chat; the sources panel follows the finished answer.

        Yields (chat messages, plain history, turns, sources html).
        """
        question = (question or "").strip()
        if not question:
            return
        problem = unicode_problem(question)
        if problem:
            message = f"The question is not valid Unicode text: it contains {problem}."
            yield (
                [*chat, {"role": "assistant", "content": render.error_markdown(message)}],
                history,
                turns,
                render.sources_placeholder(),
            )
            return
        chat = [*chat, {"role": "user", "content": render.escape_markdown(question)}]
        shown = [*chat, {"role": "assistant", "content": THINKING}]
        pending = render.sources_placeholder("Looking for sources…")
        yield shown, history, turns, pending
        try:
            assistant = self.assistant(collection)
            for item in stream_answer(assistant, question, history):
                if isinstance(item, Answer):
                    final = item
                    break
                text = render.escape_markdown(item)
                yield [*chat, {"role": "assistant", "content": text}], history, turns, pending
            texts = document_texts(assistant, final.citations)
        except AssistantError as exc:
            error = {"role": "assistant", "content": render.error_markdown(scrub_paths(str(exc)))}
            yield [*chat, error], history, turns, render.sources_placeholder()
            return
        except Exception:  # a person sees a clean message, the log the traceback
            log.exception("answering %r failed", question)
            error = {"role": "assistant", "content": render.error_markdown("Something went wrong.")}
            yield [*chat, error], history, turns, render.sources_placeholder()
            return
        turn = len(turns)
        name = check_name(collection)
        turns = [*turns, {"question": question, "answer": final.model_dump(), "collection": name}]
        history = [
            *history,
            {"role": "user", "content": question},
            {"role": "assistant", "content": final.answer},
        ]
        reply = {"role": "assistant", "content": render.chat_markdown(final, turn)}
        sources = render.sources_html(final, texts, turn, question=question)
        yield [*chat, reply], history, turns, sources

    def open_citation(self, turns: Turns, turn: int, n: int) -> tuple[str, str] | None:
        """Sources of answer ``turn`` with card ``n`` selected, and its document at the span.

        ``None`` when the turn or marker is unknown (e.g. after starting over).
        """
        if not 0 <= turn < len(turns):
            return None
        answer = Answer.model_validate(turns[turn]["answer"])
        cited = next((c for c in answer.citations if c.n == n), None)
        if cited is None:
            return None
        question = turns[turn]["question"]
        try:
            assistant = self.assistant(turns[turn].get("collection"))
            texts = document_texts(assistant, answer.citations)
            doc: DocumentText = assistant.document(cited.doc_id)
        except AssistantError as exc:
            sources = render.sources_html(answer, {}, turn, n, question)
            return sources, render.document_placeholder(scrub_paths(str(exc)))
        sources = render.sources_html(answer, texts, turn, n, question)
        pdf_url = None
        if pdf_available(doc):
            name = check_name(turns[turn].get("collection"))
            query = "" if name == DEFAULT else f"?collection={name}"
            pdf_url = f"api/documents/{doc.doc_id}/file{query}"
        return sources, render.document_html(doc, answer.citations, n, pdf_url)

    def api_chat(
        self, message: str, history: Any, collection: str | None = None
    ) -> Iterator[tuple[str, Any, list[dict]]]:
        """Answer text with its [n] markers (streamed), history, and the citations as JSON.

        The session's history belongs to one collection: naming another starts afresh.
        Raises ``AssistantError`` with a message safe to show.
        """
        require_valid_unicode(message or "", "question")
        name = check_name(collection or None)
        turns = history.get("turns", []) if isinstance(history, dict) else []
        if isinstance(history, dict) and history.get("collection") != name:
            turns = []
        state = {"collection": name, "turns": turns}
        for item in stream_answer(self.assistant(name), message or "", turns):
            if isinstance(item, Answer):
                state = {
                    "collection": name,
                    "turns": [
                        *turns,
                        {"role": "user", "content": message},
                        {"role": "assistant", "content": item.answer},
                    ],
                }
                yield item.answer, state, [c.model_dump() for c in item.citations]
            else:
                yield item, state, []

    def list_documents(self, collection: str | None = None) -> tuple[list[list[str | int]], str]:
        """Rows for the Documents table of one collection and a one-line summary."""
        try:
            docs = self.assistant(collection).documents()
        except AssistantError as exc:
            return [], render.error_markdown(scrub_paths(str(exc)))
        chunks = sum(d.chunks for d in docs)
        return render.document_rows(docs), f"{len(docs)} documents, {chunks} chunks indexed."
