"""Unit tests of the answerer's generic mechanisms (no model needed)."""

from __future__ import annotations

import json

import pytest

from assistant.answer_types import answer_type_ok
from assistant.calibration import (
    ANSWER_FEATURES,
    CALIBRATION_FILE,
    SENTENCE_FEATURES,
    Calibration,
)
from assistant.extractive import novel_share
from assistant.lexical import terms


def test_stemming_is_snowball_not_an_alias_table() -> None:
    assert terms("opposed opposing") == ["oppos", "oppos"]
    assert terms("countries country") == ["countri", "countri"]
    # No hand-made aliases: a demonym is not rewritten to its country.
    assert terms("British") == ["british"]


def test_novel_share_separates_restating_from_answering() -> None:
    q = set(terms("Which countries opposed Macron's proposal to deploy peacekeepers?"))
    premise = "Macron proposed to deploy peacekeepers."
    answer = "Germany, Italy, Spain and Poland immediately opposed the idea."
    assert novel_share(q, premise) < 0.6 <= novel_share(q, answer)


def test_answer_type() -> None:
    assert answer_type_ok("How many leaders came?", "30 leaders attended.")
    assert not answer_type_ok("How many leaders came?", "Leaders attended.")
    assert answer_type_ok("When did it start?", "It started in 1967.")


def test_shipped_calibration_matches_the_features() -> None:
    cal = Calibration.load()
    assert len(cal.sentence_coef) == len(SENTENCE_FEATURES)
    assert len(cal.answer_coef) == len(ANSWER_FEATURES)
    assert 0.0 < cal.threshold <= cal.uncertain_below <= 1.0
    assert "SQuAD" in json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))["fitted_on"]


def test_stale_calibration_is_refused(tmp_path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"sentence_coef": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="other features"):
        Calibration.load(path)


def test_probability_is_bounded() -> None:
    cal = Calibration(answer_coef=[100.0] * len(ANSWER_FEATURES))
    assert cal.probability([1.0] * len(ANSWER_FEATURES)) == pytest.approx(1.0)
    assert cal.probability([-1.0] * len(ANSWER_FEATURES)) == pytest.approx(0.0)
