"""Fit the sentence, answerability and refusal models; write assistant/answer/calibration.json.

Run: ``python -m benchmarks.calibrate``. ``fit`` is what every fold of ``make eval`` calls on
its training questions, so the shipped file (fitted on all five SQuAD articles) is made the
same way as the out-of-fold figures the README reports. Nothing here sees the article sets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from sklearn.linear_model import LogisticRegression

from assistant.answer.calibration import Calibration, refusal_inputs
from assistant.answer.condense import condense
from assistant.answer.extractive import Candidate, ExtractiveAnswerer
from assistant.answer.retrieval import Found, Passage
from assistant.ops.evalsets import EvalItem, cites_evidence

MAX_FALSE_REFUSAL = 0.06  # training folds: at most this share of answerable questions refused
CONFIDENT_PRECISION = 0.80  # answers at or above uncertain_below are right this often (training)
MARGINS = (0.5, 1.0, 1.5, 2.0, 3.0)
RESTATES = (0.0, 0.3, 0.4, 0.5, 0.6)


@dataclass
class Row:
    """One question with its scored candidates and which of them hold the evidence."""

    item: EvalItem
    found: Found  # the standalone question, its snapshot and what was retrieved
    cands: list[Candidate]  # re-sorted in place whenever a calibration rescores them

    @property
    def question(self) -> str:
        return self.found.query

    @property
    def passages(self) -> list[Passage]:
        return self.found.passages

    @property
    def labels(self) -> list[bool]:
        """Which candidates hold the evidence, in the candidates' current order (a list kept
        from collection time fell out of step once ``rescore`` re-sorted them)."""
        return [cites_evidence([c.text], self.item.evidence) for c in self.cands]


def collect(assistant, items: list[EvalItem]) -> list[Row]:
    """Candidates of every question, from the real retrieval and feature code."""
    rows = []
    for item in items:
        question = condense(item.question, item.history)
        found = assistant.searcher.find(question)
        rows.append(Row(item, found, assistant.extractive.candidates(found)))
    return rows


def _right(answerer: ExtractiveAnswerer, row: Row, cal: Calibration) -> bool:
    picked = answerer.pick(row.found, row.cands, cal)
    return row.item.answerable and cites_evidence([c.text for c in picked], row.item.evidence)


def fit(rows: list[Row], answerer: ExtractiveAnswerer) -> Calibration:
    """The three models and every threshold, from ``rows`` only.

    ``threshold`` (on the refusal model) refuses at most ``MAX_FALSE_REFUSAL`` of the
    training answerable questions; ``uncertain_below`` (on ``confidence``) is the lowest at
    which the training answers given are right ``CONFIDENT_PRECISION`` of the time.
    """
    rows = [r for r in rows if r.cands]
    answerable = [r for r in rows if r.item.answerable]
    x = np.array([c.features for r in answerable for c in r.cands])
    y = np.array([lab for r in answerable for lab in r.labels])
    sent = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    cal = Calibration(
        sentence_coef=[round(float(v), 4) for v in sent.coef_[0]],
        sentence_intercept=round(float(sent.intercept_[0]), 4),
    )
    for r in rows:
        answerer.rescore(r.cands, cal)
    # Quote more sentences only where that finds more evidence on the training questions:
    # the smallest margin (and restating rule) within half a point of the best recall.
    recall = {
        (m, t): np.mean(
            [_right(answerer, r, replace(cal, keep_margin=m, restate_below=t)) for r in answerable]
        )
        for m in MARGINS
        for t in RESTATES
    }
    top = max(recall.values())
    margin, restate = min(k for k, v in recall.items() if v >= top - 0.005)
    cal = replace(cal, keep_margin=margin, restate_below=restate)
    ax = np.array([answerer.answer_features(r.found, r.cands) for r in rows])
    ay = np.array([r.item.answerable for r in rows])
    ans = LogisticRegression(C=0.3, max_iter=5000).fit(ax, ay)
    rx = np.array([refusal_inputs(list(f)) for f in ax])
    ref = LogisticRegression(C=0.3, max_iter=5000).fit(rx, ay)
    cal = replace(
        cal,
        answer_coef=[round(float(v), 4) for v in ans.coef_[0]],
        answer_intercept=round(float(ans.intercept_[0]), 4),
        refusal_coef=[round(float(v), 4) for v in ref.coef_[0]],
        refusal_intercept=round(float(ref.intercept_[0]), 4),
    )
    presence = np.array([cal.presence(list(f)) for f in ax])
    threshold = float(np.sort(presence[ay])[int(MAX_FALSE_REFUSAL * ay.sum())])
    conf = np.array([cal.probability(list(f)) for f in ax])
    right = np.array([_right(answerer, r, cal) for r in rows]) & (presence >= threshold)
    uncertain = 1.0
    for t in np.linspace(0.0, 1.0, 401):
        sel = (conf >= t) & (presence >= threshold)
        if sel.sum() >= 20 and right[sel].mean() >= CONFIDENT_PRECISION:
            uncertain = float(t)
            break
    return replace(cal, threshold=round(threshold, 4), uncertain_below=round(uncertain, 4))


def main() -> None:
    from assistant.ops.evalsets import load_items
    from benchmarks.common import SQUAD_CORPUS, SQUAD_JSON, temp_assistant
    from index.embeddings import SentenceEmbeddings

    try:
        Calibration.load()
    except ValueError:  # fitted for other features: the assistant needs a loadable file first
        Calibration().save()
    assistant = temp_assistant([SQUAD_CORPUS], SentenceEmbeddings())
    rows = collect(assistant, load_items(SQUAD_JSON))
    cal = fit(rows, assistant.extractive)
    cal.save(
        fitted_on="all 5 SQuAD 2.0 articles of benchmarks/data (1,407 questions); "
        "the article sets were not used",
        max_false_refusal=MAX_FALSE_REFUSAL,
        confident_precision=CONFIDENT_PRECISION,
    )
    print("wrote assistant/answer/calibration.json:", cal)


if __name__ == "__main__":
    main()
