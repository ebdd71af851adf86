"""The embeddable widget in headless Chromium, on a host page from another origin.

The assistant runs on http://127.0.0.1:API; the host page is served from a second server and
reached as http://localhost:HOST (allowed) or http://127.0.0.1:HOST (not allowed): the same
files, two different origins.
"""

from __future__ import annotations

import http.server
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, expect

from assistant.serve.server import create_app
from assistant.settings import ServerSettings, Settings
from tests.support.fakes import FakeAssistant
from tests.support.widget_host import HOST_PAGE, QuietHandler

pytestmark = pytest.mark.browser

QUESTION = "Which countries opposed Macron's proposal?"
SENTENCE = "Germany, Italy, Spain and Poland immediately opposed the idea."
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "widget.png"
GRADIO_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gradio embed</title>
<link rel="icon" href="data:,"><script type="module" src="{api}/gradio.js"></script></head>
<body><h1>Host</h1><gradio-app src="{api}/"></gradio-app></body></html>
"""


@dataclass
class Servers:
    api: str  # http://127.0.0.1:PORT, the assistant
    allowed: str  # http://localhost:PORT, a host page origin in allowed_origins
    disallowed: str  # http://127.0.0.1:PORT, the same host page from an unlisted origin
    fake: FakeAssistant


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("widget")
    site = root / "site"
    site.mkdir()
    host = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(QuietHandler, directory=str(site))
    )
    host_port = host.server_address[1]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    api_port = sock.getsockname()[1]
    api = f"http://127.0.0.1:{api_port}"
    (site / "host.html").write_text(HOST_PAGE.format(api=api), encoding="utf-8")
    options = 'data-position="bottom-right" defer'
    opened = HOST_PAGE.replace(options, 'data-position="bottom-left" data-open="true" defer')
    (site / "open.html").write_text(opened.format(api=api), encoding="utf-8")
    (site / "gradio.html").write_text(GRADIO_PAGE.format(api=api), encoding="utf-8")

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASSISTANT_DATA_DIR", str(root / "data"))
        settings = Settings(
            data_dir=root / "data",
            allowed_origins=f"http://localhost:{host_port}",
            server=ServerSettings(host="127.0.0.1", port=api_port, rate_limit_per_minute=1000),
        )
        fake = FakeAssistant()
        app = create_app(settings, get_assistant=lambda: fake)
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)
        server = uvicorn.Server(config)
        api_thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        host_thread = threading.Thread(target=host.serve_forever, daemon=True)
        api_thread.start()
        host_thread.start()
        try:
            for _ in range(200):
                if server.started:
                    break
                threading.Event().wait(0.05)
            assert server.started, "the assistant server did not start"
            yield Servers(
                api, f"http://localhost:{host_port}", f"http://127.0.0.1:{host_port}", fake
            )
        finally:
            server.should_exit = True
            api_thread.join(10)
            host.shutdown()
            host.server_close()
            sock.close()
    assert not api_thread.is_alive()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Browser contexts that are closed after the test, even when it fails."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        contexts.append(browser.new_context(**options))
        return contexts[-1]

    yield make
    for context in contexts:
        context.close()


def _watch(page: Page, servers: Servers) -> tuple[list[str], list[str]]:
    """Record requests to unexpected hosts and console messages."""
    foreign: list[str] = []
    console: list[str] = []
    origins = (servers.api, servers.allowed, servers.disallowed)
    page.on("request", lambda r: None if r.url.startswith(origins) else foreign.append(r.url))
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    return foreign, console


def _ask(page: Page, question: str) -> None:
    frame = page.frame_locator("#doc-assistant-widget iframe")
    frame.locator("#question").fill(question)
    frame.locator("#question").press("Enter")


def test_widget_answers_and_shows_the_cited_passage(
    new_context: Callable[..., BrowserContext], servers: Servers, tmp_path: Path
) -> None:
    context = new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    foreign, console = _watch(page, servers)
    host_url = f"{servers.allowed}/host.html"
    page.goto(host_url)
    launcher = page.locator("#doc-assistant-widget button.launcher")
    expect(launcher).to_be_visible()
    assert launcher.get_attribute("aria-expanded") == "false"
    assert page.locator("#doc-assistant-widget iframe").count() == 0  # loads on first open
    launcher.click()
    assert launcher.get_attribute("aria-expanded") == "true"
    box = page.locator("#doc-assistant-widget iframe").bounding_box()
    assert box is not None and box["width"] == pytest.approx(380, abs=2)  # a compact panel

    frame = page.frame_locator("#doc-assistant-widget iframe")
    expect(frame.locator("#title")).to_have_text("Ask about this article")
    _ask(page, QUESTION)
    reply = frame.locator(".msg.assistant").last
    expect(reply.locator(".sources")).to_be_visible()
    expect(reply.locator(".text")).to_contain_text(SENTENCE)
    page.screenshot(path=str(tmp_path / "desktop-answer.png"))

    reply.locator(".text button.cite").first.click()
    viewer = frame.locator("#viewer")
    expect(viewer).to_be_visible()
    expect(frame.locator("#viewer-text mark")).to_have_text(SENTENCE)
    passage = frame.locator("#viewer-text").inner_text()
    assert SENTENCE in passage and len(passage) > len(SENTENCE) + 100  # shown in context
    expect(frame.locator("#viewer-title")).to_contain_text("Coalition of the Willing")
    page.screenshot(path=str(tmp_path / "desktop-citation.png"))
    if os.environ.get("ASSISTANT_UPDATE_DOCS") == "1":  # regenerates the README picture
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS_SCREENSHOT))
    frame.locator("#whole").click()
    whole = frame.locator("#viewer-text").inner_text()
    assert len(whole) > len(passage) and whole.startswith(" date 2025-03-27")
    expect(frame.locator("#viewer-text mark")).to_have_text(SENTENCE)
    frame.locator("#back").click()
    expect(viewer).to_be_hidden()
    assert page.url == host_url  # never left the host page

    # A follow-up carries the history; markup in it is shown as text, never run.
    _ask(page, '<img src=x onerror="window.pwned=1"><b>opposed</b>?')
    expect(frame.locator(".msg.user").last).to_have_text(
        '<img src=x onerror="window.pwned=1"><b>opposed</b>?'
    )
    expect(frame.locator(".msg.assistant")).to_have_count(2)
    expect(frame.locator(".msg.assistant").last.locator(".sources")).to_be_visible()
    assert frame.locator("#log img, #log b").count() == 0
    question, history = servers.fake.calls[-1]
    assert question.startswith("<img src=x")
    assert [(m.role, m.content[:20]) for m in history] == [
        ("user", QUESTION[:20]),
        ("assistant", SENTENCE[:20]),
    ]
    widget = next(f for f in page.frames if f.url.startswith(f"{servers.api}/widget"))
    assert widget.evaluate("window.pwned") is None
    assert foreign == []
    assert not [m for m in console if "error" in m.lower()], console


def test_widget_flags_unsupported_sentences(
    new_context: Callable[..., BrowserContext], servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.types import Answer

    fake = servers.fake
    claim = "They also sent <i>troops</i> to the Arctic."

    def stream(question: str, history: Any = None) -> Iterator[Any]:
        answer = fake.answer(QUESTION, history)
        text = f"{answer.answer} {claim}"
        yield text
        yield Answer(
            answer=text, abstained=False, citations=answer.citations, unsupported_claims=[claim]
        )

    monkeypatch.setattr(fake, "stream", stream)
    page = new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{servers.allowed}/open.html")
    _ask(page, QUESTION)
    frame = page.frame_locator("#doc-assistant-widget iframe")
    reply = frame.locator(".msg.assistant").last
    flagged = reply.locator(".text .unsupported")
    expect(flagged).to_have_count(1)
    expect(flagged).to_have_text("\u26a0\u00a0" + claim)
    assert flagged.get_attribute("title") == "No cited passage supports this sentence."
    assert "wavy" in flagged.evaluate("e => getComputedStyle(e).textDecorationStyle")
    expect(reply.locator(".text button.cite")).to_have_count(1)  # the supported sentence
    expect(reply.locator(".note").first).to_contain_text("no cited passage supports")
    assert reply.locator(".text i").count() == 0


def test_widget_is_full_screen_on_a_phone(
    new_context: Callable[..., BrowserContext], servers: Servers
) -> None:
    context = new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.goto(f"{servers.allowed}/host.html")
    launcher = page.locator("#doc-assistant-widget button.launcher")
    launcher.tap()
    iframe = page.locator("#doc-assistant-widget iframe")
    expect(iframe).to_be_visible()
    box = iframe.bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)
    expect(launcher).to_be_hidden()  # the panel covers the screen; its own button closes it

    frame = page.frame_locator("#doc-assistant-widget iframe")
    _ask(page, QUESTION)
    reply = frame.locator(".msg.assistant").last
    expect(reply.locator(".text")).to_contain_text(SENTENCE)
    reply.locator(".text button.cite").first.tap()
    expect(frame.locator("#viewer-text mark")).to_have_text(SENTENCE)
    mark = frame.locator("#viewer-text mark").bounding_box()
    assert mark is not None and mark["y"] >= 0 and mark["y"] + mark["height"] <= 844
    # No screenshot in this flow: in a mobile context Chromium's capture re-applies the device
    # metrics, and a cross-origin (out-of-process) frame's taps then missed their targets in CI.
    frame.locator("#back").tap()
    expect(frame.locator("#viewer")).to_be_hidden()
    frame.locator("#close").tap()
    expect(iframe).to_be_hidden()
    expect(launcher).to_be_visible()


def test_data_attributes_place_and_open_the_panel(
    new_context: Callable[..., BrowserContext], servers: Servers
) -> None:
    page = new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{servers.allowed}/open.html")
    iframe = page.locator("#doc-assistant-widget iframe")
    expect(iframe).to_be_visible()  # data-open="true": no click needed
    box = iframe.bounding_box()
    launcher = page.locator("#doc-assistant-widget button.launcher").bounding_box()
    assert box is not None and launcher is not None
    assert box["x"] == pytest.approx(20, abs=2) and launcher["x"] == pytest.approx(20, abs=2)
    color = page.locator("#doc-assistant-widget button.launcher").evaluate(
        "b => getComputedStyle(b).backgroundColor"
    )
    assert color == "rgb(15, 118, 110)"  # data-accent="#0f766e", despite the host's CSS


def test_a_disallowed_origin_can_neither_frame_nor_read(
    new_context: Callable[..., BrowserContext], servers: Servers
) -> None:
    context = new_context()
    page = context.new_page()
    _, console = _watch(page, servers)
    page.goto(f"{servers.disallowed}/host.html")
    page.locator("#doc-assistant-widget button.launcher").click()
    expect(page.locator("#doc-assistant-widget iframe")).to_be_attached()
    page.wait_for_timeout(1000)
    refused = [m for m in console if "frame-ancestors" in m]
    assert refused, console
    frame = next(f for f in page.frames if f != page.main_frame)
    assert frame.url != f"{servers.api}/widget" and not frame.url.startswith(servers.api)
    assert page.frame_locator("#doc-assistant-widget iframe").locator("#question").count() == 0

    script = """async (url) => {
        try {
            const r = await fetch(url + '/api/ask', {method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({question: 'Which countries opposed it?'})});
            return 'read ' + r.status + ' ' + (await r.text()).slice(0, 20);
        } catch (e) { return 'blocked: ' + e.message; }
    }"""
    assert page.evaluate(script, servers.api).startswith("blocked")
    get_docs = "u => fetch(u + '/api/documents').then(r => 'read ' + r.status, e => 'blocked')"
    assert page.evaluate(get_docs, servers.api) == "blocked"

    # The same code on the allowed origin can read: the checks above can fail.
    page.goto(f"{servers.allowed}/host.html")
    assert page.evaluate(script, servers.api).startswith("read 200")
    assert page.evaluate(get_docs, servers.api) == "read 200"


def test_gradio_web_component_loads_from_our_server(
    new_context: Callable[..., BrowserContext], servers: Servers
) -> None:
    """``<gradio-app>`` with our /gradio.js: the full UI, no CDN, only for allowed origins."""
    context = new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    foreign, console = _watch(page, servers)
    page.goto(f"{servers.allowed}/gradio.html")
    expect(page.locator("gradio-app #question textarea")).to_be_visible(timeout=30_000)
    assert foreign == []

    page.goto(f"{servers.disallowed}/gradio.html")
    page.wait_for_timeout(1500)
    assert page.locator("gradio-app #question").count() == 0
    assert any("CORS" in m and "/gradio.js" in m for m in console), console
