"""The whole web app served for real on a loopback port, for the tests that drive it over
HTTP or in a browser: ``serve`` (yields the URL), ``ui_settings`` and ``free_port``.

Imports the web stack (uvicorn, the app): import it only from integration and browser tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from assistant.serve.server import create_app, uvicorn_config
from assistant.serve.service import AssistantAPI
from assistant.settings import ServerSettings, Settings
from tests.support.ports import free_port


def ui_settings(data_dir: Path, **server: object) -> Settings:
    """Test settings: a temp data dir and no rate limit in the way of page assets."""
    server = {"rate_limit_per_minute": 100_000, **server}
    admin_token = server.pop("admin_token", None)
    return Settings(
        data_dir=data_dir,
        admin_token=admin_token,
        server=ServerSettings(**server),  # type: ignore[arg-type]
    )


@contextmanager
def serve(get_assistant: Callable[[], AssistantAPI], settings: Settings) -> Iterator[str]:
    """Run the whole web app (UI mounted at /) on a free loopback port; yields its URL."""
    port = free_port()
    settings.server.port = port
    app = create_app(settings, get_assistant=get_assistant)
    config = uvicorn_config(
        app, settings, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the UI server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
