"""``GET /api/documents/{doc_id}/file``: the original PDF of an indexed document, for pdf.js.

The viewer in the UI and the widget renders a cited page as the PDF draws it. What it may
fetch is decided here, never by the client: the client names an indexed document by its id
(16 hex digits, nothing else reaches the store), and the server serves the file the index
recorded for it, only when that is a PDF whose bytes still hash to what was indexed. So the
route can only ever return a file whose text ``GET /api/documents/{id}`` already returns,
with the same (public) access. The response carries its own sandboxing CSP
(``security.FILE_CSP``), ``nosniff`` and an ``inline`` ``Content-Disposition``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import quote

import anyio.to_thread
from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from assistant.errors import NotFoundError
from assistant.types import DocumentInfo

DOC_ID = re.compile(r"[0-9a-f]{16}")
FILE_ROUTE = "/api/documents/{doc_id}/file"


# (path, size, mtime) -> whether the file there is the indexed PDF: opening a citation asks
# pdf_available, then the viewer fetches the file, and a large PDF is not hashed each time.
_VERIFIED: dict[tuple[str, int, int, str], bool] = {}


def _indexed_pdf(doc: DocumentInfo, with_bytes: bool) -> bytes:
    """The indexed PDF of ``doc`` (empty unless ``with_bytes``); ``NotFoundError`` saying why
    when it cannot be served."""
    name = doc.source
    if doc.format != "pdf":
        raise NotFoundError(f"{name} is not a PDF: only its text can be shown.")
    path = Path(doc.path) if doc.path else None
    if path is None or path.suffix.lower() != ".pdf" or not path.is_file() or not doc.file_hash:
        raise NotFoundError(f"The PDF of {name} is no longer where it was indexed.")
    try:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns, doc.file_hash)
        known = _VERIFIED.get(key)
        data = path.read_bytes() if with_bytes or known is None else b""
    except OSError as exc:
        raise NotFoundError(f"The PDF of {name} cannot be read.") from exc
    if known is None:
        known = hashlib.sha256(data).hexdigest() == doc.file_hash and (
            data.lstrip()[:5] == b"%PDF-"
        )
        if len(_VERIFIED) > 256:
            _VERIFIED.clear()
        _VERIFIED[key] = known
    if not known:
        raise NotFoundError(
            f"{name} has changed since it was indexed; run `assistant ingest` again to view it."
        )
    return data


def pdf_bytes(doc: DocumentInfo) -> bytes:
    """The indexed PDF of ``doc``; ``NotFoundError`` saying why when it cannot be served."""
    return _indexed_pdf(doc, with_bytes=True)


def pdf_available(doc: DocumentInfo) -> bool:
    """Whether ``pdf_bytes`` would serve ``doc`` (the UI offers the PDF view only then)."""
    try:
        _indexed_pdf(doc, with_bytes=False)
    except NotFoundError:
        return False
    return True


def content_disposition(name: str) -> str:
    """``inline`` with an ASCII fallback name and the exact UTF-8 name (RFC 6266)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", name).strip() or "document.pdf"
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def install_document_file_route(app: FastAPI) -> None:
    """Register the route; before the API router, whose ``/api/...`` catch-all is last."""

    async def document_file(
        doc_id: str,
        request: Request,
        collection: str | None = Query(None, description="The document's collection."),
    ) -> Response:
        if not DOC_ID.fullmatch(doc_id):
            raise NotFoundError(f"No document with id {doc_id[:40]!r} is indexed.")
        rt = request.app.state.runtime
        # Same rules as GET /api/documents/{id}: the name is checked, the calling page must
        # be allowed to use the collection, and an id from another collection is not found.
        assistant = await rt.assistant(collection, request)
        doc = await anyio.to_thread.run_sync(assistant.document, doc_id)
        data = await anyio.to_thread.run_sync(pdf_bytes, doc)
        etag = f'"{doc.file_hash[:32]}"'
        headers = {
            "ETag": etag,
            "Cache-Control": "private, no-cache",
            "Content-Disposition": content_disposition(doc.source),
        }
        if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
            return Response(status_code=304, headers=headers)
        return Response(data, media_type="application/pdf", headers=headers)

    app.add_api_route(
        FILE_ROUTE,
        document_file,
        methods=["GET"],
        summary="The original PDF of a document",
        description="The indexed PDF file itself (for the page viewer); 404 for other formats, "
        "or when the file is gone or has changed since it was indexed.",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}},
    )
