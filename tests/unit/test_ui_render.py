"""Unit tests of the UI's rendering without a server (handlers: ``test_ui_handlers.py``)."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from assistant.serve.ui import render
from assistant.types import Answer, Citation, DocumentText
from tests.support.fakes import FakeAssistant
from tests.support.ui_html import OPPOSED, marks

HOSTILE = (
    "![pixel](http://tracker.example/p.png) <img src=http://tracker.example/i.png> "
    '<script>alert(1)</script> [link](javascript:alert(1)) **bold** $$x^2$$ & "quotes"'
)


@pytest.fixture
def fake() -> FakeAssistant:
    return FakeAssistant()


def _markdown(text: str) -> str:
    """Render like the chat does (CommonMark with raw HTML allowed, before sanitizing)."""
    return MarkdownIt("commonmark").render(text)


def _citation(doc: str, start: int, end: int, n: int = 1, **kw: object) -> Citation:
    fields: dict = {
        "n": n,
        "source": "doc.txt",
        "text": doc[start:end],
        "start": start,
        "end": end,
        "score": 0.5,
        "supported": True,
        "doc_id": "d1",
        "passage_start": 0,
        "passage_end": len(doc),
    }
    fields.update(kw)
    return Citation(**fields)


def _doc(text: str, doc_id: str = "d1", source: str = "doc.txt") -> DocumentText:
    return DocumentText(
        doc_id=doc_id,
        source=source,
        title="T",
        chars=len(text),
        chunks=1,
        content_hash="h",
        indexed_at="2026-01-01T00:00:00+00:00",
        text=text,
    )


# --- chat text -------------------------------------------------------------------------


def test_escaped_answer_text_renders_as_plain_text_only() -> None:
    out = _markdown(render.escape_markdown(HOSTILE))
    assert "<img" not in out and "<script" not in out and "<a " not in out
    assert "<strong>" not in out
    assert "&lt;img src=http://tracker.example/i.png&gt;" in out
    assert "![pixel](http://tracker.example/p.png)" in out  # shown, not fetched


def test_markers_become_links_only_for_known_citations(fake: FakeAssistant) -> None:
    answer = fake.answer("Which countries opposed Macron's proposal?")
    answer.answer = "Four countries [1] and more [2]. ![x](http://e.example/x.png)"
    out = _markdown(render.chat_markdown(answer, turn=3))
    links = re.findall(r'<a class="cite-ref" href="([^"]+)"[^>]*>(.*?)</a>', out)
    assert links == [("#cite-3-1", "[1]")]
    assert "[2]" in out  # no citation 2: stays text
    assert "<img" not in out


def test_notes_are_shown_escaped() -> None:
    answer = Answer(answer="Yes [1].", abstained=False, notes=["LLM off: <b>extractive</b>"])
    out = render.chat_markdown(answer, 0)
    assert "&lt;b&gt;extractive&lt;/b&gt;" in out and "<b>" not in out


def test_unsupported_sentences_are_flagged() -> None:
    claim = "Troops <b>went</b> to the Arctic [2]."
    answer = Answer(
        answer=f"Thirty leaders came [1]. {claim}",
        abstained=False,
        citations=[
            _citation("Thirty leaders came.", 0, 20, n=1),
            _citation("Thirty leaders came.", 0, 20, n=2, supported=False),
        ],
        unsupported_claims=[claim, "Not in the text."],
    )
    out = _markdown(render.chat_markdown(answer, turn=0))
    flagged = re.findall(r'<span class="unsupported" title="([^"]+)">(.*?)</span>', out)
    assert len(flagged) == 1 and flagged[0][0] == render.UNSUPPORTED_TITLE
    assert flagged[0][1].startswith("\u26a0") and "&lt;b&gt;went&lt;/b&gt;" in flagged[0][1]
    assert 'href="#cite-0-2"' in flagged[0][1]  # its marker still links to the source
    assert "Thirty leaders came" not in flagged[0][1]
    assert render.UNSUPPORTED_LEGEND.split()[-1] in out
    plain = render.chat_markdown(Answer(answer="Yes [1].", abstained=False), 0)
    assert "unsupported" not in plain and "\u26a0" not in plain


def test_cite_href_round_trips() -> None:
    assert render.parse_cite_href(render.cite_href(12, 3)) == (12, 3)
    assert render.parse_cite_href("#cite-1") is None
    assert render.parse_cite_href("javascript:alert(1)") is None


def test_error_message_is_escaped() -> None:
    out = _markdown(render.error_markdown("bad <img src=x>"))
    assert out == "<p><strong>Sorry:</strong> bad &lt;img src=x&gt;</p>\n"


# --- highlights by offsets ---------------------------------------------------------------


def test_highlight_places_and_merges_spans_by_offset() -> None:
    assert render.highlight("abcdef", [(1, 3)]) == "a<mark>bc</mark>def"
    assert render.highlight("abcdef", [(1, 3), (2, 5)]) == "a<mark>bcde</mark>f"
    assert render.highlight("a<b>c", [(1, 4)]) == "a<mark>&lt;b&gt;</mark>c"
    # text starting at document offset 10; a span partly before it is clipped
    assert render.highlight("klmn", [(8, 12)], offset=10) == "<mark>kl</mark>mn"


def test_passage_highlight_uses_offsets_not_a_text_search() -> None:
    doc = "Same words. Other. Same words. End."
    second = doc.rindex("Same words.")
    c = _citation(doc, second, second + len("Same words."))
    out = render.passage_html(c, doc)
    before, marked = out.split("<mark>")[0], marks(out)
    assert marked == ["Same words."]
    assert before == "Same words. Other. "


def test_passage_from_fake_assistant_marks_the_cited_sentence(fake: FakeAssistant) -> None:
    c = fake.answer("Which countries opposed Macron's proposal?").citations[0]
    out = render.passage_html(c, fake.text)
    assert marks(out) == [OPPOSED]
    assert out.startswith("French President Emmanuel Macron has proposed")


def test_passage_falls_back_to_cited_text_without_the_document() -> None:
    c = _citation("x <b> y", 2, 5)
    assert render.passage_html(c, None) == "<mark>&lt;b&gt;</mark>"


def test_source_card_shows_name_date_score_and_escapes() -> None:
    doc = "Intro. <img src=http://x.example/a.png> is cited. Outro."
    start, end = doc.index("<img"), doc.index(" is cited")
    c = _citation(doc, start, end, source="<b>evil</b>.txt", date="2025-03-27", score=0.7321)
    card = render.source_card(c, doc, turn=0, selected=True)
    assert "<img" not in card and "<b>evil" not in card
    assert "&lt;b&gt;evil&lt;/b&gt;.txt" in card
    assert "2025-03-27" in card and "relevance 0.73" in card
    assert 'class="src-card selected"' in card and 'id="src-0-1"' in card
    assert marks(card) == ["&lt;img src=http://x.example/a.png&gt;"]


def test_source_card_warns_when_offsets_do_not_match() -> None:
    doc = "The text changed since."
    c = _citation(doc, 4, 8).model_copy(update={"text": "else"})
    assert "no longer match" in render.source_card(c, doc, 0, False)


def test_abstention_is_stated_with_closest_passages(fake: FakeAssistant) -> None:
    answer = fake.answer("What is the capital of Peru?")
    assert answer.abstained
    out = render.sources_html(answer, {fake.doc_id: fake.text}, question="capital of Peru?")
    assert "The documents do not answer this question" in out
    assert "closest passages" in out
    assert len(marks(out)) == 1
    assert "does not support the answer" in out  # the fake marks it unsupported
    normal = fake.answer("Which countries opposed Macron's proposal?")
    assert "do not answer" not in render.sources_html(normal, {fake.doc_id: fake.text})


def test_sources_panel_without_answer_explains_itself() -> None:
    assert "Click a marker" in render.sources_html(None, {})


def test_document_view_highlights_every_cited_span_and_scrolls_to_the_chosen_one() -> None:
    doc = "One. Two is here. Three. Four is here too."
    c1 = _citation(doc, 5, 17, n=1)
    c2 = _citation(doc, 25, 42, n=2)
    other = _citation(doc, 0, 4, n=3, doc_id="another")
    out = render.document_html(_doc(doc), [c1, c2, other], selected=2)
    assert marks(out) == ["Two is here.", "Four is here too."]
    assert re.search(r'<mark class="cited current"[^>]*>Four is here too\.</mark>', out)
    assert 'data-scroll-to="doc-cite-2"' in out
    assert out.index('id="doc-cite-2"') < out.index("Four is here")
    assert 'id="doc-cite-3"' not in out


def test_document_view_handles_overlap_and_bad_offsets() -> None:
    doc = "abcdefghij"
    c1 = _citation(doc, 2, 6, n=1)
    c2 = _citation(doc, 4, 8, n=2)
    bad = _citation(doc, 5, 50, n=3).model_copy(update={"text": "x"})
    out = render.document_html(_doc(doc), [c1, c2, bad], selected=None)
    assert marks(out) == ["cd", "ef", "gh"]
    assert 'data-n="1 2"' in out
    assert 'data-scroll-to="doc-cite-1"' in out  # first span when none is chosen
    assert "doc-cite-3" not in out


def test_document_view_escapes_document_text() -> None:
    doc = "<script>alert(1)</script> cited"
    out = render.document_html(_doc(doc), [_citation(doc, 26, 31)], 1)
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_document_rows_newest_first(fake: FakeAssistant) -> None:
    old = fake.documents()[0].model_copy(update={"indexed_at": "2020-01-01", "source": "old.txt"})
    rows = render.document_rows([old, *fake.documents()])
    assert [r[1] for r in rows] == ["coalition-of-the-willing.txt", "old.txt"]
    assert rows[0] == ["Coalition of the Willing", rows[0][1], "2025-03-27", 8, rows[0][4]]
