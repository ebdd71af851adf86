"""Named collections of one store: the naming rule and how a name maps to Chroma collections.

A data dir (or a Chroma server) holds the default collection, today's index with its
``idx-<hash>-docs|chunks|meta`` Chroma collections, and any number of named ones, stored as
``idx-<hash>.<name>-docs|chunks|meta``. The name goes into Chroma collection names and
upload folder names, so it is checked against one strict rule before it is used anywhere; a
``.`` can never be part of it, which keeps the mapping back from Chroma names unambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from index.errors import InputError

DEFAULT = "default"
NAME_RULE = (
    "1-32 characters: lower-case letters, digits, '-' and '_', starting and ending with a "
    "letter or digit"
)
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,30}[a-z0-9])?")
_PARTS = ("-docs", "-chunks", "-meta")


def check_name(name: object) -> str:
    """The collection name, or ``InputError`` stating the rule (the name is never echoed raw)."""
    if name is None or name == "":
        return DEFAULT
    if isinstance(name, str) and _NAME.fullmatch(name):
        return name
    shown = repr(name)[:40] if isinstance(name, str) else type(name).__name__
    raise InputError(f"{shown} is not a collection name: use {NAME_RULE}.")


def store_prefix(base: str, name: str) -> str:
    """The Chroma prefix of collection ``name`` in the index ``base`` (``index_name(...)``)."""
    name = check_name(name)
    return base if name == DEFAULT else f"{base}.{name}"


def names_from(chroma_names: Iterable[str], base: str) -> list[str]:
    """The named collections of index ``base`` among Chroma collection names, sorted."""
    found = set()
    for full in chroma_names:
        if full.startswith(base + ".") and full.endswith("-docs"):
            name = full[len(base) + 1 : -len("-docs")]
            if _NAME.fullmatch(name):
                found.add(name)
    return sorted(found)


def chroma_names(base: str, name: str) -> list[str]:
    """The three Chroma collections that hold collection ``name``, the record (commit) first."""
    prefix = store_prefix(base, name)
    return [prefix + part for part in _PARTS]


def existing(
    data_dir: Path, chroma_url: str | None, base: str, timeout_s: float | None = None
) -> list[str]:
    """``default`` and every named collection of index ``base``, read without a model.

    A local store is read from its SQLite file (``index.catalog``), without importing Chroma;
    a Chroma server, or a file the catalog is unsure of, is asked through a client.
    """
    names = None
    if not chroma_url:
        from index.catalog import collection_names

        names = collection_names(data_dir)
    if names is None:
        names = _from_chroma(data_dir, chroma_url, timeout_s)
    return [DEFAULT, *names_from(names, base)]


def _from_chroma(data_dir: Path, chroma_url: str | None, timeout_s: float | None) -> list[str]:
    from index.chroma_client import SERVER_TIMEOUT_S, open_client
    from index.errors import StoreError

    client = open_client(data_dir, chroma_url, timeout_s or SERVER_TIMEOUT_S)
    try:
        found: list[Any] = list(client.list_collections())
    except Exception as exc:
        raise StoreError(f"Cannot list the collections at {chroma_url or data_dir}: {exc}") from exc
    return [c if isinstance(c, str) else c.name for c in found]


def upload_dir(data_dir: Path, name: str) -> Path:
    """Where uploads into collection ``name`` are kept: ``uploads/`` or ``uploads/<name>/``."""
    name = check_name(name)
    root = Path(data_dir) / "uploads"
    return root if name == DEFAULT else root / name
