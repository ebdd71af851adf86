"""The chain composes real Runnables: the retriever runs as a LangChain retriever."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from assistant.answer.retriever import document_to_passage, passage_to_document
from assistant.core import Assistant
from assistant.settings import Settings
from tests.fakes import SAMPLE, HashEmbeddings

QUESTION = "Which countries opposed Macron's proposal?"


class Runs(BaseCallbackHandler):
    """What LangChain's callbacks see of one chain call."""

    def __init__(self) -> None:
        self.retrieved: list[list[str]] = []
        self.queries: list[str] = []

    def on_retriever_start(self, serialized: Any, query: str, **kwargs: Any) -> None:
        self.queries.append(query)

    def on_retriever_end(self, documents: Any, **kwargs: Any) -> None:
        self.retrieved.append([d.metadata["chunk_id"] for d in documents])


def _bot(tmp_path: Path) -> Assistant:
    bot = Assistant(Settings(data_dir=tmp_path), embedder=HashEmbeddings())
    assert bot.ingest([SAMPLE]).ok
    return bot


def test_callbacks_see_the_retriever_run_and_its_documents(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    runs = Runs()
    answer = bot.chain.invoke({"question": QUESTION, "history": []}, {"callbacks": [runs]})
    assert runs.queries == [QUESTION] and len(runs.retrieved) == 1
    assert {c.doc_id for c in answer.citations} <= {i.split(":")[0] for i in runs.retrieved[0]}
    streamed = [a for a in bot.stream(QUESTION) if not isinstance(a, str)]
    assert streamed[0].citations == answer.citations


def test_a_passage_survives_the_document_round_trip(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    passages = bot.searcher.search(QUESTION)
    assert passages
    assert [document_to_passage(passage_to_document(p)) for p in passages] == passages
    inputs = bot.prepare.invoke({"question": QUESTION, "history": []})
    assert inputs["passages"] == passages
