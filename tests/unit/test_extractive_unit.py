"""Unit tests of the answerer's generic mechanisms (no model needed)."""

from __future__ import annotations

import json

import pytest

from assistant.answer.answer_types import answer_type_ok, focus_ok
from assistant.answer.calibration import (
    ANSWER_FEATURES,
    CALIBRATION_FILE,
    REFUSAL_FEATURES,
    SENTENCE_FEATURES,
    Calibration,
    refusal_inputs,
)
from assistant.answer.demonyms import demonym_words
from assistant.answer.extractive import Candidate, ExtractiveAnswerer, prose_first
from assistant.answer.lexical import terms
from assistant.answer.rarity import absence_weights, english_rarity, term_rarity
from assistant.answer.retrieval import Passage
from assistant.answer.wording import is_label, novel_share, question_terms
from index.layout import CODE, PROSE
from index.records import ChunkRecord


def test_stemming_is_snowball_not_an_alias_table() -> None:
    assert terms("opposed opposing") == ["oppos", "oppos"]
    assert terms("countries country") == ["countri", "countri"]
    assert terms("leaders people") == ["leader", "peopl"]  # no synonym table either


def test_demonyms_come_from_the_country_data() -> None:
    words = demonym_words()
    assert len(words) > 150  # every country countryinfo knows with a one-word demonym
    assert words["irish"] == "ireland"
    assert words["british"] == "britain"  # from the alternative spelling "Great Britain"
    assert words["dutch"] == "netherlands"  # a one-word name needs no shared letters
    assert words["french"] == "france"  # shared with Mayotte: the closer name wins
    assert words["korean"] == "korea"  # "South Korean" -> "South Korea"
    assert "english" not in words  # not a country of the data: left alone


def test_demonyms_match_their_country_in_terms() -> None:
    assert terms("Ireland") == terms("Irish")
    assert terms("Australians") == terms("Australia")
    assert terms("British Prime Minister") == terms("Britain prime minister")
    assert terms("Irish") != terms("British")


def test_corpus_words_are_not_asked_about() -> None:
    q = "Who is the British prime minister mentioned in the article?"
    passage = "British Prime Minister Keir Starmer spoke."
    assert question_terms(q, [passage]) == set(terms("British prime minister"))
    # ...unless the documents use them: then they may be what is asked.
    assert "articl" in question_terms("Which article covers fees?", ["Article 5 covers fees."])


def test_novel_share_separates_restating_from_answering() -> None:
    q = set(terms("Which countries opposed Macron's proposal to deploy peacekeepers?"))
    premise = "Macron proposed to deploy peacekeepers."
    answer = "Germany, Italy, Spain and Poland immediately opposed the idea."
    assert novel_share(q, premise) < 0.6 <= novel_share(q, answer)


def test_answer_type() -> None:
    assert answer_type_ok("How many leaders came?", "30 leaders attended.")
    assert not answer_type_ok("How many leaders came?", "Leaders attended.")
    assert answer_type_ok("When did it start?", "It started in 1967.")
    assert not answer_type_ok("When did it start?", "It started after the vote.")
    assert not answer_type_ok("It was founded by whom, and when?", "Smith founded it.")


def test_when_asks_for_a_time_only_as_the_question_word() -> None:
    """A "when" clause inside a question is a condition, and "When should I ..." asks for a
    circumstance: neither needs a date in the answer."""
    condition = "Changes are kept unless the merge conflicts."
    for question in (
        "What happens to the stash entry when git stash pop fails with conflicts?",
        "How do I keep the original file when I compress it?",
        "When should I use git stash?",
        "When I modify the document, what must happen to the Endorsements section?",
    ):
        assert answer_type_ok(question, condition), question
    for question in (
        "When was it founded?",
        "Who founded it, and since when?",
        "I read the notes. When did it start?",
        "Thanks - when did it start?",
        '"When did it happen?"',
        "So when did it start?",
        "When were they founded, this company?",
        "When did Paris, the capital, fall?",
    ):
        assert not answer_type_ok(question, condition), question
    # The thing counted is a separate, softer signal: "people" are counted as "leaders".
    assert answer_type_ok("How many people came?", "It was attended by 30 leaders.")
    assert not focus_ok("How many people came?", set(terms("attended by 30 leaders")))
    assert focus_ok("How many troops came?", set(terms("30,000 troops came")))
    assert focus_ok("Who came?", set())


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


