"""Ingest throughput and answer latency: our pipeline against LangChain's tutorial pipeline.

Both run in this process, on the same corpus (the SQuAD 2.0 documents) with the same model,
so the ratios hold on any machine; the absolute figures are for the machine printed first.
The tutorial pipeline is RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings +
Chroma.from_documents + similarity_search(k=4).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ARTICLE, ROOT, SQUAD_CORPUS, SQUAD_JSON, machine

RESULTS = ROOT / "docs" / "bench.json"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def corpus_docs() -> list[tuple[str, str]]:
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(SQUAD_CORPUS.glob("*.txt"))]


def ours_ingest(embedder) -> dict:
    from assistant.core import Assistant
    from assistant.settings import Settings

    chars = sum(len(t) for _, t in corpus_docs())
    assistant = Assistant(Settings(data_dir=Path(tempfile.mkdtemp())), embedder=embedder)
    began = time.perf_counter()
    report = assistant.ingest([SQUAD_CORPUS], progress=False)
    seconds = time.perf_counter() - began
    embedded = sum(e - s for c in assistant.store.all_chunks() for s, e in c.units)
    nonspace = sum(len("".join(t.split())) for _, t in corpus_docs())
    embedded_nonspace = sum(
        len("".join(c.text[s - c.start : e - c.start].split()))
        for c in assistant.store.all_chunks()
        for s, e in c.units
    )
    return {
        "seconds": seconds,
        "chars": chars,
        "chars_per_s": chars / seconds,
        "chunks": report.chunks,
        "chunks_per_s": report.chunks / seconds,
        "embedded_share": embedded_nonspace / nonspace,
        "embedded_chars": embedded,
    }


def tutorial_ingest(model_path: str) -> tuple[dict, Any]:
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    docs = [Document(page_content=t, metadata={"source": n}) for n, t in corpus_docs()]
    chars = sum(len(d.page_content) for d in docs)
    emb = HuggingFaceEmbeddings(model_name=model_path, model_kwargs={"device": "cpu"})
    began = time.perf_counter()
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(
        docs
    )
    store = Chroma.from_documents(splits, emb, persist_directory=tempfile.mkdtemp())
    seconds = time.perf_counter() - began
    tokenizer = emb._client.tokenizer
    window = int(emb._client.max_seq_length or 256) - 2
    truncated = 0
    seen = 0
    for s in splits:
        ids = tokenizer(s.page_content, add_special_tokens=False, return_offsets_mapping=True)
        offsets = ids["offset_mapping"]
        kept = offsets[window - 1][1] if len(offsets) > window else len(s.page_content)
        truncated += len(offsets) > window
        seen += kept
    # Share of the corpus's characters that reach the model: covered by some chunk's kept part.
    return (
        {
            "seconds": seconds,
            "chars": chars,
            "chars_per_s": chars / seconds,
            "chunks": len(splits),
            "chunks_per_s": len(splits) / seconds,
            "truncated_chunks": truncated / len(splits),
            "embedded_share_upper_bound": min(1.0, seen / chars),
        },
        store,
    )


def latency(fn, questions: list[str]) -> dict:
    for q in questions[:5]:
        fn(q)  # warm-up
    times = []
    for q in questions:
        began = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - began) * 1000)
    return {
        "n": len(times),
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "mean_ms": statistics.fmean(times),
    }


def main() -> dict:
    from assistant.ops.evalsets import load_items
    from benchmarks.common import temp_assistant
    from index.embeddings import SentenceEmbeddings, resolve_model

    print(f"Machine: {machine()}")
    embedder = SentenceEmbeddings()
    embedder.encode(["warm up"])
    results: dict = {"machine": machine()}
    tut, tut_store = tutorial_ingest(resolve_model("all-MiniLM-L6-v2"))
    ours = ours_ingest(embedder)
    bf16, embedder.bf16 = embedder.bf16, False
    ours_fp32 = ours_ingest(embedder)
    embedder.bf16 = bf16
    from assistant.settings import Settings
    from index.encoders import make_embedder

    ours_onnx = ours_ingest(make_embedder(Settings()))  # the engine the product uses
    results["ingest"] = {
        "ours": ours,
        "ours_float32": ours_fp32,
        "ours_onnx": ours_onnx,
        "speedup_onnx": ours_onnx["chars_per_s"] / tut["chars_per_s"],
        "tutorial": tut,
        "bf16": bf16,
        "speedup": ours["chars_per_s"] / tut["chars_per_s"],
        "speedup_float32": ours_fp32["chars_per_s"] / tut["chars_per_s"],
    }
    squad_qs = [i.question for i in load_items(SQUAD_JSON)]
    article = temp_assistant([ARTICLE], embedder)
    squad = temp_assistant([SQUAD_CORPUS], embedder)
    # Distinct questions only, so no cache can flatter the figures.
    results["latency"] = {
        "ours_article": latency(article.answer, squad_qs[:300]),
        "ours_squad": latency(squad.answer, squad_qs[300:600]),
        "tutorial_squad_search_only": latency(
            lambda q: tut_store.similarity_search(q, k=4), squad_qs[600:900]
        ),
    }
    print("\nIngest, SQuAD 2.0 documents ({:,} characters):".format(ours["chars"]))
    print(f"  {'pipeline':<12}{'chars/s':>10}{'chunks/s':>10}{'seconds':>9}  embedded text")
    print(
        f"  {'ours':<12}{ours['chars_per_s']:>10,.0f}{ours['chunks_per_s']:>10.1f}"
        f"{ours['seconds']:>9.2f}  {ours['embedded_share']:.1%} (nothing truncated)"
    )
    print(
        f"  {'ours fp32':<12}{ours_fp32['chars_per_s']:>10,.0f}{ours_fp32['chunks_per_s']:>10.1f}"
        f"{ours_fp32['seconds']:>9.2f}  {ours_fp32['embedded_share']:.1%} (bfloat16 off)"
    )
    print(
        f"  {'tutorial':<12}{tut['chars_per_s']:>10,.0f}{tut['chunks_per_s']:>10.1f}"
        f"{tut['seconds']:>9.2f}  <= {tut['embedded_share_upper_bound']:.1%}; "
        f"{tut['truncated_chunks']:.0%} of chunks cut at 256 word pieces"
    )
    print(
        f"  ratio ours/tutorial (chars/s): {results['ingest']['speedup']:.2f}x "
        f"(bfloat16 {'on' if bf16 else 'off: this CPU lacks it'}); "
        f"float32 only: {results['ingest']['speedup_float32']:.2f}x; "
        f"ONNX (the default engine): {results['ingest']['speedup_onnx']:.2f}x "
        f"({ours_onnx['chars_per_s']:,.0f} chars/s)"
    )
    print("\nWarm answer latency (distinct questions):")
    for name, r in results["latency"].items():
        print(f"  {name:<28} p50 {r['p50_ms']:6.1f} ms   p95 {r['p95_ms']:6.1f} ms   (n={r['n']})")
    return results


if __name__ == "__main__":
    main()
