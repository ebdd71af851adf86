"""LangChain's standard test suites against our embeddings and retriever."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests

from assistant.answer.retriever import HybridRetriever
from assistant.core import Assistant
from assistant.settings import Settings
from index.embeddings import SentenceEmbeddings
from tests.conftest import SAMPLE
from tests.support.fakes import HashEmbeddings

pytestmark = pytest.mark.integration


class TestSentenceEmbeddings(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[SentenceEmbeddings]:
        return SentenceEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {}


_searcher = None


def _sample_searcher():
    global _searcher
    if _searcher is None:
        import tempfile

        assistant = Assistant(
            Settings(data_dir=Path(tempfile.mkdtemp())), embedder=HashEmbeddings()
        )
        assistant.ingest([SAMPLE])
        _searcher = assistant.searcher
    return _searcher


class TestHybridRetriever(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"searcher": _sample_searcher(), "k": 4}

    @property
    def retriever_query_example(self) -> str:
        return "Which countries opposed the peacekeeping proposal?"
