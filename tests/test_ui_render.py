"""Unit tests of the UI layer without a server: rendering, upload rules and event handlers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from assistant.errors import AssistantError, DocumentError
from assistant.settings import Settings
from assistant.types import Answer, Citation, DocumentText
from assistant.ui import render, uploads
from assistant.ui.handlers import Handlers
from index.ingest import IngestReport
from tests.fakes import FakeAssistant

OPPOSED = "Germany, Italy, Spain and Poland immediately opposed the idea."
HOSTILE = (
    "![pixel](http://tracker.example/p.png) <img src=http://tracker.example/i.png> "
    '<script>alert(1)</script> [link](javascript:alert(1)) **bold** $$x^2$$ & "quotes"'
)


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))


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


def _marked(html_text: str) -> list[str]:
    return re.findall(r"<mark[^>]*>(.*?)</mark>", html_text, flags=re.S)


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
    before, marked = out.split("<mark>")[0], _marked(out)
    assert marked == ["Same words."]
    assert before == "Same words. Other. "


def test_passage_from_fake_assistant_marks_the_cited_sentence(fake: FakeAssistant) -> None:
    c = fake.answer("Which countries opposed Macron's proposal?").citations[0]
    out = render.passage_html(c, fake.text)
    assert _marked(out) == [OPPOSED]
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
    assert _marked(card) == ["&lt;img src=http://x.example/a.png&gt;"]


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
    assert len(_marked(out)) == 1
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
    assert _marked(out) == ["Two is here.", "Four is here too."]
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
    assert _marked(out) == ["cd", "ef", "gh"]
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


# --- upload rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("evil\x00na\x1bme\n.md", "evilname.md"),
        ("..", "upload"),
        ("...hidden..txt", "hidden.txt"),
        ("notes\u202e.txt", "notes.txt"),
        ("plain name.html", "plain name.html"),
    ],
)
def test_sanitize_filename(name: str, expected: str) -> None:
    assert uploads.sanitize_filename(name) == expected


def test_sanitize_filename_bounds_length_and_keeps_the_suffix() -> None:
    out = uploads.sanitize_filename("a" * 500 + ".pdf")
    assert len(out) <= 120 and out.endswith(".pdf")


def test_rejection_reasons() -> None:
    assert uploads.rejection("a.txt", 10, 1) is None
    assert uploads.rejection("A.PDF", 10, 1) is None
    assert ".exe" in (uploads.rejection("a.exe", 10, 1) or "")
    assert "no extension" in (uploads.rejection("README", 10, 1) or "")
    assert "2 MB upload limit" in (uploads.rejection("a.md", 3 * 1024 * 1024, 2) or "")
    assert "empty" in (uploads.rejection("a.md", 0, 2) or "")


def test_token_check() -> None:
    assert uploads.token_ok("s3cret", "s3cret")
    assert uploads.token_ok(" s3cret\n", "s3cret")
    assert not uploads.token_ok("wrong", "s3cret")
    assert not uploads.token_ok("", "s3cret")
    assert not uploads.token_ok("", None)
    assert not uploads.token_ok("anything", "")


# --- handlers over the fake assistant ----------------------------------------------------


def test_respond_streams_then_links_markers_and_fills_sources(fake: FakeAssistant) -> None:
    h = Handlers(lambda: fake, Settings())
    steps = list(h.respond("Which countries opposed Macron's proposal?", [], [], []))
    assert len(steps) > 3  # a first placeholder, several streamed pieces, the final answer
    partial = steps[2][0][-1]["content"]
    assert "cite-ref" not in partial and OPPOSED.startswith(partial.split()[0])
    chat, history, turns, sources = steps[-1]
    assert chat[0] == {"role": "user", "content": "Which countries opposed Macron's proposal?"}
    assert 'href="#cite-0-1"' in chat[-1]["content"]
    assert history[-1] == {"role": "assistant", "content": f"{OPPOSED} [1]"}
    assert turns[0]["answer"]["citations"][0]["text"] == OPPOSED
    assert _marked(sources) == [OPPOSED]


def test_respond_passes_history_for_follow_ups(fake: FakeAssistant) -> None:
    h = Handlers(lambda: fake, Settings())
    *_, (chat, history, turns, _) = h.respond("How many leaders attended?", [], [], [])
    *_, (chat, history, turns, _) = h.respond("And Denmark?", chat, history, turns)
    assert fake.calls[-1][1][0] == {"role": "user", "content": "How many leaders attended?"}
    assert len(chat) == 4 and len(turns) == 2
    assert 'href="#cite-0-1"' in chat[1]["content"]
    assert turns[1]["question"] == "And Denmark?" and turns[1]["answer"]["abstained"]


def test_respond_shows_assistant_errors_in_the_chat() -> None:
    def broken() -> FakeAssistant:
        raise AssistantError("The index is empty: run `assistant ingest` first.")

    h = Handlers(broken, Settings())
    *_, (chat, history, turns, _) = h.respond("Anything?", [], [], [])
    assert chat[-1]["content"].startswith("**Sorry:** The index is empty")
    assert history == [] and turns == []


def test_respond_ignores_blank_questions(fake: FakeAssistant) -> None:
    assert list(Handlers(lambda: fake, Settings()).respond("   ", [], [], [])) == []
    assert fake.calls == []


def test_open_citation_selects_card_and_opens_document(fake: FakeAssistant) -> None:
    h = Handlers(lambda: fake, Settings())
    *_, (_, _, turns, _) = h.respond("Which countries opposed Macron's proposal?", [], [], [])
    shown = h.open_citation(turns, 0, 1)
    assert shown is not None
    sources, document = shown
    assert 'class="src-card selected"' in sources
    assert re.search(rf'<mark class="cited current"[^>]*>{re.escape(OPPOSED)}</mark>', document)
    assert h.open_citation(turns, 5, 1) is None and h.open_citation(turns, 0, 9) is None


def test_api_chat_returns_plain_answer_and_citations(fake: FakeAssistant) -> None:
    h = Handlers(lambda: fake, Settings())
    *_, (text, history, sources) = h.api_chat("Which countries opposed Macron's proposal?", [])
    assert text == f"{OPPOSED} [1]"
    assert sources[0]["n"] == 1 and sources[0]["text"] == OPPOSED
    assert len(history) == 2


def _settings(tmp_path: Path, token: str | None) -> Settings:
    return Settings(data_dir=tmp_path / "data", admin_token=token)


def test_upload_is_off_without_a_token(tmp_path: Path, fake: FakeAssistant) -> None:
    f = tmp_path / "a.txt"
    f.write_text("hello")
    out = Handlers(lambda: fake, _settings(tmp_path, None)).upload("", [str(f)])
    assert "off" in out
    assert not (tmp_path / "data" / "uploads").exists()


def test_upload_needs_the_right_token(tmp_path: Path, fake: FakeAssistant) -> None:
    f = tmp_path / "a.txt"
    f.write_text("hello")
    out = Handlers(lambda: fake, _settings(tmp_path, "tok")).upload("nope", [str(f)])
    assert "token is missing or wrong" in out
    assert not (tmp_path / "data" / "uploads").exists()


def test_upload_stores_accepted_files_and_explains_refusals(tmp_path: Path) -> None:
    ingested: list[list[Path]] = []

    class Recording(FakeAssistant):
        def ingest(self, paths):  # type: ignore[override]
            ingested.append(list(paths))
            error = DocumentError("bad.pdf", "no text layer")
            return IngestReport(added=["notes.md"], errors=[error], chunks=1)

    src = tmp_path / "in"
    src.mkdir()
    good, exe = src / "notes.md", src / "tool.exe"
    good.write_text("# notes")
    exe.write_bytes(b"MZ")
    settings = _settings(tmp_path, "tok")
    out = Handlers(Recording, settings).upload("tok", [str(good), str(exe)])
    assert ingested == [[tmp_path / "data" / "uploads" / "notes.md"]]
    assert (tmp_path / "data" / "uploads" / "notes.md").read_text() == "# notes"
    assert "notes\\.md** added" in out
    assert "tool\\.exe** refused: .exe files are not accepted" in out
    assert "bad\\.pdf\\: no text layer" in out
    assert "1 documents indexed \\(1 new" in out  # the report's own summary line


def test_build_ui_never_calls_get_assistant() -> None:
    from assistant.ui import build_ui

    def not_yet() -> FakeAssistant:
        raise AssertionError("get_assistant was called while building the page")

    demo = build_ui(not_yet, Settings())
    names = [d.api_name for d in demo.fns.values() if d.api_visibility == "public"]
    assert names == ["chat"]


@pytest.mark.parametrize(("token", "has_upload"), [(None, False), ("tok", True)])
def test_upload_controls_only_with_an_admin_token(token: str | None, has_upload: bool) -> None:
    import gradio as gr

    from assistant.ui import build_ui

    demo = build_ui(FakeAssistant, Settings(admin_token=token))
    files = [b for b in demo.blocks.values() if isinstance(b, gr.File)]
    assert bool(files) == has_upload
    notes = [b.value for b in demo.blocks.values() if isinstance(b, gr.Markdown)]
    assert any("ASSISTANT_ADMIN_TOKEN" in str(n) for n in notes) == (not has_upload)


def test_mount_options_accept_fractional_upload_limits() -> None:
    from gradio import utils

    from assistant.ui import mount_options

    options = mount_options(Settings(server={"max_upload_mb": 0.5}))
    assert utils._parse_file_size(options["max_file_size"]) == 512 * 1024
    assert options["footer_links"] == ["api"]  # no links to outside sites


def test_open_citation_reports_a_missing_document(fake: FakeAssistant) -> None:
    h = Handlers(lambda: fake, Settings())
    *_, (_, _, turns, _) = h.respond("Which countries opposed Macron's proposal?", [], [], [])
    turns[0]["answer"]["citations"][0]["doc_id"] = "gone"
    shown = h.open_citation(turns, 0, 1)
    assert shown is not None
    sources, document = shown
    assert "No document with id" in document and "<mark" not in document
    assert _marked(sources) == [OPPOSED]  # falls back to the cited text itself
