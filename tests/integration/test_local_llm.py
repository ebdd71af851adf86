"""The in-process llama.cpp model (ASSISTANT_LLM=local) with the real SmolLM2-135M weights.

``make test`` runs ``make local-llm`` first, so the model is there in CI; the model tests
fail (never skip) with the fix when it is missing. The real-model answers run on two CPU
cores in about 5-60 s each, depending on what else the machine runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests

from assistant.answer.local_llm import LocalChatModel, find_model
from assistant.core import Assistant
from assistant.errors import ConfigError
from assistant.settings import Settings
from tests.conftest import ROOT, SAMPLE

TEXT = SAMPLE.read_text(encoding="utf-8")


def model_path() -> str:
    try:
        return str(find_model(""))
    except ConfigError as exc:  # fail with the fix, never skip
        pytest.fail(f"{exc}")


# -- without the model --------------------------------------------------------------------


# -- LangChain's standard chat-model suites -----------------------------------------------


@pytest.mark.integration
class TestLocalChatModelIntegration(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[LocalChatModel]:
        return LocalChatModel

    @property
    def chat_model_params(self) -> dict:
        return {"model_path": model_path(), "max_tokens": 24}

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False


# -- the real model behind the assistant --------------------------------------------------
@pytest.fixture(scope="module")
def local_assistant(embedder, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    settings = Settings(data_dir=tmp_path_factory.mktemp("local"), llm=f"local:{model_path()}")
    assistant = Assistant(settings, embedder=embedder)
    assistant.ensure_sample()
    return assistant


def assert_exact(answer) -> None:
    for c in answer.citations:
        assert TEXT[c.start : c.end] == c.text


@pytest.mark.integration
def test_real_model_answers_stream_with_exact_citations(local_assistant: Assistant) -> None:
    items = list(local_assistant.stream("How many leaders attended the meeting?"))
    pieces, answer = items[:-1], items[-1]
    assert len(pieces) >= 3 and all(isinstance(p, str) for p in pieces)  # token by token
    assert answer.answered_by == "llm:local:SmolLM2-135M-Instruct.Q4_1"
    assert answer.citations
    assert_exact(answer)
    if not answer.abstained:
        assert any(c.supported for c in answer.citations)


@pytest.mark.integration
def test_invented_sentences_are_flagged(local_assistant: Assistant) -> None:
    """The documents do not say this; whatever the model writes must not stand as supported."""
    answer = local_assistant.answer("What did Macron eat for breakfast before the meeting?")
    assert answer.answered_by.startswith("llm:")
    assert_exact(answer)
    supported = [c for c in answer.citations if c.supported]
    assert answer.abstained or not supported or answer.unsupported_claims
    if answer.abstained:
        assert all(not c.supported for c in answer.citations)


@pytest.mark.integration
def test_a_model_that_ignores_markers_still_yields_a_checked_answer(
    embedder, tmp_path: Path
) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "system.txt").write_text(
        "Answer in one short sentence. Never write brackets or numbers in brackets.\n"
    )
    (prompts / "answer.txt").write_text("{sources}\n\nQuestion: {question}\n")
    settings = Settings(
        data_dir=tmp_path / "data", llm=f"local:{model_path()}", prompts_dir=prompts
    )
    assistant = Assistant(settings, embedder=embedder)
    assistant.ensure_sample()
    answer = assistant.answer("Which countries opposed the idea of sending troops?")
    assert answer.answered_by.startswith("llm:")
    assert_exact(answer)
    if answer.abstained:
        assert "documents don't say" in answer.answer
    else:  # markers were added where a passage supports the sentence, and only there
        assert "[" in answer.answer and any(c.supported for c in answer.citations)


@pytest.mark.integration
def test_cli_ask_with_the_local_model(tmp_path: Path) -> None:
    """The issue's done-means command, in a fresh process, under the network guard.

    The environment is a person's (no offline switches, only ASSISTANT_LLM=local and the data
    dir), and the guard of tests/support refuses and records any non-loopback connection.
    """
    from tests.support.guarded_subprocess import attempts, guarded_env

    log = tmp_path / "attempts.jsonl"
    env = {**guarded_env(log, tmp_path / "d"), "ASSISTANT_LLM": "local"}
    exe = [sys.executable, "-m", "assistant"]
    done = subprocess.run([*exe, "ingest", str(SAMPLE)], env=env, capture_output=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    question = "How many leaders attended the Coalition of the Willing meeting?"
    done = subprocess.run(
        [*exe, "ask", question, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert answer["answered_by"].startswith("llm:local:"), answer
    assert not answer["abstained"], answer
    assert answer["citations"]
    for c in answer["citations"]:
        assert TEXT[c["start"] : c["end"]] == c["text"]
    supported = [c["text"] for c in answer["citations"] if c["supported"]]
    assert any("30 leaders" in t for t in supported), answer
    assert "30" in answer["answer"] or "thirty" in answer["answer"].lower(), answer
    assert not attempts(log), attempts(log)


def test_doctor_reports_the_local_model(tmp_path: Path) -> None:
    """The doctor finds the downloaded GGUF (``make local-llm``) and contacts nothing."""
    from assistant.ops.doctor import format_doctor, run_doctor

    missing = run_doctor(Settings(data_dir=tmp_path, llm=f"local:{tmp_path / 'gone.gguf'}"))
    assert missing.local_model is not None and missing.local_model.path is None
    assert any("no such GGUF" in p for p in missing.problems)
    found = run_doctor(Settings(data_dir=tmp_path, llm=f"local:{model_path()}"))
    assert found.local_model is not None and found.local_model.path == model_path()
    assert found.local_model.runtime and found.local_model.in_use
    assert not any("LLM" in c.service for c in found.contacts)  # nothing is contacted
    assert "Local model" in format_doctor(found)
