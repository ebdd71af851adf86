"""The chat page and the widget over the REAL assistant (real model, real Chroma) on the sample
article: the answer, its confidence and the uncertain case as a reader sees them.

``ASSISTANT_UPDATE_DOCS=1`` also writes docs/ui.png and docs/widget.png from these pages.
"""

from __future__ import annotations

import http.server
import os
import socket
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, expect

from assistant.serve.server import create_app
from assistant.settings import ServerSettings, Settings
from tests.support.chat_page import open_page
from tests.support.ui_server import serve, ui_settings
from tests.support.widget_host import HOST_PAGE, QuietHandler

pytestmark = [pytest.mark.browser, pytest.mark.integration]

DOCS = Path(__file__).resolve().parents[2] / "docs"
UPDATE_DOCS = os.environ.get("ASSISTANT_UPDATE_DOCS") == "1"
MACRON_Q = (
    "Which countries opposed Macron's proposal to deploy peacekeepers behind the demarcation line?"
)
OPPOSED = "Germany, Italy, Spain and Poland immediately opposed the idea."
UNSURE_Q = "Who is the Commander-in-Chief of the Swiss Armed Forces?"


def _ask(page, question: str, markers: int) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    expect(page.locator("#chat a.cite-ref")).to_have_count(markers, timeout=60_000)


def test_ui_shows_the_real_answer_and_its_confidence(
    browser: Browser, sample_assistant, tmp_path: Path
) -> None:
    confident = sample_assistant.answer(MACRON_Q)
    unsure = sample_assistant.answer(UNSURE_Q)
    assert not confident.uncertain and unsure.uncertain and not unsure.abstained
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    with serve(lambda: sample_assistant, ui_settings(tmp_path / "data")) as url:
        watch = open_page(page, url)
        _ask(page, UNSURE_Q, len(unsure.citations))
        expect(page.locator("#sources .src-status.uncertain")).to_contain_text("Uncertain")
        expect(page.locator("#chat")).to_contain_text("The closest the documents come is")
        _ask(page, MACRON_Q, len(unsure.citations) + len(confident.citations))
        expect(page.locator("#sources .src-confidence")).to_contain_text(
            f"Confidence {confident.confidence:.0%}"
        )
        expect(page.locator("#sources .src-card mark").filter(has_text=OPPOSED)).to_have_count(1)
        page.locator("#chat a.cite-ref").last.click()
        expect(page.locator("#document mark.current")).to_be_visible()
        if UPDATE_DOCS:
            page.screenshot(path=str(DOCS / "ui.png"), full_page=True)
        watch.check()
    context.close()


@pytest.fixture
def widget_servers(sample_assistant, tmp_path: Path) -> Iterator[str]:
    """The real assistant's API on one port and a host page on another; yields the page URL."""
    site = tmp_path / "site"
    site.mkdir()
    host = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(QuietHandler, directory=str(site))
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    api = f"http://127.0.0.1:{sock.getsockname()[1]}"
    (site / "host.html").write_text(HOST_PAGE.format(api=api), encoding="utf-8")
    settings = Settings(
        data_dir=tmp_path / "data",
        allowed_origins=f"http://localhost:{host.server_address[1]}",
        server=ServerSettings(host="127.0.0.1", port=sock.getsockname()[1]),
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, get_assistant=lambda: sample_assistant),
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
    )
    threads = [
        threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True),
        threading.Thread(target=host.serve_forever, daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.05)
        assert server.started
        yield f"http://localhost:{host.server_address[1]}/host.html"
    finally:
        server.should_exit = True
        threads[0].join(10)
        host.shutdown()
        host.server_close()
        sock.close()


def test_widget_shows_the_real_answer_and_the_uncertain_case(
    browser: Browser, sample_assistant, widget_servers: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(widget_servers)
    page.locator("#doc-assistant-widget button.launcher").click()
    frame = page.frame_locator("#doc-assistant-widget iframe")
    for question in (UNSURE_Q, MACRON_Q):
        frame.locator("#question").fill(question)
        frame.locator("#question").press("Enter")
        expect(frame.locator(".msg.assistant .sources")).to_have_count(
            1 if question == UNSURE_Q else 2, timeout=60_000
        )
    replies = frame.locator(".msg.assistant")
    unsure, confident = replies.nth(replies.count() - 2), replies.last
    expect(unsure).to_have_class("msg assistant uncertain")
    expect(unsure.locator(".note.uncertain")).to_contain_text("Uncertain")
    expect(confident.locator(".note.confidence")).to_contain_text("Confidence")
    expect(confident.locator(".text")).to_contain_text(OPPOSED)
    if UPDATE_DOCS:
        page.screenshot(path=str(DOCS / "widget.png"))
    context.close()
