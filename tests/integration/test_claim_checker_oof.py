"""The claim checker re-measured out-of-fold on real model output."""

from __future__ import annotations

import pytest

from assistant.answer.support import SUPPORT_THRESHOLD
from benchmarks.claims_eval import build_assistant, evaluate, load, score_rows


@pytest.mark.integration
def test_checker_precision_and_recall_out_of_fold() -> None:
    rows = load()
    assistant = build_assistant()
    scores = score_rows(rows, assistant)
    report = evaluate(rows, scores)
    oof = report["out_of_fold"]
    assert oof["precision"] >= 0.72 and oof["recall"] >= 0.5, oof
    assert oof["unsupported_caught"] >= 0.82, oof
    assert abs(report["threshold_on_all_rows"] - SUPPORT_THRESHOLD) < 0.01
    by_id = {r["id"]: s for r, s in zip(rows, scores, strict=True)}
    claims = {r["id"]: r["claim"] for r in rows}
    # The example: "Thirty leaders attended the meeting." for "attended by 30 leaders".
    assert by_id["a00"] >= SUPPORT_THRESHOLD, claims["a00"]
    for caught in ("a01", "a13", "a28", "a30", "a41", "a04", "a43", "a49", "a11"):
        assert by_id[caught] < SUPPORT_THRESHOLD, claims[caught]  # negations, swaps, antonyms
