"""Opening Chroma: no telemetry, never its own embedding function, never an unbounded wait."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from index.errors import StoreError

log = logging.getLogger(__name__)
SERVER_TIMEOUT_S = 60.0  # default of one call to a Chroma server (settings: index.chroma_timeout_s)


class NoEmbedding:
    """Stands in for Chroma's default embedding function, which would download a model.

    Every vector is computed by us and passed explicitly; if Chroma ever asks this object to
    embed, that is a bug, and it fails loudly instead of fetching anything.
    """

    def __call__(self, input: Any) -> Any:  # noqa: A002 - Chroma's protocol name
        raise StoreError("internal error: Chroma tried to embed text itself")

    @staticmethod
    def name() -> str:
        return "assistant-precomputed"

    def is_legacy(self) -> bool:
        return True


@contextmanager
def _unchecked_overrides() -> Iterator[None]:
    """Import and start chromadb without the ``overrides`` package's signature checks.

    chromadb decorates ~160 methods with ``@override``, which inspects each one against its
    base class (bytecode and signatures) as the class is defined: 0.2-0.3 s of CPU for every
    process that opens an index. The check changes nothing at run time (it raises on a
    mismatched signature, and chromadb is tested with it), so while chromadb imports its
    modules -- at ``import`` and when a client loads its components -- the decorator is a
    marker that keeps what ``EnforceOverrides`` looks for. Later imports get the real one.
    """
    try:
        import overrides
    except ImportError:  # pragma: no cover - a chromadb that dropped the dependency
        yield
        return

    def mark(method: Any = None, **_: Any) -> Any:
        if method is None:
            return mark
        method.__override__ = True
        return method

    saved = overrides.override, overrides.overrides
    overrides.override = overrides.overrides = mark
    try:
        yield
    finally:
        overrides.override, overrides.overrides = saved


def import_chromadb() -> Any:
    """``import chromadb`` as ``open_client`` does it (see ``_unchecked_overrides``)."""
    with _unchecked_overrides():
        import chromadb

    return chromadb


def open_client(data_dir: Path, chroma_url: str | None, timeout_s: float = SERVER_TIMEOUT_S) -> Any:
    """A Chroma client for the data dir or server; telemetry is off in the client's own
    settings (``anonymized_telemetry=False``), so no environment variable is needed."""
    with _unchecked_overrides():
        return _open_client(data_dir, chroma_url, timeout_s)


def _open_client(data_dir: Path, chroma_url: str | None, timeout_s: float) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if chroma_url:
            url = urlparse(chroma_url if "//" in chroma_url else f"http://{chroma_url}")
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            _bound_timeout(client, timeout_s)
            return client
        data_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
        where = chroma_url or str(data_dir)
        raise StoreError(f"Cannot open the Chroma store at {where}: {exc}") from exc


def _bound_timeout(client: Any, timeout_s: float) -> None:
    """Give a Chroma server ``timeout_s`` per call instead of chromadb's ``None``.

    Without it a frozen server (stopped process, dropped packets) held every question
    forever, and with them every answering slot of the web server.
    """
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(timeout_s, connect=min(5.0, timeout_s))
    else:  # pragma: no cover - a chromadb that changed its internals
        log.warning("Cannot bound the Chroma client's timeout; a frozen server may hang calls.")


def list_indexes(
    data_dir: Path, chroma_url: str | None = None, timeout_s: float = SERVER_TIMEOUT_S
) -> list[dict[str, Any]]:
    """Every index in a store: its prefix and the manifest its ``-docs`` collection records.

    Lets ``assistant doctor`` see indexes built with any settings without loading a model.
    """
    client = open_client(data_dir, chroma_url, timeout_s)
    where = chroma_url or str(data_dir)
    try:
        found = []
        for c in client.list_collections():
            name = c if isinstance(c, str) else c.name
            if not name.endswith("-docs"):
                continue
            if isinstance(c, str):
                c = client.get_collection(name, embedding_function=NoEmbedding())
            meta = dict(c.metadata or {})
            manifest = {
                k.removeprefix("built_with_"): v for k, v in meta.items() if k.startswith("built_")
            }
            found.append({"prefix": name.removesuffix("-docs"), **manifest})
    except Exception as exc:
        raise StoreError(f"Cannot list the indexes at {where}: {exc}") from exc
    return sorted(found, key=lambda m: m["prefix"])
