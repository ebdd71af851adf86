"""Checks for uploaded documents: what may be uploaded, and under which name.

Kept apart from the HTTP route (``assistant.serve.upload_api``) so the rules are unit-tested.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx")
_MAX_NAME = 120


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
