"""Build the assistant in the background so the server answers before the model has loaded."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from assistant.errors import AssistantError, StoreError
from assistant.serve.service import AssistantAPI
from assistant.settings import Settings

log = logging.getLogger(__name__)


def build_assistant(settings: Settings) -> AssistantAPI:
    """The real assistant, with the sample article ingested on an empty index."""
    from assistant.core import Assistant  # heavy: loads the embedding model and Chroma

    assistant = Assistant(settings)
    assistant.ensure_sample()
    warm = getattr(assistant.embedder, "warm", None)
    if warm is not None:
        warm()  # the first question must not wait for the model to load
    from assistant.answer import rarity

    rarity.warm()  # nor for the word frequencies
    return assistant


class LazyAssistant:
    """Runs ``build`` once in a daemon thread; ``get()`` waits for it.

    The page, the widget and ``/healthz`` stay responsive while models load; the first
    question simply waits. A failed build is kept and re-raised as an ``AssistantError``
    on every ``get()``, so each front end shows one clean message instead of a traceback;
    a build that failed on the store (a Chroma server still down) is tried again.
    """

    def __init__(self, build: Callable[[], AssistantAPI], retry_after_s: float = 5.0) -> None:
        self._build = build
        self.retry_after_s = retry_after_s  # ``server.start_retry_s``
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._value: AssistantAPI | None = None
        self._error: AssistantError | None = None
        self._failed_at = 0.0

    def start(self) -> None:
        """Start building, once; later calls do nothing."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="assistant-build", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._build()
            log.info("Assistant ready.")
        except AssistantError as exc:
            log.error("The assistant could not start: %s", exc)
            self._error = exc
            self._failed_at = time.monotonic()
        except Exception as exc:  # any failure must reach get() as a clean message
            log.exception("The assistant could not start.")
            self._error = AssistantError(
                f"The assistant could not start ({type(exc).__name__}: {exc}). "
                "See the server log for details."
            )
        finally:
            self._done.set()

    def _retry(self) -> None:
        """Build again after a store failure, at most once per ``retry_after_s``."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            if time.monotonic() - self._failed_at < self.retry_after_s:
                return
            self._error, self._thread = None, None
            self._done.clear()
        self.start()

    @property
    def ready(self) -> bool:
        """True once the assistant has been built successfully."""
        return self._done.is_set() and self._value is not None

    @property
    def error(self) -> AssistantError | None:
        """The build error, if the build failed."""
        return self._error if self._done.is_set() else None

    def get(self, timeout: float | None = None) -> AssistantAPI:
        """The assistant, waiting for the build; starts it if nobody has yet."""
        self.start()
        if not self._done.wait(timeout):
            raise AssistantError("The assistant is still loading; please try again shortly.")
        if isinstance(self._error, StoreError):
            self._retry()  # the store may be back (a Chroma server that was down at start)
            if not self._done.wait(timeout):
                raise AssistantError("The assistant is still loading; please try again shortly.")
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value
