"""Why answers fail on the development sets: ``python -m benchmarks.dev_failures [-v]``.

Each answerable question of the article, reader-dev and techdocs sets goes through the real
pipeline (shipped calibration) and is put in one category: ``ok``; ``retrieval-miss`` (no
retrieved passage holds the evidence); ``fragment`` (a passage holds it but no single
candidate sentence does); ``refused``; ``wrong-sentence`` (answered, no citation holds the
evidence); ``keywords`` (evidence cited, answer lacks a keyword group). Unanswerable ones are
``un:refused``, ``un:uncertain`` or ``un:ANSWERED``. Development sets only: the reader and
held-out sets are never looked at item by item (``-v`` prints the failing items).
"""

from __future__ import annotations

import sys
from collections import Counter

from assistant.answer.condense import condense
from assistant.ops.evalsets import cites_evidence, fold, keywords_match, load_items
from benchmarks.common import ARTICLE, ARTICLE_DEV, ROOT, temp_assistant

SETS = {
    "article-dev": ([ARTICLE], ARTICLE_DEV),
    "reader-dev": (
        sorted((ROOT / "tests/data/reader-dev/docs").iterdir()),
        ROOT / "tests/data/reader-dev/questions.jsonl",
    ),
    "techdocs": (
        sorted((ROOT / "tests/data/techdocs").glob("*.txt")),
        ROOT / "tests/data/techdocs-dev.jsonl",
    ),
}


def category(assistant, item) -> tuple[str, str]:
    """The failure category of one item, and the answer text."""
    answer = assistant.answer(item.question, item.history)
    if not item.answerable:
        kind = "refused" if answer.abstained else "uncertain" if answer.uncertain else "ANSWERED"
        return f"un:{kind}", answer.answer
    question = condense(item.question, item.history)
    looked_up = assistant.searcher.find(question)
    found = any(fold(e) in fold(p.chunk.text) for p in looked_up.passages for e in item.evidence)
    cands = assistant.extractive.candidates(looked_up)
    held = any(cites_evidence([c.text], item.evidence) for c in cands)
    cited = cites_evidence([c.text for c in answer.citations], item.evidence)
    if not answer.abstained and cited and keywords_match(answer.answer, item.keywords):
        return "ok", answer.answer
    if not found:
        return "retrieval-miss", answer.answer
    if not held:
        return "fragment", answer.answer
    if answer.abstained:
        return "refused", answer.answer
    return ("keywords" if cited else "wrong-sentence"), answer.answer


def main() -> None:
    verbose = "-v" in sys.argv
    embedder = None
    for name, (docs, questions) in SETS.items():
        assistant = temp_assistant(docs, embedder)
        embedder = assistant.embedder
        counts: Counter[str] = Counter()
        for item in load_items(questions):
            cat, text = category(assistant, item)
            counts[cat] += 1
            if verbose and cat not in ("ok", "un:refused", "un:uncertain"):
                print(f"[{name}] {cat}: {item.question}\n    -> {text[:200]}")
        print(name, dict(sorted(counts.items())), flush=True)


if __name__ == "__main__":
    main()
