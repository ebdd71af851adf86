"""The hybrid search as a LangChain retriever, and Documents that carry their passages whole.

The chain invokes ``HybridRetriever`` like any LangChain retriever (so callbacks and tracing
see the run and its documents) and turns the documents back into the ``Passage`` objects the
answerers and verification use (``document_to_passage``, lossless).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.answer.retrieval import Found, Passage
from index.records import ChunkRecord


def passage_to_document(p: Passage) -> Document:
    c = p.chunk
    return Document(
        page_content=c.text,
        id=c.chunk_id,
        metadata={
            "chunk_id": c.chunk_id,
            "doc_id": c.doc_id,
            "source": c.source,
            "title": c.title,
            "date": c.date,
            "start": c.start,
            "end": c.end,
            "units": [list(u) for u in c.units],
            "section": c.sections[0] if c.sections else "",
            "sections": list(c.sections),  # the heading of each unit
            "kinds": list(c.kinds),  # the layout kind of each unit ("prose", "code"...)
            "page": c.page or None,  # 1-based page the chunk starts on (PDF), else None
            "page_breaks": list(c.page_breaks),
            "score": p.score,
            "fused": p.fused,
            "rank": p.rank,
        },
    )


def document_to_passage(doc: Document) -> Passage:
    """The ``Passage`` a ``passage_to_document`` Document was made from (lossless), so the
    chain can invoke the retriever as a LangChain retriever and still answer from passages."""
    m = doc.metadata
    chunk = ChunkRecord(
        chunk_id=m["chunk_id"],
        doc_id=m["doc_id"],
        source=m["source"],
        title=m["title"],
        date=m["date"],
        text=doc.page_content,
        start=m["start"],
        end=m["end"],
        units=tuple((int(s), int(e)) for s, e in m["units"]),
        sections=tuple(m["sections"]),
        kinds=tuple(m["kinds"]),
        page=m["page"] or 0,
        page_breaks=tuple(m["page_breaks"]),
    )
    return Passage(chunk, m["score"], m["fused"], m["rank"])


class HybridRetriever(BaseRetriever):
    """LangChain retriever over the hybrid search; documents carry exact offsets."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    searcher: Any
    k: int = 5

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        found: Found | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """The documents for ``query``; the chain passes its question's ``found`` (snapshot
        and vector), which is filled with the passages, so nothing is searched or embedded
        twice. Invoked alone, it searches the current snapshot.

        It returns exactly the ``k`` best (LangChain's contract for ``k``); BM25's best hits
        that fusion ranked lower (``retrieval.lexical_keep``) stay in ``found.passages``,
        which is what the answerer reads."""
        k = int(kwargs.get("k", self.k))
        if found is None or found.query != query:
            found = self.searcher.begin(query)
        return [passage_to_document(p) for p in self.searcher.fill(found, k).passages[:k]]
