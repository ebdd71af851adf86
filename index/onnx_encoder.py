"""The embedding model on ONNX Runtime: same vectors as sentence-transformers, without torch.

``import sentence_transformers`` takes about 5 s (torch, transformers, scikit-learn); this
encoder needs only ``onnxruntime`` and ``tokenizers`` (0.3 s to load, a few ms a question).
The graph is written once from the bundled weights (``index.onnx_graph``) into a cache
folder, and it is used only after its vectors were checked against sentence-transformers'
on a fixed sample (``index.encoder_check``): pooled and late-chunked vectors, cosine >= 0.999.
The check runs when the graph is built; its result is stored beside the graph, so later
starts read one small JSON file. For the bundled model the sample's reference vectors ship
with the package (``index/data/minilm-reference.json``, written by sentence-transformers via
``python -m index.onnx_encoder --write-reference``); any other BERT is checked against a live
sentence-transformers model, once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.encoder_check import (
    MIN_COSINE,
    EncoderUnavailable,
    check,
    weights_sha256,
    write_reference,
)

log = logging.getLogger(__name__)
BUILDER_VERSION = 1  # bump when index.onnx_graph changes what it writes
_FEW = 4  # encode calls with at most this many texts use the question session


def _cache_key(model_dir: Path) -> str:
    """Cheap key for the cached graph: the weights file's path, size and mtime, the builder
    and the ONNX Runtime version (the cached graph is optimized by, and for, that version)."""
    import onnxruntime as ort

    st = (model_dir / "model.safetensors").stat()
    raw = json.dumps(
        [BUILDER_VERSION, ort.__version__, str(model_dir.resolve()), st.st_size, st.st_mtime_ns]
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _optimize(raw: Path, out: Path) -> None:
    """Save ONNX Runtime's optimized form of ``raw`` (fused attention, GELU, LayerNorm), so a
    start loads it as it is: 0.1 s of CPU instead of 0.4 s. Level EXTENDED, not ALL, keeps
    the file free of this CPU's memory layouts."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.optimized_model_filepath = str(out)
    opts.log_severity_level = 3
    ort.InferenceSession(str(raw), opts, providers=["CPUExecutionProvider"])


def _session(model_path: Path, threads: int) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # see _optimize
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3  # shape-merge notices are not the user's business
    # Spinning threads wait for work by burning a core: on a busy machine that is the
    # difference between 5 ms and 50 ms a question.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])


