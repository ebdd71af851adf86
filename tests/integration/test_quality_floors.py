"""Quality cannot silently regress: both eval sets, every metric against its stated floor."""

from __future__ import annotations

import pytest

from benchmarks.quality import FLOORS, below_floor, run


@pytest.mark.integration
def test_quality_floors(embedder) -> None:
    results = run(embedder, only=set(FLOORS), timed=False)
    for name, result in results.items():
        print(f"\n{name}: {result.table()}")
    misses = [m for name, r in results.items() for m in below_floor(name, r)]
    assert not misses, misses


@pytest.mark.integration
def test_decisions_rerun_on_collected_candidates_score_like_the_pipeline(embedder) -> None:
    """The CI test scores SQuAD folds with ``decide_again``: it must give what asking the
    questions through the whole pipeline gives (latency aside, which it does not measure)."""
    from assistant.answer.calibration import Calibration
    from assistant.ops.evalsets import load_items
    from benchmarks.calibrate import collect
    from benchmarks.common import ARTICLE, ARTICLE_DEV, temp_assistant
    from benchmarks.quality import EXAMPLES, decide_again, evaluate

    article = temp_assistant([ARTICLE], embedder)
    items = load_items(ARTICLE_DEV) + load_items(EXAMPLES)
    rows = collect(article, items)
    again = decide_again(article, rows, Calibration.load()).as_dict()
    asked = evaluate(article, items).as_dict()
    for key in ("latency_p50_ms", "latency_p95_ms"):
        again.pop(key), asked.pop(key)
    assert again == asked


@pytest.mark.integration
def test_a_fit_does_not_depend_on_how_its_rows_were_last_sorted(embedder) -> None:
    """Scoring rows re-sorts their candidates in place (each fold of the protocol does):
    the next fit on them must see the same (candidate, label) pairs and give the same models."""
    from assistant.answer.calibration import Calibration
    from assistant.ops.evalsets import load_items
    from benchmarks.calibrate import collect, fit
    from benchmarks.common import ARTICLE, ARTICLE_DEV, temp_assistant
    from benchmarks.quality import decide_again

    article = temp_assistant([ARTICLE], embedder)
    rows = collect(article, load_items(ARTICLE_DEV))
    first = fit(rows, article.extractive)
    decide_again(article, rows, Calibration(sentence_coef=[-c for c in first.sentence_coef]))
    assert fit(rows, article.extractive) == first
