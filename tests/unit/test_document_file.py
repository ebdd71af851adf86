"""GET /api/documents/{id}/file and the vendored pdf.js: only an indexed, unchanged PDF is
served, named by its id, with sandboxing headers; nothing else on the disk is reachable."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.errors import NotFoundError
from assistant.serve.document_file import content_disposition
from assistant.serve.server import STATIC, create_app
from assistant.types import DocumentText
from tests.support.documents import three_page_pdf
from tests.support.fakes import FakeAssistant
from tests.support.json_api import LOCAL, make_settings

PDF_ID = "0123456789abcdef"
TXT_ID = "fedcba9876543210"


class PdfFake(FakeAssistant):
    """The fake assistant with one indexed PDF and one text file, as the store records them."""

    def __init__(self, pdf: Path, txt: Path) -> None:
        super().__init__()
        self.files = {PDF_ID: (pdf, "pdf"), TXT_ID: (txt, "text")}
        self.hashes = {
            key: hashlib.sha256(path.read_bytes()).hexdigest()
            for key, (path, _) in self.files.items()
        }
        self.asked: list[str] = []

    def document(self, doc_id: str) -> DocumentText:
        self.asked.append(doc_id)
        if doc_id not in self.files:
            raise NotFoundError(f"No document with id {doc_id!r} is indexed.")
        path, fmt = self.files[doc_id]
        return DocumentText(
            doc_id=doc_id, source=path.name, title=path.stem, chars=4, chunks=1,
            content_hash="h", indexed_at="2026-01-01T00:00:00", path=str(path), format=fmt,
            pages=3 if fmt == "pdf" else 0, file_hash=self.hashes[doc_id], text="text",
        )  # fmt: skip


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    pdf = three_page_pdf(tmp_path / "Karsvik report ä.pdf")
    txt = tmp_path / "notes.txt"
    txt.write_text("secret-ish notes, indexed as text")
    return pdf, txt


@pytest.fixture
def client(files: tuple[Path, Path], tmp_path: Path) -> Iterator[tuple[TestClient, PdfFake]]:
    fake = PdfFake(*files)
    app = create_app(make_settings(tmp_path / "data"), get_assistant=lambda: fake)
    with TestClient(app, base_url=LOCAL) as c:
        yield c, fake


def test_the_indexed_pdf_is_served_inline_and_sandboxed(client, files) -> None:
    c, _ = client
    got = c.get(f"/api/documents/{PDF_ID}/file")
    assert got.status_code == 200
    assert got.content == files[0].read_bytes()
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == (
        "inline; filename=\"Karsvik report _.pdf\"; filename*=UTF-8''Karsvik%20report%20%C3%A4.pdf"
    )
    csp = got.headers["content-security-policy"]
    assert csp.startswith("sandbox; default-src 'none'; frame-ancestors")
    assert got.headers["x-content-type-options"] == "nosniff"
    again = c.get(f"/api/documents/{PDF_ID}/file", headers={"If-None-Match": got.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert c.head(f"/api/documents/{PDF_ID}/file").status_code == 200


def test_a_text_document_has_no_file(client) -> None:
    c, _ = client
    got = c.get(f"/api/documents/{TXT_ID}/file")
    assert got.status_code == 404
    assert got.json() == {"error": "notes.txt is not a PDF: only its text can be shown."}
    assert b"secret-ish" not in got.content


@pytest.mark.parametrize(
    "doc_id",
    ["..%2F..%2Fetc%2Fpasswd", "%2e%2e", "0123456789ABCDEF", "0123456789abcde", "x" * 300],
)
def test_ids_that_are_not_ids_reach_nothing(client, doc_id: str) -> None:
    c, fake = client
    got = c.get(f"/api/documents/{doc_id}/file")
    assert got.status_code == 404 and "error" in got.json()
    assert got.headers["content-type"].startswith("application/json")
    assert fake.asked == []  # refused before the store is asked


def test_traversal_in_the_path_is_not_this_route(client) -> None:
    c, fake = client
    for path in ("/api/documents/../../etc/passwd/file", "/api/documents/x/../../file"):
        got = c.get(path)
        assert got.status_code == 404 and b"root:" not in got.content
    assert fake.asked == []


def test_a_changed_or_missing_pdf_is_not_served(client, files) -> None:
    c, _ = client
    pdf = files[0]
    pdf.write_bytes(pdf.read_bytes() + b"\n% edited after indexing\n")
    got = c.get(f"/api/documents/{PDF_ID}/file")
    assert got.status_code == 404
    assert "has changed since it was indexed" in got.json()["error"]
    pdf.unlink()
    got = c.get(f"/api/documents/{PDF_ID}/file")
    assert got.status_code == 404 and "no longer where it was indexed" in got.json()["error"]
    assert str(pdf.parent) not in got.text  # no server path in the message


def test_only_get_and_head(client) -> None:
    c, _ = client
    for method in ("POST", "PUT", "DELETE"):
        got = c.request(method, f"/api/documents/{PDF_ID}/file")
        assert got.status_code in (404, 405) and "error" in got.json()
        assert b"%PDF" not in got.content


def test_pdfjs_and_the_viewer_are_served_from_here(client) -> None:
    c, _ = client
    for path, name in (
        ("/pdfview.js", "pdfview.js"),
        ("/pdfjs/pdf.min.mjs", "pdfjs/pdf.min.mjs"),
        ("/pdfjs/pdf.worker.min.mjs", "pdfjs/pdf.worker.min.mjs"),
    ):
        got = c.get(path)
        assert got.status_code == 200, path
        assert got.headers["content-type"].startswith("text/javascript")
        assert got.content == (STATIC / name).read_bytes()
        cached = c.get(path, headers={"If-None-Match": got.headers["etag"]})
        assert cached.status_code == 304
    assert c.get("/pdfjs/LICENSE").status_code == 404  # only the two files are routes
    assert "Apache License" in (STATIC / "pdfjs" / "LICENSE").read_text()
    viewer = (STATIC / "pdfview.js").read_text()
    assert "http" not in viewer  # everything it loads is relative to where it is served


def test_content_disposition_names_are_safe() -> None:
    value = content_disposition('evil"\r\nSet-Cookie: x.pdf')
    assert "\r" not in value and "\n" not in value
    assert value.startswith('inline; filename="evil___Set-Cookie_ x.pdf"')