def test_refusal_sees_only_what_the_documents_lack() -> None:
    """The refusal model's inputs are absence signals: how a question is worded (its
    question word) or how well the best sentence scores cannot make it refuse."""
    assert set(REFUSAL_FEATURES) <= set(ANSWER_FEATURES)
    assert not {"score", "margin", "dense", "lexical"} & set(REFUSAL_FEATURES)
    assert not any(name.startswith("asks_") for name in REFUSAL_FEATURES)
    # "What happens when no askpass program is configured?" is how readers ask, not a sign
    # the documents lack the answer; a negation the passage lacks still counts.
    assert "negation_in_question" not in REFUSAL_FEATURES
    assert "negation_mismatch" in REFUSAL_FEATURES
    cal = Calibration(
        answer_coef=[1.0] * len(ANSWER_FEATURES), refusal_coef=[1.0] * len(REFUSAL_FEATURES)
    )
    base = [0.5] * len(ANSWER_FEATURES)
    reworded = list(base)
    for name in ("score", "asks_what", "asks_how", "margin", "negation_in_question"):
        reworded[ANSWER_FEATURES.index(name)] = -3.0
    assert cal.presence(reworded) == cal.presence(base)
    assert cal.probability(reworded) < cal.probability(base)
    missing = list(base)
    missing[ANSWER_FEATURES.index("window_missing_max")] = -3.0
    assert cal.presence(missing) < cal.presence(base)
    assert refusal_inputs(base) == [0.5] * len(REFUSAL_FEATURES)


def test_calibration_fitted_without_a_refusal_model_is_refused(tmp_path) -> None:
    cal = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    cal["refusal_coef"] = cal["refusal_coef"][:-1]
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cal))
    with pytest.raises(ValueError, match="other features"):
        Calibration.load(path)


def test_a_lone_word_labels_what_follows_and_is_not_an_answer() -> None:
    assert is_label("operator") and is_label("www-data")
    assert not is_label("Yes.") and not is_label("It had uid 37.")
    assert not is_label("git stash list")  # a command line is quotable


def test_everyday_words_weigh_little_as_missing_content() -> None:
    """A reader's everyday word the documents never use ("happens", "bare") says less
    about missing content than a rare term ("askpass") with the same IDF here."""
    idf = {t: 5.0 for t in terms("What happens with a bare askpass?")}
    weights = absence_weights("What happens with a bare askpass?", idf)
    assert weights["askpass"] == pytest.approx(5.0)
    assert weights[terms("happens")[0]] < 2.5
    assert weights["bare"] < 3.0
    assert english_rarity("the") == 0.0
    assert english_rarity("zzqxv") == 1.0
    # Every inflection of a term takes the rarest word's rarity ("deleting" and "deletion").
    rare = term_rarity("Deletion after deleting")
    assert rare == {"delet": max(english_rarity("deletion"), english_rarity("deleting"))}


def _candidate(kind: str, score_features: list[float]) -> Candidate:
    chunk = ChunkRecord("c", "d", "s", "t", None, "x", 0, 1, ((0, 1),), kinds=(kind,))
    return Candidate(Passage(chunk, 0.5, 0.5, 0), 0, 1, "x", score_features, kind=kind)


def test_a_code_block_is_quoted_after_the_prose_that_comes_close() -> None:
    """A synopsis or shell session scored highest is quoted after the prose sentences
    within the keep margin of it, though it stays the best candidate for deciding whether
    to answer; with no prose close to it (or none at all), the code leads."""
    answerer = ExtractiveAnswerer(searcher=None, calibration=Calibration())  # type: ignore[arg-type]
    strong, weak = [0.9, 1.0, 0, 0, 1, 0, 1, 0, 0, 0], [0.2, 0.1, 0, 0, 1, 0, 1, 0, -0.7, -0.9]
    code, prose = _candidate(CODE, strong), _candidate(PROSE, weak)
    ranked = [prose, code]
    answerer.rescore(ranked)
    gap = code.score - prose.score
    assert ranked == [code, prose]  # the decision sees the best candidate of any kind
    assert prose_first(ranked, gap + 0.1) == [prose, code]
    second = _candidate(PROSE, weak)
    second.score = prose.score
    assert prose_first([code, prose, second], gap + 0.1) == [prose, second, code]
    assert prose_first(ranked, gap - 0.1) == [code, prose]  # no prose close: code leads
    assert ranked == [code, prose]  # not reordered in place
    only_code = [_candidate(CODE, strong), _candidate(CODE, weak)]
    assert prose_first(only_code, 100.0) == only_code
