"""The article dev set: every answerable item answered and cited, every other one abstains."""

from __future__ import annotations

import pytest

from assistant.evalsets import cites_evidence, keywords_match, load_items
from tests.conftest import ROOT

ITEMS = load_items(ROOT / "tests" / "data" / "article-dev.jsonl")


@pytest.mark.integration
@pytest.mark.parametrize("item", ITEMS, ids=[i.id for i in ITEMS])
def test_article_dev_item(sample_assistant, item) -> None:
    answer = sample_assistant.answer(item.question, item.history)
    for c in answer.citations:
        text = sample_assistant.document(c.doc_id).text
        assert text[c.start : c.end] == c.text
    if not item.answerable:
        assert answer.abstained, answer.answer
        assert answer.answer.startswith("The documents don't say")
        assert all(not c.supported for c in answer.citations)
        return
    assert not answer.abstained, answer.answer
    assert keywords_match(answer.answer, item.keywords), answer.answer
    assert cites_evidence([c.text for c in answer.citations], item.evidence), answer.citations
    assert all(f"[{c.n}]" in answer.answer and c.supported for c in answer.citations)
