"""Static files with validators: ``ETag`` and ``Last-Modified``, answered with 304.

The widget's ``embed.js`` is loaded by every page that embeds the chat; ``no-cache`` lets
browsers and CDNs keep it while checking on each use, so a new release shows up at once and
an unchanged file costs a 304 without a body.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from pathlib import Path

from fastapi import Request
from fastapi.responses import FileResponse, Response

CACHE_CONTROL = "public, no-cache"


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag.removeprefix("W/") in tags


def _not_modified_since(header: str, mtime: float) -> bool:
    try:
        since = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return int(mtime) <= since


def conditional_file(request: Request, path: Path, media_type: str) -> Response:
    """The file, or 304 when the request's ``If-None-Match``/``If-Modified-Since`` match."""
    stat = path.stat()
    response = FileResponse(
        path, media_type=media_type, headers={"Cache-Control": CACHE_CONTROL}, stat_result=stat
    )
    validators = {
        "ETag": response.headers["etag"],
        "Last-Modified": response.headers["last-modified"],
        "Cache-Control": CACHE_CONTROL,
    }
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        fresh = _etag_matches(if_none_match, validators["ETag"])
    else:
        since = request.headers.get("if-modified-since")
        fresh = since is not None and _not_modified_since(since, stat.st_mtime)
    return Response(status_code=304, headers=validators) if fresh else response
