"""Read txt, md, html, pdf and docx files into text, naming the file and the reason when one
fails. PDF (``index.pdf_loader``) and Word (``index.docx_loader``) have modules of their own."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from index.errors import DocumentError
from index.pdf_loader import PageProgress

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
_DATE_LINE = re.compile(r"\A\s*(?:date|published|updated)\s*[:=]?\s*(\d{4}-\d{2}-\d{2})\b\s*", re.I)
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


@dataclass(frozen=True)
class LoadedDocument:
    """A document's full text (what citation offsets index into) and its metadata."""

    path: Path
    source: str
    text: str
    title: str
    date: str | None
    content_hash: str
    body_start: int = 0  # where the text proper starts, after a date line or front matter
    fmt: str = "text"  # "text", "markdown", "html", "pdf" or "docx": how index.layout reads it
    headings: tuple[tuple[int, int], ...] = ()  # spans known to be headings (HTML, PDF, Word)
    pages: tuple[int, ...] = ()  # PDF: offset where each page's text starts (page 1 first)
    warnings: tuple[str, ...] = ()  # indexed all the same, e.g. "page 12 has no text layer"
    file_hash: str = ""  # sha256 of the file's bytes: the PDF viewer serves only this file

    @property
    def doc_id(self) -> str:
        """Stable id: the same path always maps to the same document."""
        return doc_id_for(self.path)


def doc_id_for(path: Path) -> str:
    """Derive the document id from the file's absolute path."""
    return hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:16]


def discover(paths: list[Path]) -> tuple[list[Path], list[DocumentError]]:
    """Expand folders to supported files; a missing path or wrong type is an error, not a crash."""
    files: list[Path] = []
    errors: list[DocumentError] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED and not p.name.startswith(".")
            )
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED:
                files.append(path)
            else:
                errors.append(
                    DocumentError(
                        str(path),
                        f"unsupported file type {path.suffix or '(none)'!r}; "
                        f"supported: {', '.join(SUPPORTED)}",
                    )
                )
        else:
            errors.append(DocumentError(str(path), "no such file or folder"))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, errors


def _decode(path: Path, data: bytes) -> str:
    if not data.strip():
        raise DocumentError(path.name, "the file is empty")
    if b"\x00" in data[:8192]:
        raise DocumentError(path.name, "binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            path.name, f"not UTF-8 text (undecodable byte at offset {exc.start})"
        ) from exc


_BLOCK_TAGS = (
    "p",
    "div",
    "section",
    "article",
    "main",
    "aside",
    "header",
    "footer",
    "blockquote",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "li",
    "figure",
    "figcaption",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "caption",
    "form",
    "fieldset",
    "details",
    "summary",
    "address",
    "hr",
)
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BREAK, _H_OPEN, _H_CLOSE, _PRE_OPEN, _PRE_CLOSE = "\x01", "\x02", "\x03", "\x04", "\x05"
_MARKS = re.compile("([\x01-\x05])")


