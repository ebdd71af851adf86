"""The answer/abstain decision, fitted by ``benchmarks/calibrate.py``, never at run time.

Three small logistic models. The *sentence* model scores each sentence of the retrieved
passages as the answer, from features of the sentence, of the one before it, and of how it
compares with the best sentence found for the question. The *answerability* model turns the
best sentence's features into ``confidence``, the probability that the documents answer the
question; below ``uncertain_below`` the assistant answers but says the documents only come
close. The *refusal* model sees only what says the documents lack the question's content
(its rare terms, names and numbers missing around the best sentence, words found nowhere,
a negation the passage lacks) and none of how well the best sentence is worded or ranked,
which is what changes with how a reader phrases a question; below ``threshold`` it refuses.
The fitted numbers live in ``calibration.json``; every threshold is chosen on training
folds only (leave-one-article-out, see the README).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
SENTENCE_FEATURES = (
    "dense",
    "lexical",
    "prev_dense",
    "prev_lexical",
    "type_ok",
    "novel",
    "focus_ok",
    "pair_gain",
    "rel_dense",
    "rel_lexical",
)
QUESTION_WORDS = ("what", "who", "when", "where", "which", "how", "why")
ANSWER_FEATURES = (
    "dense",
    "lexical",
    "type_ok",
    "score",
    "chunk_lexical",
    "oov",
    "missing",
    "margin",
    "type_dense",
    "named_missing",
    "negation_mismatch",
    "novel_share",
    "restates",
    "question_length",
    "window_cover",
    "window_named_missing",
    "number_missing",
    "best_dense",
    "runner_up_same_chunk",
    "passage_rank",
    *(f"asks_{w}" for w in QUESTION_WORDS),
    "window_missing_max",
    "window_missing_count",
    "sentence_missing_max",
    "sentence_missing_count",
    "negation_in_question",
)
# What says the documents lack the question's content: the refusal model's inputs, a subset
# of ANSWER_FEATURES. Nothing about the best sentence's score, rank or the question's wording.
REFUSAL_FEATURES = (
    "oov",
    "missing",
    "named_missing",
    "negation_mismatch",
    "window_named_missing",
    "number_missing",
    "window_missing_max",
    "window_missing_count",
    "sentence_missing_max",
    "sentence_missing_count",
    "chunk_lexical",
    "window_cover",
)
_REFUSAL_AT = [ANSWER_FEATURES.index(n) for n in REFUSAL_FEATURES]


def refusal_inputs(answer_features: list[float]) -> list[float]:
    """The refusal model's features, picked from the answerability model's."""
    return [answer_features[i] for i in _REFUSAL_AT]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def _dot(weights: list[float], values: list[float]) -> float:
    return sum(w * v for w, v in zip(weights, values, strict=True))


@dataclass(frozen=True)
class Calibration:
    """Weights of both models and the thresholds that grade the answer."""

    sentence_coef: list[float] = field(
        default_factory=lambda: [1.0, 4.0, 0.2, 0.0, 2.0, 0.0, 1.0, 0.0, 3.0, 3.0]
    )
    sentence_intercept: float = -5.0
    answer_coef: list[float] = field(default_factory=lambda: [0.0] * len(ANSWER_FEATURES))
    answer_intercept: float = 0.0
    refusal_coef: list[float] = field(default_factory=lambda: [0.0] * len(REFUSAL_FEATURES))
    refusal_intercept: float = 0.0
    threshold: float = 0.3  # refuse below this probability that the content is there
    uncertain_below: float = 0.5  # answer, marked uncertain, below this confidence
    keep_margin: float = 1.5  # a 2nd/3rd sentence is quoted within this logit of the best
    restate_below: float = 0.0  # a best sentence with less novel content brings its successor

    def sentence_score(self, features: list[float]) -> float:
        """Logit that this sentence holds the answer."""
        return self.sentence_intercept + _dot(self.sentence_coef, features)

    def probability(self, features: list[float]) -> float:
        """Probability that the documents answer the question (``confidence``)."""
        return _sigmoid(self.answer_intercept + _dot(self.answer_coef, features))

    def presence(self, features: list[float]) -> float:
        """Probability that the documents hold what is asked, from the answerability
        features' absence signals (``refusal_inputs``); refused below ``threshold``."""
        return _sigmoid(self.refusal_intercept + _dot(self.refusal_coef, refusal_inputs(features)))

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        cal = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        if (
            len(cal.sentence_coef) != len(SENTENCE_FEATURES)
            or len(cal.answer_coef) != len(ANSWER_FEATURES)
            or len(cal.refusal_coef) != len(REFUSAL_FEATURES)
        ):
            raise ValueError(f"{path.name} was fitted for other features; rerun make calibrate")
        return cal

    def save(self, path: Path = CALIBRATION_FILE, **extra: object) -> None:
        path.write_text(json.dumps({**asdict(self), **extra}, indent=2) + "\n", encoding="utf-8")
