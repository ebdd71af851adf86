"""The retrieval chain as LangChain Runnables: condense -> retrieve -> answer -> verify."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda

from assistant.answer.citations import neutralize_quoted_markers, verify_citations
from assistant.answer.condense import condense
from assistant.answer.retrieval import Passage
from assistant.answer.retriever import HybridRetriever, document_to_passage
from assistant.types import Answer

Answerer = Callable[[str, list[Passage]], Answer]


def build_prepare(
    retriever: HybridRetriever, condenser: Callable[[str, Sequence[Any] | None], str] = condense
) -> Runnable:
    """condense -> retrieve: adds ``standalone`` and ``passages`` to ``{"question", "history"}``.

    Split from the answer step so a streaming answerer can run between it and ``finish``.
    """

    def _condense(inputs: dict[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        return {
            **inputs,
            "_t0": t0,
            "standalone": condenser(inputs["question"], inputs.get("history")),
        }

    def _retrieve(inputs: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        # Invoked as a LangChain retriever, so callbacks and tracing see a retriever run with
        # its documents; the documents carry their passages whole (``document_to_passage``).
        docs = retriever.invoke(inputs["standalone"], config)
        passages: list[Passage] = [document_to_passage(d) for d in docs]
        return {**inputs, "passages": passages, "_t1": time.perf_counter()}

    return RunnableLambda(_condense, name="condense") | RunnableLambda(_retrieve, name="retrieve")


def finish(answer: Answer, inputs: dict[str, Any], retriever: HybridRetriever) -> Answer:
    """Verify the citations' spans, make quoted markers inert, record timing and question."""
    given = [p.chunk for p in inputs["passages"]]
    verify_citations(answer, retriever.searcher.chunks_by_doc(), given)
    neutralize_quoted_markers(answer)
    t2 = time.perf_counter()
    answer.timing_ms = {
        "retrieve": round((inputs["_t1"] - inputs["_t0"]) * 1000, 2),
        "answer": round((t2 - inputs["_t1"]) * 1000, 2),
        "total": round((t2 - inputs["_t0"]) * 1000, 2),
    }
    if inputs["standalone"] != inputs["question"].strip():
        answer.standalone_question = inputs["standalone"]
    return answer


def build_chain(
    retriever: HybridRetriever,
    answerer: Answerer,
    condenser: Callable[[str, Sequence[Any] | None], str] = condense,
) -> Runnable:
    """A Runnable taking ``{"question", "history"}`` and returning an ``Answer``.

    Timing of each step is recorded in the answer, so the UI, API and benchmarks all see it.
    """

    def _answer(inputs: dict[str, Any]) -> Answer:
        return finish(answerer(inputs["standalone"], inputs["passages"]), inputs, retriever)

    return build_prepare(retriever, condenser) | RunnableLambda(_answer, name="answer")
