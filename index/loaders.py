"""Read txt, md, html and pdf files into text, naming the file and the reason when one fails."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import DocumentError

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
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


def _html_text(path: Path, markup: str) -> tuple[str, str | None, str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    date = None
    for attrs in (
        {"property": "article:published_time"},
        {"name": "date"},
        {"itemprop": "datePublished"},
    ):
        tag = soup.find("meta", attrs=attrs)
        if tag and tag.get("content"):
            date = str(tag["content"])[:10]
            break
    if date is None and (time := soup.find("time", datetime=True)):
        date = str(time["datetime"])[:10]
    for tag in soup(["script", "style", "noscript", "template", "head", "nav", "svg", "iframe"]):
        tag.decompose()
    if not title and (h1 := soup.find("h1")):
        title = h1.get_text(" ", strip=True)
    lines = (
        re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in soup.get_text("\n").splitlines()
    )
    text = "\n\n".join(line for line in lines if line)
    return text, title, date


def _pdf_text(path: Path, data: bytes) -> tuple[str, str | None]:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(path.name, "the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise DocumentError(path.name, f"malformed PDF ({type(exc).__name__}: {exc})") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise DocumentError(path.name, "the PDF has no extractable text (scanned images?)")
    return text, title or None


def _title_and_date(path: Path, text: str) -> tuple[str, str | None, int]:
    """Title, stated date, and where the body starts, from a plain-text or Markdown document."""
    date = None
    body = 0
    if (front := _FRONT_MATTER.match(text)) is not None:
        body = front.end()
        for line in front.group(1).splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "date" and re.match(r"\d{4}-\d{2}-\d{2}", value.strip()):
                date = value.strip()[:10]
    elif (line := _DATE_LINE.match(text)) is not None:
        date, body = line.group(1), line.end()
    title = None
    first = text[body:].lstrip().split("\n", 1)[0].strip()
    if first.startswith("#"):
        title = first.lstrip("#").strip()
    elif 0 < len(first) <= 100 and not first.endswith("."):
        title = first
    return title or path.stem.replace("-", " ").replace("_", " ").strip().capitalize(), date, body


def load(path: Path, max_bytes: int) -> LoadedDocument:
    """Load one file. Raises ``DocumentError`` naming the file and why it cannot be indexed."""
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(
                path.name,
                f"too large ({size / 1e6:.1f} MB; the limit is "
                f"{max_bytes / 1e6:.1f} MB, setting index.max_file_mb)",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(path.name, f"cannot be read ({exc.strerror or exc})") from exc
    title: str | None
    body = 0
    if suffix == ".pdf":
        if not data.strip():
            raise DocumentError(path.name, "the file is empty")
        text, title = _pdf_text(path, data)
        date = None
    elif suffix in (".html", ".htm"):
        text, title, date = _html_text(path, _decode(path, data))
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
    )
