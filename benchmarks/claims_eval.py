"""The claim checker measured on hand-labelled sentences, threshold chosen out-of-fold.

``python -m benchmarks.claims_eval`` scores every (claim, retrieved passages) pair of
``tests/data/claims.jsonl`` with the real embeddings (a claim's score is its best passage
sentence's), then for each document in turn chooses the threshold on the *other* documents
(leave-one-document-out) and applies it to the held-out one. The pooled out-of-fold
decisions give the precision and recall the README quotes; ``docs/claims.json`` keeps them.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from assistant.answer.retrieval import Passage
from assistant.answer.support import SupportScorer
from assistant.core import SAMPLE_ARTICLE, Assistant
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "claims.jsonl"
CORPUS = ROOT / "benchmarks" / "data" / "squad2" / "corpus"
OUT = ROOT / "docs" / "claims.json"
BETA = 0.5  # F0.5: a false "supported" misleads a reader more than a missed citation does


def load(path: Path = DATA) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def score_rows(rows: list[dict[str, Any]], assistant: Assistant) -> list[float]:
    """Each claim's support score against its own passages.

    A passage is the document span the claim was checked on; the index's chunks that overlap
    that span stand in for it, so the labels stay usable when the chunking changes.
    """
    chunks = assistant.searcher.chunks
    scorer = SupportScorer(assistant.searcher)
    scores = []
    for row in rows:
        passages = [
            Passage(c, 0.0, 0.0, 0)
            for p in row["passages"]
            for c in chunks
            if c.source == p["source"]
            and c.start < p["start"] + len(p["text"])
            and c.end > p["start"]
        ]
        assert passages, f"{row['id']}: no indexed text covers its passages"
        scores.append(max(scorer.evidence(row["claim"], p).score for p in passages))
    return scores


def counts(labels: list[bool], predicted: list[bool]) -> dict[str, int]:
    pairs = Counter(zip(labels, predicted, strict=True))
    return {"tp": pairs[True, True], "fp": pairs[False, True], "fn": pairs[True, False],
            "tn": pairs[False, False]}  # fmt: skip


def f_beta(c: dict[str, int], beta: float = BETA) -> float:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0


def choose_threshold(scores: list[float], labels: list[bool]) -> float:
    """The threshold with the best F0.5 on these rows (midpoint between adjacent scores)."""
    values = sorted(set(scores))
    candidates = [(a + b) / 2 for a, b in zip(values, values[1:], strict=False)] or values
    return max(candidates, key=lambda t: (f_beta(counts(labels, [s >= t for s in scores])), -t))


def evaluate(rows: list[dict[str, Any]], scores: list[float]) -> dict[str, Any]:
    """Leave-one-document-out decisions, pooled; per-origin and per-kind breakdowns."""
    labels = [r["label"] == "supported" for r in rows]
    predicted = [False] * len(rows)
    folds = {}
    for doc in sorted({r["document"] for r in rows}):
        train = [i for i, r in enumerate(rows) if r["document"] != doc]
        t = choose_threshold([scores[i] for i in train], [labels[i] for i in train])
        folds[doc] = round(t, 4)
        for i, r in enumerate(rows):
            if r["document"] == doc:
                predicted[i] = scores[i] >= t

    def summary(idx: list[int]) -> dict[str, Any]:
        c = counts([labels[i] for i in idx], [predicted[i] for i in idx])
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else None
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else None
        caught = c["tn"] / (c["tn"] + c["fp"]) if c["tn"] + c["fp"] else None
        return {"n": len(idx), **c, "precision": _r(precision), "recall": _r(recall),
                "unsupported_caught": _r(caught)}  # fmt: skip

    everything = list(range(len(rows)))
    by = {
        "origin": {o: summary([i for i in everything if rows[i]["origin"] == o])
                   for o in sorted({r["origin"] for r in rows})},
        "kind": {k: summary([i for i in everything if rows[i]["kind"] == k])
                 for k in sorted({r["kind"] for r in rows})},
    }  # fmt: skip
    return {
        "method": "leave-one-document-out; threshold maximising F0.5 on the other documents",
        "out_of_fold": summary(everything),
        "fold_thresholds": folds,
        "threshold_on_all_rows": round(choose_threshold(scores, labels), 4),
        **by,
    }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def build_assistant() -> Assistant:
    assistant = Assistant(Settings(data_dir=Path(tempfile.mkdtemp())))
    assistant.ingest([SAMPLE_ARTICLE, CORPUS])
    return assistant


def main() -> None:
    rows = load()
    report = evaluate(rows, score_rows(rows, build_assistant()))
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    json.dump(report["out_of_fold"], sys.stdout, indent=2)
    print(f"\nfold thresholds: {report['fold_thresholds']}")


if __name__ == "__main__":
    main()
