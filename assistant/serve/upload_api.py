"""``POST /api/upload``: the only way files reach the server over HTTP, and only with the token.

Registered only when ``ASSISTANT_ADMIN_TOKEN`` is set. The token (``Authorization: Bearer``)
is checked, constant-time and with a per-client limit on wrong guesses, before a byte of the
body is read. The body is capped (files x size), parsed into anonymous temporary files that
vanish when closed, and only accepted files are written, atomically, into
``<data dir>/uploads``. Responses name files by their upload names, never by server paths.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from assistant.errors import AssistantError
from assistant.serve.origins import origin_allowed, request_host
from assistant.serve.ratelimit import RateLimiter, client_key
from assistant.serve.security import scrub_paths
from assistant.serve.ui import uploads
from assistant.settings import Settings
from assistant.textguard import unicode_problem
from index.collection_names import check_name, upload_dir

FORM_OVERHEAD_BYTES = 64 * 1024
TOKEN_HELP = "the admin token is missing or wrong (send it as 'Authorization: Bearer TOKEN')."


def upload_body_limit(settings: Settings) -> int:
    """Largest upload request body: every allowed file at the size cap, plus form overhead."""
    server = settings.server
    return int(server.max_upload_files * server.max_upload_mb * 1024 * 1024) + FORM_OVERHEAD_BYTES


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of digests, so neither content nor length leaks by timing."""
    a = hashlib.sha256(given.encode("utf-8", "replace")).digest()
    b = hashlib.sha256(expected.encode()).digest()
    return hmac.compare_digest(a, b)


def bearer(request: Request) -> str:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status, headers=headers)


def same_or_allowed_origin(request: Request, origins: list[str]) -> bool:
    """True without an ``Origin`` (not a browser), for our own page, or a listed origin."""
    origin = request.headers.get("origin") or ""
    return origin_allowed(origin, request_host(request.headers), origins)


def name_problem(name: str) -> str | None:
    """Why an upload's file name is unusable as text (bad Unicode, undecodable bytes)."""
    problem = unicode_problem(name)
    if problem:
        return problem
    if "\ufffd" in name or any("\x80" <= ch <= "\x9f" for ch in name):
        return "bytes that are not UTF-8"
    return None


def install_upload_route(app: FastAPI, settings: Settings, origins: list[str]) -> None:
    """Add ``POST /api/upload`` when an admin token is configured; otherwise add nothing."""
    expected = settings.admin_token.get_secret_value() if settings.admin_token else ""
    if not expected:
        return
    guesses = RateLimiter(settings.server.token_attempts_per_minute)
    router = APIRouter()

    @router.post(
        "/api/upload",
        summary="Add documents (admin token required)",
        responses={
            200: {"description": "`added` names, `refused` [{name, reason}], ingest `errors`."},
            401: {"description": "Missing or wrong admin token."},
            413: {"description": "Too many or too large files."},
        },
    )
    async def upload(request: Request) -> JSONResponse:
        """Multipart field ``files`` (one or more) and optionally ``collection`` (a new name
        creates it); needs ``Authorization: Bearer TOKEN``."""
        client = client_key(request.client.host) if request.client else "unknown"
        if not same_or_allowed_origin(request, origins):
            return _error(403, "Uploads are only accepted from this server's own pages.")
        if wait := guesses.waiting(client):
            wait = max(1, math.ceil(wait))
            return _error(
                429,
                f"Too many wrong admin tokens; try again in {wait} seconds.",
                {"Retry-After": str(wait)},
            )
        if not token_matches(bearer(request), expected):
            guesses.check(client)
            return _error(401, f"Not uploaded: {TOKEN_HELP}")
        server = settings.server
        try:
            form = await request.form(max_files=server.max_upload_files, max_fields=1)
        except (MultiPartException, HTTPException) as exc:
            if getattr(exc, "status_code", 400) == 413:
                raise  # the body outgrew its cap: BodyLimitMiddleware answers 413
            message = str(getattr(exc, "detail", exc))
            if "Too many files" in message:
                return _error(
                    413, f"Too many files: send at most {server.max_upload_files} files at once."
                )
            return _error(400, "The upload is not a valid multipart form with 'files'.")
        try:
            files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
            if not files:
                return _error(400, "Choose one or more files first (multipart field 'files').")
            field = form.get("collection")
            try:
                collection = check_name(field.strip() if isinstance(field, str) else None)
            except AssistantError as exc:
                return _error(400, str(exc))
            for f in files:
                problem = name_problem(f.filename or "")
                if problem:
                    return _error(400, f"A file name is not valid text: it contains {problem}.")
            dest = upload_dir(Path(settings.data_dir), collection)
            result = await anyio.to_thread.run_sync(_store, files, dest, server.max_upload_mb)
        finally:
            await form.close()
        body: dict[str, Any] = {
            "added": [p.name for p in result.accepted],
            "refused": [{"name": n, "reason": r} for n, r in result.rejected],
            "errors": [],
            "collection": collection,
        }
        if result.accepted:
            runtime = request.app.state.runtime
            try:
                assistant = await runtime.assistant(collection, create=True)
                report = await runtime.call(assistant.ingest, result.accepted)
            except AssistantError as exc:
                return _error(503, _strip_paths(str(exc), dest))
            errors = report.get("errors") if isinstance(report, dict) else report.errors
            body["errors"] = [_strip_paths(str(e), dest) for e in errors or []]
            warnings = getattr(report, "warnings", None) or []
            body["warnings"] = [_strip_paths(str(w), dest) for w in warnings]
            summary = getattr(report, "summary", None)
            if callable(summary):
                body["summary"] = _strip_paths(str(summary()), dest)
        return JSONResponse(body)

    app.include_router(router)


def _strip_paths(text: str, dest: Path) -> str:
    """Ingest messages name files by path; clients see the upload name only."""
    for folder in {str(dest), str(dest.resolve())}:
        text = text.replace(folder + os.sep, "")
    return scrub_paths(text)


def _store(files: list[UploadFile], dest: Path, max_mb: float) -> uploads.UploadResult:
    """Write acceptable files into ``dest`` under sanitized names (atomically)."""
    result = uploads.UploadResult()
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        name = uploads.sanitize_filename(f.filename or "")
        reason = uploads.rejection(name, f.size or 0, max_mb)
        if reason:
            result.rejected.append((name, reason))
            continue
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=dest)
        try:
            with os.fdopen(fd, "wb") as out:
                f.file.seek(0)
                while chunk := f.file.read(1024 * 1024):
                    out.write(chunk)
            os.replace(tmp, dest / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        result.accepted.append(dest / name)
    return result
