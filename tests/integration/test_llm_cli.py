"""``assistant ask`` with an LLM, run as a person runs it, against the scripted server."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE
from tests.support.scripted_llm import (
    QUESTION,
    SUPPORTED,
    UNSUPPORTED,
    Reply,
    ScriptedServer,
    well_cited,
)

pytestmark = pytest.mark.integration


# -- the CLI, as a person runs it -------------------------------------------------------------


def cli(args: list[str], data: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    environ.update(ASSISTANT_DATA_DIR=str(data), **env)
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def cli_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli-llm")
    result = cli(["ingest", str(SAMPLE)], data)
    assert result.returncode == 0, result.stderr
    return data


def test_cli_ask_json_with_the_scripted_llm_then_without_it(cli_data: Path) -> None:
    with ScriptedServer(well_cited) as server:
        env = {"ASSISTANT_LLM": "openai:scripted", "ASSISTANT_LLM_BASE_URL": server.url}
        result = cli(["ask", QUESTION, "--json"], cli_data, **env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    n = answer["citations"][0]["n"]
    assert answer["answer"] == f"{SUPPORTED} [{n}]. {UNSUPPORTED}"
    assert answer["abstained"] is False and answer["notes"] == []
    [citation] = answer["citations"]
    assert citation["supported"] is True and "attended by 30 leaders" in citation["text"]
    text = SAMPLE.read_text(encoding="utf-8")
    assert text[citation["start"] : citation["end"]] == citation["text"]
    assert answer["unsupported_claims"] == [UNSUPPORTED]
    assert server.requests[0]["_auth"] == "Bearer not-needed", "a dummy key for local servers"

    stopped = cli(["ask", QUESTION, "--json"], cli_data, **env)  # the server is gone now
    assert stopped.returncode == 0, stopped.stderr
    fallback = json.loads(stopped.stdout)
    assert "30 leaders" in fallback["answer"] and not fallback["abstained"]
    assert fallback["notes"] == [
        "The language model could not be reached, so this answer quotes the documents directly."
    ]


def test_cli_streams_tokens_and_never_shows_the_key(cli_data: Path) -> None:
    secret = "sk-test-DO-NOT-PRINT-0123456789"
    with ScriptedServer(well_cited) as server:
        result = cli(
            ["ask", QUESTION, "--llm", "openai:scripted"],
            cli_data,
            ASSISTANT_LLM_BASE_URL=server.url,
            OPENAI_API_KEY=secret,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(SUPPORTED) and "Sources:" in result.stdout
    assert f"Not supported by the sources: \u201c{UNSUPPORTED}\u201d" in result.stdout
    assert server.requests[0]["stream"] is True
    assert server.requests[0]["_auth"] == f"Bearer {secret}"
    with ScriptedServer(lambda body: Reply(status=401)) as server:
        refused = cli(
            ["ask", QUESTION],
            cli_data,
            ASSISTANT_LLM="openai:scripted",
            ASSISTANT_LLM_BASE_URL=server.url,
            OPENAI_API_KEY=secret,
        )
    assert refused.returncode == 0 and "HTTP 401" in refused.stdout
    assert secret not in refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr


def test_cli_reports_a_missing_extra_cleanly(cli_data: Path) -> None:
    if importlib.util.find_spec("langchain_anthropic") is not None:
        pytest.skip("langchain-anthropic is installed here")
    result = cli(["ask", QUESTION, "--llm", "anthropic:claude-x"], cli_data)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "pip install langchain langchain-anthropic" in result.stderr
