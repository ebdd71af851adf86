"""Chroma server mode under faults: the server stops, or freezes, in the middle of a session.

Each question meanwhile gets a clear error (``StoreError``; HTTP 503 with a JSON message),
in bounded time, and once ``chroma run`` is back on the same port and path the same app
answers again, without a restart.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.errors import StoreError
from assistant.serve.server import create_app
from assistant.settings import ServerSettings, Settings
from tests.conftest import SAMPLE

LOCAL = "http://localhost"  # the Host check refuses TestClient's default testserver

pytestmark = pytest.mark.integration

LEADERS_Q = "How many leaders attended the Coalition of the Willing meeting?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChromaProcess:
    """``chroma run`` on a fixed loopback port and folder, which can be stopped and restarted."""

    def __init__(self, path: Path) -> None:
        chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
        assert chroma, "the chroma CLI ships with chromadb"
        self.cmd = [chroma, "run", "--path", str(path), "--host", "127.0.0.1"]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*self.cmd, "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "chroma run exited"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        pytest.fail("chroma run did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # in case a test froze it
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaProcess]:
    server = ChromaProcess(tmp_path / "chroma-server")
    server.start()
    yield server
    server.stop()


@contextmanager
def serving(
    chroma: ChromaProcess, tmp_path: Path, embedder, chroma_timeout_s: float = 60.0
) -> Iterator[tuple[TestClient, Any]]:
    """The web app over a real assistant whose index lives on the Chroma server."""
    from assistant.core import Assistant

    settings = Settings(
        data_dir=tmp_path / "local",
        chroma_url=chroma.url,
        index={"chroma_timeout_s": chroma_timeout_s},
        server=ServerSettings(rate_limit_per_minute=100_000),
    )
    assistant = Assistant(settings, embedder=embedder)
    assert assistant.ingest([SAMPLE]).ok
    app = create_app(settings, get_assistant=lambda: assistant)
    with TestClient(app, base_url=LOCAL) as client:
        yield client, assistant


def ask(client: TestClient) -> tuple[int, dict, float]:
    began = time.monotonic()
    response = client.post("/api/ask", json={"question": LEADERS_Q})
    return response.status_code, response.json(), time.monotonic() - began


def test_stopped_chroma_server_gives_clear_errors_then_recovers(
    chroma: ChromaProcess, tmp_path: Path, embedder
) -> None:
    with serving(chroma, tmp_path, embedder) as (client, assistant):
        stop_and_restart(chroma, client, assistant)


def stop_and_restart(chroma: ChromaProcess, client: TestClient, assistant: Any) -> None:
    status, before, _ = ask(client)
    assert status == 200 and "30" in before["answer"]

    chroma.stop()
    for _ in range(3):  # every question meanwhile, not only the first
        status, body, seconds = ask(client)
        assert status == 503, body
        assert chroma.url in body["error"] and "Traceback" not in body["error"]
        assert seconds < 10
    with pytest.raises(StoreError, match="127.0.0.1"):
        assistant.answer(LEADERS_Q)
    health = client.get("/healthz")
    assert health.status_code == 503 and chroma.url in health.json()["error"]
    assert client.get("/api/documents").status_code == 503

    chroma.start()  # same port, same folder
    status, after, _ = ask(client)
    assert status == 200, after
    assert after["answer"] == before["answer"]
    assert [(c["start"], c["end"]) for c in after["citations"]] == [
        (c["start"], c["end"]) for c in before["citations"]
    ]
    assert client.get("/healthz").json()["documents"] == 1


def test_frozen_chroma_server_times_out_instead_of_hanging(
    chroma: ChromaProcess, tmp_path: Path, embedder
) -> None:
    """A server that answers nothing (SIGSTOP) must not hold questions forever: the
    setting ``index.chroma_timeout_s`` bounds each call."""
    with serving(chroma, tmp_path, embedder, chroma_timeout_s=2.0) as (client, _):
        assert ask(client)[0] == 200
        assert chroma.proc is not None
        chroma.proc.send_signal(signal.SIGSTOP)
        got: list[tuple[int, dict, float]] = []
        asking = threading.Thread(target=lambda: got.append(ask(client)), daemon=True)
        asking.start()
        asking.join(timeout=15)
        chroma.proc.send_signal(signal.SIGCONT)  # also releases a hung question
        asking.join(timeout=30)
        assert got, "the question hung on the frozen Chroma server"
        status, body, seconds = got[0]
        assert status == 503 and "timed out" in body["error"].lower(), body
        assert seconds < 8
        status, body, _ = ask(client)
        assert status == 200 and "30" in body["answer"]
