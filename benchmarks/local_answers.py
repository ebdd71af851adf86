"""The real local model's answers over several documents: accepted, refused or fallen back.

``python -m benchmarks.local_answers [--split dev|test|all] [--out PATH]`` indexes the
sample article and the five SQuAD corpus articles, asks each question with
``ASSISTANT_LLM=local`` and sorts the answers:

- **accepted**: ``answered_by`` starts with ``llm``, not abstained, every citation's
  ``text`` equals the document's ``[start:end]``;
- **refused**: the LLM's answer was not supported, so the assistant abstained;
- **fallen back**: the LLM failed (timeout, error) and the documents were quoted instead.

Beside that, whether the answer is right: an answerable question's answer contains its
keywords (the article set) or a SQuAD gold answer; an unanswerable one is refused.

Splits: ``dev`` is what the small-model prompts and the second attempt were tuned on (the
article dev set, and per SQuAD article two answerable and one unanswerable question from
paragraphs 0, 3, 6, ...); ``test`` was not looked at while tuning (per article three
answerable and one unanswerable question from paragraphs 1, 4, 7, ...). ``fresh`` (the same
from paragraphs 2, 5, 8, ...) was added after ``test`` had shown that the extractive
answerer's abstention alone let regrounding answer unanswerable questions plainly; a
regrounded answer has since been as unsure as the extractive one, and is reported on it. 30
+ 20 + 20 questions: the real model takes 2-60 s an answer on two shared cores."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from assistant.ops.evalsets import fold, keywords_match
from benchmarks.common import ARTICLE, ARTICLE_DEV, ROOT, SQUAD_CORPUS, SQUAD_JSON, machine

OUT = ROOT / "docs" / "local_answers.json"


def squad_items(offset: int, answerable: int, unanswerable: int) -> list[dict[str, Any]]:
    """From paragraphs ``offset``, ``offset + 3``, ... of each SQuAD article: the first
    answerable question of each, and the first unanswerable one (SQuAD lists those later)."""
    data = json.loads(SQUAD_JSON.read_text(encoding="utf-8"))["data"]
    out = []
    for article in data:
        good: list[dict[str, Any]] = []
        bad: list[dict[str, Any]] = []
        for i, para in enumerate(article["paragraphs"]):
            if i % 3 != offset:
                continue
            for impossible, found in ((False, good), (True, bad)):
                same = [q for q in para["qas"] if bool(q.get("is_impossible")) == impossible]
                qa = same[0] if same else None
                if qa is None:
                    continue
                golds = list(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                found.append(
                    {
                        "id": qa["id"],
                        "document": f"{article['title']}.txt",
                        "question": qa["question"],
                        "answerable": not impossible,
                        "keywords": [golds] if golds else [],
                    }
                )
        out += good[:answerable] + bad[:unanswerable]
    return out


def article_items() -> list[dict[str, Any]]:
    out = []
    for line in ARTICLE_DEV.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        out.append(
            {
                "id": d["id"],
                "document": ARTICLE.name,
                "question": d["question"],
                "answerable": d["answerable"],
                "keywords": d.get("answer_keywords", []),
                "history": d.get("history", []),
            }
        )
    return out


def items(split: str) -> list[dict[str, Any]]:
    """The questions of a split (see the module docstring)."""
    dev = article_items() + squad_items(0, 2, 1)
    test = squad_items(1, 3, 1)
    fresh = squad_items(2, 3, 1)
    return {"dev": dev, "test": test, "fresh": fresh, "all": dev + test + fresh}[split]


def outcome(answer: dict[str, Any], texts: dict[str, str]) -> str:
    """accepted, refused, fallen back, or inexact (a citation whose offsets do not hold)."""
    for c in answer["citations"]:
        if texts[c["doc_id"]][c["start"] : c["end"]] != c["text"]:
            return "inexact"
    if not answer["answered_by"].startswith("llm"):
        return "fallen back"
    return "refused" if answer["abstained"] else "accepted"


def is_right(item: dict[str, Any], answer: dict[str, Any]) -> bool:
    """An answerable question answered with its keywords; an unanswerable one refused."""
    if not item["answerable"]:
        return bool(answer["abstained"])
    if answer["abstained"]:
        return False
    text = answer["answer"]
    if item["document"] == ARTICLE.name:
        return keywords_match(text, item["keywords"])
    return any(fold(g) in fold(text) for g in item["keywords"][0])


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def share(pred) -> str:
        n = sum(1 for r in rows if pred(r))
        return f"{n}/{len(rows)}"

    answerable = [r for r in rows if r["answerable"]]
    seconds = [r["seconds"] for r in rows]
    return {
        "n": len(rows),
        "accepted": share(lambda r: r["outcome"] == "accepted"),
        "refused": share(lambda r: r["outcome"] == "refused"),
        "fallen_back": share(lambda r: r["outcome"] == "fallen back"),
        "inexact": share(lambda r: r["outcome"] == "inexact"),
        "accepted_uncertain": share(lambda r: r["outcome"] == "accepted" and r["uncertain"]),
        "accepted_regrounded": share(lambda r: r["outcome"] == "accepted" and r["regrounded"]),
        "right": share(lambda r: r["right"]),
        "answerable_right": f"{sum(r['right'] for r in answerable)}/{len(answerable)}",
        "unanswerable_refused": share(lambda r: not r["answerable"] and r["abstained"]),
        "accepted_and_right": share(lambda r: r["outcome"] == "accepted" and r["right"]),
        "accepted_and_wrong": share(lambda r: r["outcome"] == "accepted" and not r["right"]),
        "extractive_right": share(lambda r: r["extractive_right"]),
        "seconds_median": round(statistics.median(seconds), 1) if seconds else None,
        "seconds_p90": round(sorted(seconds)[int(0.9 * (len(seconds) - 1))], 1)
        if seconds
        else None,
    }


def quoted_answer(assistant: Any, item: dict[str, Any]) -> dict[str, Any]:
    """The extractive answer over the same index, for comparison (milliseconds a question)."""
    from assistant.answer.condense import condense

    standalone = condense(item["question"], item.get("history"))
    found = assistant.searcher.find(standalone, assistant.retriever.k)
    return json.loads(assistant.extractive.answer(found).model_dump_json())


def run(
    split: str, out: Path, limit: int | None = None, ids: set[str] | None = None
) -> dict[str, Any]:
    from benchmarks.common import temp_assistant

    assistant = temp_assistant([ARTICLE, SQUAD_CORPUS], llm="local")
    texts = {d.doc_id: assistant.document(d.doc_id).text for d in assistant.documents()}
    load = os.getloadavg()[0]
    rows = []
    chosen = [i for i in items(split) if ids is None or i["id"] in ids][:limit]
    for item in chosen:
        t0 = time.perf_counter()
        answer = json.loads(
            assistant.answer(item["question"], item.get("history")).model_dump_json()
        )
        seconds = time.perf_counter() - t0
        quoted = quoted_answer(assistant, item)
        row = {
            **{k: item[k] for k in ("id", "document", "question", "answerable")},
            "outcome": outcome(answer, texts),
            "right": is_right(item, answer),
            "extractive_right": is_right(item, quoted),
            "abstained": answer["abstained"],
            "uncertain": answer["uncertain"],
            "regrounded": any("shown instead" in n for n in answer["notes"]),
            "seconds": round(seconds, 1),
            "answer": answer["answer"],
            "unsupported_claims": answer["unsupported_claims"],
        }
        rows.append(row)
        print(f"{row['seconds']:5.1f}s {row['outcome']:9} {'right' if row['right'] else '     '}",
              "regrounded" if row["regrounded"] else "          ",
              item["question"][:60], "->", answer["answer"][:90], flush=True)  # fmt: skip
    report = {
        "what": "the real local model (ASSISTANT_LLM=local) answering over six documents",
        "machine": machine(),
        "load_average_at_start": round(load, 2),
        "split": split,
        "summary": summarise(rows),
        "by_split": {
            name: summarise([r for r in rows if r["id"] in {i["id"] for i in items(name)}])
            for name in ("dev", "test", "fresh")
        },
        "rows": rows,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.local_answers")
    parser.add_argument("--split", choices=("dev", "test", "fresh", "all"), default="all")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--limit", type=int, default=None, help="Only the first N questions.")
    parser.add_argument("--ids", default=None, help="Only these question ids (comma-separated).")
    args = parser.parse_args(argv)
    ids = set(args.ids.split(",")) if args.ids else None
    report = run(args.split, args.out, args.limit, ids)
    json.dump(report["by_split"], sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
