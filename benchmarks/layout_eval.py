"""Issue 17's checks on hard-wrapped technical docs (``python -m benchmarks.layout_eval``).

Runs ``tests/data/techdocs-dev.jsonl`` over the git manuals in ``tests/data/techdocs``
through the real pipeline (real model, real Chroma, the configured answerer) in a fresh
index, and reports, beside the standard ``assistant eval`` table:

- answered with the evidence cited: answerable, not refused, some citation holds evidence;
- wrongly refused: answerable but refused;
- unanswerable refused or marked uncertain (``uncertain`` where the answerer sets it);
- fragment citations: cited spans that do not start and end at a sentence (or whole code
  block / table) boundary of the reflowed text, as ``index.sentences`` segments it
  independently of the index;
- heading citations: cited spans that are (or lie inside) a heading.

Nothing is fitted on this set: it is reported, never tuned on.

``--pyref`` runs the same checks on the check set that issue 17 keeps aside: twelve pages of
Python's language reference as the standard library ships them (``pydoc_data.topics``:
plain text, hard-wrapped at about 70 columns, ``****``-underlined headings, indented
grammar and code) and ``tests/data/pyref/questions.jsonl``, written before the pipeline
was run on them and never used to choose anything.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from assistant.ops.evalsets import cites_evidence, load_items
from assistant.ops.evaluate import evaluate
from index.layout import CODE, HEADING, TABLE, parse
from index.loaders import load
from index.sentences import split_blocks

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "techdocs"
QUESTIONS = ROOT / "tests" / "data" / "techdocs-dev.jsonl"
PYREF_QUESTIONS = ROOT / "tests" / "data" / "pyref" / "questions.jsonl"
PYREF_TOPICS = (
    "assert", "break", "continue", "del", "for", "global",
    "if", "import", "pass", "raise", "return", "while",
)  # fmt: skip


def write_pyref(folder: Path) -> Path:
    """The reference pages of ``PYREF_TOPICS`` as text files in ``folder`` (from this
    Python's own ``pydoc_data``, so nothing is copied into the repository)."""
    from pydoc_data.topics import topics

    folder.mkdir(parents=True, exist_ok=True)
    for name in PYREF_TOPICS:
        (folder / f"{name}.txt").write_text(topics[name], encoding="utf-8")
    return folder


def boundaries(path: Path) -> tuple[str, set[tuple[int, int]], list[tuple[int, int]]]:
    """A document's text, the spans a whole citation may start and end at, and its headings.

    Sentences of prose and items; for code and tables, which an answer may quote in
    windows of whole lines, every line.
    """
    doc = load(path, 50_000_000)
    blocks = parse(doc.text, doc.body_start, doc.fmt, doc.headings)
    spans = {(s.start, s.end) for s in split_blocks(doc.text, blocks)}
    for b in blocks:
        if b.kind in (CODE, TABLE):
            pos = b.start
            for line in doc.text[b.start : b.end].split("\n"):
                if line.strip():
                    spans.add((pos, pos + len(line.rstrip())))
                pos += len(line) + 1
    heads = [(b.start, b.end) for b in blocks if b.kind == HEADING]
    return doc.text, spans, heads


def measure(assistant, items, corpus: Path = CORPUS) -> tuple[dict[str, float | int], list[tuple]]:
    """The checks of the module docstring for ``items`` asked through ``assistant`` over
    the ``.txt`` files of ``corpus``, and the questions that missed: (id, question,
    refused, answer)."""
    docs = {p.name: boundaries(p) for p in sorted(corpus.glob("*.txt"))}
    answered_cited = refused = un_refused = fragments = headings = citations = 0
    failures = []
    for item in items:
        answer = assistant.answer(item.question, item.history)
        for c in answer.citations:
            text, spans, heads = docs[c.source]
            citations += 1
            if text[c.start : c.end] != c.text:
                fragments += 1
                continue
            # A citation may quote several consecutive units; each end must be a boundary.
            starts = {s for s, _ in spans}
            ends = {e for _, e in spans}
            fragments += not (c.start in starts and c.end in ends)
            headings += any(a <= c.start and c.end <= b for a, b in heads)
        uncertain = bool(getattr(answer, "uncertain", False))
        if item.answerable:
            ok = not answer.abstained and cites_evidence(
                [c.text for c in answer.citations], item.evidence
            )
            answered_cited += ok
            refused += answer.abstained
            if not ok:
                failures.append((item.id, item.question, answer.abstained, answer.answer[:160]))
        else:
            un_refused += answer.abstained or uncertain
            if not (answer.abstained or uncertain):
                failures.append((item.id, item.question, False, answer.answer[:160]))
    n_an = sum(i.answerable for i in items)
    n_un = len(items) - n_an
    report = {
        "questions": len(items),
        "answerable": n_an,
        "unanswerable": n_un,
        "answered_with_evidence_cited": answered_cited / (n_an or 1),
        "wrongly_refused": refused / (n_an or 1),
        "unanswerable_refused_or_uncertain": un_refused / (n_un or 1),
        "citations": citations,
        "fragment_citations": fragments,
        "heading_citations": headings,
    }
    return report, failures


def main() -> int:
    from benchmarks.common import temp_assistant

    corpus, questions = CORPUS, QUESTIONS
    if "--pyref" in sys.argv:
        corpus = write_pyref(Path(tempfile.mkdtemp(prefix="pyref-")))
        questions = PYREF_QUESTIONS
    assistant = temp_assistant([corpus], None)
    items = load_items(questions)
    report, failures = measure(assistant, items, corpus)
    print(json.dumps(report, indent=2))
    print("\nassistant eval on the same set:")
    print(evaluate(assistant, items, progress=sys.stderr.isatty()).table())
    print("\nmisses:")
    for fid, question, abstained, text in failures:
        print(f"  {fid} {'REFUSED' if abstained else 'answered'}: {question}\n      -> {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
