"""Ingest and ask against a real Chroma server (`chroma run`) on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLE

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path):
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    assert chroma, "the chroma CLI ships with chromadb"
    port = free_port()
    proc = subprocess.Popen(
        [
            chroma,
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("chroma run did not start")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def test_ingest_and_ask_through_chroma_server(chroma_server: str, tmp_path: Path, embedder) -> None:
    from assistant.core import Assistant
    from assistant.settings import Settings

    settings = Settings(data_dir=tmp_path / "local", chroma_url=chroma_server)
    assistant = Assistant(settings, embedder=embedder)
    report = assistant.ingest([SAMPLE])
    assert report.added == ["coalition-of-the-willing.txt"]
    answer = assistant.answer("How many leaders attended the Coalition of the Willing meeting?")
    assert "30" in answer.answer
    # Nothing was written locally: the server holds the index.
    assert not (tmp_path / "local" / "chroma").exists()
    # A second client (another process would be the same) sees the same index.
    again = Assistant(settings, embedder=embedder)
    assert [d.source for d in again.documents()] == ["coalition-of-the-willing.txt"]
