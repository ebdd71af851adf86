"""Done means, issue 14: over the REAL assistant (real model, real Chroma) and the real server,
a three-page PDF whose answer sits on page 3 is cited with ``page: 3``, and the chat page
opens page 3, drawn by pdf.js (served by this server) with the span highlighted where the
PDF has it; the widget shows the same page under its strict CSP. A Word file is answered
from too. Screenshots go to the test's tmp dir (``ASSISTANT_UPDATE_DOCS=1``: also docs/).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.chat_page import Watch, open_page
from tests.support.documents import (
    ANSWER,
    ANSWER_Q,
    DOCX_ANSWER,
    DOCX_Q,
    DOCX_SECTION,
    PAGE3_HEADING,
    answer_baseline_from_top,
    three_page_pdf,
    word_file,
)
from tests.support.netguard import loopback_only
from tests.support.ui_server import serve, ui_settings

pytestmark = [pytest.mark.browser, pytest.mark.integration]

DOCS = Path(__file__).resolve().parents[2] / "docs"
UPDATE_DOCS = os.environ.get("ASSISTANT_UPDATE_DOCS") == "1"
# Share of the canvas's pixels that are not white: a drawn page of text, not a blank sheet.
_INK = """(canvas) => {
  const ctx = canvas.getContext('2d');
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] < 200) ink += 1;
  return ink / (data.length / 4);
}"""


@pytest.fixture(scope="module")
def assistant(embedder, tmp_path_factory: pytest.TempPathFactory):
    from assistant.core import Assistant
    from assistant.settings import Settings

    folder = tmp_path_factory.mktemp("docs")
    three_page_pdf(folder / "karsvik.pdf")
    word_file(folder / "ferries.docx")
    real = Assistant(Settings(data_dir=tmp_path_factory.mktemp("index")), embedder=embedder)
    report = real.ingest([folder])
    assert sorted(report.added) == ["ferries.docx", "karsvik.pdf"] and report.ok
    return real


@pytest.fixture(scope="module")
def url(assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = ui_settings(tmp_path_factory.mktemp("data"))
    with loopback_only() as attempts, serve(lambda: assistant, settings) as u:
        yield u
    assert attempts == []


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    yield context.new_page()
    context.close()


def test_the_answer_on_page_3_is_cited_with_page_3(assistant) -> None:
    answer = assistant.answer(ANSWER_Q)
    first = answer.citations[0]
    assert not answer.abstained and "1987" in answer.answer
    assert (first.source, first.page, first.section) == ("karsvik.pdf", 3, PAGE3_HEADING)
    doc = assistant.document(first.doc_id)
    assert doc.text[first.start : first.end] == first.text and ANSWER in first.text
    assert doc.page_starts[2] <= first.start  # the span is inside page 3 of the text


def test_a_word_file_is_answered_from(assistant) -> None:
    answer = assistant.answer(DOCX_Q)
    first = answer.citations[0]
    assert not answer.abstained and "green" in answer.answer
    assert (first.source, first.section, first.page) == ("ferries.docx", DOCX_SECTION, None)
    assert first.text == DOCX_ANSWER
    assert assistant.document(first.doc_id).text[first.start : first.end] == DOCX_ANSWER


def test_ui_opens_page_3_with_the_span_highlighted(
    page: Page, url: str, assistant, tmp_path: Path
) -> None:
    expected = assistant.answer(ANSWER_Q).citations[0]
    watch = open_page(page, url)
    page.locator("#question textarea").fill(ANSWER_Q)
    page.locator("#question textarea").press("Enter")
    expect(page.locator("#chat a.cite-ref").first).to_be_visible(timeout=30_000)
    card = page.locator("#sources .src-card").first
    expect(card.locator(".src-meta")).to_contain_text("karsvik.pdf · page 3")
    expect(card.locator(".src-section")).to_contain_text(PAGE3_HEADING)

    page.locator("#chat a.cite-ref").first.click()
    view = page.locator("#document .doc-view")
    expect(view.locator(".doc-meta")).to_contain_text("page 3 of 3")
    sheet = view.locator('.doc-pdf .pdf-page[data-page="3"]')
    expect(sheet.locator("canvas")).to_be_visible(timeout=30_000)
    expect(view.locator(".doc-pdf-note")).to_contain_text("Page 3 of 3 as the PDF draws it.")
    marks = sheet.locator(".pdf-mark")
    assert marks.count() >= 1
    assert sheet.locator("canvas").evaluate(_INK) > 0.002  # the page's text was drawn
    # the highlight sits on the answer's line, where the PDF drew it
    box, first = sheet.bounding_box(), marks.first.bounding_box()
    assert box and first
    baseline = box["y"] + answer_baseline_from_top() * box["height"]
    assert first["y"] < baseline < first["y"] + first["height"]
    assert first["x"] < box["x"] + 0.2 * box["width"]  # from the line's start
    shot = tmp_path / "pdf-page.png"
    view.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if UPDATE_DOCS:
        page.screenshot(path=str(DOCS / "pdf-page.png"), full_page=True)

    view.locator("button.doc-pdf-toggle").click()  # back to the text, exact by offsets
    current = page.locator("#document mark.current")
    expect(current).to_have_text(expected.text)
    expect(current).to_be_in_viewport()
    label = page.locator('#document .doc-page[data-page="3"]')
    expect(label).to_have_count(1)
    assert label.evaluate(
        "(el, m) => !!(el.compareDocumentPosition(m) & 4)", current.element_handle()
    )
    watch.check()


def test_widget_shows_the_cited_pdf_page(page: Page, url: str) -> None:
    csp: list[str] = []
    page.on(
        "console",
        lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None,
    )
    watch = Watch(page, url)
    page.goto(url + "widget")
    page.locator("#question").fill(ANSWER_Q)
    page.locator("#question").press("Enter")
    reply = page.locator(".msg.assistant .sources")
    expect(reply).to_have_count(1, timeout=30_000)
    expect(reply.locator(".source-name").first).to_contain_text(f"\u203a {PAGE3_HEADING}, page 3")
    page.locator(".msg.assistant .text button.cite").first.click()
    expect(page.locator("#viewer-meta")).to_contain_text("karsvik.pdf \u00b7 page 3")
    expect(page.locator("#viewer-text mark")).to_contain_text("1987")
    page.locator("#pdf").click()
    sheet = page.locator('#viewer-pdf .pdf-page[data-page="3"]')
    expect(sheet.locator("canvas")).to_be_visible(timeout=30_000)
    expect(sheet.locator(".pdf-mark").first).to_be_visible()
    assert sheet.locator("canvas").evaluate(_INK) > 0.002
    page.locator("#pdf").click()  # back to the text
    expect(page.locator("#viewer-text mark")).to_contain_text("1987")
    assert csp == [], f"the widget's CSP blocked something: {csp}"
    watch.check()
