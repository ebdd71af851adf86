"""A store of N chunks for ``benchmarks.scale``: real questions' documents plus filler.

The five SQuAD documents (the questions' answers) are ingested by the real pipeline: real
chunking, real vectors. The rest of the N chunks is filler text made offline by a word-level
Markov chain (order 2) over English prose found on this machine: the other documents bundled
with the project (reader set, technical manuals, sample article; not SQuAD, so no filler
paraphrases an answer), the package descriptions of the installed Python distributions
(``*.dist-info/METADATA``) and Python's own help topics (``pydoc_data``): about 8,000
distinct sentences, 150,000 words, a vocabulary of 12,000 (smaller than a real collection
of this size has, so BM25's postings per query term are denser: a pessimistic case). Filler
is written to the store directly, already chunked: paragraphs of 6-9 sentences (about 850
characters), one chunk each, with the same records, units and metadata an ingest writes.

Filler vectors are not computed by running the model on each filler sentence (100,000
chunks would take about an hour on 2 cores). Each word of the seed vocabulary is embedded
once by the real model and cached on disk; a filler sentence's vector is the normalised
mean of its words' vectors, a chunk's the normalised mean of its sentences'. They lie where
real sentence vectors lie (same model, same words), so the HNSW graph and the dense
competition are realistic in cost; they are not what the model would give for the sentence,
so the benchmark measures speed and memory, not answer quality at scale.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import ROOT, SQUAD_CORPUS

SEED_FILES = [
    *sorted((ROOT / "tests" / "data" / "reader" / "docs").iterdir()),
    *sorted((ROOT / "tests" / "data" / "techdocs").iterdir()),
    ROOT / "assistant" / "data" / "coalition-of-the-willing.txt",
]
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|\d+")
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def seed_texts() -> Iterator[str]:
    """Plain text of every seed source (module docstring), in a fixed order."""
    import pydoc_data.topics
    import sysconfig

    from index.loaders import load

    for path in SEED_FILES:
        yield load(path, 10**8).text
    site = Path(sysconfig.get_paths()["purelib"])
    for meta in sorted(site.glob("*.dist-info/METADATA")):
        yield meta.read_text(encoding="utf-8", errors="replace").partition("\n\n")[2]
    yield from pydoc_data.topics.topics.values()


def seed_sentences() -> list[list[str]]:
    """Distinct prose sentences of the seed texts, as word lists (code and markup left out)."""
    seen: set[str] = set()
    out = []
    for text in seed_texts():
        for para in re.split(r"\n\s*\n", text):
            for s in _SPLIT.split(" ".join(para.split())):
                words = s.split()
                if not 6 <= len(words) <= 40 or s in seen or s[-1] not in ".!?":
                    continue
                if sum(bool(_WORD.fullmatch(w.strip(",.;:!?()\"'"))) for w in words) < 0.8 * len(
                    words
                ):
                    continue
                seen.add(s)
                out.append(words)
    return out


class Markov:
    """Order-2 word chain: sentences that read like the seed, none copied whole."""

    def __init__(self, sentences: list[list[str]], seed: int = 16) -> None:
        self.next: dict[tuple[str, str], list[str]] = {}
        self.starts = []
        for words in sentences:
            seq = ["", "", *words, "\0"]
            self.starts.append((words[0], words[1]))
            for a, b, c in zip(seq, seq[1:], seq[2:], strict=False):
                self.next.setdefault((a, b), []).append(c)
        self.rng = random.Random(seed)

    def sentence(self, max_words: int = 36) -> str:
        a, b = self.rng.choice(self.starts)
        words = [a, b]
        while len(words) < max_words:
            c = self.rng.choice(self.next.get((a, b)) or ["\0"])
            if c == "\0":
                break
            words.append(c)
            a, b = b, c
        text = " ".join(words)
        return text if text[-1] in ".!?" else text.rstrip(",;:") + "."


def word_vectors(
    embedder: Any, sentences: list[list[str]], cache: Path
) -> tuple[dict[str, int], np.ndarray]:
    """The seed vocabulary (word -> row) and its unit vectors, embedded once into ``cache``."""
    vocab = sorted({w.lower() for s in sentences for w in _WORD.findall(" ".join(s))})
    key = hashlib.sha1(("\n".join(vocab) + embedder.identity).encode()).hexdigest()[:12]
    path = cache / f"word-vectors-{key}.npy"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        vecs = np.asarray(embedder.encode(vocab), dtype=np.float32)
        np.save(path, vecs / np.linalg.norm(vecs, axis=1, keepdims=True))
    return {w: i for i, w in enumerate(vocab)}, np.load(path)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def filler_documents(n_chunks: int, seed: int = 16) -> Iterator[tuple[str, str, list]]:
    """(doc id, text, chunks as (start, end, [unit spans])) until ``n_chunks`` chunks."""
    chain = Markov(seed_sentences(), seed)
    rng = random.Random(seed + 1)
    made, k = 0, 0
    while made < n_chunks:
        n = min(rng.randint(4, 16), n_chunks - made)
        parts, chunks, pos = [f"Filler document {k}"], [], len(f"Filler document {k}") + 2
        for _ in range(n):
            spans: list[tuple[int, int]] = []
            para: list[str] = []
            for _ in range(rng.randint(6, 9)):
                s = chain.sentence()
                start = pos + sum(len(p) + 1 for p in para)
                spans.append((start, start + len(s)))
                para.append(s)
            text = " ".join(para)
            chunks.append((pos, pos + len(text), spans))
            parts.append(text)
            pos += len(text) + 2
        doc_id = hashlib.sha1(f"scale-filler-{k}".encode()).hexdigest()[:16]
        yield doc_id, "\n\n".join(parts), chunks
        made += n
        k += 1


def build(data_dir: Path, n_chunks: int, cache: Path, batch_docs: int = 100) -> dict:
    """Ingest SQuAD for real, then write filler up to ``n_chunks``; returns counts and time."""
    import time

    from assistant.core import Assistant
    from assistant.settings import Settings
    from index.records import DocumentWrite

    began = time.perf_counter()
    assistant = Assistant(Settings(data_dir=data_dir))
    report = assistant.ingest([SQUAD_CORPUS], progress=False)
    real = report.chunks
    store, embedder = assistant.store, assistant.embedder
    vocab, matrix = word_vectors(embedder, seed_sentences(), cache)
    units = 0

    def vector(text: str) -> np.ndarray:
        rows = [vocab[w] for w in (x.lower() for x in _WORD.findall(text)) if w in vocab]
        return _unit(matrix[rows].sum(axis=0)) if rows else _unit(np.ones(matrix.shape[1]))

    batch: list[DocumentWrite] = []
    with store.writing():
        for doc_id, text, chunks in filler_documents(max(0, n_chunks - real)):
            unit_vecs = [vector(text[s:e]) for _, _, spans in chunks for s, e in spans]
            chunk_vecs, row = [], 0
            for _, _, spans in chunks:
                chunk_vecs.append(_unit(np.sum(unit_vecs[row : row + len(spans)], axis=0)))
                row += len(spans)
            units += row
            meta = {
                "source": f"filler-{doc_id}.txt",
                "title": text.split("\n", 1)[0],
                "path": "",
                "content_hash": hashlib.sha256(text.encode()).hexdigest(),
            }
            batch.append(
                DocumentWrite(
                    doc_id,
                    text,
                    meta,
                    chunks,
                    np.asarray(chunk_vecs, dtype=np.float32),
                    np.asarray(unit_vecs, dtype=np.float32),
                    [[""] * len(spans) for _, _, spans in chunks],
                )
            )
            if len(batch) == batch_docs:
                store.write_documents(batch)
                batch = []
        if batch:
            store.write_documents(batch)
    return {
        "real_chunks": real,
        "filler_units": units,
        "build_s": round(time.perf_counter() - began, 1),
    }
