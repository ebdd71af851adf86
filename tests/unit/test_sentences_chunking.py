"""Sentence spans and chunks keep exact offsets and never drop or truncate text."""

from __future__ import annotations

import re

from index.chunking import chunk_text, split_units
from index.sentences import split_sentences
from tests.conftest import SAMPLE
from tests.support.fakes import HashEmbeddings

count = HashEmbeddings().count_tokens


def test_sentences_are_exact_clean_spans() -> None:
    text = "Dr. Smith met Mr. J. Doe in the U.S. on Monday. They talked.\nNew line\nhere! Done?"
    spans = split_sentences(text)
    got = [text[s.start : s.end] for s in spans]
    assert got == [
        "Dr. Smith met Mr. J. Doe in the U.S. on Monday.",
        "They talked.",
        "New line\nhere!",  # a soft line break is a space, and the span keeps it
        "Done?",
    ]


def test_sample_article_sentences_cover_all_words_but_headings() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    spans = split_sentences(text)
    covered = "".join(text[s.start : s.end] for s in spans)
    headings = "PeacekeepingtroopsinUkraine"
    assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", text).replace(headings, "")
    got = [text[s.start : s.end] for s in spans]
    assert "Germany, Italy, Spain and Poland immediately opposed the idea." in got
    assert "Peacekeeping troops in Ukraine" not in got
    after = [s for s in spans if text[s.start :].startswith("After the US and Russia")]
    assert after[0].section == "Peacekeeping troops in Ukraine"


def test_long_sentence_is_split_not_truncated() -> None:
    text = "Intro. " + " ".join(f"word{i}" for i in range(700)) + " end."
    units = split_units(text, count, unit_tokens=100)
    assert all(u.tokens <= 100 for u in units)
    assert len(units) >= 7
    joined = " ".join(text[u.start : u.end] for u in units)
    assert joined == text


def test_chunks_fit_the_window_and_keep_order() -> None:
    text = SAMPLE.read_text(encoding="utf-8") * 3
    chunks = chunk_text(text, count, max_tokens=120, unit_tokens=100)
    assert all(c.tokens <= 120 for c in chunks)
    assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:], strict=False))
    for c in chunks:
        assert c.start <= c.units[0].start and c.end == c.units[-1].end
        assert c.start == c.units[0].start or text[c.start : c.units[0].start].strip() == (
            "Peacekeeping troops in Ukraine"
        )  # a chunk opening a section starts at its heading
    total_words = len(re.findall(r"\S+", text))  # headings are inside the chunks they open
    assert sum(len(re.findall(r"\S+", text[c.start : c.end])) for c in chunks) == total_words


def test_a_short_section_stays_one_chunk_and_a_long_one_splits_at_paragraphs() -> None:
    para = "The first paragraph says what the item does in a few plain words here. " * 4
    more = "A continuation paragraph adds when this is useful and why it helps. " * 2
    short = f"Manual\n======\n\nbranch\n------\n\n{para}\n\n{more}\n\nclear\n-----\n\nEnds here.\n"
    sizes = [count([para.strip()])[0], count([more.strip()])[0]]
    budget = sum(sizes) + 10  # the whole section fits, its first paragraph is over half
    assert sizes[0] * 2 >= budget
    chunks = chunk_text(short, count, max_tokens=budget, unit_tokens=budget, fmt="text")
    [branch] = [c for c in chunks if "first paragraph" in short[c.start : c.end]]
    assert "continuation paragraph" in short[branch.start : branch.end]  # not cut from it
    assert short[branch.start :].startswith("branch")  # and it opens at its heading
    assert "Ends here" not in short[branch.start : branch.end]  # never across sections
    long = short.replace(f"{more}\n\n", f"{more}\n\n{more}\n\n{more}\n\n")
    chunks = chunk_text(long, count, max_tokens=budget, unit_tokens=budget, fmt="text")
    firsts = [c for c in chunks if "first paragraph" in long[c.start : c.end]]
    assert "continuation" not in long[firsts[0].start : firsts[0].end]  # too long: it splits
