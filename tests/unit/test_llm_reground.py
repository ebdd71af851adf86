"""A wholly unsupported LLM answer becomes the passage sentence it was closest to (fakes)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from assistant.answer.answer_types import _HAS_NUMBER
from assistant.answer.reground import NOTE, UNSURE_PREFIX, Candidate, candidates, closest
from assistant.core import Assistant
from tests.conftest import SAMPLE
from tests.support.fake_llm import (
    LEADERS,
    OPPOSED,
    QUESTION,
    assistant_with,
    index_dir,
    number_of,
    replies,
)

__all__ = ["index_dir"]  # the module-scoped index fixture, shared with test_llm_unit
INVENTED = "The meeting was held in France, with 30 leaders from 12 countries [1]."
TEXT = SAMPLE.read_text(encoding="utf-8")


def sure(assistant: Assistant) -> Assistant:
    """The extractive answerer made confident: the hashing embedder leaves it unsure."""
    ex = assistant.extractive
    ex.threshold, ex.calibration = 0.0, replace(ex.calibration, uncertain_below=0.0)
    return assistant


def test_candidates_are_the_best_ranked_sentences_of_the_right_type(index_dir: Path) -> None:
    assistant = assistant_with(index_dir, replies("unused"))
    looked_up = assistant.searcher.find(QUESTION)
    passages = looked_up.passages[:3]
    ranked = assistant.extractive.candidates(looked_up.keeping(passages))
    found = candidates(QUESTION, ranked, passages)
    assert 1 <= len(found) <= 3
    assert all(_HAS_NUMBER.search(c.text) for c in found)  # "how many" wants a number
    assert all(" ".join(c.text.split()) in " ".join(TEXT.split()) for c in found)
    assert LEADERS in [c.text for c in found]
    n = number_of(passages, "30 leaders")
    assert Candidate(n, LEADERS) in found and Candidate(n, LEADERS).reply == f"{LEADERS} [{n}]"
    assert candidates(QUESTION, ranked, passages[:0]) == []  # only retrieved passages count


def test_the_closest_candidate_is_the_one_the_model_paraphrased(index_dir: Path) -> None:
    assistant = assistant_with(index_dir, replies("unused"))
    cands = [Candidate(1, OPPOSED), Candidate(2, LEADERS)]
    pick = closest(QUESTION, [INVENTED], cands, assistant.searcher)
    assert pick is not None and pick.text == LEADERS
    q = "Who opposed the idea?"
    pick = closest(q, ["Germany and Poland were against it [1]."], cands, assistant.searcher)
    assert pick is not None and pick.text == OPPOSED


def test_an_answer_that_shares_nothing_with_the_candidates_is_not_replaced(
    index_dir: Path,
) -> None:
    assistant = assistant_with(index_dir, replies("unused"))
    cands = [Candidate(1, OPPOSED), Candidate(2, LEADERS)]
    assert closest(QUESTION, ["Bananas grow on the moon [1]."], cands, assistant.searcher) is None
    # echoing the question adds nothing the model knew
    echo = ["Leaders attended the Coalition of the Willing meeting [1]."]
    assert closest(QUESTION, echo, cands, assistant.searcher) is None


def test_a_number_the_model_stated_must_be_in_the_sentence_shown(index_dir: Path) -> None:
    assistant = assistant_with(index_dir, replies("unused"))
    troops = "One of the key issues was the sending of troops to Ukraine."
    cands = [Candidate(1, troops), Candidate(2, LEADERS)]
    arctic = ["The leaders also agreed to station 50,000 troops in the Arctic [1]."]
    assert closest(QUESTION, arctic, cands, assistant.searcher) is None  # shares "troops" only
    pick = closest(
        QUESTION, ["Thirty leaders came, with many troops [2]."], cands, assistant.searcher
    )
    assert pick is not None and pick.text == LEADERS  # "Thirty" is the passage's 30


def test_a_rejected_answer_becomes_the_passage_sentence_it_meant(index_dir: Path) -> None:
    model = replies(INVENTED)  # one reply: regrounding makes no second model call
    assistant = sure(assistant_with(index_dir, model))
    answer = assistant.answer(QUESTION)
    assert not answer.abstained and answer.answered_by.startswith("llm")
    [c] = answer.citations
    assert answer.answer == f"{LEADERS} [{c.n}]"
    assert c.supported and TEXT[c.start : c.end] == c.text == LEADERS
    assert NOTE in answer.notes and not answer.uncertain
    assert answer.unsupported_claims == [INVENTED]  # what the model wrote, not shown as answer


def test_an_unsure_extractive_answer_makes_the_regrounded_one_unsure(index_dir: Path) -> None:
    assistant = assistant_with(index_dir, replies(INVENTED))
    looked_up = assistant.searcher.find(QUESTION)
    quoted = assistant.extractive.answer(looked_up.keeping(looked_up.passages[:3]))
    assert quoted.uncertain and not quoted.abstained  # the hashing embedder is unsure here
    answer = assistant.answer(QUESTION)
    assert not answer.abstained and answer.uncertain and answer.confidence == quoted.confidence
    assert answer.answer.startswith(UNSURE_PREFIX) and LEADERS in answer.answer
    assert answer.unsupported_claims == [INVENTED] and NOTE in answer.notes


def test_the_models_own_refusal_stands(index_dir: Path) -> None:
    answer = sure(assistant_with(index_dir, replies("The documents don't say."))).answer(QUESTION)
    assert answer.abstained and NOTE not in answer.notes


def test_no_sentence_stands_in_when_the_documents_do_not_answer(index_dir: Path) -> None:
    """The calibrated extractive answerer abstains here, so no passage sentence is shown."""
    wrong = "The 2022 World Cup was won by Argentina [1]."
    answer = assistant_with(index_dir, replies(wrong)).answer(
        "Who won the football World Cup in 2022?"
    )
    assert answer.abstained and NOTE not in answer.notes
    assert answer.unsupported_claims == [wrong]
    assert not any(c.supported for c in answer.citations)


def test_regrounding_can_be_turned_off(index_dir: Path) -> None:
    assistant = sure(assistant_with(index_dir, replies(INVENTED)))
    assistant.generative.reground = False  # type: ignore[union-attr]
    answer = assistant.answer(QUESTION)
    assert answer.abstained and answer.unsupported_claims == [INVENTED]
