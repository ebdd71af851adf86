"""The retrieval chain as LangChain Runnables: condense -> retrieve -> answer -> verify.

One pipeline for plain and streamed answers: ``chain.invoke`` returns the verified
``Answer``; ``chain.stream`` yields the answer's text as it is produced, then the same
``Answer`` (an LLM's tokens, or the extractive answer sentence by sentence). Each question
carries one ``Found`` (its standalone form, vector, snapshot and passages) from retrieval
through the answerer to verification.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda

from assistant.answer.citations import neutralize_quoted_markers, verify_citations
from assistant.answer.condense import condense
from assistant.answer.retrieval import Found
from assistant.answer.retriever import HybridRetriever, document_to_passage
from assistant.types import Answer

Answerer = Callable[[Found], Answer]
Streamer = Callable[[Found], Iterator["str | Answer"]]
_PIECE = re.compile(r".+?(?:\[\d+\]\s*|$)", re.S)  # a quoted sentence with its marker


def build_prepare(
    retriever: HybridRetriever, condenser: Callable[[str, Sequence[Any] | None], str] = condense
) -> Runnable:
    """condense -> retrieve: adds ``standalone`` and ``found`` to ``{"question", "history"}``."""

    def _condense(inputs: dict[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        return {
            **inputs,
            "_t0": t0,
            "standalone": condenser(inputs["question"], inputs.get("history")),
        }

    def _retrieve(inputs: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        # Invoked as a LangChain retriever, so callbacks and tracing see a retriever run with
        # its documents; the documents carry their passages whole (``document_to_passage``),
        # and the question's snapshot and vector stay with them in ``found``.
        found = retriever.searcher.begin(inputs["standalone"])
        docs = retriever.invoke(found.query, config, found=found)
        # The retriever returns LangChain's ``k``; BM25's best hits that fusion ranked lower
        # (``retrieval.lexical_keep``) follow them in ``found`` and are read too.
        extra = found.passages[len(docs) :]
        found = found.keeping([document_to_passage(d) for d in docs] + extra)
        return {**inputs, "found": found, "_t1": time.perf_counter()}

    return RunnableLambda(_condense, name="condense") | RunnableLambda(_retrieve, name="retrieve")


def finish(answer: Answer, inputs: dict[str, Any], retriever: HybridRetriever) -> Answer:
    """Verify the citations' spans, make quoted markers inert, record timing and question.

    Spans are checked against the passages the answer was written from, then against the
    chunks of the snapshot those passages came from (a list item of the next chunk).
    """
    found: Found = inputs["found"]
    given = [p.chunk for p in found.passages]
    verify_citations(answer, retriever.searcher.chunks_by_doc(found.snapshot), given)
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


class AnswerStep(Runnable[dict[str, Any], Any]):
    """The chain's last step: ``invoke`` gives the verified ``Answer``; ``stream`` (and a
    chain's ``stream``, which calls ``transform``) yields text pieces, then that ``Answer``.

    ``streamer`` yields pieces and a final unverified ``Answer`` (an LLM); without one the
    whole answer is made first and given out sentence by sentence.
    """

    name = "answer"

    def __init__(
        self, retriever: HybridRetriever, answerer: Answerer, streamer: Streamer | None = None
    ) -> None:
        self.retriever = retriever
        self.answerer = answerer
        self.streamer = streamer

    def _answer(self, inputs: dict[str, Any]) -> Answer:
        return finish(self.answerer(inputs["found"]), inputs, self.retriever)

    def _pieces(self, chunks: Iterator[dict[str, Any]]) -> Iterator[str | Answer]:
        inputs: dict[str, Any] = {}
        for chunk in chunks:  # the previous step gives its dict whole, in one chunk
            inputs.update(chunk)
        if self.streamer is None:
            answer = self._answer(inputs)
            yield from (piece for piece in _PIECE.findall(answer.answer) if piece)
            yield answer
            return
        for item in self.streamer(inputs["found"]):
            yield finish(item, inputs, self.retriever) if isinstance(item, Answer) else item

    def invoke(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Answer:
        return self._call_with_config(self._answer, input, config)

    def transform(
        self,
        input: Iterator[dict[str, Any]],
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> Iterator[str | Answer]:
        yield from self._transform_stream_with_config(input, self._pieces, config)

    def stream(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[str | Answer]:
        yield from self.transform(iter([input]), config, **kwargs)
