"""What counts as a sentence answering a negated question (assistant/answer/negation.py)."""

from assistant.answer.negation import answers_negation, asks_negated


def test_a_negated_question_is_recognised_by_any_negator() -> None:
    assert asks_negated("What happens when no askpass program is configured?")
    assert asks_negated("Why doesn’t the stash keep untracked files?")  # curly apostrophe
    assert not asks_negated("What happens when an askpass program is configured?")


def test_a_condition_turned_round_answers_a_negated_question() -> None:
    q = "What happens when no askpass program is configured?"
    assert answers_negation(q, "Otherwise, the user is prompted on the terminal.")
    assert answers_negation(q, "Unless a helper is set, git prompts.")
    assert not answers_negation(q, "The askpass program is run with the prompt text.")


def test_the_negated_word_with_a_negating_prefix_answers_it() -> None:
    q = "What error do you get when deleting a name that is not bound?"
    assert answers_negation(q, "Deleting an unbound name raises a NameError.")
    assert answers_negation("Which forms are not valid?", "Those forms are invalid.")
    assert answers_negation("What if the key is no longer available?", "It is unavailable.")
    # A prefixed form of some other word is no answer to this negation.
    assert not answers_negation(q, "Deleting an undefined local raises a NameError.")


def test_a_plain_negator_in_the_sentence_still_counts() -> None:
    assert answers_negation("Who did not attend?", "Starmer did not attend the summit.")
    assert not answers_negation("Who did not attend?", "Starmer attended the summit.")
