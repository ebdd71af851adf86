"""The claim checker on hand-labelled real-model sentences (tests/data/claims.jsonl).

The integration test re-measures what the README quotes: leave-one-document-out threshold,
pooled precision and recall, as floors a little under the measured values.
"""

from __future__ import annotations

from collections import Counter

from assistant.answer.support import contradicts, names, negated, words_to_digits
from benchmarks.claims_eval import DATA, load


def test_the_labelled_set_is_real_model_output_over_several_documents() -> None:
    rows = load()
    assert len(rows) >= 150
    assert {r["label"] for r in rows} == {"supported", "unsupported"}
    origins = Counter(r["origin"] for r in rows)
    assert origins["smollm2-135m (short prompt)"] >= 70
    assert len({r["document"] for r in rows}) >= 6
    assert all(r["passages"] and r["claim"].strip() for r in rows)
    assert len({r["id"] for r in rows}) == len(rows), DATA


def test_number_words_become_digits() -> None:
    assert words_to_digits("Thirty leaders; thirty-seven seats") == "30 leaders; 37 seats"
    assert words_to_digits("one of the models") == "one of the models"  # not a count


def test_negation_and_opposites_are_contradictions() -> None:
    assert negated("Sweden does not rule out sending troops.")
    assert not negated("It is not true that nothing changed.")  # two negators cancel
    assert contradicts("Sweden rules out sending troops.", "Sweden does not rule out it.")
    assert contradicts("The largest state.", "The smallest state on the mainland.")
    assert not contradicts("Bulgaria will not fight.", "The army will not participate.")


def test_names_are_the_capitalised_words_inside_a_sentence() -> None:
    assert names("The Liberal Party is strongest in Melbourne.") == {
        "liberal",
        "party",
        "melbourne",
    }
    assert names("It is believed that the RAM model") == {"ram"}
