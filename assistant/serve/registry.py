"""The collections one server answers from, each its own assistant, opened on first use.

The default collection is the assistant the server always builds. Another collection gets
its own ``Assistant`` (its own Chroma collections, snapshot, searcher and ingest lock) the
first time a request names it, sharing the default one's loaded models; one nobody asks for
is never loaded. Only ingest creates a collection: a reader naming an unknown one gets a
``NotFoundError``, and a collection deleted meanwhile (``assistant collections delete``)
is forgotten within a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from assistant.errors import NotFoundError
from assistant.serve.service import AssistantAPI
from assistant.settings import Settings
from index.collection_names import DEFAULT, check_name, existing

_NAMES_TTL_S = 1.0

GetDefault = Callable[[float | None], AssistantAPI]
OpenNamed = Callable[[AssistantAPI, str], AssistantAPI]


def base_prefix(settings: Settings) -> str:
    """The index prefix the current settings build (``index.store.index_name``)."""
    from index.encoders import LazyEmbeddings
    from index.store import index_name

    idx = settings.index
    identity = LazyEmbeddings(settings).identity  # read from the model's files when it can
    return index_name(identity, idx.chunk_tokens, idx.unit_tokens)


def open_sibling(default: AssistantAPI, name: str) -> AssistantAPI:
    """Collection ``name`` next to the real default assistant (``Assistant.sibling``)."""
    sibling = getattr(default, "sibling", None)
    if sibling is None:
        raise NotFoundError(f"No collection {name!r}: this server has only the default one.")
    return sibling(name)


def not_found(name: str) -> NotFoundError:
    return NotFoundError(
        f"No collection {name!r}. Create it with `assistant ingest --collection {name} PATH`."
    )


class Collections:
    """Collection name -> assistant; see the module docstring."""

    def __init__(
        self,
        default: GetDefault,
        list_names: Callable[[], list[str]],
        open_named: OpenNamed = open_sibling,
    ) -> None:
        self._default = default
        self._list_names = list_names
        self._open_named = open_named
        self._open: dict[str, AssistantAPI] = {}
        self._lock = threading.Lock()
        self._opening: dict[str, threading.Lock] = {}
        self._names: tuple[float, list[str]] = (-1e9, [])

    @classmethod
    def for_settings(
        cls, settings: Settings, default: GetDefault, open_named: OpenNamed = open_sibling
    ) -> Collections:
        prefix: list[str] = []

        def list_names() -> list[str]:
            if not prefix:
                prefix.append(base_prefix(settings))
            return existing(
                settings.data_dir,
                settings.chroma_url,
                prefix[0],
                settings.index.chroma_timeout_s,
            )

        return cls(default, list_names, open_named)

    def names(self) -> list[str]:
        """``default`` first, then every named collection that exists, sorted."""
        checked, names = self._names
        if time.monotonic() - checked > _NAMES_TTL_S:
            found = [n for n in self._list_names() if n != DEFAULT]
            names = [DEFAULT, *sorted(set(found))]
            self._names = (time.monotonic(), names)
            with self._lock:
                for gone in set(self._open) - set(names):
                    del self._open[gone]  # deleted by `assistant collections delete`
        return list(names)

    def get(self, name: str | None, timeout: float | None = None) -> AssistantAPI:
        """The assistant of an existing collection; ``InputError`` for a bad name,
        ``NotFoundError`` for one that does not exist."""
        name = check_name(name)
        if name == DEFAULT:
            return self._default(timeout)
        if name not in self.names():
            raise not_found(name)
        return self._get_or_open(name, timeout)

    def create(self, name: str | None, timeout: float | None = None) -> AssistantAPI:
        """The assistant of collection ``name``, opened even if it does not exist yet: for an
        ingest (an upload), the only thing that creates a collection."""
        name = check_name(name)
        if name == DEFAULT:
            return self._default(timeout)
        assistant = self._get_or_open(name, timeout)
        self._names = (-1e9, [])  # list it from the next call on
        return assistant

    def _get_or_open(self, name: str, timeout: float | None) -> AssistantAPI:
        with self._lock:
            found = self._open.get(name)
            if found is not None:
                return found
            opening = self._opening.setdefault(name, threading.Lock())
        with opening:  # one build per collection, however many requests arrive at once
            with self._lock:
                found = self._open.get(name)
            if found is None:
                found = self._open_named(self._default(timeout), name)
                with self._lock:
                    self._open[name] = found
            return found

    def loaded(self) -> list[str]:
        """The named collections opened so far (the default one is always)."""
        with self._lock:
            return sorted(self._open)
