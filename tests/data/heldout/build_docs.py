"""Rebuild the held-out set's derived documents from their public sources.

The documents are committed; this script records exactly how the ones we converted were made,
so anyone can rebuild and compare them (``README.md`` names each source)::

    .venv/bin/python tests/data/heldout/build_docs.py factbook world192.txt
    .venv/bin/python tests/data/heldout/build_docs.py wikinews wikinews_2020.csv
    .venv/bin/python tests/data/heldout/build_docs.py wikipedia Downtown_Seattle_Transit_Tunnel.txt

Only the standard library and reportlab (already a dependency) are used: the ``.docx`` is
written as the plain Office Open XML zip it is, so no DOCX library is needed.
"""

from __future__ import annotations

import csv
import html
import re
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

DOCS = Path(__file__).resolve().parent / "docs"

FACTBOOK_COUNTRIES = (
    "Chile",
    "Denmark",
    "Finland",
    "Iceland",
    "Ireland",
    "Kenya",
    "Nepal",
    "New Zealand",
    "Norway",
    "Portugal",
    "Sweden",
    "Switzerland",
)
FACTBOOK_TITLE = (
    "THE WORLD FACTBOOK 1992",
    "Central Intelligence Agency",
    "",
    "Excerpt: the entries for " + ", ".join(FACTBOOK_COUNTRIES[:-1]) + " and Switzerland.",
    "",
)
LINES_PER_PAGE = 60

TESCO_URL = "Tesco_to_sell_its_Polish_branch_to_Salling_Group"
CAIRO_URL = "Cairo_summit_denounces_Turkish-Libyan_maritime_border_agreement"


def factbook_lines(source: Path) -> list[str]:
    """The title lines, then each chosen country's entry, from its ``:X Geography`` line up to
    the next country's: the source text unchanged."""
    lines = source.read_text(encoding="ascii").splitlines()
    starts: dict[str, int] = {}
    for i, line in enumerate(lines):
        m = re.fullmatch(r":(.+) Geography", line)
        if m and m.group(1) not in starts:
            starts[m.group(1)] = i
    order = list(starts)
    out = list(FACTBOOK_TITLE)
    for name in FACTBOOK_COUNTRIES:
        nxt = order[order.index(name) + 1]
        block = lines[starts[name] : starts[nxt]]
        while block and not block[-1].strip():
            block.pop()
        out.extend([*block, ""])
    return out


def factbook_pdf(source: Path, out: Path = DOCS / "world-factbook-1992-excerpt.pdf") -> int:
    """Render the excerpt as a PDF, one source line per PDF line (Courier 9 pt, 60 lines a
    page, a running footer), with an outline entry for each ``:Country Section`` heading;
    returns the number of pages."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    lines = factbook_lines(source)
    pdf = canvas.Canvas(str(out), pagesize=letter, invariant=1)
    pdf.setTitle("The World Factbook 1992 (excerpt)")
    pdf.setAuthor("Central Intelligence Agency")
    width, height = letter
    pages = 0
    for start in range(0, len(lines), LINES_PER_PAGE):
        pages += 1
        pdf.setFont("Courier", 9)
        y = height - 54
        for n, line in enumerate(lines[start : start + LINES_PER_PAGE]):
            if re.fullmatch(r":[A-Z][A-Za-z ]+ [A-Z][a-z ]+", line):
                key = f"h{start + n}"
                pdf.bookmarkPage(key, fit="XYZ", top=y + 10)
                pdf.addOutlineEntry(line, key, level=0)
            pdf.drawString(54, y, line)
            y -= 11.5
        pdf.setFont("Helvetica", 8)
        pdf.drawCentredString(width / 2, 30, f"World Factbook 1992 excerpt - page {pages}")
        pdf.showPage()
    pdf.save()
    return pages


def wikinews_article(source: Path, url_part: str) -> tuple[str, list[str]]:
    """Title and paragraphs of one article of the Wikinews collection (a CSV of url, date,
    title, text): blank-line runs split paragraphs; spaces at the ends are dropped."""
    csv.field_size_limit(1 << 30)
    with source.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if url_part in row["url"]:
                paras = [p.strip() for p in re.split(r"\n\s*\n", row["text"]) if p.strip()]
                return row["title"], paras
    raise SystemExit(f"no article whose address contains {url_part!r} in {source}")


def news_txt(source: Path) -> None:
    """The Tesco article as plain text: its title line, then one paragraph a line."""
    title, paras = wikinews_article(source, TESCO_URL)
    text = "\n\n".join([title, *paras]) + "\n"
    (DOCS / "news-tesco-poland-salling.txt").write_text(text, encoding="utf-8")


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_PKG = "http://schemas.openxmlformats.org/package/2006"
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MIME = "application/vnd.openxmlformats-"
_CONTENT_TYPES = "\n".join(
    [
        _XML,
        f'<Types xmlns="{_PKG}/content-types">',
        f'<Default Extension="rels" ContentType="{_MIME}package.relationships+xml"/>',
        '<Default Extension="xml" ContentType="application/xml"/>',
        '<Override PartName="/word/document.xml" ContentType="'
        f'{_MIME}officedocument.wordprocessingml.document.main+xml"/>',
        '<Override PartName="/word/styles.xml" ContentType="'
        f'{_MIME}officedocument.wordprocessingml.styles+xml"/>',
        '<Override PartName="/docProps/core.xml" ContentType="'
        f'{_MIME}package.core-properties+xml"/>',
        "</Types>",
    ]
)
_RELS = "\n".join(
    [
        _XML,
        f'<Relationships xmlns="{_PKG}/relationships">',
        f'<Relationship Id="rId1" Type="{_OFFICE}/officeDocument" Target="word/document.xml"/>',
        f'<Relationship Id="rId2" Type="{_PKG}/relationships/metadata/core-properties" '
        'Target="docProps/core.xml"/>',
        "</Relationships>",
    ]
)
_DOC_RELS = "\n".join(
    [
        _XML,
        f'<Relationships xmlns="{_PKG}/relationships">',
        f'<Relationship Id="rId1" Type="{_OFFICE}/styles" Target="styles.xml"/>',
        "</Relationships>",
    ]
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="{_W}">
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/>
<w:rPr><w:b/><w:sz w:val="40"/></w:rPr></w:style>
</w:styles>"""


