"""Lexical matching, BM25 and follow-up condensing: fast unit tests."""

from __future__ import annotations

from assistant.answer.answer_types import answer_type_ok, focus_term
from assistant.answer.condense import condense
from assistant.answer.lexical import BM25, terms


def test_terms_fold_accents_and_stem() -> None:
    assert terms("Süssli's troops were deploying") == ["sussli", "troop", "deploy"]


def test_bm25_ranks_the_matching_text_first() -> None:
    bm = BM25(["cats purr softly", "dogs bark loudly at night", "the stock market fell"])
    assert bm.top("why do dogs bark", 3)[0][0] == 1
    assert bm.top("nothing matches here", 3) == []
    assert bm.idf_of("unseen") > bm.idf_of("dog")


def test_condense_replaces_the_subject_of_the_last_question() -> None:
    history = [
        {"role": "user", "content": "Is Australia ready to send peacekeepers?"},
        {"role": "assistant", "content": "Yes [1]."},
    ]
    assert condense("And Denmark?", history) == "Is Denmark ready to send peacekeepers?"
    assert condense("What about the Czech Republic?", history) == (
        "Is Czech Republic ready to send peacekeepers?"
    )
    assert condense("Who leads the Swiss army?", history) == "Who leads the Swiss army?"
    assert condense("And Denmark?", None) == "And Denmark?"


def test_answer_type_checks() -> None:
    q = "How many troops will the United Kingdom send?"
    assert focus_term(q) == "troop"
    assert not answer_type_ok(q, "The UK will send troops to Ukraine.")
    assert answer_type_ok(q, "The UK will send 5,000 troops.")
    assert not answer_type_ok("When did the briefing happen?", "Zelensky spoke at a briefing.")
    assert answer_type_ok("When did the briefing happen?", "He spoke on March 19.")
