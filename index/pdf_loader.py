"""PDF text with its page boundaries, read one page at a time.

Citations into a PDF must name the page a reader can open, so the text keeps where each
page starts (``PdfText.pages``). Pages are read one at a time from the file and only their
text is kept: a 300-page report costs its text, not its layout. A page without a text layer
(a scanned image, or a blank page) is named in a warning; the rest is still indexed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import DocumentError

PageProgress = Callable[[int, int], None]  # (pages read, pages in all)

_PAGE_NUMBER = re.compile(
    r"^\s*(?:page\s+)?(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s*(?:/|of)\s*\d{1,4})?\s*$", re.I
)
_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?")
# What reproducible ("invariant") writers such as reportlab put in every file: not a date.
_PLACEHOLDER_DATES = ("D:20000101000000", "20000101000000")


@dataclass(frozen=True)
class PdfText:
    """What the loader needs from a PDF: text, metadata, headings, page starts, warnings."""

    text: str
    title: str | None
    date: str | None
    headings: tuple[tuple[int, int], ...]
    pages: tuple[int, ...]  # offset in ``text`` where each page (1-based: index + 1) starts
    warnings: tuple[str, ...]


def _furniture_key(line: str) -> str:
    """A header or footer line with its page number blurred, to spot it on every page."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", line.strip().lower()))


def strip_furniture(pages: list[list[str]], keep: set[str] | None = None) -> list[list[str]]:
    """Drop running headers, footers and page numbers: the first or last two lines of a
    page that (page numbers aside) repeat on at least half the pages, or are a bare page
    number. A one-page document keeps everything, and so does a line in ``keep`` (the
    outline's headings, lower case: "Chapter 3" on top of its page is no running header)."""
    if len(pages) < 2:
        return pages
    edges = [{_furniture_key(x) for x in [*lines[:2], *lines[-2:]]} for lines in pages if lines]
    counts: dict[str, int] = {}
    for keys in edges:
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    repeated = {k for k, n in counts.items() if n >= max(2, len(pages) / 2) and k}

    def furniture(line: str) -> bool:
        if keep and " ".join(line.split()).lower() in keep:
            return False
        return _furniture_key(line) in repeated or bool(_PAGE_NUMBER.match(line))

    out = []
    for lines in pages:
        head, tail = 0, len(lines)
        while head < min(2, tail) and furniture(lines[head]):
            head += 1
        while tail > max(head, len(lines) - 2) and furniture(lines[tail - 1]):
            tail -= 1
        out.append(lines[head:tail])
    return out


def _outline_titles(reader: object) -> set[str]:
    """Titles of the PDF's outline (bookmarks), which name its headings."""
    titles: set[str] = set()

    def walk(items: object) -> None:
        for item in items if isinstance(items, list) else []:
            if isinstance(item, list):
                walk(item)
            elif (title := getattr(item, "title", None)) and isinstance(title, str):
                titles.add(" ".join(title.split()).lower())

    try:
        walk(reader.outline)  # type: ignore[attr-defined]
    except Exception:  # a broken outline costs the headings, never the document
        return set()
    return titles


def pdf_date(value: object) -> str | None:
    """``D:20240501120000Z`` (a PDF date string) as ``2024-05-01``; None if not a date."""
    text = str(value or "").strip()
    if text.startswith(_PLACEHOLDER_DATES):
        return None
    match = _PDF_DATE.match(text)
    if not match or not 1900 <= int(match.group(1)) <= 2200:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    if not ("01" <= month <= "12" and "01" <= day <= "31"):
        return None
    return f"{year}-{month}-{day}"


def page_list(numbers: list[int]) -> str:
    """``[3, 12, 13, 14]`` as ``"3, 12–14"``."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}\u2013{b}" for a, b in runs)


def _empty_pages_warning(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"page {numbers[0]} has no text layer (a scanned image or a blank page)"
    return f"pages {page_list(numbers)} have no text layer (scanned images or blank pages)"


def _read_pages(
    path: Path, progress: PageProgress | None
) -> tuple[list[str], tuple[Any, Any], set[str]]:
    """The raw text of each page, read from the file one page at a time."""
    from pypdf import PdfReader

    with open(path, "rb") as stream:
        reader = PdfReader(stream)
        if reader.is_encrypted:
            raise DocumentError(path.name, "the PDF is encrypted")
        total = len(reader.pages)
        raw: list[str] = []
        for i in range(total):
            page = reader.pages[i]
            raw.append(page.extract_text() or "")
            if progress is not None:
                progress(i + 1, total)
        meta = reader.metadata
        info = (meta.title if meta else None, meta.get("/CreationDate") if meta else None)
        outline = _outline_titles(reader)
    return raw, info, outline


def pdf_text(path: Path, progress: PageProgress | None = None) -> PdfText:
    """Text of a PDF: pages joined by a line break (a sentence may run across a page
    break), without running headers, footers or page numbers; with the spans of lines the
    outline names as headings, and the offset where each page starts."""
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        raw, (title, created), outline = _read_pages(path, progress)
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise DocumentError(path.name, f"malformed PDF ({type(exc).__name__}: {exc})") from exc
    empty = [i + 1 for i, p in enumerate(raw) if not p.strip()]
    pages = strip_furniture([[x.rstrip() for x in p.strip().splitlines()] for p in raw], outline)
    del raw
    parts: list[str] = []
    starts: list[int] = []
    headings: list[tuple[int, int]] = []
    pos = 0
    for lines in pages:
        body = "\n".join(lines).strip()
        if pos and body:
            parts.append("\n")
            pos += 1
        starts.append(pos)
        line_at = pos
        for line in body.split("\n") if body else []:
            if outline and " ".join(line.split()).lower() in outline:
                headings.append((line_at, line_at + len(line)))
            line_at += len(line) + 1
        parts.append(body)
        pos += len(body)
    text = "".join(parts)
    if not text.strip():
        raise DocumentError(path.name, "the PDF has no extractable text (scanned images?)")
    warnings = (_empty_pages_warning(empty),) if empty else ()
    return PdfText(
        text=text,
        title=str(title) if title else None,
        date=pdf_date(created),
        headings=tuple(headings),
        pages=tuple(starts),
        warnings=warnings,
    )


def page_of(pages: tuple[int, ...] | list[int], offset: int) -> int:
    """The 1-based page holding ``offset``; 0 when the document has no pages."""
    import bisect

    return bisect.bisect_right(pages, offset) if pages else 0
