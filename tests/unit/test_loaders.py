"""Loading each supported format, and a clear, named error for each kind of bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import DocumentError
from index.loaders import discover, load
from tests.conftest import SAMPLE

MB = 1_000_000


def make_pdf(path: Path, lines: list[str]) -> Path:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    y = 800
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 20
    pdf.save()
    return path


def test_sample_article_metadata() -> None:
    doc = load(SAMPLE, MB)
    assert doc.date == "2025-03-27"
    assert doc.text.startswith(" date 2025-03-27 President")
    assert doc.text[doc.body_start :].startswith("President of France")
    assert len(doc.content_hash) == 64


def test_markdown_title_and_front_matter(tmp_path: Path) -> None:
    md = tmp_path / "notes.md"
    md.write_text("---\ndate: 2024-05-01\n---\n# Field notes\n\nThe bridge opened in May.\n")
    doc = load(md, MB)
    assert (doc.title, doc.date) == ("Field notes", "2024-05-01")
    assert doc.text[doc.body_start :].startswith("# Field notes")


def test_html_text_without_scripts(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>News</title><meta name='date' content='2023-02-03'>"
        "<script>alert('x')</script></head><body><nav>Menu</nav><p>The river "
        "froze.</p><p>Schools closed.</p></body></html>"
    )
    doc = load(page, MB)
    assert doc.title == "News" and doc.date == "2023-02-03"
    assert "The river froze." in doc.text and "Schools closed." in doc.text
    assert "alert" not in doc.text and "Menu" not in doc.text


def test_pdf_text(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "report.pdf", ["The harbour reopened in 1998.", "Ships returned."])
    doc = load(pdf, MB)
    assert "harbour reopened in 1998" in doc.text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\n ", "empty"),
        ("binary.txt", b"\x00\x01\x02binary\x00", "binary"),
        ("latin1.txt", "caf\u00e9 cr\u00e8me".encode("latin-1"), "not UTF-8"),
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "malformed PDF"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_bad_files_are_named_with_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError) as info:
        load(path, MB)
    assert info.value.source == name
    assert reason in info.value.reason


def test_too_large_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("word " * 3000)
    with pytest.raises(DocumentError, match="too large"):
        load(path, 1000)


def test_discover_expands_folders_and_reports_unsupported(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Alpha.")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("Beta.")
    (tmp_path / "c.xlsx").write_text("nope")
    files, errors = discover([tmp_path, tmp_path / "c.xlsx", tmp_path / "missing.txt"])
    assert sorted(p.name for p in files) == ["a.txt", "b.md"]
    assert [e.source.split("/")[-1] for e in errors] == ["c.xlsx", "missing.txt"]
