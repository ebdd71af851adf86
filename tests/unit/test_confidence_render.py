"""How the chat page states the confidence of an answer and the uncertain case."""

from __future__ import annotations

from assistant.serve.ui.render import confidence_html, sources_html
from assistant.types import Answer


def test_confident_answer_shows_its_confidence() -> None:
    html = confidence_html(Answer(answer="x [1]", abstained=False, confidence=0.84))
    assert "Confidence 84%" in html and "uncertain" not in html


def test_uncertain_answer_says_so_plainly() -> None:
    answer = Answer(answer="The closest ...", abstained=False, confidence=0.52, uncertain=True)
    html = sources_html(answer, {})
    assert "Uncertain: the documents may not answer this" in html and "52%" in html


def test_refusals_and_unscored_answers_show_no_confidence() -> None:
    assert confidence_html(Answer(answer="no", abstained=True, confidence=0.2)) == ""
    assert confidence_html(Answer(answer="llm text", abstained=False)) == ""
