"""Checks for documents uploaded through the UI: who may upload, what, and under which name.

Kept apart from Gradio so the rules are unit-tested; the UI only shows their verdicts.
"""

from __future__ import annotations

import hmac
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
_MAX_NAME = 120


def token_ok(given: str | None, expected: str | None) -> bool:
    """Whether ``given`` is the admin token; constant-time, and never true when none is set."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def sanitize_filename(name: str) -> str:
    """A safe file name: no folders, no ``..``, no control characters, bounded length."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = re.sub(r"\.{2,}", ".", base).strip(" .")
    base = re.sub(r"\s+", " ", base)
    if len(base) > _MAX_NAME:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[: _MAX_NAME - len(suffix) - 1] + dot + suffix) if dot else base[:_MAX_NAME]
    return base or "upload"


def rejection(name: str, size_bytes: int, max_mb: float) -> str | None:
    """Why a file is refused, in words a person can act on; ``None`` when it is accepted."""
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        kinds = " ".join(ALLOWED_SUFFIXES)
        return f"{suffix or 'no extension'} files are not accepted (only {kinds})"
    if size_bytes > max_mb * 1024 * 1024:
        return f"{size_bytes / 1024 / 1024:.1f} MB is over the {max_mb:g} MB upload limit"
    if size_bytes == 0:
        return "the file is empty"
    return None


@dataclass
class UploadResult:
    """Which uploads were stored (their new paths) and which were refused, with reasons."""

    accepted: list[Path] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def store_uploads(files: list[Path], dest: Path, max_mb: float) -> UploadResult:
    """Copy acceptable uploads into ``dest`` under sanitized names.

    A file with the name of an earlier upload replaces it, so uploading a new version of a
    document re-indexes that document instead of adding a second copy.
    """
    result = UploadResult()
    dest.mkdir(parents=True, exist_ok=True)
    for src in files:
        name = sanitize_filename(src.name)
        reason = rejection(name, src.stat().st_size, max_mb)
        if reason:
            result.rejected.append((name, reason))
            continue
        target = dest / name
        shutil.copyfile(src, target)
        result.accepted.append(target)
    return result
