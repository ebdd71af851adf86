"""The tunables that were module constants are described settings, and reach what they tune."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant.core import Assistant
from assistant.serve.api import Runtime
from assistant.settings import AnswerSettings, IndexSettings, ServerSettings, Settings
from tests.support.fakes import HashEmbeddings


class Prompted(GenericFakeChatModel):
    """A fake chat model that keeps the prompts it was sent."""

    seen: list[str] = []

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:  # noqa: A002
        self.seen.append(str(input[-1].content))
        return super().invoke(input, config, **kwargs)


def test_the_llm_tunables_reach_the_generative_answerer(tmp_path: Path) -> None:
    model = Prompted(messages=iter([AIMessage("Which countries opposed it?")]))
    model.seen = []
    settings = Settings(
        data_dir=tmp_path, llm="local", answer=AnswerSettings(local_passages=2, llm_history_turns=2)
    )
    bot = Assistant(settings, embedder=HashEmbeddings(), chat_model=model)
    gen = bot.generative
    assert gen is not None and gen.max_passages == 2 and gen.history_turns == 2
    turns = [
        {"role": "user", "content": "Tell me about Ukraine."},
        {"role": "assistant", "content": "Leaders met in Paris."},
        {"role": "user", "content": "Who proposed peacekeepers?"},
        {"role": "assistant", "content": "Macron proposed them."},
    ]
    assert gen.condense("Who opposed it?", turns) == "Which countries opposed it?"
    [prompt] = model.seen
    assert "Macron proposed them." in prompt and "Who proposed peacekeepers?" in prompt
    assert "Leaders met in Paris." not in prompt and "Ukraine" not in prompt  # only the last 2


def test_a_remote_llm_reads_every_passage(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, llm="openai:gpt-4o-mini")
    model = GenericFakeChatModel(messages=iter([]))
    bot = Assistant(settings, embedder=HashEmbeddings(), chat_model=model)
    assert bot.generative is not None and bot.generative.max_passages is None


def test_the_lease_lifetime_reaches_the_store(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, index=IndexSettings(lease_ttl_s=12.0))
    assert Assistant(settings, embedder=HashEmbeddings()).store.lease.ttl_s == 12.0
    with pytest.raises(ValueError, match="lease_ttl_s"):
        IndexSettings(lease_ttl_s=0.5)  # renewed every third of it: too short to hold


def test_a_request_waits_load_timeout_s_for_its_assistant(tmp_path: Path) -> None:
    waited: list[float | None] = []

    class Lazy:
        def get(self, timeout: float | None = None) -> Any:
            waited.append(timeout)
            return "the assistant"

    settings = Settings(data_dir=tmp_path, server=ServerSettings(load_timeout_s=7.5))
    runtime = Runtime(Lazy(), settings)  # type: ignore[arg-type]
    assert asyncio.run(runtime.assistant()) == "the assistant"
    assert waited == [7.5]
