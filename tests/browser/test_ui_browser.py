"""The chat page in headless Chromium: ask, click a citation, see the passage it came from.

Served by the real app (``tests.support.ui_server.serve``) over the fake assistant. Every
request the page makes must stay on the test server.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from assistant.types import Answer
from tests.support.chat_page import open_page
from tests.support.fakes import FakeAssistant
from tests.support.netguard import loopback_only
from tests.support.ui_server import serve, ui_settings

pytestmark = pytest.mark.browser

OPPOSED_Q = "Which countries opposed Macron's proposal?"
OPPOSED = "Germany, Italy, Spain and Poland immediately opposed the idea."
LEADERS = 'He said this following a meeting of the "Coalition of the Willing", which was attended'
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "ui.png"
# Read at import: the test isolation fixture clears ASSISTANT_* variables before tests run.
UPDATE_DOCS = os.environ.get("ASSISTANT_UPDATE_DOCS") == "1"  # regenerates the README picture
TRACKER = "http://198.51.100.7/pixel.png"  # TEST-NET-2: must never be requested


class HostileFake(FakeAssistant):
    """Answers with document text that tries to load images and inject HTML."""

    def answer(self, question: str, history: object = None) -> Answer:
        result = super().answer(question, history)  # type: ignore[arg-type]
        result.answer = (
            f"![x]({TRACKER}) <img src='{TRACKER}'> <script>window.pwned=1</script> "
            f"**not bold** {result.answer}"
        )
        return result


@pytest.fixture(scope="module")
def fake() -> FakeAssistant:
    return FakeAssistant()


@pytest.fixture(scope="module")
def url(fake: FakeAssistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = ui_settings(tmp_path_factory.mktemp("data"))
    with loopback_only() as attempts, serve(lambda: fake, settings) as u:
        yield u
    assert attempts == []


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


def ask(page: Page, question: str, answers_before: int) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    expect(page.locator("#chat a.cite-ref")).to_have_count(answers_before + 1, timeout=15_000)


def test_citation_opens_its_passage_highlighted(page: Page, url: str, tmp_path: Path) -> None:
    watch = open_page(page, url)
    ask(page, OPPOSED_Q, 0)
    marker = page.locator("#chat a.cite-ref")
    expect(marker).to_have_text("[1]")
    card = page.locator("#sources .src-card")
    expect(card).to_have_count(1)
    expect(card.locator("mark")).to_have_text(OPPOSED)
    expect(card).to_contain_text("coalition-of-the-willing.txt · 2025-03-27 · relevance 0.80")

    marker.click()
    current = page.locator("#document mark.current")
    expect(current).to_have_text(OPPOSED)
    expect(current).to_be_in_viewport()
    expect(page.locator("#sources .src-card.selected")).to_have_count(1)
    expect(page.locator("#document .doc-view")).to_contain_text("Peacekeeping troops in Ukraine")
    assert page.url.rstrip("/") == url.rstrip("/")  # the marker did not navigate
    page.screenshot(path=str(tmp_path / "citation.png"), full_page=True)
    assert (tmp_path / "citation.png").stat().st_size > 10_000
    if UPDATE_DOCS:
        page.screenshot(path=str(DOCS_SCREENSHOT), full_page=True)
    watch.check()


def test_example_follow_up_old_citation_and_start_over(
    page: Page, url: str, fake: FakeAssistant
) -> None:
    watch = open_page(page, url)
    page.locator("#chat button.example", has_text="How many leaders attended").click()
    expect(page.locator("#chat a.cite-ref")).to_have_count(1, timeout=15_000)
    expect(page.locator("#sources .src-card mark")).to_contain_text("attended by 30 leaders")

    page.locator("#question textarea").fill("And Denmark?")
    page.locator("#question textarea").press("Enter")
    status = page.locator("#sources .src-status.abstained")
    expect(status).to_contain_text("The documents do not answer this question")
    expect(page.locator("#sources .src-card")).to_have_count(1)  # the closest passage
    assert [m["role"] for m in fake.calls[-1][1]] == ["user", "assistant"]

    page.locator("#chat a.cite-ref").first.click()  # [1] of the first answer
    expect(page.locator("#sources .src-question")).to_contain_text("How many leaders attended")
    expect(page.locator("#document mark.current")).to_contain_text(LEADERS)

    page.get_by_role("button", name="Start over").click()
    expect(page.locator("#chat a.cite-ref")).to_have_count(0)
    expect(page.locator("#chat button.example")).to_have_count(3)
    expect(page.locator("#sources")).to_contain_text("Sources of the answer appear here")
    ask(page, OPPOSED_Q, 0)
    assert fake.calls[-1] == (OPPOSED_Q, [])  # a fresh conversation

    page.locator("#chat").get_by_role("button", name="Clear").click()  # the chat's own bin
    expect(page.locator("#chat a.cite-ref")).to_have_count(0)
    expect(page.locator("#sources")).to_contain_text("Sources of the answer appear here")
    ask(page, "How many leaders attended?", 0)
    expect(page.locator("#chat .message-row")).to_have_count(2)
    assert fake.calls[-1] == ("How many leaders attended?", [])
    watch.check()


def test_answer_text_cannot_load_images_or_run_html(
    browser: Browser, tmp_path: Path, page: Page
) -> None:
    fake = HostileFake()
    with loopback_only(), serve(lambda: fake, ui_settings(tmp_path / "data")) as url:
        watch = open_page(page, url)
        ask(page, OPPOSED_Q, 0)
        bot = page.locator("#chat a.cite-ref").locator("xpath=..")
        expect(bot).to_contain_text(f"![x]({TRACKER})")
        expect(bot).to_contain_text("**not bold**")
        assert page.locator("#chat img, #chat script, #chat strong").count() == 0
        assert page.evaluate("window.pwned") is None
        watch.check()
        page.close()


def test_documents_tab_lists_documents_and_guards_uploads(
    browser: Browser, tmp_path: Path, page: Page
) -> None:
    ingested: list[list[Path]] = []

    class Recording(FakeAssistant):
        def ingest(self, paths):  # type: ignore[override]
            ingested.append(list(paths))
            return {"documents": len(paths), "errors": []}

    fake = Recording()
    settings = ui_settings(tmp_path / "data", admin_token="let-me-in")
    good, bad = tmp_path / "notes.txt", tmp_path / "tool.exe"
    good.write_text("Notes about the meeting.")
    bad.write_bytes(b"MZ")
    with loopback_only(), serve(lambda: fake, settings) as url:
        watch = open_page(page, url)
        page.get_by_role("tab", name="Documents").click()
        table = page.locator("#documents")
        expect(table).to_contain_text("coalition-of-the-willing.txt")
        expect(table).to_contain_text("2025-03-27")

        page.get_by_text("Add documents").click()
        page.locator("#upload-files input[type=file]").set_input_files([str(good), str(bad)])
        expect(page.get_by_role("row", name=re.compile(r"tool\.exe"))).to_be_visible()
        page.locator("#admin-token input").fill("wrong")
        page.get_by_role("button", name="Add to index").click()
        status = page.locator("#upload-status")
        expect(status).to_contain_text("the admin token is missing or wrong")
        assert ingested == []

        page.locator("#admin-token input").fill("let-me-in")
        page.get_by_role("button", name="Add to index").click()
        expect(status).to_contain_text("notes.txt added")
        expect(status).to_contain_text("tool.exe refused: .exe files are not accepted")
        assert ingested == [[tmp_path / "data" / "uploads" / "notes.txt"]]
        watch.check()
        page.close()  # before the server stops, so no connection is left open
