"""The real assistant streams exactly the answer it gives plainly."""

from __future__ import annotations

import pytest

QUESTIONS = [
    "How many leaders attended the Coalition of the Willing meeting?",
    "Which countries opposed Macron's proposal?",
    "What is Ireland prepared to do?",
    "What is the capital of Peru?",  # refused: the same refusal both ways
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_streamed_and_plain_answers_are_the_same(sample_assistant, question: str) -> None:
    """The real assistant: the last item of ``stream`` is the answer ``answer`` gives."""
    from assistant import Answer

    plain = sample_assistant.answer(question)
    streamed = [item for item in sample_assistant.stream(question) if isinstance(item, Answer)]
    assert len(streamed) == 1
    fields = ("answer", "abstained", "citations", "confidence", "uncertain", "answered_by")
    assert plain.model_dump(include=set(fields)) == streamed[0].model_dump(include=set(fields))
