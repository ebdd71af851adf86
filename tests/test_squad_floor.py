"""Quality floors on the SQuAD 2.0 public subset (all 1,407 questions, 5 documents).

The floors are the ones stated in the README; a drop below any of them fails CI.
"""

from __future__ import annotations

import pytest

from assistant.evalsets import cites_evidence, keywords_match, load_items
from benchmarks.common import SQUAD_CORPUS, SQUAD_JSON, temp_assistant

FLOORS = {"citation_has_gold": 0.85, "answer_has_gold": 0.70, "unanswerable_abstain": 0.30}
CEILING_FALSE_ABSTAIN = 0.15


@pytest.mark.integration
def test_squad2_floors(embedder) -> None:
    assistant = temp_assistant([SQUAD_CORPUS], embedder)
    items = load_items(SQUAD_JSON)
    answerable = [i for i in items if i.answerable]
    unanswerable = [i for i in items if not i.answerable]
    cited = answered = false_abstain = 0
    for item in answerable:
        a = assistant.answer(item.question)
        false_abstain += a.abstained
        # Citations count whether or not it abstained: they are what the person can check.
        cited += cites_evidence([c.text for c in a.citations], item.evidence)
        answered += not a.abstained and keywords_match(a.answer, item.keywords)
    abstained = sum(assistant.answer(i.question).abstained for i in unanswerable)
    got = {
        "citation_has_gold": cited / len(answerable),
        "answer_has_gold": answered / len(answerable),
        "unanswerable_abstain": abstained / len(unanswerable),
        "false_abstain": false_abstain / len(answerable),
    }
    print("SQuAD 2.0 subset:", {k: round(v, 3) for k, v in got.items()})
    for key, floor in FLOORS.items():
        assert got[key] >= floor, (key, got)
    assert got["false_abstain"] <= CEILING_FALSE_ABSTAIN, got
