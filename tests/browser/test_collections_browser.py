"""Collections in headless Chromium, with the real model and Chroma: the widget on two host
sites, each allowed one collection, and the UI's collection selector.

The host pages come from one small server reached under two origins: http://localhost:HOST
(allowed for the FAQ) and http://127.0.0.1:HOST (allowed for the staff handbook).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import pytest
from playwright.sync_api import Browser, Page, expect

from assistant import cli
from assistant.serve.server import create_app
from assistant.settings import ServerSettings, Settings
from tests.support.collection_docs import (
    FAQ_Q,
    HANDBOOK_Q,
    HANDBOOK_SECRET,
    clean_env,
    run_app,
    write_docs,
)
from tests.support.netguard import loopback_only
from tests.support.ports import free_port
from tests.support.widget_host import QuietHandler

pytestmark = [pytest.mark.browser, pytest.mark.integration]
HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title><link rel="icon" href="data:,"></head><body><h1>{title}</h1>
<script src="{api}/embed.js" data-title="{title}" data-collection="{collection}"
        data-open="true" defer></script></body></html>
"""


@dataclass
class Sites:
    api: str
    faq_site: str  # http://localhost:HOST, allowed for the faq collection
    handbook_site: str  # http://127.0.0.1:HOST, allowed for the handbook collection


@pytest.fixture(scope="module")
def sites(embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    root = tmp_path_factory.mktemp("collections-browser")
    docs = write_docs(root)
    data = root / "data"
    site = root / "site"
    site.mkdir()
    host = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=site))
    port = host.server_address[1]
    faq_site, handbook_site = f"http://localhost:{port}", f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in clean_env(data).items():
            mp.setenv(key, value)
        for name in ("faq", "handbook"):
            assert cli.main(["ingest", str(docs[name]), "--collection", name]) == 0
        settings = Settings(
            data_dir=data,
            collection_origins=f"faq={faq_site};handbook={handbook_site}",
            server=ServerSettings(port=free_port(), rate_limit_per_minute=100_000),
        )
        api = f"http://127.0.0.1:{settings.server.port}"
        for collection in ("faq", "handbook"):
            page = HOST_PAGE.format(api=api, title=f"Ask the {collection}", collection=collection)
            (site / f"{collection}.html").write_text(page, encoding="utf-8")
        thread = threading.Thread(target=host.serve_forever, daemon=True)
        thread.start()
        try:
            with loopback_only() as attempts, run_app(create_app(settings), settings) as url:
                yield Sites(url, faq_site, handbook_site)
            assert attempts == []
        finally:
            host.shutdown()
            host.server_close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def _widget_ask(page: Page, question: str, answers: int) -> str:
    frame = page.frame_locator("#doc-assistant-widget iframe")
    frame.locator("#question").fill(question)
    frame.locator("#question").press("Enter")
    replies = frame.locator(".msg.assistant:not(:has(.pending))")
    expect(replies).to_have_count(answers, timeout=60_000)
    expect(replies.last.locator(".text")).not_to_have_text("\u2026")
    return replies.last.inner_text()


def test_each_site_widget_answers_only_from_its_collection(page: Page, sites: Sites) -> None:
    page.goto(f"{sites.faq_site}/faq.html")
    leaked = _widget_ask(page, HANDBOOK_Q, 1)
    assert "handbook.md" not in leaked and HANDBOOK_SECRET not in leaked
    assert "vacation" not in leaked
    answer = _widget_ask(page, FAQ_Q, 2)
    assert "30 days" in answer
    frame = page.frame_locator("#doc-assistant-widget iframe")
    frame.locator(".msg.assistant").last.locator(".text button.cite").first.click()
    expect(frame.locator("#viewer-text mark")).to_contain_text("30 days")  # its own document
    frame.locator("#whole").click()
    expect(frame.locator("#viewer-text")).to_contain_text("Shipping is free")

    page.goto(f"{sites.handbook_site}/handbook.html")
    assert "25 vacation days" in _widget_ask(page, HANDBOOK_Q, 1)


def test_a_site_cannot_frame_or_query_another_collection(page: Page, sites: Sites) -> None:
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    # The FAQ's site serving the handbook's embed code: the browser refuses to frame it.
    page.goto(f"{sites.faq_site}/handbook.html")
    page.wait_for_selector("#doc-assistant-widget iframe", state="attached")
    page.wait_for_timeout(1500)
    framed = [f for f in page.frames if f is not page.main_frame]
    assert framed and all(f.locator("#question").count() == 0 for f in framed), framed
    assert not any(f.url.startswith(sites.api) for f in framed)  # an error page, not ours
    assert any("frame-ancestors" in line for line in console), console
    # ...and its scripts asking the API directly get a refusal and nothing else.
    result = page.evaluate(
        """async ([api, question]) => {
            const out = [];
            for (const collection of ["handbook", "default", "nope"]) {
              const r = await fetch(api + "/api/ask", {method: "POST",
                headers: {"Content-Type": "application/json"},
                body: JSON.stringify({question: question, collection: collection})});
              out.push([r.status, await r.text()]);
            }
            const listed = await (await fetch(api + "/api/collections")).json();
            return {out: out, listed: listed.collections};
        }""",
        [sites.api, HANDBOOK_Q],
    )
    assert [status for status, _ in result["out"]] == [403, 403, 403]
    assert all(HANDBOOK_SECRET not in body for _, body in result["out"])
    assert result["listed"] == ["faq"]


def test_ui_selector_switches_collection_and_starts_over(page: Page, sites: Sites) -> None:
    page.goto(f"{sites.api}/")
    question_box = page.locator("#question textarea")
    expect(question_box).to_be_visible(timeout=30_000)
    selector = page.locator("#collection input")
    expect(selector).to_have_value("default")

    def choose(name: str) -> None:
        selector.click()
        page.get_by_role("option", name=name, exact=True).click()
        expect(selector).to_have_value(name)
        # The switch starts the chat over, cancelling answers in flight: wait until it has
        # (the sources panel names the new collection), or a question asked at once is
        # cancelled. The panel shows its placeholder before the switch, so that is no sign.
        expect(page.locator("#sources")).to_contain_text(
            f"Now answering from the {name} collection", timeout=30_000
        )

    def ask(question: str) -> None:
        question_box.fill(question)
        question_box.press("Enter")
        expect(page.locator("#sources .src-card").first).to_be_visible(timeout=60_000)

    choose("handbook")
    ask(HANDBOOK_Q)
    expect(page.locator("#chat")).to_contain_text("25 vacation days")
    page.locator("#chat a.cite-ref").first.click()
    expect(page.locator("#document mark.current")).to_contain_text("25 vacation days")

    question_box.fill("a question being typed")
    choose("faq")  # another collection: the chat starts over, the draft stays
    expect(question_box).to_have_value("a question being typed")
    expect(page.locator("#chat a.cite-ref")).to_have_count(0)
    expect(page.locator("#sources")).to_contain_text("Sources of the answer appear here")
    ask(HANDBOOK_Q)
    chat = page.locator("#chat").inner_text()
    assert "25 vacation days" not in chat and HANDBOOK_SECRET not in chat
    # The FAQ does not answer it: refused, or only its closest passage, marked uncertain.
    assert "don't say" in chat or "The closest the documents come is" in chat
    assert "handbook.md" not in page.locator("#sources").inner_text()

    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#documents")
    expect(table).to_contain_text("faq.md")
    assert "handbook.md" not in table.inner_text()
