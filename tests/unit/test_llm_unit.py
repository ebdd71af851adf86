"""The generative path with LangChain's fake chat models and the hashing embedder: no network."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    FakeListChatModelError,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage

from assistant.answer.llm import failure_kind, failure_note, make_chat_model, parse_llm, redact
from assistant.answer.support import is_claim, numbers, split_answer
from assistant.core import Assistant
from assistant.errors import ConfigError
from assistant.settings import Settings
from assistant.types import Answer
from tests.conftest import SAMPLE
from tests.support.fake_llm import (
    LEADERS,
    OPPOSED,
    QUESTION,
    assistant_with,
    index_dir,
    number_of,
    replies,
)
from tests.support.fakes import HashEmbeddings, record_encodes

__all__ = ["index_dir"]  # the module-scoped index fixture, shared with test_llm_reground


class Failing(Iterator[AIMessage]):
    """Messages for ``GenericFakeChatModel`` that raise ``exc`` on every call, counting them."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.calls = 0

    def __next__(self) -> AIMessage:
        self.calls += 1
        raise self.exc


# -- the answerer is chosen by settings.llm ------------------------------------------------------


def test_extractive_is_the_default_and_streams_as_before(index_dir: Path) -> None:
    assistant = Assistant(Settings(data_dir=index_dir), embedder=HashEmbeddings())
    assert assistant.settings.llm == "extractive" and assistant.generative is None
    *pieces, final = list(assistant.stream(QUESTION))
    assert isinstance(final, Answer) and "".join(pieces) == final.answer


