"""The second, constrained attempt after a wholly unsupported first answer (fake models)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant.second_attempt import NOTE, Candidate, candidates, gbnf_literal, grammar
from tests.conftest import SAMPLE
from tests.test_llm_unit import LEADERS, QUESTION, assistant_with, index_dir, number_of, replies

__all__ = ["index_dir"]  # the module-scoped index fixture, shared with test_llm_unit
INVENTED = "The meeting was held in France, with 30 leaders from 12 countries [1]."
TEXT = SAMPLE.read_text(encoding="utf-8")


class Recording(GenericFakeChatModel):
    """A fake that takes a GBNF grammar, as the local llama.cpp model does, and records calls."""

    supports_grammar: bool = True
    calls: list[dict[str, Any]] = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
        self.calls.append({"messages": messages, **kwargs})
        return super()._generate(messages, stop, run_manager, **kwargs)


def recording(*texts: str) -> Recording:
    return Recording(messages=iter([AIMessage(t) for t in texts]), calls=[])


def test_gbnf_literals_escape_what_would_end_or_break_them() -> None:
    assert gbnf_literal('He said "no" \\ then\nleft') == '"He said \\"no\\" \\\\ then\\x0Aleft"'
    rule = grammar([Candidate(1, 'A "quoted" word.'), Candidate(3, "Süssli said so.")])
    assert rule == 'root ::= "A \\"quoted\\" word. [1]" | "Süssli said so. [3]"\n'


def test_candidates_are_the_best_ranked_sentences_of_the_right_type(index_dir: Path) -> None:
    assistant = assistant_with(index_dir, replies("unused"))
    passages = assistant.searcher.search(QUESTION)[:3]
    ranked = assistant.extractive.candidates(QUESTION, passages)
    found = candidates(QUESTION, ranked, passages)
    assert 1 <= len(found) <= 3
    assert all(any(ch.isdigit() for ch in c.text) for c in found)  # "how many" wants a number
    assert all(" ".join(c.text.split()) in " ".join(TEXT.split()) for c in found)
    assert found[0].text == LEADERS and found[0].n == number_of(passages, "30 leaders")
    assert candidates(QUESTION, ranked, passages[:0]) == []  # only retrieved passages count


def test_rejected_first_answer_gets_a_constrained_second_that_passes(index_dir: Path) -> None:
    first = assistant_with(index_dir, replies("unused"))
    passages = first.searcher.search(QUESTION)[:3]
    n = number_of(passages, "30 leaders")
    model = recording(INVENTED, f"{LEADERS} [{n}]")
    assistant = assistant_with(index_dir, model)
    answer = assistant.answer(QUESTION)
    assert not answer.abstained and answer.answer == f"{LEADERS} [{n}]"
    [c] = answer.citations
    assert c.supported and TEXT[c.start : c.end] == c.text == LEADERS
    assert NOTE in answer.notes
    assert answer.unsupported_claims == [INVENTED]  # what the first attempt wrote, not shown
    second = model.calls[1]
    assert second["grammar"].startswith("root ::= ") and f'{LEADERS[:-1]}. [{n}]"' in (
        second["grammar"].replace('\\"', '"')
    )
    assert "Copy" in second["messages"][-1].content


def test_no_second_attempt_after_the_models_own_refusal(index_dir: Path) -> None:
    model = recording("The documents don't say.")
    answer = assistant_with(index_dir, model).answer(QUESTION)
    assert answer.abstained and len(model.calls) == 1


def test_no_second_attempt_when_the_documents_do_not_answer(index_dir: Path) -> None:
    """The calibrated extractive answerer abstains here, so no sentence is forced on it."""
    model = recording("The 2022 World Cup was won by Argentina [1].")
    answer = assistant_with(index_dir, model).answer("Who won the football World Cup in 2022?")
    assert answer.abstained and len(model.calls) == 1
    assert answer.unsupported_claims == ["The 2022 World Cup was won by Argentina [1]."]


def test_an_unsupported_second_answer_leaves_the_refusal(index_dir: Path) -> None:
    model = recording(INVENTED, "Bananas grow on the moon in winter [1].")
    answer = assistant_with(index_dir, model).answer(QUESTION)
    assert answer.abstained and len(model.calls) == 2 and NOTE not in answer.notes
    assert answer.unsupported_claims == [INVENTED]
    assert not any(c.supported for c in answer.citations)


def test_a_failing_second_attempt_leaves_the_refusal(index_dir: Path) -> None:
    model = recording(INVENTED)  # the second call finds no reply left and raises
    answer = assistant_with(index_dir, model).answer(QUESTION)
    assert answer.abstained and answer.answered_by.startswith("llm")


def test_models_without_grammars_are_asked_without_one(index_dir: Path) -> None:
    model = recording(INVENTED, "x")
    model.supports_grammar = False
    assistant_with(index_dir, model).answer(QUESTION)
    assert "grammar" not in model.calls[1]


def test_the_second_attempt_can_be_turned_off(index_dir: Path) -> None:
    model = recording(INVENTED, "unused")
    assistant = assistant_with(index_dir, model)
    assistant.generative.second_attempt = False  # type: ignore[union-attr]
    assert assistant.answer(QUESTION).abstained and len(model.calls) == 1