def _core(title: str) -> str:
    return "\n".join(
        [
            _XML,
            f'<cp:coreProperties xmlns:cp="{_PKG}/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">',
            f"<dc:title>{escape(title)}</dc:title><dc:creator>Wikinews contributors</dc:creator>",
            "</cp:coreProperties>",
        ]
    )


def write_docx(out: Path, title: str, paras: list[str]) -> None:
    """A minimal, valid Word document: a Title paragraph, then one Normal paragraph each.
    Fixed zip timestamps make the file byte-for-byte reproducible."""

    def para(text: str, style: str | None = None) -> str:
        ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        return f'<w:p>{ppr}<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'

    body = para(title, "Title") + "".join(para(p) for p in paras)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:document xmlns:w="{_W}"><w:body>{body}</w:body></w:document>'
    )
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": _RELS,
        "docProps/core.xml": _core(title),
        "word/_rels/document.xml.rels": _DOC_RELS,
        "word/document.xml": document,
        "word/styles.xml": _STYLES,
    }
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 11, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content.encode("utf-8"))


def news_docx(source: Path) -> None:
    """The Cairo summit article as a Word document."""
    title, paras = wikinews_article(source, CAIRO_URL)
    write_docx(DOCS / "news-cairo-summit-eastmed.docx", title, paras)


def wikipedia_html(source: Path, out: Path = DOCS / "downtown-seattle-transit-tunnel.html") -> None:
    """A TextExtracts plain-text article as HTML: ``== Heading ==`` lines become ``h2``-``h4``
    (by the number of ``=``), every other non-empty line a ``p``; the empty References and
    External links sections are left out."""
    title = source.stem.replace("_", " ")
    body = [f"<h1>{html.escape(title)}</h1>"]
    for line in source.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if m := re.fullmatch(r"(={2,4}) (.+?) \1", line):
            if m.group(2) in ("References", "External links"):
                break
            level = len(m.group(1))
            body.append(f"<h{level}>{html.escape(m.group(2))}</h{level}>")
        elif line:
            body.append(f"<p>{html.escape(line, quote=False)}</p>")
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
    out.write_text(page, encoding="utf-8")


if __name__ == "__main__":
    what, src = sys.argv[1], Path(sys.argv[2])
    if what == "factbook":
        print(factbook_pdf(src), "pages")
    elif what == "wikinews":
        news_txt(src)
        news_docx(src)
    elif what == "wikipedia":
        wikipedia_html(src)
    else:
        raise SystemExit("usage: build_docs.py factbook|wikinews|wikipedia SOURCE")
