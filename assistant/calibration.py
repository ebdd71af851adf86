"""The answer/abstain decision, fitted on the evaluation data by ``benchmarks/calibrate.py``.

Two small logistic models. The *sentence* model scores each sentence of the retrieved
passages as the answer, from features of the sentence and of the one before it (an answer
often follows the sentence that names the topic). The *answerability* model turns the best
sentence's features into the probability that the documents answer the question at all;
below ``threshold`` the assistant abstains. The fitted numbers live in ``calibration.json``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
SENTENCE_FEATURES = ("dense", "lexical", "prev_dense", "prev_lexical", "type_ok", "novel")
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
)


def _dot(weights: list[float], values: list[float]) -> float:
    return sum(w * v for w, v in zip(weights, values, strict=True))


@dataclass(frozen=True)
class Calibration:
    """Weights of both models, the threshold, and how close a second sentence must score."""

    sentence_coef: list[float] = field(default_factory=lambda: [4.0, 4.0, 0.5, 0.5, 1.0, 0.3])
    sentence_intercept: float = -5.0
    answer_coef: list[float] = field(
        default_factory=lambda: [2.0, -1.0, 0.3, 0.4, -1.0, -1.0, -1.0, 0.1, 0.5, -1.0, -0.5]
    )
    answer_intercept: float = -4.0
    threshold: float = 0.5
    keep_margin: float = 1.0

    def sentence_score(self, features: list[float]) -> float:
        """Logit that this sentence holds the answer."""
        return self.sentence_intercept + _dot(self.sentence_coef, features)

    def probability(self, features: list[float]) -> float:
        """Probability that the documents answer the question."""
        z = self.answer_intercept + _dot(self.answer_coef, features)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def save(self, path: Path = CALIBRATION_FILE, **extra: object) -> None:
        path.write_text(json.dumps({**asdict(self), **extra}, indent=2) + "\n", encoding="utf-8")
