"""Word (``.docx``) text with its headings, title and date, read with python-docx.

Paragraphs become blocks separated by a blank line and table rows become ``| a | b |``
lines, so ``index.layout`` reads them as it reads Markdown; the spans of heading-styled
paragraphs ("Heading 1".."Heading 9", "Title") become sections. Offsets index into this
text, the same contract as every other format.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from index.errors import DocumentError

# The creation time in python-docx's own template: files it writes carry it unless set, so
# it says nothing about the document.
_TEMPLATE_CREATED = "2013-12-23T23:15:00"
_HEADING_STYLE = re.compile(r"^(?:heading\s*\d|title|subtitle)$", re.I)
_MAX_UNPACKED_BYTES = 200_000_000


@dataclass(frozen=True)
class DocxText:
    """What the loader needs from a Word file."""

    text: str
    title: str | None
    date: str | None
    headings: tuple[tuple[int, int], ...]


def _check_archive(path: Path) -> None:
    """A .docx is a zip: refuse one that is not, or that unpacks to far more than it weighs."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            unpacked = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DocumentError(path.name, f"not a Word file (not a .docx archive: {exc})") from exc
    if "word/document.xml" not in names:
        raise DocumentError(path.name, "not a Word file (the archive has no word/document.xml)")
    if unpacked > _MAX_UNPACKED_BYTES:
        raise DocumentError(
            path.name, f"unpacks to {unpacked / 1e6:.0f} MB, over the 200 MB a .docx may hold"
        )


def _style_name(paragraph: object) -> str:
    try:
        style = paragraph.style  # type: ignore[attr-defined]
    except (KeyError, ValueError, AttributeError):  # a style id the file does not define
        return ""
    return str(getattr(style, "name", "") or "")


def docx_text(path: Path) -> DocxText:
    """Text, title, date and heading spans of a Word file; ``DocumentError`` if unreadable."""
    _check_archive(path)
    try:
        import docx
        from docx.table import Table

        document = docx.Document(str(path))
        blocks: list[tuple[str, bool]] = []  # (text, is a heading)
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                rows = []
                for row in item.rows:
                    cells = [" ".join(c.text.split()) for c in row.cells]
                    rows.append("| " + " | ".join(cells) + " |")
                if rows:
                    blocks.append(("\n".join(rows), False))
                continue
            text = item.text.replace("\r", "\n").replace("\v", "\n").strip()
            if text:
                heading = bool(_HEADING_STYLE.match(_style_name(item))) and "\n" not in text
                blocks.append((text, heading))
        core = document.core_properties
        title = (core.title or "").strip() or None
        created = core.created.isoformat()[:19] if core.created else ""
    except DocumentError:
        raise
    except Exception as exc:  # python-docx and lxml raise many kinds for a damaged file
        raise DocumentError(
            path.name, f"not a readable Word file ({type(exc).__name__}: {exc})"
        ) from exc
    parts: list[str] = []
    headings: list[tuple[int, int]] = []
    pos = 0
    for text, heading in blocks:
        if parts:
            parts.append("\n\n")
            pos += 2
        if heading:
            headings.append((pos, pos + len(text)))
            if title is None:
                title = text
        parts.append(text)
        pos += len(text)
    date = created[:10] if created and created != _TEMPLATE_CREATED else None
    return DocxText("".join(parts), title, date, tuple(headings))
