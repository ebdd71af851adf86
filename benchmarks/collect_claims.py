"""Collect answers the real local model writes, for hand-labelling the claim checker's data.

``python -m benchmarks.collect_claims OUT.jsonl`` indexes the sample article and the SQuAD
corpus texts, asks the article dev questions and some SQuAD questions (answerable and not)
with ``ASSISTANT_LLM=local``, and writes one line per answer: the question, the retrieved
passages and the model's raw text. ``tests/data/claims.jsonl`` was labelled from this output.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from assistant.core import SAMPLE_ARTICLE, Assistant
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT / "benchmarks" / "data" / "squad2"
DEV = ROOT / "tests" / "data" / "article-dev.jsonl"


def questions(per_article: int = 6, unanswerable: int = 2) -> list[tuple[str, str]]:
    """(document, question) pairs: the article dev set, then a spread of SQuAD questions."""
    out = []
    dev = DEV if DEV.is_file() else Path("/work/shared/eval/article-dev.jsonl")
    for line in dev.read_text().splitlines():
        out.append((SAMPLE_ARTICLE.name, json.loads(line)["question"]))
    data = json.loads((SQUAD / "squad2-dev-public.json").read_text())
    for article in data["data"]:
        good: list[str] = []
        bad: list[str] = []
        for i, para in enumerate(article["paragraphs"]):
            for qa in para["qas"][:1] if i % 3 == 0 else []:
                (bad if qa.get("is_impossible") else good).append(qa["question"])
        doc = f"{article['title']}.txt"
        out += [(doc, q) for q in good[:per_article]] + [(doc, q) for q in bad[:unanswerable]]
    return out


def main(out_path: str, prompts: str | None = None) -> None:
    """``prompts``: a prompts folder (the default top-level ``prompts/`` for the long rules)."""
    data = Path(tempfile.mkdtemp())
    settings = Settings(data_dir=data, llm="local", prompts_dir=Path(prompts) if prompts else None)
    assistant = Assistant(settings)
    assistant.ingest([SAMPLE_ARTICLE, SQUAD / "corpus"])
    gen = assistant.generative
    assert gen is not None
    with open(out_path, "a", encoding="utf-8") as out:
        for doc, q in questions():
            inputs = assistant.prepare.invoke({"question": q, "history": []})
            passages = inputs["found"].passages[: gen.max_passages]
            t0 = time.perf_counter()
            raw = gen.model.invoke(gen.messages(q, passages)).content
            row = {
                "document": doc,
                "question": q,
                "seconds": round(time.perf_counter() - t0, 1),
                "raw": raw,
                "prompts": prompts or "small",
                "passages": [
                    {"source": p.chunk.source, "start": p.chunk.start, "text": p.chunk.text}
                    for p in passages
                ],
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
            print(row["seconds"], q, "->", raw[:100], flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