class OnnxEmbeddings:
    """Normalized mean-pooled vectors and late-chunked sentence vectors, like
    ``SentenceEmbeddings``, from a verified ONNX graph (see the module docstring)."""

    def __init__(
        self,
        model_name: str,
        model_dir: Path,
        graph: Path,
        batch_size: int = 32,
        query_threads: int = 1,
        ingest_threads: int = 2,
    ) -> None:
        from tokenizers import Tokenizer

        from index.onnx_graph import read_config

        config = read_config(model_dir)
        self.model_name = model_name
        self.batch_size = batch_size
        self.dimension = int(config["hidden_size"])
        window = _max_seq_length(model_dir, config)
        self.max_tokens = window - 2
        self._graph = graph
        self._threads = {"query": query_threads, "ingest": ingest_threads}
        self._sessions: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=window)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    @property
    def identity(self) -> str:
        """Same as ``SentenceEmbeddings.identity``: the vectors agree (checked), so one index."""
        return f"{self.model_name}:{self.dimension}"

    def _run(self, kind: str, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """One forward pass. ONNX Runtime sessions run concurrently, so only creating one
        takes the lock: a question never waits for an ingest batch or another question."""
        session = self._sessions.get(kind)
        if session is None:
            with self._lock:
                session = self._sessions.get(kind)
                if session is None:
                    session = self._sessions[kind] = _session(self._graph, self._threads[kind])
        return session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def warm(self) -> None:
        """Create the question session now (the server does this while it starts)."""
        self.encode(["warm up"])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, without special tokens."""
        if not texts:
            return []
        return [
            len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=False)
        ]

    def _batch(self, texts: Sequence[str]) -> tuple[list[Any], np.ndarray, np.ndarray]:
        encoded = self._tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encoded], dtype=np.int64)
        return encoded, ids, mask

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (longer texts truncated, as in ST)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        kind = "query" if len(texts) <= _FEW else "ingest"
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        for a in range(0, len(order), self.batch_size):
            part = order[a : a + self.batch_size]
            _, ids, mask = self._batch([texts[i] for i in part])
            out[part] = _mean_pool(self._run(kind, ids, mask), mask)
        return out

    def encode_chunks(
        self, chunks: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Chunk vectors and in-context sentence vectors from one pass, exactly as
        ``SentenceEmbeddings.encode_chunks`` computes them (see there)."""
        chunk_vecs = np.zeros((len(chunks), self.dimension), dtype=np.float32)
        unit_vecs: list[np.ndarray] = [np.zeros(0)] * len(chunks)
        if not chunks:
            return chunk_vecs, []
        limit = self.max_tokens + 2
        order = sorted(range(len(chunks)), key=lambda i: len(chunks[i]), reverse=True)
        for a in range(0, len(order), self.batch_size):
            batch = order[a : a + self.batch_size]
            encoded, ids, mask = self._batch([chunks[i] for i in batch])
            lengths = mask.sum(axis=1)
            if int(lengths.max()) >= limit:
                longest = [chunks[i] for i, n in zip(batch, lengths, strict=True) if n >= limit]
                counted = max(self.count_tokens(longest))
                if counted > self.max_tokens:
                    raise ValueError(
                        f"a chunk of {counted} word pieces exceeds the "
                        f"model window of {self.max_tokens}"
                    )
            states = self._run("ingest", ids, mask)
            pooled = _mean_pool(states, mask)
            for row, i in enumerate(batch):
                chunk_vecs[i] = pooled[row]
                offsets = np.asarray(encoded[row].offsets, dtype=np.int64)
                starts, ends = offsets[:, 0], offsets[:, 1]
                real = (mask[row] == 1) & (ends > starts)
                vecs = []
                for s, e in spans[i]:
                    inside = real & (starts < e) & (ends > s)
                    v = states[row][inside].mean(axis=0) if inside.any() else pooled[row]
                    vecs.append(v / max(float(np.linalg.norm(v)), 1e-12))
                unit_vecs[i] = np.asarray(vecs, dtype=np.float32)
        return chunk_vecs, unit_vecs

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


def _mean_pool(states: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(np.float32)
    pooled = (states * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
    norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    return (pooled / norms).astype(np.float32)


def _max_seq_length(model_dir: Path, config: dict[str, Any]) -> int:
    """sentence-transformers' window: ``sentence_bert_config.json``, else the model's."""
    try:
        st = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(st["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return int(config.get("max_position_embeddings", 512))


def _check_pooling(model_dir: Path) -> None:
    """Only mean pooling then normalization, as this encoder computes, may be replaced."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EncoderUnavailable(f"no sentence-transformers pooling config in {model_dir}") from exc
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if kinds != ["Transformer", "Pooling", "Normalize"] or modes != ["pooling_mode_mean_tokens"]:
        raise EncoderUnavailable(f"{model_dir} is not mean pooling + normalize ({kinds}, {modes})")


def load_onnx(
    model_name: str,
    model_dir: Path,
    cache_dir: Path,
    batch_size: int = 32,
    query_threads: int = 1,
    ingest_threads: int = 2,
) -> OnnxEmbeddings:
    """The verified ONNX encoder for ``model_dir``, building and checking it on first use.

    Raises ``EncoderUnavailable`` when the model is not a BERT this builder reproduces or
    when its vectors fail the check; the caller then uses sentence-transformers.
    """
    from index.onnx_graph import UnsupportedModel, read_config

    try:
        read_config(model_dir)
        _check_pooling(model_dir)
        key = _cache_key(model_dir)
    except (UnsupportedModel, OSError) as exc:
        raise EncoderUnavailable(str(exc)) from exc
    graph = cache_dir / f"encoder-{key}.onnx"
    verdict_file = cache_dir / f"encoder-{key}.json"
    try:
        verdict = json.loads(verdict_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        verdict = None
    if verdict is None or not graph.is_file():
        verdict = _build(model_name, model_dir, graph, verdict_file, batch_size)
    if not verdict.get("ok"):
        raise EncoderUnavailable(
            f"the ONNX graph's vectors differ from sentence-transformers' "
            f"(min cosine {verdict.get('min_cosine')}, need {MIN_COSINE})"
        )
    return OnnxEmbeddings(model_name, model_dir, graph, batch_size, query_threads, ingest_threads)


def _build(
    model_name: str, model_dir: Path, graph: Path, verdict_file: Path, batch_size: int
) -> dict[str, Any]:
    """Write the graph, check it, and record the verdict; atomic, so racing builders agree."""
    from index.onnx_graph import build_model_bytes

    log.info("Writing the ONNX encoder for %s into %s (once)...", model_name, graph.parent)
    try:
        graph.parent.mkdir(parents=True, exist_ok=True)
        raw = graph.with_suffix(f".{os.getpid()}.raw")
        tmp = graph.with_suffix(f".{os.getpid()}.tmp")
        try:
            raw.write_bytes(build_model_bytes(model_dir))
            _optimize(raw, tmp)
            os.replace(tmp, graph)
        finally:
            raw.unlink(missing_ok=True)
            tmp.unlink(missing_ok=True)
    except ImportError as exc:
        raise EncoderUnavailable(f"the onnx package is needed to build the graph ({exc})") from exc
    except OSError as exc:
        raise EncoderUnavailable(f"cannot write the ONNX encoder to {graph}: {exc}") from exc
    sha = weights_sha256(model_dir)
    encoder = OnnxEmbeddings(model_name, model_dir, graph, batch_size, 1, 1)
    cosine = check(encoder, model_dir, sha)
    verdict = {
        "ok": cosine >= MIN_COSINE,
        "min_cosine": round(cosine, 7),
        "need": MIN_COSINE,
        "weights_sha256": sha,
        "builder": BUILDER_VERSION,
    }
    tmp = verdict_file.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(verdict, indent=1), encoding="utf-8")
    os.replace(tmp, verdict_file)
    log.info("ONNX encoder checked: min cosine %.6f (need %s)", cosine, MIN_COSINE)
    return verdict


def build(model: str, cache_dir: Path) -> int:
    """Write and check the encoder for ``model`` in ``cache_dir``; the exit status of
    ``python -m assistant.ops.encoder_setup`` (``make install``), which reads the settings."""
    from index.encoders import resolve_model

    try:
        encoder = load_onnx(model, Path(resolve_model(model)), cache_dir)
    except EncoderUnavailable as exc:
        print(f"The ONNX encoder is unavailable for {model}: {exc}")
        return 1
    print(f"ONNX encoder ready for {model} in {encoder._graph.parent}")
    return 0


def main(argv: list[str]) -> int:
    """``--write-reference``: rewrite the shipped reference vectors (maintainers)."""
    if argv == ["--write-reference"]:
        print(write_reference())
        return 0
    print("usage: python -m index.onnx_encoder --write-reference (to build: make install)")
    return 2


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    import sys

    sys.exit(main(sys.argv[1:]))
