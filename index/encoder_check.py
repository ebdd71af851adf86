"""Is an encoder equivalent to sentence-transformers? The check ``index.onnx_encoder`` runs
before it uses a graph: pooled and late-chunked vectors of a fixed sample, compared by cosine.

For the bundled model the sample's reference vectors ship with the package
(``index/data/minilm-reference.json``, ``python -m index.onnx_encoder --write-reference``);
any other model is compared with a live sentence-transformers model.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
MIN_COSINE = 0.999
REFERENCE = Path(__file__).with_name("data") / "minilm-reference.json"


class EncoderUnavailable(RuntimeError):
    """The ONNX encoder cannot be used for this model; sentence-transformers takes over."""


def weights_sha256(model_dir: Path) -> str:
    digest = hashlib.sha256()
    with open(model_dir / "model.safetensors", "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sample() -> tuple[list[str], list[list[tuple[int, int]]]]:
    """A check sample: the bundled article's paragraphs with rough sentence spans, and a few
    questions (short texts take the question path). The reference file stores the texts and
    spans it was computed on, so later edits here or to the article do not void it."""
    import re

    article = Path(__file__).resolve().parents[1] / "assistant" / "data"
    text = (article / "coalition-of-the-willing.txt").read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n\n") if len(p.strip()) > 40][:12]
    spans = [
        [(m.start(), m.end()) for m in re.finditer(r"[^.!?]+[.!?]*", p) if m.group().strip()]
        for p in paragraphs
    ]
    questions = [
        "Who attended the meeting?",
        "What did the prime minister say about Ukraine?",
        "When was the ceasefire proposed?",
        "Is there a peace deal?",
    ]
    return paragraphs + questions, spans + [[(0, len(q))] for q in questions]


def sample_vectors(
    embedder: Any, texts: list[str], spans: list[list[tuple[int, int]]]
) -> dict[str, Any]:
    """What ``min_cosine`` compares: pooled vectors of all texts (one call, and one call
    per text for the question path) and the late-chunked chunk and span vectors."""
    chunk_vecs, unit_vecs = embedder.encode_chunks(texts, spans)
    return {
        "texts": list(texts),
        "spans": [[list(s) for s in sp] for sp in spans],
        "pooled": embedder.encode(texts).tolist(),
        "single": [embedder.encode([t])[0].tolist() for t in texts],
        "chunks": chunk_vecs.tolist(),
        "units": [u.tolist() for u in unit_vecs],
    }


def min_cosine(got: dict[str, Any], want: dict[str, Any]) -> float:
    """The smallest cosine between matching vectors of two ``sample_vectors`` results."""
    if got["texts"] != want["texts"]:
        raise EncoderUnavailable("the two samples differ")
    pairs: list[tuple[Any, Any]] = []
    for key in ("pooled", "single", "chunks"):
        pairs += zip(got[key], want[key], strict=True)
    for g, w in zip(got["units"], want["units"], strict=True):
        pairs += zip(g, w, strict=True)
    a = np.asarray([p[0] for p in pairs], dtype=np.float64)
    b = np.asarray([p[1] for p in pairs], dtype=np.float64)
    cos = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(cos.min())


def check(encoder: Any, model_dir: Path, sha: str) -> float:
    """Min cosine of ``encoder`` against the shipped reference for the bundled weights, else
    against a live sentence-transformers model (float32) on the same sample."""
    try:
        want = json.loads(REFERENCE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        want = {}
    if want.get("weights_sha256") == sha:
        spans = [[(int(a), int(b)) for a, b in sp] for sp in want["spans"]]
        return min_cosine(sample_vectors(encoder, want["texts"], spans), want)
    log.info("Checking the ONNX encoder against sentence-transformers (once)...")
    from index.embeddings import SentenceEmbeddings

    texts, spans = sample()
    reference = SentenceEmbeddings(str(model_dir), bf16=False)
    return min_cosine(
        sample_vectors(encoder, texts, spans), sample_vectors(reference, texts, spans)
    )


def write_reference() -> Path:
    """Record sentence-transformers' (float32) vectors of the check sample for the bundled
    model; run after changing the sample or the bundled weights."""
    from index.embeddings import SentenceEmbeddings, resolve_model

    model_dir = Path(resolve_model("all-MiniLM-L6-v2"))
    texts, spans = sample()
    ref = sample_vectors(SentenceEmbeddings(str(model_dir), bf16=False), texts, spans)
    ref = {"weights_sha256": weights_sha256(model_dir), **_rounded(ref)}
    REFERENCE.parent.mkdir(exist_ok=True)
    REFERENCE.write_text(json.dumps(ref, separators=(",", ":")), encoding="utf-8")
    return REFERENCE


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value
