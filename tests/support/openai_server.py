"""The whole app on a free loopback port for the ``/v1`` tests (``serve`` yields the OpenAI
base URL), the official ``openai`` client for it, and the check that citations are exact
spans of the sample article."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import openai
import uvicorn

from assistant.serve.server import create_app
from assistant.serve.service import AssistantAPI
from assistant.settings import Settings
from tests.conftest import SAMPLE
from tests.support.ports import free_port

TEXT = SAMPLE.read_text(encoding="utf-8")


@contextmanager
def serve(get_assistant: Callable[[], AssistantAPI], settings: Settings) -> Iterator[str]:
    """The whole app on a free loopback port; yields the OpenAI base URL (``.../v1``)."""
    port = free_port()
    settings.server.port = port
    app = create_app(settings, get_assistant=get_assistant)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def client_for(base_url: str, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=60)


def assert_exact(citations: list[dict]) -> None:
    assert citations
    for c in citations:
        assert TEXT[c["start"] : c["end"]] == c["text"]
