"""``assistant eval``: run a question set through the real pipeline and measure it.

Metrics (answerable questions unless said otherwise):
- retrieval recall@k: some retrieved passage contains the evidence; MRR of the first one;
- answer accuracy: the answer (not an abstention) contains every keyword group;
- citation precision: share of citations (of answered questions) whose text holds evidence;
- citation recall: share of questions with some citation holding the evidence;
- citation exactness: share of all citations with ``document[start:end] == text``;
- abstention on unanswerable questions, and false abstention on answerable ones;
- latency p50/p95 of the whole ``answer`` call.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from assistant.condense import condense
from assistant.evalsets import EvalItem, cites_evidence, fold, keywords_match

METRICS = {
    "recall_at_k": "Retrieval recall@k",
    "mrr": "Retrieval MRR",
    "answer_accuracy": "Answer keyword accuracy",
    "citation_precision": "Citation precision",
    "citation_recall": "Citation recall",
    "citation_exact": "Citation offsets exact",
    "abstain_unanswerable": "Abstention, unanswerable",
    "false_abstain": "False abstention, answerable",
    "latency_p50_ms": "Latency p50 (ms)",
    "latency_p95_ms": "Latency p95 (ms)",
}


@dataclass
class EvalResult:
    """The figures, and how many questions of each kind they rest on."""

    questions: int
    answerable: int
    unanswerable: int
    k: int
    recall_at_k: float
    mrr: float
    answer_accuracy: float
    citation_precision: float
    citation_recall: float
    citation_exact: float
    abstain_unanswerable: float
    false_abstain: float
    latency_p50_ms: float
    latency_p95_ms: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def table(self) -> str:
        head = (
            f"{self.questions} questions ({self.answerable} answerable, "
            f"{self.unanswerable} unanswerable), k={self.k}"
        )
        rows = []
        for key, label in METRICS.items():
            value = getattr(self, key)
            shown = f"{value:8.1f}" if key.startswith("latency") else f"{value:8.1%}"
            rows.append(f"  {label:<32}{shown}")
        return "\n".join([head, *rows])


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def evaluate(assistant, items: Sequence[EvalItem], progress: bool = False) -> EvalResult:
    """Ask every item through ``assistant`` (an ``assistant.core.Assistant``)."""
    from tqdm import tqdm

    k = assistant.settings.retrieval.k
    found = rr = accurate = cited_ok = cited_all = recalled = exact = n_citations = 0
    abstained_un = abstained_an = 0
    latencies: list[float] = []
    texts: dict[str, str] = {}
    answerable = [i for i in items if i.answerable]
    for item in tqdm(items, desc="Evaluating", unit="q", disable=not progress, leave=False):
        began = time.perf_counter()
        answer = assistant.answer(item.question, item.history)
        latencies.append((time.perf_counter() - began) * 1000)
        if item.answerable:  # after timing: this search reuses the cached question vector
            passages = assistant.searcher.search(condense(item.question, item.history), k)
            ranks = [
                r
                for r, p in enumerate(passages, 1)
                if any(fold(e) in fold(p.chunk.text) for e in item.evidence)
            ]
            found += bool(ranks)
            rr += 1.0 / ranks[0] if ranks else 0.0
        for c in answer.citations:
            if c.doc_id not in texts:
                texts[c.doc_id] = assistant.document(c.doc_id).text
            exact += texts[c.doc_id][c.start : c.end] == c.text
            n_citations += 1
        if not item.answerable:
            abstained_un += answer.abstained
            continue
        abstained_an += answer.abstained
        recalled += cites_evidence([c.text for c in answer.citations], item.evidence)
        if not answer.abstained:
            accurate += keywords_match(answer.answer, item.keywords)
            cited_all += len(answer.citations)
            cited_ok += sum(cites_evidence([c.text], item.evidence) for c in answer.citations)
    n_an, n_un = len(answerable), len(items) - len(answerable)
    return EvalResult(
        questions=len(items),
        answerable=n_an,
        unanswerable=n_un,
        k=k,
        recall_at_k=_ratio(found, n_an),
        mrr=_ratio(rr, n_an),
        answer_accuracy=_ratio(accurate, n_an),
        citation_precision=_ratio(cited_ok, cited_all),
        citation_recall=_ratio(recalled, n_an),
        citation_exact=_ratio(exact, n_citations),
        abstain_unanswerable=_ratio(abstained_un, n_un),
        false_abstain=_ratio(abstained_an, n_an),
        latency_p50_ms=_percentile(latencies, 50),
        latency_p95_ms=_percentile(latencies, 95),
    )
