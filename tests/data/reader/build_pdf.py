"""Render the Library of Congress workshop proceedings (plain text) as the reader set's PDF.

The PDF is committed; this script records exactly how it was made, so it can be rebuilt:
``.venv/bin/python tests/data/reader/build_pdf.py SOURCE.txt``. Each source line becomes one
line of Courier on a US-letter page (60 lines a page, a running footer with the page number),
so the text a PDF reader extracts is the source text line for line.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

HERE = Path(__file__).resolve().parent
OUT = HERE / "docs" / "loc-workshop-electronic-texts-1992.pdf"
LINES_PER_PAGE = 60
FONT, SIZE, LEADING = "Courier", 9, 11.5


def render(source: Path, out: Path = OUT) -> int:
    """Write the PDF; returns the number of pages."""
    lines = source.read_text(encoding="ascii").splitlines()
    pdf = canvas.Canvas(str(out), pagesize=letter, invariant=1)
    pdf.setTitle("Workshop on Electronic Texts: Proceedings (Library of Congress, 1992)")
    pdf.setAuthor("Library of Congress; edited by James Daly")
    width, height = letter
    pages = 0
    for start in range(0, len(lines), LINES_PER_PAGE):
        pages += 1
        pdf.setFont(FONT, SIZE)
        y = height - 54
        for line in lines[start : start + LINES_PER_PAGE]:
            pdf.drawString(54, y, line)
            y -= LEADING
        pdf.setFont("Helvetica", 8)
        pdf.drawCentredString(width / 2, 30, f"Workshop on Electronic Texts - page {pages}")
        pdf.showPage()
    pdf.save()
    return pages


if __name__ == "__main__":
    print(render(Path(sys.argv[1])), "pages")
