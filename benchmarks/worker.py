"""Run one ingest pipeline in its own process, so its time and peak memory are its own.

``python -m benchmarks.worker ours|tutorial CORPUS_DIR [QUESTIONS_JSON]`` prints one JSON
object: seconds, chars, chunks, peak RSS, and answer/search latency over the questions.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchmarks.common  # noqa: F401 - offline environment first
from benchmarks.speed import latency


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(corpus: Path, questions: list[str]) -> dict:
    from assistant.core import Assistant
    from assistant.settings import Settings
    from index.embeddings import SentenceEmbeddings

    embedder = SentenceEmbeddings()
    embedder.encode(["warm up"])
    embedder.encode_chunks(["Warm up the ingest path."], [[(0, 24)]])
    before = _rss_mb()
    assistant = Assistant(Settings(data_dir=Path(tempfile.mkdtemp())), embedder=embedder)
    began = time.perf_counter()
    report = assistant.ingest([corpus], progress=False)
    seconds = time.perf_counter() - began
    out: dict[str, Any] = {
        "seconds": seconds,
        "chars": report.chars,
        "chunks": report.chunks,
        "rss_before_mb": before,
        "peak_rss_mb": _rss_mb(),
    }
    if questions:
        out["latency"] = latency(assistant.answer, questions)
    return out


def run_tutorial(corpus: Path, questions: list[str]) -> dict:
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from index.embeddings import resolve_model

    emb = HuggingFaceEmbeddings(
        model_name=resolve_model("all-MiniLM-L6-v2"), model_kwargs={"device": "cpu"}
    )
    emb.embed_query("warm up")
    before = _rss_mb()
    began = time.perf_counter()
    docs = [
        Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": p.name})
        for p in sorted(corpus.rglob("*.txt"))
    ]
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(
        docs
    )
    store = Chroma.from_documents(splits, emb, persist_directory=tempfile.mkdtemp())
    seconds = time.perf_counter() - began
    out: dict[str, Any] = {
        "seconds": seconds,
        "chars": sum(len(d.page_content) for d in docs),
        "chunks": len(splits),
        "rss_before_mb": before,
        "peak_rss_mb": _rss_mb(),
    }
    if questions:
        out["latency"] = latency(lambda q: store.similarity_search(q, k=4), questions)
    return out


def main() -> None:
    which, corpus = sys.argv[1], Path(sys.argv[2])
    questions = json.loads(Path(sys.argv[3]).read_text()) if len(sys.argv) > 3 else []
    result = (run_ours if which == "ours" else run_tutorial)(corpus, questions)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
