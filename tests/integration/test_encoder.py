"""The ONNX encoder against sentence-transformers, the reference: same vectors, same tokens,
same index; and the fallback when its check fails."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ConfigError
from assistant.settings import Settings
from index.encoder_check import (
    MIN_COSINE,
    REFERENCE,
    EncoderUnavailable,
    min_cosine,
    sample,
    sample_vectors,
)
from index.encoders import DEFAULT_MODEL, make_embedder, model_identity, resolve_model
from index.onnx_encoder import OnnxEmbeddings, load_onnx

pytestmark = pytest.mark.integration
QUESTIONS = [
    "Who attended the meeting?",
    "Qu'a dit Macron à propos de l'Ukraine ?",  # accents and non-English words
    "ceasefire",
    "  What did Starmer say\nabout troops?  ",
]


def test_the_product_engine_is_the_checked_onnx_encoder(embedder) -> None:
    assert isinstance(embedder, OnnxEmbeddings)


def test_vectors_match_sentence_transformers(embedder, reference_embedder) -> None:
    """Pooled vectors (batched and one at a time) and late-chunked sentence vectors."""
    texts, spans = sample()
    got = sample_vectors(embedder, texts, spans)
    want = sample_vectors(reference_embedder, texts, spans)
    assert min_cosine(got, want) >= MIN_COSINE
    q_onnx, q_ref = embedder.encode(QUESTIONS), reference_embedder.encode(QUESTIONS)
    assert np.allclose(np.linalg.norm(q_onnx, axis=1), 1.0, atol=1e-5)
    assert float((q_onnx * q_ref).sum(axis=1).min()) >= MIN_COSINE


def test_shipped_reference_is_what_sentence_transformers_computes(reference_embedder) -> None:
    """The reference the encoder is checked against at build time is not stale."""
    want = json.loads(REFERENCE.read_text(encoding="utf-8"))
    spans = [[(a, b) for a, b in sp] for sp in want["spans"]]
    got = sample_vectors(reference_embedder, want["texts"], spans)
    assert min_cosine(got, want) >= MIN_COSINE


def test_token_counts_and_window_match(embedder, reference_embedder) -> None:
    texts = [*QUESTIONS, "word " * 400, "", "naïve café — “quotes” 🙂 中文"]
    assert embedder.count_tokens(texts) == reference_embedder.count_tokens(texts)
    assert embedder.max_tokens == reference_embedder.max_tokens
    long_vec = embedder.encode(["word " * 400])  # truncated to the window, as in ST
    assert float(long_vec[0] @ reference_embedder.encode(["word " * 400])[0]) >= MIN_COSINE


def test_a_chunk_longer_than_the_window_is_an_error(embedder) -> None:
    text = "word " * 400
    with pytest.raises(ValueError, match="exceeds the model window"):
        embedder.encode_chunks([text], [[(0, len(text))]])


def test_both_engines_share_one_index_identity(embedder, reference_embedder) -> None:
    assert embedder.identity == reference_embedder.identity == model_identity(DEFAULT_MODEL)


def test_empty_inputs(embedder) -> None:
    assert embedder.encode([]).shape == (0, embedder.dimension)
    vecs, units = embedder.encode_chunks([], [])
    assert vecs.shape == (0, embedder.dimension) and units == []


def test_a_failed_check_falls_back_to_sentence_transformers(
    tmp_path: Path, embedder, reference_embedder, caplog: pytest.LogCaptureFixture
) -> None:
    """A graph whose vectors failed the check is never used; ``auto`` takes torch instead,
    ``onnx`` is a clear configuration error."""
    model_dir = Path(resolve_model(DEFAULT_MODEL))
    graph = next(Path(embedder._graph).parent.glob("encoder-*.onnx"))
    verdict = json.loads(graph.with_suffix(".json").read_text(encoding="utf-8"))
    (tmp_path / graph.name).symlink_to(graph)
    (tmp_path / graph.with_suffix(".json").name).write_text(
        json.dumps({**verdict, "ok": False, "min_cosine": 0.42}), encoding="utf-8"
    )
    with pytest.raises(EncoderUnavailable, match="0.42"):
        load_onnx(DEFAULT_MODEL, model_dir, tmp_path)
    auto = make_embedder(Settings(encoder={"cache_dir": tmp_path}))
    assert type(auto).__name__ == "SentenceEmbeddings"
    assert "ONNX encoder is unavailable" in caplog.text
    with pytest.raises(ConfigError, match="ONNX encoder cannot be used"):
        make_embedder(Settings(encoder={"cache_dir": tmp_path, "backend": "onnx"}))
    torch = make_embedder(Settings(encoder={"backend": "torch"}))
    assert type(torch).__name__ == "SentenceEmbeddings"


def test_a_model_it_cannot_reproduce_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "not-bert"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "t5"}', encoding="utf-8")
    with pytest.raises(EncoderUnavailable, match="not BERT"):
        load_onnx("not-bert", model, tmp_path / "cache")
    assert not (tmp_path / "cache").exists(), "nothing is written for a refused model"


def test_retrieval_ranks_like_sentence_transformers(embedder, reference_embedder) -> None:
    """Sentences of the sample article ranked for each question: same order."""
    texts, spans = sample()
    sentences = [t[a:b] for t, sp in zip(texts[:-4], spans[:-4], strict=True) for a, b in sp]
    for question in QUESTIONS:
        ranks = []
        for enc in (embedder, reference_embedder):
            scores = enc.encode(sentences) @ enc.encode([question])[0]
            ranks.append(list(np.argsort(-scores)[:5]))
        assert ranks[0] == ranks[1], question


def test_concurrent_calls_give_the_same_vectors(embedder) -> None:
    """Sessions run without a lock: questions and an ingest batch at once stay exact."""
    from concurrent.futures import ThreadPoolExecutor

    texts, spans = sample()
    want_q = embedder.encode(QUESTIONS)
    want_chunks, _ = embedder.encode_chunks(texts, spans)
    with ThreadPoolExecutor(4) as pool:
        chunk_jobs = [pool.submit(embedder.encode_chunks, texts, spans) for _ in range(2)]
        q_jobs = [pool.submit(embedder.encode, [q]) for q in QUESTIONS * 3]
        for n, job in enumerate(q_jobs):
            assert np.allclose(job.result()[0], want_q[n % len(QUESTIONS)], atol=1e-5)
        for job in chunk_jobs:
            assert np.allclose(job.result()[0], want_chunks, atol=1e-5)
