"""Two small collections that must never leak into each other, for the collection tests.

The customer FAQ and the staff handbook share no answer: a question about one asked of the
other must not cite (or quote) the other's document.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.settings import Settings

FAQ = (
    "# Customer FAQ\n\n"
    "Returns are accepted within 30 days of delivery. Refunds go back to the original "
    "payment method within five business days.\n\n"
    "Shipping is free for orders over 50 euros.\n"
)
HANDBOOK = (
    "# Staff handbook\n\n"
    "Every employee gets 25 vacation days per year. The staff entrance door code is 4711 and "
    "changes every quarter.\n\n"
    "Expense reports are due on the last Friday of each month.\n"
)
HANDBOOK_Q = "How many vacation days does every employee get per year?"
HANDBOOK_SECRET = "4711"
FAQ_Q = "Within how many days of delivery are returns accepted?"


def write_docs(root: Path) -> dict[str, Path]:
    """The two documents, each in its own folder."""
    paths = {}
    for name, text in (("faq", FAQ), ("handbook", HANDBOOK)):
        folder = root / f"{name}-docs"
        folder.mkdir(parents=True, exist_ok=True)
        paths[name] = folder / f"{name}.md"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def clean_env(data_dir: Path) -> dict[str, str]:
    """The environment of a test's commands: this data dir, no other ASSISTANT_* setting."""
    from tests.conftest import ENCODER_CACHE

    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(data_dir)
    env["ASSISTANT_ENCODER__CACHE_DIR"] = str(ENCODER_CACHE)
    env["HF_HUB_OFFLINE"] = "1"
    return env


def sources(answer: dict) -> set[str]:
    return {c["source"] for c in answer["citations"]}


@contextmanager
def run_app(app: object, settings: Settings) -> Iterator[str]:
    """Serve ``app`` on ``settings.server.port`` (loopback) until the block ends."""
    import uvicorn

    from assistant.serve.server import uvicorn_config

    config = uvicorn_config(
        app, settings, host="127.0.0.1", log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{settings.server.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
