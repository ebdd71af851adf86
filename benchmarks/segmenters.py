"""Compare sentence segmenters on our documents: boundary accuracy on a hand-labelled set,
and speed on every paragraph of the corpora (``python -m benchmarks.segmenters``).

The hand-labelled passages are taken from (or written like) the documents the assistant
reads: the sample news article, the SQuAD articles and hard-wrapped technical docs (git's
manual pages). Each passage is a list of its sentences, joined by a space or a soft line
break as in the source; a segmenter scores on the boundaries it puts between them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
Segmenter = Callable[[str], list[tuple[int, int]]]

GOLD: list[list[str]] = [
    [
        "A `gitignore` file specifies intentionally untracked files that Git should ignore.",
        "Files already tracked by Git are not affected; see the NOTES below for details.",
    ],
    [
        "The latest stash is stored in `refs/stash`; older stashes are found in the reflog "
        "(e.g. `stash@{0}` is the most recently created stash, `stash@{1}` is the one before "
        "it, `stash@{2.hours.ago}` is also possible).",
        "Stashes may also be referenced by specifying just the stash index.",
    ],
    [
        "This option is deprecated in favour of 'git stash push'.",
        'It differs from "stash push" in that it cannot take pathspec.',
    ],
    [
        "Patterns read from `$GIT_DIR/info/exclude`.",
        "Which file to place a pattern in depends on how the pattern is meant to be used.",
    ],
    [
        "The default is `~/.git-credentials`, i.e. a file in your home directory.",
        "It is read by `git credential-store` when a password is needed.",
    ],
    ["Git 2.39.5 fixes several bugs.", "See git-stash(1) for details."],
    [
        "If the pattern ends with a slash, it matches only directories, etc.",
        "Otherwise it matches files too.",
    ],
    ["Use `git add -p` to stage hunks.", 'Then run `git commit -m "msg"`.'],
    [
        'An optional prefix "`!`" negates the pattern.',
        "Any matching file excluded by a previous pattern will become included again.",
    ],
    ["Mr. Macron met Dr. Smith in Paris on Monday.", "They spoke for an hour."],
    [
        'He said this following a meeting of the "Coalition of the Willing", which was '
        "attended by 30 leaders.",
        "According to him, there is no consensus.",
    ],
    ["The U.S. and the U.K. agreed.", "Talks resumed at 3 p.m. on Friday."],
    [
        "The Normans (Norman: Nourmands; French: Normands; Latin: Normanni) were the people "
        "who in the 10th and 11th centuries gave their name to Normandy, a region in France.",
        "They were descended from Norse raiders.",
    ],
    ["The population was 4.5 million in 2011.", "Melbourne is the capital."],
    ["Is the problem solvable in polynomial time?", "This is the P versus NP question."],
    ["Read the manual at https://git-scm.com/docs/git-stash.", "It lists every option."],
    ["Wait...", "Then try again."],
    ["See Fig. 3 for the layout.", "The numbers are in Table 2."],
    ["The file `foo.txt` is ignored.", "But `bar.md` is not."],
    ['"Stop!" he said.', "Nobody moved."],
    [
        "The helper is run as `git credential-cache--daemon`.",
        "It exits after the timeout (900 seconds by default).",
    ],
    ["Reviewers should be kind (see below).", "Contributors should be patient."],
    ["J. R. R. Tolkien wrote it.", "It was published in 1954."],
    [
        "Lines starting with # serve as comments.",
        'Put a backslash ("`\\`") in front of the first hash for patterns that begin with a hash.',
    ],
    [
        'A trailing "`/**`" matches everything inside.',
        'For example, "`abc/**`" matches all files inside directory "`abc`".',
    ],
    [
        "Sky UK Limited (formerly British Sky Broadcasting or BSkyB) is a British "
        "telecommunications company which serves the United Kingdom.",
        "Sky provides television and broadband internet services.",
    ],
    ["The command takes no options, cf. `git stash list`.", "It prints nothing."],
    ["Approx. 20 people came, vs. 30 last year.", "Fewer than expected."],
    ["Run `make`.", "Then run `make install`."],
    ["It was signed on Jan. 5 by Gov. Brown.", "The law took effect in March."],
]


def _pysbd() -> Segmenter:
    import pysbd

    seg = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return lambda t: [(s.start, s.end) for s in seg.segment(t)]


def _sentencex() -> Segmenter:
    import sentencex

    return lambda t: [
        (b["start_index"], b["end_index"]) for b in sentencex.get_sentence_boundaries("en", t)
    ]


def _blingfire() -> Segmenter:
    import blingfire

    return lambda t: list(blingfire.text_to_sentences_and_offsets(t)[1]) if t.strip() else []


def _syntok() -> Segmenter:
    from syntok import segmenter

    def run(t: str) -> list[tuple[int, int]]:
        return [
            (s[0].offset, s[-1].offset + len(s[-1].value))
            for para in segmenter.analyze(t)
            for s in para
        ]

    return run


CANDIDATES = {"sentencex": _sentencex, "pysbd": _pysbd, "syntok": _syntok, "blingfire": _blingfire}


def _ends(text: str, spans: list[tuple[int, int]]) -> set[int]:
    """Inner boundaries, as the offset where the next sentence's first non-space char is."""
    out = set()
    for _, end in spans[:-1]:
        i = end
        while i < len(text) and text[i].isspace():
            i += 1
        if i < len(text):
            out.add(i)
    return out


def accuracy(seg: Segmenter) -> tuple[float, float, int]:
    """Boundary precision and recall on GOLD (sentences joined by a space), and exact passages."""
    tp = fp = fn = perfect = 0
    for sentences in GOLD:
        text = " ".join(sentences)
        gold, pos = set(), 0
        for s in sentences[:-1]:
            pos += len(s) + 1
            gold.add(pos)
        got = _ends(text, seg(text))
        tp += len(got & gold)
        fp += len(got - gold)
        fn += len(gold - got)
        perfect += got == gold
    return tp / ((tp + fp) or 1), tp / ((tp + fn) or 1), perfect


def corpus_paragraphs() -> list[str]:
    """Every blank-line paragraph of our documents, soft line breaks read as spaces."""
    files = [
        *sorted((ROOT / "assistant" / "data").glob("*.txt")),
        *sorted((ROOT / "benchmarks" / "data" / "squad2" / "corpus").glob("*.txt")),
        *sorted((ROOT / "tests" / "data" / "techdocs").glob("*.txt")),
    ]
    paras = []
    for f in files:
        for p in re.split(r"\n\s*\n", f.read_text(encoding="utf-8")):
            if p.strip():
                paras.append(p.replace("\n", " "))
    return paras


def main() -> None:
    paras = corpus_paragraphs()
    chars = sum(map(len, paras))
    print(
        f"{len(GOLD)} hand-labelled passages; speed over {len(paras)} paragraphs, {chars:,} chars"
    )
    print(f"{'segmenter':<11}{'precision':>10}{'recall':>8}{'passages ok':>13}{'chars/s':>12}")
    for name, make in CANDIDATES.items():
        seg = make()
        p, r, ok = accuracy(seg)
        seg(paras[0])  # warm up (model load)
        began = time.perf_counter()
        for para in paras:
            seg(para)
        rate = chars / (time.perf_counter() - began)
        print(f"{name:<11}{p:>10.1%}{r:>8.1%}{ok:>8}/{len(GOLD):<4}{rate:>12,.0f}")


if __name__ == "__main__":
    main()