def _html_text(path: Path, markup: str) -> tuple[str, str | None, str | None, tuple]:
    """Text of an HTML page as blocks: one paragraph per block element (inline tags such as
    ``<code>`` or ``<a>`` stay inside their sentence), ``<pre>`` verbatim, and the spans of
    ``h1``-``h6`` headings, which become sections."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_MARKS.sub(" ", markup), "html.parser")  # the marks are ours alone
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    date = None
    for attrs in (
        {"property": "article:published_time"},
        {"name": "date"},
        {"itemprop": "datePublished"},
    ):
        tag = soup.find("meta", attrs=dict(attrs))
        if tag and tag.get("content"):
            date = str(tag["content"])[:10]
            break
    if date is None and (time := soup.find("time", datetime=True)):
        date = str(time["datetime"])[:10]
    for tag in soup(["script", "style", "noscript", "template", "head", "nav", "svg", "iframe"]):
        tag.decompose()
    if not title and (h1 := soup.find("h1")):
        title = h1.get_text(" ", strip=True)
    for tag in soup.find_all(_HEADING_TAGS):
        tag.insert_before(_H_OPEN)
        tag.insert_after(_H_CLOSE)
    for tag in soup.find_all("pre"):
        tag.insert_before(_PRE_OPEN)
        tag.insert_after(_PRE_CLOSE)
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before(_BREAK)
        tag.insert_after(_BREAK)
    for tag in soup.find_all(["br", "td", "th"]):
        tag.insert_after(_BREAK if tag.name == "br" else " ")
    out: list[str] = []
    headings: list[tuple[int, int]] = []
    pos, heading_at, in_pre = 0, -1, False

    def add(piece: str) -> None:
        nonlocal pos
        if not piece:
            return
        if out:
            out.append("\n\n")
            pos += 2
        out.append(piece)
        pos += len(piece)

    for part in _MARKS.split(soup.get_text()):
        if part == _PRE_OPEN:
            in_pre = True
        elif part == _PRE_CLOSE:
            in_pre = False
        elif part == _H_OPEN:
            heading_at = pos + 2 if out else 0
        elif part == _H_CLOSE:
            if heading_at >= 0 and pos > heading_at:
                headings.append((heading_at, pos))
            heading_at = -1
        elif part == _BREAK:
            continue
        elif in_pre:
            add("\n".join(line.rstrip() for line in part.strip("\n").splitlines()))
        else:
            add(re.sub(r"\s+", " ", part).strip())
    return "".join(out), title, date, tuple(headings)


def _title_and_date(path: Path, text: str) -> tuple[str, str | None, int]:
    """Title, stated date, and where the body starts, from a plain-text or Markdown document."""
    date = stated = None
    body = 0
    if (front := _FRONT_MATTER.match(text)) is not None:
        body = front.end()
        for line in front.group(1).splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "date" and re.match(r"\d{4}-\d{2}-\d{2}", value.strip()):
                date = value.strip()[:10]
            elif key.strip().lower() == "title" and value.strip().strip("\"'"):
                stated = value.strip().strip("\"'")
    elif (line := _DATE_LINE.match(text)) is not None:
        date, body = line.group(1), line.end()
    title = None
    first = text[body:].lstrip().split("\n", 1)[0].strip()
    if first.startswith("#"):
        title = first.lstrip("#").strip()
    elif 0 < len(first) <= 100 and not first.endswith("."):
        title = first
    title = stated or title
    return title or path.stem.replace("-", " ").replace("_", " ").strip().capitalize(), date, body


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load(path: Path, max_bytes: int, progress: PageProgress | None = None) -> LoadedDocument:
    """Load one file. Raises ``DocumentError`` naming the file and why it cannot be indexed.

    ``progress(pages_read, pages)`` is called after each page of a PDF. A PDF is read from
    the file page by page, never as one bytes object (see ``index.pdf_loader``).
    """
    suffix = path.suffix.lower()
    data = b""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(
                path.name,
                f"too large ({size / 1e6:.1f} MB; the limit is "
                f"{max_bytes / 1e6:.1f} MB, setting index.max_file_mb)",
            )
        if suffix in (".pdf", ".docx"):
            if size == 0:
                raise DocumentError(path.name, "the file is empty")
            file_hash = _file_hash(path)
        else:
            data = path.read_bytes()
            file_hash = hashlib.sha256(data).hexdigest()
    except OSError as exc:
        raise DocumentError(path.name, f"cannot be read ({exc.strerror or exc})") from exc
    title: str | None
    body = 0
    headings: tuple[tuple[int, int], ...] = ()
    pages: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
    fmt = "markdown" if suffix in (".md", ".markdown") else "text"
    if suffix == ".pdf":
        from index.pdf_loader import pdf_text

        pdf = pdf_text(path, progress)
        text, title, date, headings = pdf.text, pdf.title, pdf.date, pdf.headings
        pages, warnings, fmt = pdf.pages, pdf.warnings, "pdf"
    elif suffix == ".docx":
        from index.docx_loader import docx_text

        word = docx_text(path)
        text, title, date, headings, fmt = word.text, word.title, word.date, word.headings, "docx"
    elif suffix in (".html", ".htm"):
        text, title, date, headings = _html_text(path, _decode(path, data))
        fmt = "html"
    else:
        text = _decode(path, data).replace("\r\n", "\n").replace("\r", "\n")
        title, date, body = _title_and_date(path, text)
    if not text.strip():
        raise DocumentError(path.name, "no text found")
    if title is None:
        title = path.stem
    return LoadedDocument(
        path=path.resolve(),
        source=path.name,
        text=text,
        title=title,
        date=date,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        body_start=body,
        fmt=fmt,
        headings=headings,
        pages=pages,
        warnings=tuple(f"{path.name}: {w}" for w in warnings),
        file_hash=file_hash,
    )
