"""The generative path over fakes, for the LLM unit tests: the sample article indexed with
the hashing embedder (the module-scoped ``index_dir`` fixture: import it into the test module
that uses it), an assistant answering with a given LangChain chat model (``assistant_with``),
a fake model with scripted ``replies``, and the [n] of a passage (``number_of``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant.answer.retrieval import Passage
from assistant.core import Assistant
from assistant.settings import Settings
from tests.conftest import SAMPLE
from tests.support.fakes import HashEmbeddings

LEADERS = (
    'He said this following a meeting of the "Coalition of the Willing", which was attended '
    "by 30 leaders."
)
OPPOSED = "Germany, Italy, Spain and Poland immediately opposed the idea."
QUESTION = "How many leaders attended the Coalition of the Willing meeting?"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("hash-index")
    Assistant(Settings(data_dir=data), embedder=HashEmbeddings()).ingest([SAMPLE])
    return data


def assistant_with(index_dir: Path, model: Any, **settings: Any) -> Assistant:
    return Assistant(
        Settings(data_dir=index_dir, **settings), embedder=HashEmbeddings(), chat_model=model
    )


def replies(*texts: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(t) for t in texts]))


def number_of(passages: list[Passage], phrase: str) -> int:
    """The [n] the LLM would use for the passage containing ``phrase``."""
    return next(n for n, p in enumerate(passages, 1) if phrase in p.chunk.text)
