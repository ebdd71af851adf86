"""The assistant: one object that owns the model, the index and the chain."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant import offline
from assistant.answer.calibration import Calibration
from assistant.answer.chain import AnswerStep, build_prepare
from assistant.answer.condense import condense
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.retrieval import Searcher
from assistant.answer.retriever import HybridRetriever
from assistant.errors import InputError, NotFoundError
from assistant.settings import Settings
from assistant.textguard import check_question, require_valid_unicode
from assistant.types import Answer, DocumentInfo, DocumentText, Message
from index.catalog import document_info, document_infos, page_starts
from index.collection_names import DEFAULT as DEFAULT_COLLECTION
from index.ingest import Embedder, IngestReport, ingest
from index.store import Store

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.answer.generative import GenerativeAnswerer

log = logging.getLogger(__name__)
SAMPLE_ARTICLE = Path(__file__).with_name("data") / "coalition-of-the-willing.txt"


def check_history(history: Sequence[Message | dict] | None) -> list[Message]:
    """Validate the conversation history; a malformed turn is an ``InputError``."""
    turns = []
    for item in history or []:
        try:
            turns.append(item if isinstance(item, Message) else Message.model_validate(item))
        except ValueError as exc:
            raise InputError(
                'Each history item needs "role" ("user" or "assistant") and "content".'
            ) from exc
        require_valid_unicode(turns[-1].content, "conversation history")
    return turns


class Assistant:
    """Answers questions about the indexed documents; see ``answer``."""

    def __init__(
        self,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        chat_model: BaseChatModel | None = None,
        collection: str | None = None,
    ) -> None:
        offline.apply()  # library use: no telemetry before Chroma or a model is opened
        self.settings = settings or Settings()
        if embedder is None:
            from index.encoders import LazyEmbeddings

            embedder = LazyEmbeddings(self.settings)  # loads on the first embedding
        self.embedder: Embedder = embedder
        idx = self.settings.index
        self.store = Store(
            self.settings.data_dir,
            embedder.identity,
            idx.chunk_tokens,
            idx.unit_tokens,
            self.settings.chroma_url,
            collection,
            idx.chroma_timeout_s,
            idx.lease_ttl_s,
        )
        self.collection = self.store.collection
        self.searcher = Searcher(self.store, embedder, self.settings.retrieval)
        self.retriever = HybridRetriever(searcher=self.searcher, k=self.settings.retrieval.k)
        self.extractive = ExtractiveAnswerer(
            self.searcher,
            Calibration.load(),
            self.settings.answer.max_sentences,
            self.settings.answer.abstain_threshold,
        )
        self.generative = self._generative(chat_model)
        answerer, condenser, streamer = self.extractive.answer, condense, None
        if self.generative is not None:
            answerer, condenser = self.generative.answer, self.generative.condense
            streamer = self.generative.stream
        # ``prepare`` (condense -> retrieve) is the chain's first part, for tools that want a
        # question's ``found`` without an answer (benchmarks, tests).
        self.prepare = build_prepare(self.retriever, condenser)
        self.chain = self.prepare | AnswerStep(self.retriever, answerer, streamer)
        self._ingest_lock = threading.Lock()

    def sibling(self, collection: str) -> Assistant:
        """The assistant of another collection of the same store, sharing this one's loaded
        embedding model and chat model (one copy in memory, however many collections)."""
        model = self.generative.model if self.generative is not None else None
        return Assistant(self.settings, self.embedder, model, collection=collection)

    def _generative(self, chat_model: BaseChatModel | None) -> GenerativeAnswerer | None:
        """The LLM answerer when ``settings.llm`` names a model (or one is given), else None."""
        if chat_model is None and self.settings.llm.strip().lower() == "extractive":
            return None
        from assistant.answer.generative import GenerativeAnswerer
        from assistant.answer.llm import is_local, llm_timeout, make_chat_model, model_label
        from assistant.answer.prompts import SMALL_PROMPTS, load_prompts
        from assistant.answer.support import SupportScorer

        local = is_local(self.settings.llm)
        prompts_dir = self.settings.prompts_dir
        prompts = load_prompts(SMALL_PROMPTS if local and prompts_dir is None else prompts_dir)
        model = chat_model if chat_model is not None else make_chat_model(self.settings)
        return GenerativeAnswerer(
            model,
            prompts,
            SupportScorer(self.searcher),
            self.extractive,
            llm_timeout(self.settings),
            self.settings.answer.max_question_chars,
            label=model_label(self.settings, model),
            max_passages=self.settings.answer.local_passages if local else None,
            cooldown_s=self.settings.answer.llm_cooldown_s,
            history_turns=self.settings.answer.llm_history_turns,
        )

    def answer(self, question: str, history: Sequence[Message | dict] | None = None) -> Answer:
        """Answer ``question`` in the context of ``history``, with verified citations."""
        question = check_question(question, self.settings.answer.max_question_chars)
        turns = check_history(history)
        return self.chain.invoke({"question": question, "history": turns})

    def stream(
        self,
        question: str,
        history: Sequence[Message | dict] | None = None,
    ) -> Iterator[str | Answer]:
        """Yield the answer text as it is produced, then the full ``Answer`` (the chain's own
        ``stream``: the same steps as ``answer``, so the same text and spans).

        With an LLM the pieces are its tokens; the extractive answer comes sentence by sentence.
        """
        question = check_question(question, self.settings.answer.max_question_chars)
        yield from self.chain.stream({"question": question, "history": check_history(history)})

    def documents(self) -> list[DocumentInfo]:
        return [DocumentInfo(**d) for d in document_infos(self.store.committed())]

    def document(self, doc_id: str) -> DocumentText:
        found = self.store.document(doc_id)
        if found is None:
            raise NotFoundError(f"No document with id {doc_id!r} is indexed.")
        text, meta = found
        info = {**document_info(doc_id, meta), "chars": len(text)}
        return DocumentText(**info, text=text, page_starts=page_starts(meta))

    def ingest(
        self, paths: Sequence[Path], sync: bool = False, progress: bool | None = None
    ) -> IngestReport:
        """Index files and folders; the next question sees them."""
        idx = self.settings.index
        with self._ingest_lock:
            report = ingest(
                paths,
                self.store,
                self.embedder,
                chunk_tokens=idx.chunk_tokens,
                unit_tokens=idx.unit_tokens,
                max_bytes=int(idx.max_file_mb * 1e6),
                sync=sync,
                progress=progress,
            )
        self.searcher.refresh(force=True)
        return report

    def ensure_sample(self) -> bool:
        """Index the bundled sample article when the default index is empty; True if it did."""
        if self.collection != DEFAULT_COLLECTION or self.store.has_documents():
            return False
        log.info("The index is empty: ingesting the bundled sample article %s", SAMPLE_ARTICLE.name)
        report = self.ingest([SAMPLE_ARTICLE])
        log.info("Sample article indexed: %s", report.summary())
        return True
