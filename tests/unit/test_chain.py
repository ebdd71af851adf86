"""The chain composes real Runnables: the retriever runs as a LangChain retriever."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from assistant.answer.retriever import document_to_passage, passage_to_document
from assistant.core import Assistant
from assistant.settings import Settings
from assistant.types import Answer
from tests.support.fakes import SAMPLE, HashEmbeddings, record_encodes

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
    assert inputs["found"].passages == passages


class Ends(BaseCallbackHandler):
    """The outputs LangChain's callbacks report for each chain run."""

    def __init__(self) -> None:
        self.outputs: list[Any] = []

    def on_chain_end(self, outputs: Any, **kwargs: Any) -> None:
        self.outputs.append(outputs)


def test_the_chains_own_stream_gives_pieces_then_the_invoked_answer(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    inputs = {"question": QUESTION, "history": []}
    plain = bot.chain.invoke(inputs)
    ends = Ends()
    *pieces, final = list(bot.chain.stream(inputs, {"callbacks": [ends]}))
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert isinstance(final, Answer) and "".join(pieces) == final.answer == plain.answer
    assert final.citations == plain.citations  # same spans, same verification
    assert any(isinstance(o, Answer) and o.answer == plain.answer for o in ends.outputs)
    # Assistant.stream is the chain's stream, not a second path through the steps.
    assert [p for p in bot.stream(QUESTION) if isinstance(p, str)] == pieces


def test_batch_and_ainvoke_run_the_same_chain(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    inputs = {"question": QUESTION, "history": []}
    plain = bot.chain.invoke(inputs)
    other = {"question": "How many leaders attended the summit?", "history": []}
    batched = bot.chain.batch([inputs, other])
    assert [type(a) for a in batched] == [Answer, Answer]
    assert batched[0].answer == plain.answer and batched[1].answer != plain.answer
    assert asyncio.run(bot.chain.ainvoke(inputs)).citations == plain.citations


def test_one_found_carries_the_question_from_retrieval_to_verification(tmp_path: Path) -> None:
    bot = _bot(tmp_path)
    embedded = record_encodes(bot.embedder)
    inputs = bot.prepare.invoke({"question": QUESTION, "history": []})
    found = inputs["found"]
    assert embedded == [QUESTION]  # embedded once: the search and the answerer share it
    assert found.query == QUESTION and found.snapshot is bot.searcher.snapshot
    answer = bot.extractive.answer(found)
    assert embedded == [QUESTION] and answer.citations
    # A newer snapshot (another document committed) is not what this answer reads.
    extra = tmp_path / "extra.txt"
    extra.write_text("Norway opposed Macron's proposal as well.\n", encoding="utf-8")
    assert bot.ingest([extra]).ok
    assert bot.searcher.snapshot is not found.snapshot
    assert bot.extractive.answer(found).answer == answer.answer
