"""PDF pages, Word files and sections, fast: loaders, chunk pages, the store's round trip
(fake embedder, real Chroma), citations, and what the UI draws from them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from assistant.answer.citations import make_citation
from assistant.core import Assistant
from assistant.errors import DocumentError
from assistant.serve.ui import render
from assistant.settings import Settings
from assistant.types import Citation, DocumentText
from index.chunking import chunk_text
from index.ingest import PageBar, chunk_pages
from index.loaders import load
from index.pdf_loader import page_list, page_of, pdf_date, strip_furniture
from tests.support.documents import (
    ANSWER,
    DOCX_ANSWER,
    DOCX_SECTION,
    PAGE3_HEADING,
    PDF_TITLE,
    pdf_with_blank_scan,
    three_page_pdf,
    word_file,
)
from tests.support.fakes import HashEmbeddings

MB = 1_000_000


def words(texts):
    return [len(t.split()) for t in texts]


def test_pdf_text_keeps_its_page_boundaries(tmp_path: Path) -> None:
    doc = load(three_page_pdf(tmp_path / "karsvik.pdf"), MB)
    assert doc.fmt == "pdf" and len(doc.pages) == 3 and doc.pages[0] == 0
    assert doc.text[doc.pages[2] :].startswith(PAGE3_HEADING)
    at = doc.text.index(ANSWER)
    assert page_of(doc.pages, at) == 3 and page_of(doc.pages, 0) == 1
    assert doc.title == PDF_TITLE and doc.date is not None and len(doc.date) == 10
    assert [doc.text[a:b] for a, b in doc.headings][2] == PAGE3_HEADING
    assert len(doc.file_hash) == 64 and doc.warnings == ()


def test_a_page_without_text_is_named_and_the_rest_indexed(tmp_path: Path) -> None:
    doc = load(pdf_with_blank_scan(tmp_path / "accounts.pdf"), MB)
    assert doc.warnings == (
        "accounts.pdf: page 2 has no text layer (a scanned image or a blank page)",
    )
    assert "accounts of 1990" in doc.text and "accounts of 1991" in doc.text
    assert page_of(doc.pages, doc.text.index("1991")) == 3


def test_no_text_at_all_is_still_an_error(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(tmp_path / "scan.pdf"))
    pdf.rect(10, 10, 100, 100, fill=1)
    pdf.save()
    with pytest.raises(DocumentError, match=r"scan\.pdf: the PDF has no extractable text"):
        load(tmp_path / "scan.pdf", MB)


def test_page_helpers() -> None:
    assert page_list([3, 12, 13, 14, 20]) == "3, 12\u201314, 20"
    assert pdf_date("D:20240501120000Z") == "2024-05-01" and pdf_date("yesterday") is None
    assert pdf_date("D:20241399") is None
    assert pdf_date("D:20000101000000+00'00'") is None  # reportlab's invariant placeholder
    # an empty page shares its start with the next: offsets land on the later page
    assert [page_of((0, 10, 10, 20), x) for x in (0, 9, 10, 19, 20)] == [1, 1, 3, 3, 4]
    assert chunk_pages((0, 10, 20), 5, 25) == (1, [10, 20])
    assert chunk_pages((), 5, 25) == (0, [])
    # an outline heading on top of every page is kept, a running header is not
    pages = [["Report 2024", "Chapter 1", "text one"], ["Report 2024", "Chapter 2", "text two"]]
    kept = strip_furniture(pages, keep={"chapter 1", "chapter 2"})
    assert kept == [["Chapter 1", "text one"], ["Chapter 2", "text two"]]
    assert strip_furniture(pages) == [["text one"], ["text two"]]


def test_chunk_pages_agree_with_the_loader_everywhere(tmp_path: Path) -> None:
    from index.records import ChunkRecord

    doc = load(three_page_pdf(tmp_path / "karsvik.pdf"), MB)
    chunks = chunk_text(doc.text, words, 24, 20, doc.body_start, doc.fmt, doc.headings)
    assert len(chunks) > 3
    for c in chunks:
        page, breaks = chunk_pages(doc.pages, c.start, c.end)
        record = ChunkRecord(
            "c", "d", "s", "t", None, doc.text[c.start : c.end], c.start, c.end, (),
            page=page, page_breaks=tuple(breaks),
        )  # fmt: skip
        for offset in range(c.start, c.end):
            assert record.page_at(offset) == page_of(doc.pages, offset)
    assert ChunkRecord("c", "d", "s", "t", None, "x", 0, 1, ()).page_at(0) is None


def test_word_file_text_sections_and_metadata(tmp_path: Path) -> None:
    doc = load(word_file(tmp_path / "ferries.docx"), MB)
    assert doc.fmt == "docx" and doc.title == "Nordvik ferry handbook"
    assert doc.date == "2024-05-17"
    assert "| Nordvik to Sandö | 35 |" in doc.text
    chunks = chunk_text(doc.text, words, 60, 30, doc.body_start, doc.fmt, doc.headings)
    unit = next(u for c in chunks for u in c.units if doc.text[u.start : u.end] == DOCX_ANSWER)
    assert unit.section == DOCX_SECTION


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"this is not a zip archive at all", "not a Word file (not a .docx archive"),
        (None, "the archive has no word/document.xml"),
        ("broken-xml", "not a readable Word file"),
    ],
)
def test_a_corrupt_word_file_is_named(tmp_path: Path, content: object, reason: str) -> None:
    path = tmp_path / "broken.docx"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            if content == "broken-xml":
                z.writestr("word/document.xml", "<w:document><unclosed>")
    with pytest.raises(DocumentError, match="broken.docx: ") as err:
        load(path, MB)
    assert reason in str(err.value)


def test_a_bad_word_file_is_skipped_and_the_others_indexed(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    word_file(folder / "ferries.docx")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really")
    assistant = Assistant(Settings(data_dir=tmp_path / "data"), embedder=HashEmbeddings())
    report = assistant.ingest([folder])
    assert report.added == ["ferries.docx"]
    assert [e.source for e in report.errors] == ["broken.docx"]


def test_pages_and_sections_survive_the_store(tmp_path: Path) -> None:
    """Fake embedder, real Chroma: every stored chunk answers page_at like the loader, the
    document record keeps its page starts, and a citation carries page and section."""
    pdf = three_page_pdf(tmp_path / "karsvik.pdf")
    scan = pdf_with_blank_scan(tmp_path / "accounts.pdf")
    assistant = Assistant(Settings(data_dir=tmp_path / "data"), embedder=HashEmbeddings())
    report = assistant.ingest([pdf, scan])
    assert sorted(report.added) == ["accounts.pdf", "karsvik.pdf"]
    assert report.warnings == [
        "accounts.pdf: page 2 has no text layer (a scanned image or a blank page)"
    ]
    assert "1 warnings" in report.summary()
    loaded = load(pdf, MB)
    chunks = [c for c in assistant.store.all_chunks() if c.source == "karsvik.pdf"]
    assert chunks and all(c.page >= 1 for c in chunks)
    for c in chunks:
        assert all(c.page_at(o) == page_of(loaded.pages, o) for o in range(c.start, c.end))
    doc = assistant.document(loaded.doc_id)
    assert doc.page_starts == list(loaded.pages) and doc.pages == 3 and doc.format == "pdf"
    assert doc.file_hash == loaded.file_hash
    at = doc.text.index(ANSWER)
    holder = next(c for c in chunks if c.start <= at < c.end)
    cite = make_citation(1, holder, at, at + len(ANSWER), ANSWER, 0.9, True)
    assert cite.page == 3 and cite.section == PAGE3_HEADING
    assert doc.text[cite.start : cite.end] == cite.text


def test_the_page_bar_shows_only_for_long_pdfs(capsys: pytest.CaptureFixture[str]) -> None:
    short = PageBar("a.pdf", None, min_pages=50)
    for n in range(1, 4):
        short.update(n, 3)
    short.close()
    assert short.bar is None
    long = PageBar("report.pdf", None, min_pages=50)
    for n in range(1, 61):
        long.update(n, 60)
    assert long.bar is not None and long.bar.n == 60
    long.close()
    assert "Reading report.pdf" in capsys.readouterr().err
    never = PageBar("report.pdf", False, min_pages=1)
    never.update(1, 500)
    assert never.bar is None


def _pdf_doc(text: str, starts: list[int]) -> DocumentText:
    return DocumentText(
        doc_id="0123456789abcdef",
        source="karsvik.pdf",
        title=PDF_TITLE,
        chars=len(text),
        chunks=2,
        content_hash="h",
        indexed_at="2026-01-01T00:00:00",
        format="pdf",
        file_hash="f" * 64,
        pages=len(starts),
        text=text,
        page_starts=starts,
    )


def _cite(doc: DocumentText, text: str, page: int | None, section: str | None) -> Citation:
    at = doc.text.index(text)
    return Citation(
        n=1, source=doc.source, text=text, start=at, end=at + len(text), score=0.8,
        supported=True, doc_id=doc.doc_id, title=doc.title, passage_start=at,
        passage_end=at + len(text), section=section, page=page,
    )  # fmt: skip


def test_ui_shows_page_and_section_beside_the_document_name() -> None:
    text = "Page one text.\nPage two text.\n<b>Page</b> three & the answer."
    doc = _pdf_doc(text, [0, 15, 30])
    cite = _cite(doc, "<b>Page</b> three & the answer.", 3, "Restoration & <i>care</i>")
    card = render.source_card(cite, doc.text, 0, True)
    assert "karsvik.pdf · page 3 · relevance 0.80" in card
    assert '<span class="src-section">\u203a Restoration &amp; &lt;i&gt;care&lt;/i&gt;' in card
    view = render.document_html(doc, [cite], 1, pdf_url="api/documents/0123456789abcdef/file")
    assert "page 3 of 3" in view
    assert [view.count(f'data-page="{n}"></span>') for n in (1, 2, 3)] == [1, 1, 1]
    assert 'data-file="api/documents/0123456789abcdef/file" data-page="3"' in view
    assert 'data-quote="&lt;b&gt;Page&lt;/b&gt; three &amp; the answer."' in view
    assert "<b>" not in view
    # the page labels are CSS content: the body's text is still exactly the document
    import html as html_lib
    import re

    body = view.split('<div class="doc-body">', 1)[1]
    assert html_lib.unescape(re.sub(r"<[^>]+>", "", body)) == text
    plain = render.document_html(doc, [cite], 1)
    assert "doc-pdf-toggle" not in plain and "page 3 of 3" in plain


def test_unpaged_documents_show_no_page() -> None:
    doc = _pdf_doc("Just text. The answer.", [])
    doc = doc.model_copy(update={"format": "text"})
    cite = _cite(doc, "The answer.", None, None)
    card = render.source_card(cite, doc.text, 0, False)
    assert "page" not in card and "src-section" not in card
    view = render.document_html(doc, [cite], 1, pdf_url="api/x")
    assert "doc-page" not in view and " of " not in view and "doc-pdf-toggle" not in view


def test_the_benchmark_report_states_each_fact_on_its_own_page(tmp_path: Path) -> None:
    from benchmarks.large_pdf import fact, harbour, make_report

    doc = load(make_report(tmp_path / "survey.pdf", 12), MB)
    assert len(doc.pages) == 12 and len(doc.headings) == 12
    assert len({harbour(p) for p in range(1, 301)}) == 300
    for page in range(1, 13):
        sentence = fact(page)[0]
        assert page_of(doc.pages, doc.text.index(sentence)) == page


def test_the_ui_offers_the_pdf_page_only_when_the_indexed_file_is_there(tmp_path: Path) -> None:
    """Handlers.open_citation over a real index (fake embedder): the PDF view while the file
    is unchanged; the plain text view once it is gone, and always for a Word file."""
    from assistant.serve.ui.handlers import Handlers
    from assistant.types import Answer

    pdf = three_page_pdf(tmp_path / "karsvik.pdf")
    word = word_file(tmp_path / "ferries.docx")
    settings = Settings(data_dir=tmp_path / "data")
    assistant = Assistant(settings, embedder=HashEmbeddings())
    assert assistant.ingest([pdf, word]).ok
    cites = []
    for n, (path, quote) in enumerate(((pdf, ANSWER), (word, DOCX_ANSWER)), 1):
        doc = assistant.document(load(path, MB).doc_id)
        at = doc.text.index(quote)
        chunks = [c for c in assistant.store.all_chunks() if c.doc_id == doc.doc_id]
        holder = next(c for c in chunks if c.start <= at < c.end)
        cites.append(make_citation(n, holder, at, at + len(quote), quote, 0.9, True))
    answer = Answer(answer=f"{ANSWER} [1] {DOCX_ANSWER} [2]", abstained=False, citations=cites)
    turns = [{"question": "q", "answer": answer.model_dump()}]
    h = Handlers(lambda: assistant, settings)
    _, view = h.open_citation(turns, 0, 1)
    assert "doc-pdf-toggle" in view and 'data-page="3"' in view and "page 3 of 3" in view
    _, view = h.open_citation(turns, 0, 2)
    assert "doc-pdf-toggle" not in view and DOCX_SECTION in view
    pdf.unlink()
    _, view = h.open_citation(turns, 0, 1)
    assert "doc-pdf-toggle" not in view and "page 3 of 3" in view
    assert '<mark class="cited current"' in view