def test_llm_setting_builds_the_generative_answerer(
    index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_LLM", "openai:gpt-4o-mini")
    monkeypatch.setenv("ASSISTANT_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    assistant = Assistant(Settings(data_dir=index_dir), embedder=HashEmbeddings())
    assert assistant.generative is not None
    assert type(assistant.generative.model).__name__ == "ChatOpenAI"


def test_cli_llm_flag_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.cli import _settings, build_parser

    monkeypatch.setenv("ASSISTANT_LLM", "ollama:llama3.2")
    args = build_parser().parse_args(["ask", "q", "--llm", "openai:gpt-4o-mini"])
    assert _settings(args).llm == "openai:gpt-4o-mini"
    assert _settings(build_parser().parse_args(["ask", "q"])).llm == "ollama:llama3.2"


# -- provider factory ------------------------------------------------------------------------------


def test_provider_strings() -> None:
    assert parse_llm("ollama:llama3.2:3b") == ("ollama", "llama3.2:3b")
    assert parse_llm(" OpenAI:gpt-4o-mini ") == ("openai", "gpt-4o-mini")
    for bad in ("gpt-4o", ":x", "openai:"):
        with pytest.raises(ConfigError, match="provider:model"):
            parse_llm(bad)


def test_openai_compatible_server_gets_a_dummy_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    settings = Settings(
        data_dir=tmp_path,
        llm="openai:local",
        llm_base_url="http://127.0.0.1:8000/v1",
        answer={"llm_timeout_s": 7},
    )
    model: Any = make_chat_model(settings)
    assert model.openai_api_key.get_secret_value() == "not-needed"
    assert model.openai_api_base == "http://127.0.0.1:8000/v1"
    assert model.request_timeout == 7 and model.max_retries == 0
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment-123")
    assert make_chat_model(settings).openai_api_key.get_secret_value().endswith("123")  # type: ignore[attr-defined]


def test_openai_without_key_or_base_url_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        make_chat_model(Settings(data_dir=tmp_path, llm="openai:gpt-4o-mini"))


def test_ollama_gets_base_url_and_timeout(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        llm="ollama:llama3.2",
        llm_base_url="http://127.0.0.1:11434",
        answer={"llm_timeout_s": 5},
    )
    model: Any = make_chat_model(settings)
    assert model.model == "llama3.2" and model.base_url == "http://127.0.0.1:11434"
    assert model.client_kwargs == {"timeout": 5}


def test_missing_provider_package_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain.chat_models import base

    monkeypatch.setitem(sys.modules, "langchain_ollama", None)  # import fails
    base._get_chat_model_creator.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"pip install 'grounded-assistant\[ollama\]'"):
            make_chat_model(Settings(data_dir=tmp_path, llm="ollama:llama3.2"))
    finally:
        base._get_chat_model_creator.cache_clear()
    monkeypatch.setitem(sys.modules, "langchain_anthropic", None)  # not an extra of ours
    with pytest.raises(ConfigError, match="pip install langchain langchain-anthropic"):
        make_chat_model(Settings(data_dir=tmp_path, llm="anthropic:claude-x"))
    with pytest.raises(ConfigError, match="does not know the provider"):
        make_chat_model(Settings(data_dir=tmp_path, llm="nosuch:model"))


def test_keys_never_appear_in_descriptions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_PROVIDER_API_KEY", "abcd-secret-value")
    text = "401: bad key abcd-secret-value / sk-proj-ABCDEFGH12345"
    assert "secret" not in redact(text) and "ABCDEFGH" not in redact(text)


def test_failures_are_classified_across_clients() -> None:
    import httpx

    assert failure_kind(TimeoutError()) == "timeout"
    assert failure_kind(httpx.ReadTimeout("slow")) == "timeout"
    assert failure_kind(httpx.ConnectError("refused")) == "unreachable"
    assert failure_kind(ValueError("bad")) == "error"
    assert "could not be reached" in failure_note(ConnectionRefusedError(), 30)
    assert "within 2.5 s" in failure_note(TimeoutError(), 2.5)


# -- prompts ---------------------------------------------------------------------------------------


# -- claims and support ----------------------------------------------------------------------------


def test_sentences_keep_their_markers() -> None:
    text = "Thirty leaders came [1]. Macron spoke.[2] Starmer agreed. [3][1]\n- A list item [4]"
    got = [(s.text, s.markers) for s in split_answer(text)]
    assert got == [
        ("Thirty leaders came [1].", (1,)),
        ("Macron spoke.[2]", (2,)),
        ("Starmer agreed. [3][1]", (3, 1)),
        ("A list item [4]", (4,)),  # the bullet stays in the gap text
    ]
    assert all(text[s.start : s.end] == s.text for s in split_answer(text))
    assert split_answer(text)[0].plain == "Thirty leaders came."


def test_what_counts_as_a_claim() -> None:
    def claim(text: str) -> bool:
        return is_claim(split_answer(text)[0])

    assert claim("Thirty leaders attended.")
    assert not claim("According to the sources:")
    assert not claim("Yes.")
    assert not claim("The documents don't say.")
    assert numbers("Thirty leaders, 1,500 troops") == {"30", "1500"}


# -- answering, checking, streaming, failing -------------------------------------------------------


def test_checked_answer_resolves_markers_to_exact_spans(index_dir: Path) -> None:
    assistant = assistant_with(index_dir, replies("unused"))
    passages = assistant.searcher.search(QUESTION)
    n = number_of(passages, "30 leaders")
    text = f"{LEADERS[:-1]} [{n}]. The leaders agreed to station 50,000 troops in the Arctic."
    answer = assistant.generative.check(text, QUESTION, passages)  # type: ignore[union-attr]
    assert not answer.abstained and answer.answer == text
    [c] = answer.citations
    assert (c.n, c.supported, c.text) == (n, True, LEADERS)
    doc = SAMPLE.read_text(encoding="utf-8")
    assert doc[c.start : c.end] == c.text
    assert answer.unsupported_claims == [
        "The leaders agreed to station 50,000 troops in the Arctic."
    ]


def test_second_span_of_one_passage_gets_a_new_number(index_dir: Path) -> None:
    assistant = assistant_with(index_dir, replies("unused"))
    gen = assistant.generative
    assert gen is not None
    passages = assistant.searcher.search("Which countries opposed the idea? Who attended?")
    n = number_of(passages, "30 leaders")
    text = f"{LEADERS} [{n}] {OPPOSED} [{n}] [77]"
    answer = gen.check(text, "q", passages)
    numbers_used = sorted(c.n for c in answer.citations)
    assert numbers_used[0] == n and numbers_used[1] > len(passages)
    assert "[77]" not in answer.answer and "[77]" in answer.notes[0]
    assert [c.supported for c in sorted(answer.citations, key=lambda c: c.n)] == [True, False]


def test_unsupported_answer_becomes_an_abstention(index_dir: Path) -> None:
    assistant = assistant_with(index_dir, replies("Bananas grow on the moon in winter [1]."))
    answer = assistant.answer(QUESTION)
    assert answer.abstained and answer.answer.startswith("The documents don't say")
    assert answer.citations and not any(c.supported for c in answer.citations)
    assert answer.unsupported_claims == ["Bananas grow on the moon in winter [1]."]
    assert "not supported by the documents" in answer.notes[0]


def test_the_models_own_abstention_has_no_note(index_dir: Path) -> None:
    answer = assistant_with(index_dir, replies("The documents don't say.")).answer(QUESTION)
    assert answer.abstained and answer.notes == [] and answer.unsupported_claims == []


def test_stream_yields_model_tokens_then_the_answer(index_dir: Path) -> None:
    assistant = assistant_with(index_dir, replies("placeholder"))
    passages = assistant.searcher.search(QUESTION)
    n = number_of(passages, "30 leaders")
    assistant.generative.model = replies(f"{LEADERS} [{n}]")  # type: ignore[union-attr]
    *pieces, final = list(assistant.stream(QUESTION))
    assert len(pieces) > 10 and "".join(pieces) == f"{LEADERS} [{n}]"
    assert isinstance(final, Answer) and final.citations[0].supported
    assert set(final.timing_ms) == {"retrieve", "answer", "total"}


def test_a_failing_model_falls_back_with_a_note_then_cools_down(index_dir: Path) -> None:
    import httpx

    messages = Failing(httpx.ConnectError("refused"))
    assistant = assistant_with(index_dir, GenericFakeChatModel(messages=messages))
    *_, first = list(assistant.stream(QUESTION))
    assert isinstance(first, Answer) and "30 leaders" in first.answer
    assert first.notes == [
        "The language model could not be reached, so this answer quotes the documents directly."
    ]
    second = assistant.answer(QUESTION)
    assert second.notes == first.notes and messages.calls == 1, "no second wait on a dead server"


def test_the_cooldown_is_a_setting(index_dir: Path) -> None:
    """``answer.llm_cooldown_s=0``: every question tries the model again."""
    import httpx

    messages = Failing(httpx.ConnectError("refused"))
    model = GenericFakeChatModel(messages=messages)
    assistant = assistant_with(index_dir, model, answer={"llm_cooldown_s": 0})
    assistant.answer(QUESTION)
    assistant.answer(QUESTION)
    assert messages.calls == 2


def test_a_model_error_falls_back_without_cooldown(index_dir: Path) -> None:
    model = FakeListChatModel(responses=["x"], error_on_chunk_number=0)
    assistant = assistant_with(index_dir, model)
    *pieces, final = list(assistant.stream(QUESTION))
    assert isinstance(final, Answer) and not final.abstained
    assert final.notes == [
        "The language model returned an error, so this answer quotes the documents directly."
    ]
    assert assistant.generative._unavailable() is None  # type: ignore[union-attr]
    assert FakeListChatModelError  # the error the fake raised


def test_follow_up_is_condensed_by_the_model(index_dir: Path) -> None:
    model = replies('Standalone question: "Is Denmark ready to send troops?"\n', "Yes.")
    assistant = assistant_with(index_dir, model)
    history = [
        {"role": "user", "content": "Is Australia ready to send peacekeepers?"},
        {"role": "assistant", "content": "Yes [1]."},
    ]
    answer = assistant.answer("And Denmark?", history)
    assert answer.standalone_question == "Is Denmark ready to send troops?"


def test_failed_condensing_falls_back_to_the_heuristic(index_dir: Path) -> None:
    messages = Failing(ValueError("boom"))
    assistant = assistant_with(index_dir, GenericFakeChatModel(messages=messages))
    history = [{"role": "user", "content": "Is Australia ready to send peacekeepers?"}]
    answer = assistant.answer("And Denmark?", history)
    assert answer.standalone_question == "Is Denmark ready to send peacekeepers?"
    assert messages.calls == 2, "condensing failed, then answering was still tried"
    assert answer.notes == [
        "The language model returned an error, so this answer quotes the documents directly."
    ]


def test_no_history_means_no_condensing_call(index_dir: Path) -> None:
    model = FakeListChatModel(responses=["The documents don't say."])
    assistant = assistant_with(index_dir, model)
    assert assistant.generative.condense("Who came?", []) == "Who came?"  # type: ignore[union-attr]
    assert model.i == 0


def test_answered_by_is_shown_for_llm_answers_only() -> None:
    from assistant.serve.ui.render import chat_markdown
    from assistant.types import Answer

    llm = Answer(answer="Thirty leaders came.", abstained=False, answered_by="llm:local:Smol")
    assert r"Answered by llm\:local\:Smol" in chat_markdown(llm, 0)  # markdown-escaped
    assert "Answered by" not in chat_markdown(Answer(answer="Quoted.", abstained=False), 0)


def test_each_claim_is_embedded_once_however_many_passages_it_is_checked_against(
    index_dir: Path,
) -> None:
    assistant = assistant_with(index_dir, replies("unused"))
    gen = assistant.generative
    assert gen is not None
    passages = assistant.searcher.search(QUESTION)
    assert len(passages) > 1
    embedded = record_encodes(assistant.embedder)
    unmarked = "30 leaders attended the coalition summit in Paris."  # checked against each
    answer = gen.check(f"{unmarked} Bananas are blue.", QUESTION, passages)
    assert embedded.count(unmarked) == 1 and embedded.count("Bananas are blue.") == 1
    # Nothing supported here (the hashing embedder): the refusal lists the passages closest
    # to the question, which is embedded once for all three.
    assert answer.abstained and embedded.count(QUESTION) == 1 and len(answer.citations) == 3
