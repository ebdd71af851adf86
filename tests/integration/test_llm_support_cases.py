"""Support scoring with the real model: the labelled data behind SUPPORT_THRESHOLD."""

from __future__ import annotations

import pytest

from assistant.core import Assistant

pytestmark = pytest.mark.integration


# -- support scoring with the real model: the data behind SUPPORT_THRESHOLD ---------------------

Case = tuple[str, str]
SUPPORT_CASES: dict[str, list[Case]] = {
    # (claim, a phrase of the passage sentence it paraphrases)
    "paraphrase": [
        ("Thirty leaders attended the Coalition of the Willing meeting.", "attended by 30 leaders"),
        (
            "The meeting of the Coalition of the Willing was attended by 30 leaders.",
            "attended by 30 leaders",
        ),
        (
            "France and the United Kingdom will send a joint mission to Ukraine.",
            "joint mission to Ukraine",
        ),
        (
            "Macron said France and the UK would send a joint mission to find out how to "
            "strengthen Ukraine's defense forces.",
            "joint mission to Ukraine",
        ),
        (
            "Germany, Italy, Spain and Poland opposed Macron's proposal.",
            "immediately opposed the idea",
        ),
        (
            "Macron proposed deploying a European peacekeeping force behind the future "
            "demarcation line.",
            "behind the future demarcation line",
        ),
        (
            "Keir Starmer said the UK was ready to deploy troops to Ukraine.",
            "ready to deploy troops to Ukraine",
        ),
        ("Starmer promised boots on the ground and planes in the sky.", "boots on the ground"),
        (
            "There is no consensus on sending a European deterrent force to Ukraine.",
            "no consensus on sending",
        ),
        ("Security guarantees should rest on three pillars.", "three pillars"),
        (
            "The Bulgarian parliament declared that Bulgaria's armed forces will not take part "
            "in hostilities in Ukraine.",
            "Bulgarian Armed Forces will not participate",
        ),
        (
            "Romania admitted it could become a transit center for peacekeeping troops.",
            "transit center",
        ),
        (
            "Turkey could deploy peacekeepers, but only if it is involved in all consultations.",
            "Turkey could deploy",
        ),
        (
            "Zelensky said the US position affects European countries' position on sending "
            "peacekeepers.",
            "US position affects",
        ),
        ("Thomas Süssli said Switzerland could send troops if requested.", "Süssli said"),
        ("Ireland is ready to send peacekeepers to Ukraine.", "Michał Martin said"),
        ("Denmark and Australia are also ready to send troops.", "Denmark is also ready"),
        ("Sweden does not rule out sending troops.", "Sweden does not rule out"),
        (
            "Macron and Starmer will maintain the momentum of the coalition.",
            "maintain the momentum",
        ),
        (
            "Macron suggested Trump might change his mind if Russia is not playing fair.",
            "Trump might change his mind",
        ),
        (
            "The deterrent forces will not be deployed on the front line.",
            "not be deployed on the front line",
        ),
        (
            "An emergency meeting of EU leaders was called in France.",
            "emergency meeting of EU leaders",
        ),
        ("Zelensky spoke at a briefing on March 19.", "briefing on March 19"),
        (
            "Europe must be prepared for any eventuality even without US support, Macron said.",
            "prepared for any eventuality",
        ),
        (
            "Macron said France and the UK will send a joint mission to Ukraine after a "
            "Coalition of the Willing meeting attended by 30 leaders.",
            "joint mission to Ukraine",
        ),
        ("Yes, Denmark is ready to send troops.", "Denmark is also ready"),
        (
            "Bulgaria will not take part in hostilities in Ukraine.",
            "Bulgarian Armed Forces will not participate",
        ),
        ("Switzerland could send troops to a peacekeeping mission if asked.", "Süssli said"),
        (
            "The peacekeeping force would be deployed behind the demarcation line rather than on "
            "it.",
            "behind the future demarcation line",
        ),
        ("Europe's demands must be part of any peace talks.", "European demands must be included"),
        ("The Swiss army chief said he could send troops.", "Süssli said"),
    ],
    # (claim that changes a fact, a phrase of the passage it would cite)
    "changed": [
        (
            "Thirty-five leaders attended the Coalition of the Willing meeting.",
            "attended by 30 leaders",
        ),
        ("The meeting was attended by 31 leaders.", "attended by 30 leaders"),
        ("France and Germany will send a joint mission to Ukraine.", "joint mission to Ukraine"),
        (
            "Germany, Italy, Spain and Poland supported the idea enthusiastically.",
            "immediately opposed the idea",
        ),
        (
            "Keir Starmer said the UK would not send any troops to Ukraine.",
            "ready to deploy troops to Ukraine",
        ),
        (
            "The Bulgarian parliament voted to send combat troops to Ukraine.",
            "Bulgarian Armed Forces will not participate",
        ),
        ("Zelensky said that 20,000 peacekeepers will be deployed.", "US position affects"),
        ("Turkey has already deployed 5,000 peacekeepers in Ukraine.", "Turkey could deploy"),
        ("The meeting agreed to deploy 50,000 troops to the Arctic.", "attended by 30 leaders"),
        ("Macron announced a new tax on imported steel.", "joint mission to Ukraine"),
        ("The coalition will build a new airport in Kyiv.", "maintain the momentum"),
        (
            "Japan offered to fund the reconstruction of Ukraine's railways.",
            "Denmark is also ready",
        ),
    ],
}


def test_support_threshold_separates_paraphrases_from_wrong_citations(
    sample_assistant: Assistant,
) -> None:
    """The numbers quoted where SUPPORT_THRESHOLD is defined, as floors."""
    from assistant.answer.retrieval import Passage
    from assistant.answer.support import SupportScorer

    scorer = SupportScorer(sample_assistant.searcher)
    chunks = sample_assistant.searcher.chunks

    def passage(phrase: str) -> Passage:
        return next(Passage(c, 0.0, 0.0, 0) for c in chunks if phrase in c.text)

    paraphrases = [scorer.evidence(claim, passage(p)) for claim, p in SUPPORT_CASES["paraphrase"]]
    wrong = [
        scorer.evidence(claim, Passage(c, 0.0, 0.0, 0))
        for claim, p in SUPPORT_CASES["paraphrase"]
        for c in chunks
        if p not in c.text
    ]
    changed = [scorer.evidence(claim, passage(p)) for claim, p in SUPPORT_CASES["changed"]]
    # At the threshold chosen out-of-fold on tests/data/claims.jsonl (0.675, for precision),
    # 14 of these 31 paraphrases pass (30 did at the old 0.52, which also passed invented
    # model sentences); wrong citations and changed facts are all rejected.
    assert sum(e.supported for e in paraphrases) >= 14, [e.score for e in paraphrases]
    assert not [e.score for e in wrong if e.supported]
    assert sum(not e.supported for e in changed) >= 12, [e.score for e in changed]
    # The cited span is the paraphrased sentence (a claim merging two may cite the other).
    spans = [
        p in e.text for (_, p), e in zip(SUPPORT_CASES["paraphrase"], paraphrases, strict=True)
    ]
    assert sum(spans) >= 29
