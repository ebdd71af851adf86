"""``assistant eval``: run a question set through the real pipeline and measure it.

Metrics (answerable questions unless said otherwise):
- retrieval recall@k: some retrieved passage contains the evidence; MRR of the first one;
- answer accuracy: the answer (not an abstention) contains every keyword group;
- citation precision: share of citations (of answered questions) whose text holds evidence;
- citation recall: share of questions with some citation holding the evidence;
- citation exactness: share of all citations with ``document[start:end] == text``;
- answered right with the evidence cited: both of the above for the same question;
- abstention on unanswerable questions (and refused or marked uncertain), false abstention
  on answerable ones, and the share of answerable ones answered but marked uncertain;
- latency p50/p95 of the whole ``answer`` call.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from assistant.answer.condense import condense
from assistant.ops.evalsets import EvalItem, cites_evidence, fold, keywords_match

if TYPE_CHECKING:
    from assistant.answer.retrieval import Passage
    from assistant.types import Answer

METRICS = {
    "recall_at_k": "Retrieval recall@k",
    "mrr": "Retrieval MRR",
    "answer_accuracy": "Answer keyword accuracy",
    "answered_cited": "Answered right, evidence cited",
    "citation_precision": "Citation precision",
    "citation_recall": "Citation recall",
    "citation_exact": "Citation offsets exact",
    "abstain_unanswerable": "Abstention, unanswerable",
    "flagged_unanswerable": "Unanswerable refused or uncertain",
    "false_abstain": "False abstention, answerable",
    "uncertain_answerable": "Answerable marked uncertain",
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
    answered_cited: float
    citation_precision: float
    citation_recall: float
    citation_exact: float
    abstain_unanswerable: float
    flagged_unanswerable: float
    false_abstain: float
    uncertain_answerable: float
    latency_p50_ms: float
    latency_p95_ms: float
    graded: list[tuple[float, bool, bool]] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, float | int]:
        d = asdict(self)
        d.pop("graded")
        return d

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


class Tally:
    """Counts over questions, so several folds (each with its own calibration) pool into one
    result."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.n = self.n_an = self.found = self.accurate = self.answered_cited = 0
        self.rr = 0.0
        self.cited_ok = self.cited_all = self.recalled = self.exact = self.n_citations = 0
        self.abstained_un = self.flagged_un = self.abstained_an = self.uncertain_an = 0
        self.latencies: list[float] = []
        # (confidence, answered, right) per question, for the risk-coverage curve
        self.graded: list[tuple[float, bool, bool]] = []

    def add(self, assistant, item: EvalItem, texts: dict[str, str]) -> None:
        """Ask ``item`` through the whole pipeline (``assistant.answer``), timed, and count it."""
        began = time.perf_counter()
        answer = assistant.answer(item.question, item.history)
        latency = (time.perf_counter() - began) * 1000
        passages = None
        if item.answerable:  # after timing, so the recall search is not counted
            passages = assistant.searcher.search(condense(item.question, item.history), self.k)
        self.record(assistant, item, answer, passages, texts, latency)

    def record(
        self,
        assistant,
        item: EvalItem,
        answer: Answer,
        passages: list[Passage] | None,
        texts: dict[str, str],
        latency_ms: float | None = None,
    ) -> None:
        """Count one answer; ``passages`` are what was retrieved for it (for recall), and
        ``latency_ms`` is left out of the percentiles when the answer was not timed."""
        if latency_ms is not None:
            self.latencies.append(latency_ms)
        self.n += 1
        if item.answerable:
            ranks = [
                r
                for r, p in enumerate(passages or [], 1)
                if any(fold(e) in fold(p.chunk.text) for e in item.evidence)
            ]
            self.found += bool(ranks)
            self.rr += 1.0 / ranks[0] if ranks else 0.0
        for c in answer.citations:
            if c.doc_id not in texts:
                texts[c.doc_id] = assistant.document(c.doc_id).text
            self.exact += texts[c.doc_id][c.start : c.end] == c.text
            self.n_citations += 1
        if not item.answerable:
            self.abstained_un += answer.abstained
            self.flagged_un += answer.abstained or answer.uncertain
            self.graded.append((answer.confidence, not answer.abstained, False))
            return
        self.n_an += 1
        self.abstained_an += answer.abstained
        cited = cites_evidence([c.text for c in answer.citations], item.evidence)
        self.recalled += cited
        right = False
        if not answer.abstained:
            self.uncertain_an += answer.uncertain
            right = keywords_match(answer.answer, item.keywords)
            self.accurate += right
            self.answered_cited += right and cited
            self.cited_all += len(answer.citations)
            self.cited_ok += sum(cites_evidence([c.text], item.evidence) for c in answer.citations)
        self.graded.append((answer.confidence, not answer.abstained, bool(right and cited)))

    def result(self) -> EvalResult:
        n_an, n_un = self.n_an, self.n - self.n_an
        return EvalResult(
            questions=self.n,
            answerable=n_an,
            unanswerable=n_un,
            k=self.k,
            recall_at_k=_ratio(self.found, n_an),
            mrr=_ratio(self.rr, n_an),
            answer_accuracy=_ratio(self.accurate, n_an),
            answered_cited=_ratio(self.answered_cited, n_an),
            citation_precision=_ratio(self.cited_ok, self.cited_all),
            citation_recall=_ratio(self.recalled, n_an),
            citation_exact=_ratio(self.exact, self.n_citations),
            abstain_unanswerable=_ratio(self.abstained_un, n_un),
            flagged_unanswerable=_ratio(self.flagged_un, n_un),
            false_abstain=_ratio(self.abstained_an, n_an),
            uncertain_answerable=_ratio(self.uncertain_an, n_an),
            latency_p50_ms=_percentile(self.latencies, 50),
            latency_p95_ms=_percentile(self.latencies, 95),
            graded=self.graded,
        )


def evaluate(
    assistant, items: Sequence[EvalItem], progress: bool = False, tally: Tally | None = None
) -> EvalResult:
    """Ask every item through ``assistant`` (an ``assistant.core.Assistant``); pass ``tally``
    to pool several calls into one result."""
    from tqdm import tqdm

    tally = tally or Tally(assistant.settings.retrieval.k)
    texts: dict[str, str] = {}
    for item in tqdm(items, desc="Evaluating", unit="q", disable=not progress, leave=False):
        tally.add(assistant, item, texts)
    return tally.result()
