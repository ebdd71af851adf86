"""The CLI on PDFs and Word files, as a real subprocess with the real model: a page without
text is a named warning (not a failure), and a citation into a PDF names its page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.assistant_cli import run
from tests.support.documents import (
    ANSWER_Q,
    DOCX_Q,
    pdf_with_blank_scan,
    three_page_pdf,
    word_file,
)

pytestmark = pytest.mark.integration


def test_ingest_warns_by_page_and_ask_names_the_page(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    three_page_pdf(docs / "karsvik.pdf")
    pdf_with_blank_scan(docs / "accounts.pdf")
    word_file(docs / "ferries.docx")
    data = tmp_path / "data"
    ingested = run(["ingest", str(docs)], data)
    assert ingested.returncode == 0, ingested.stderr
    warning = "warning: accounts.pdf: page 2 has no text layer (a scanned image or a blank page)"
    assert warning in ingested.stderr
    assert "3 documents indexed" in ingested.stdout and "1 warnings" in ingested.stdout
    asked = run(["ask", ANSWER_Q, "--json"], data)
    assert asked.returncode == 0, asked.stderr
    first = json.loads(asked.stdout)["citations"][0]
    assert (first["source"], first["page"]) == ("karsvik.pdf", 3)
    plain = run(["ask", DOCX_Q], data)
    assert "ferries.docx, chars" in plain.stdout and "green" in plain.stdout
