"""Documents the page, Word and section tests generate: a three-page PDF whose answer sits
on page 3, a PDF with a page that has no text layer, and a Word file with headings."""

from __future__ import annotations

from pathlib import Path

ANSWER_Q = "When was the Karsvik lighthouse rebuilt?"
ANSWER = "The Karsvik lighthouse was rebuilt in 1987 after the autumn storm destroyed its tower."
PAGE3_HEADING = "Restoration of the lighthouse"
PDF_TITLE = "Karsvik harbour history"
_TOP, _HEADING_GAP, _LEADING = 72, 30, 18  # points: first baseline, after the heading, lines

_PAGES = [
    (
        "Founding of the harbour",
        [
            "Karsvik harbour was founded by fishing families in the fourteenth century.",
            "The first pier was built of timber and stone from the nearby quarry.",
            "Trade in salted herring made the town prosperous for two hundred years.",
        ],
    ),
    (
        "The railway years",
        [
            "A railway line reached Karsvik in 1871 and carried timber to the capital.",
            "The station closed in 1962, when lorries took over the freight.",
            "Its old warehouse is now the town library and holds the harbour archive.",
        ],
    ),
    (
        PAGE3_HEADING,
        [
            "The town council voted to restore the old beacon in the spring of 1985.",
            ANSWER,
            "Volunteers repainted the lantern room in red and white stripes.",
        ],
    ),
]


def three_page_pdf(path: Path) -> Path:
    """A PDF of three pages, each with an outline heading; only page 3 states the answer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setTitle(PDF_TITLE)
    pdf.setCreator("tests/support/documents.py")
    width, height = A4
    for number, (heading, lines) in enumerate(_PAGES, 1):
        y = height - _TOP
        pdf.setFont("Helvetica-Bold", 14)
        pdf.drawString(72, y, heading)
        pdf.bookmarkPage(f"page{number}")
        pdf.addOutlineEntry(heading, f"page{number}", level=0)
        y -= _HEADING_GAP
        pdf.setFont("Helvetica", 11)
        for line in lines:
            pdf.drawString(72, y, line)
            y -= _LEADING
        pdf.showPage()
    pdf.save()
    return path


def answer_baseline_from_top() -> float:
    """Where the answer's baseline is on page 3, from the top, as a share of the height."""
    from reportlab.lib.pagesizes import A4

    row = _PAGES[2][1].index(ANSWER)
    return (_TOP + _HEADING_GAP + row * _LEADING) / A4[1]


def pdf_with_blank_scan(path: Path) -> Path:
    """Three pages; the second has no text at all, only a drawn rectangle (like a scan)."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    pdf.drawString(72, 760, "The first page reports the harbour accounts of 1990.")
    pdf.showPage()
    pdf.setFillGray(0.6)
    pdf.rect(72, 300, 400, 400, fill=1)
    pdf.showPage()
    pdf.drawString(72, 760, "The third page reports the harbour accounts of 1991.")
    pdf.showPage()
    pdf.save()
    return path


DOCX_Q = "What colour are the ferries of the Nordvik line painted?"
DOCX_ANSWER = "The ferries of the Nordvik line are painted green so that fishermen see them in fog."
DOCX_SECTION = "Ferries and their colours"


def word_file(path: Path) -> Path:
    """A .docx with a title, two headings, paragraphs, a table and stated core properties."""
    from datetime import UTC, datetime

    import docx

    document = docx.Document()
    document.add_heading("Nordvik ferry handbook", level=0)
    document.add_heading("Timetables", level=1)
    document.add_paragraph("Ferries leave Nordvik every hour between six and midnight.")
    document.add_paragraph("On public holidays the first ferry leaves at eight.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Route", "Minutes"
    table.cell(1, 0).text, table.cell(1, 1).text = "Nordvik to Sandö", "35"
    document.add_heading(DOCX_SECTION, level=1)
    document.add_paragraph(DOCX_ANSWER)
    document.add_paragraph("The older ferries were black until the paint shop closed.")
    document.core_properties.title = "Nordvik ferry handbook"
    document.core_properties.created = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)
    document.save(str(path))
    return path
