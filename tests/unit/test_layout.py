"""Layout-aware units, one test per layout: every span is a whole sentence (or a whole code
block or table) of the original text, and headings are sections, never spans."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.answer.lexical import terms
from index.chunking import chunk_text
from index.layout import CODE, HEADING, ITEM, TABLE, parse
from index.loaders import load
from index.sentences import split_sentences
from tests.support.fakes import HashEmbeddings
from tests.support.techdocs import TECHDOCS

MB = 1_000_000
count = HashEmbeddings().count_tokens


def quoted(text: str, **hints) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text, **hints)]


WRAPPED = """\
The "assert" statement
**********************

Assert statements are a convenient way to insert debugging assertions
into a program.  The current code generator emits no code for an
assert statement when optimization is requested at compile time.

If a "for" loop is terminated by "break", the loop control target
keeps its current value.  When the loop ends normally, e.g. by running
out of items, the "else" clause is executed.

   assert_stmt ::= "assert" expression ["," expression]
"""


def test_wrapped_plain_text_gives_whole_sentences() -> None:
    got = quoted(WRAPPED)
    assert got[:4] == [
        "Assert statements are a convenient way to insert debugging assertions\ninto a program.",
        "The current code generator emits no code for an\nassert statement when optimization "
        "is requested at compile time.",
        'If a "for" loop is terminated by "break", the loop control target\nkeeps its current '
        "value.",
        'When the loop ends normally, e.g. by running\nout of items, the "else" clause is '
        "executed.",
    ]
    assert got[4].strip() == 'assert_stmt ::= "assert" expression ["," expression]'
    assert 'The "assert" statement' not in got and not any("****" in g for g in got)
    spans = split_sentences(WRAPPED)
    assert {s.section for s in spans} == {'The "assert" statement'}
    assert spans[-1].kind == CODE


def test_markdown_fences_lists_and_headings_are_units() -> None:
    text = """\
# Install

Run the installer.  It asks
for a folder:

- Linux: `/opt/tool`. The default.
- macOS: `/Applications`.
1. A numbered step
   that wraps.

```sh
$ ./install --prefix /opt/tool
$ tool --version
```

## Configure
Settings live in `~/.toolrc`.
"""
    blocks = parse(text, fmt="markdown")
    kinds = [(b.kind, text[b.start : b.end].split("\n")[0]) for b in blocks]
    assert (HEADING, "# Install") in kinds and (HEADING, "## Configure") in kinds
    assert [k for k, _ in kinds].count(ITEM) == 3
    spans = split_sentences(text, fmt="markdown")
    got = [text[s.start : s.end] for s in spans]
    assert got[:6] == [
        "Run the installer.",
        "It asks\nfor a folder:",
        "Linux: `/opt/tool`.",
        "The default.",
        "macOS: `/Applications`.",
        "A numbered step\n   that wraps.",
    ]
    code = [s for s in spans if s.kind == CODE]
    assert len(code) == 1 and text[code[0].start : code[0].end] == (
        "$ ./install --prefix /opt/tool\n$ tool --version"
    )
    assert spans[-1].section == "Configure" and got[-1] == "Settings live in `~/.toolrc`."
    assert all(s.section == "Install" for s in spans[:-1])


def test_restructuredtext_headings_and_tables() -> None:
    text = """\
=========
 Overview
=========

The tool reads one file.

Options
-------

+--------+-------------+
| -v     | verbose     |
+--------+-------------+

Use -v to see more.
"""
    spans = split_sentences(text)
    got = [(s.section, s.kind, text[s.start : s.end]) for s in spans]
    assert got[0] == ("Overview", "prose", "The tool reads one file.")
    assert got[1][:2] == ("Options", TABLE) and got[1][2].startswith("+----")
    assert got[2] == ("Options", "prose", "Use -v to see more.")


def test_html_keeps_inline_code_in_its_sentence(tmp_path: Path) -> None:
    page = tmp_path / "guide.html"
    page.write_text(
        "<html><body><h1>Guide</h1><h2>Stashing</h2><p>Use <code>git stash</code>\n"
        "  to save work. Then <a href='#'>switch</a> branches.</p>"
        "<ul><li>First item.</li><li>Second item.</li></ul>"
        "<pre>$ git stash\n$ git stash pop\n</pre></body></html>"
    )
    doc = load(page, MB)
    assert doc.fmt == "html"
    spans = split_sentences(doc.text, doc.body_start, doc.fmt, doc.headings)
    got = [doc.text[s.start : s.end] for s in spans]
    assert got == [
        "Use git stash to save work.",
        "Then switch branches.",
        "First item.",
        "Second item.",
        "$ git stash\n$ git stash pop",
    ]
    assert {s.section for s in spans} == {"Stashing"}
    assert spans[-1].kind == CODE


def _paged_pdf(path: Path, pages: list[list[str]], outline: list[tuple[str, int]]) -> Path:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    for n, lines in enumerate(pages, 1):
        pdf.drawString(72, 810, "Tool Manual - Version 2")
        y = 770
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 16
        pdf.drawString(290, 30, str(n))
        for title, page in outline:
            if page == n:
                pdf.bookmarkPage(title)
                pdf.addOutlineEntry(title, title)
        pdf.showPage()
    pdf.save()
    return path


def test_pdf_pages_furniture_hyphenation_and_outline(tmp_path: Path) -> None:
    pdf = _paged_pdf(
        tmp_path / "manual.pdf",
        [
            [
                "Getting started",
                "The tool keeps a cache of every file it has read, so a second run",
                "is fast. Clearing the cache removes all stored infor-",
                "mation about earlier runs, and the next run reads every file",
            ],
            [
                "again from the disk.",
                "Cache limits",
                "The cache never grows beyond the limit set in the configuration",
                "file. Older entries are dropped first.",
            ],
        ],
        [("Getting started", 1), ("Cache limits", 2)],
    )
    doc = load(pdf, MB)
    assert doc.fmt == "pdf" and len(doc.pages) == 2
    assert "Tool Manual" not in doc.text and not re.search(r"^\s*\d+\s*$", doc.text, re.M)
    spans = split_sentences(doc.text, doc.body_start, doc.fmt, doc.headings)
    got = [doc.text[s.start : s.end] for s in spans]
    across = [g for g in got if g.startswith("Clearing the cache")]
    assert across and across[0].endswith("again from the disk.")  # across the page break
    assert "infor-\nmation" in across[0] and terms("information")[0] in terms(across[0])
    assert "Getting started" not in got and "Cache limits" not in got
    sections = {doc.text[s.start : s.end]: s.section for s in spans}
    assert sections["Older entries are dropped first."] == "Cache limits"
    assert sections[got[0]] == "Getting started"


def test_technical_docs_spans_are_whole_sentences() -> None:
    """On the hard-wrapped git manuals: no prose span ends inside a sentence, headings are
    never spans, and every chunk fits the budget with exact offsets."""
    for path in sorted(TECHDOCS.glob("*.txt")):
        doc = load(path, MB)
        blocks = parse(doc.text, doc.body_start, doc.fmt, doc.headings)
        heads = {doc.text[b.start : b.end] for b in blocks if b.kind == HEADING}
        assert heads, path.name
        spans = split_sentences(doc.text, doc.body_start, doc.fmt, doc.headings)
        for s in spans:
            piece = doc.text[s.start : s.end]
            assert piece not in heads and piece.strip()
            if s.kind in ("prose", ITEM):
                assert piece == piece.strip()
                block = next(b for b in blocks if b.start <= s.start < b.end)
                ends_block = doc.text[s.end : block.end].strip() == ""
                assert ends_block or re.search(r"[.!?:;][\"'”’)`\]]*$", piece), piece
                assert "\n\n" not in piece
        chunks = chunk_text(doc.text, count, 200, 254, doc.body_start, doc.fmt, doc.headings)
        assert all(c.tokens <= 254 for c in chunks)
        assert all(count([doc.text[c.start : c.end]])[0] <= 254 for c in chunks)


def test_stray_fence_is_text_and_parsing_stays_linear() -> None:
    text = "Intro.\n\n```\nA stray fence. The rest is\nprose, not code.\n"
    got = quoted(text)
    assert "A stray fence." in got and "The rest is\nprose, not code." in got
    big = ("```\n" + "word " * 50 + "ends here.\n\n") * 3000  # 3,000 unclosed fences
    import time

    began = time.perf_counter()
    spans = split_sentences(big)
    assert time.perf_counter() - began < 10 and len(spans) >= 3000


def test_html_control_characters_cannot_forge_headings(tmp_path: Path) -> None:
    page = tmp_path / "odd.html"
    page.write_text("<p>One \x02fake\x03 heading. Two \x04sentences\x05 here.</p>")
    doc = load(page, MB)
    assert doc.headings == ()
    assert quoted(doc.text, fmt=doc.fmt, headings=doc.headings) == [
        "One fake heading.",
        "Two sentences here.",
    ]


def test_lead_in_lines_and_labels_are_not_headings() -> None:
    """A sentence leading into code is quoted, not made a section; "Note:" over an indented
    block is markup."""
    text = """\
The "del" statement
===================

The simple form is equivalent to

   if __debug__:
       if not expression: raise AssertionError

Note:

  Deleting an unbound name raises
  "NameError".
"""
    spans = split_sentences(text)
    got = [text[s.start : s.end] for s in spans]
    assert got[0] == "The simple form is equivalent to"
    assert spans[1].kind == CODE
    assert got[2:] == ['Deleting an unbound name raises\n  "NameError".']
    assert {s.section for s in spans} == {'The "del" statement'}


def test_markdown_links_emphasis_and_pipe_tables() -> None:
    text = """\
**Important:** run it as a user. See the [guide](https://example.com/docs/a.html) first.

| Option | Meaning |
|--------|---------|
| `-v`   | verbose |

SELECT name FROM users WHERE id = 1;
"""
    spans = split_sentences(text, fmt="markdown")
    got = [(s.kind, text[s.start : s.end]) for s in spans]
    assert got[0] == ("prose", "**Important:** run it as a user.")
    assert got[1] == ("prose", "See the [guide](https://example.com/docs/a.html) first.")
    assert got[2][0] == TABLE and got[2][1].count("\n") == 2
    assert got[3] == (CODE, "SELECT name FROM users WHERE id = 1;")


def test_pdf_list_items_end_at_their_paragraph() -> None:
    """PDF text has no blank lines: a list item ends where its paragraph does, and what
    follows is prose again, or a heading."""
    text = (
        "Intro text that is long enough to set the width of this block here.\n"
        "• First item of the list.\n"
        "• Second item, which wraps over a long line and\ncontinues here.\n"
        "A paragraph after the list that is long enough to fill the width ok.\n"
        "It ends here.\nNext heading\n"
        "More text follows in the final paragraph of this page, to the end."
    )
    got = [(b.kind, b.section, text[b.start : b.end]) for b in parse(text, fmt="pdf")]
    assert got == [
        ("prose", "", "Intro text that is long enough to set the width of this block here."),
        (ITEM, "", "First item of the list."),
        (ITEM, "", "Second item, which wraps over a long line and\ncontinues here."),
        (
            "prose",
            "",
            "A paragraph after the list that is long enough to fill the width ok.\nIt ends here.",
        ),
        (HEADING, "Next heading", "Next heading"),
        (
            "prose",
            "Next heading",
            "More text follows in the final paragraph of this page, to the end.",
        ),
    ]


def test_a_document_of_headings_alone_keeps_them_as_units() -> None:
    text = "Agenda\n======\n\nBudget\n------\n"
    assert quoted(text) == ["Agenda", "Budget"]
    assert chunk_text(text, count, 200, 254)
    assert chunk_text("", count, 200, 254) == []


MANPAGE = """\
GZIP(1)                 General Commands Manual                GZIP(1)

NAME
       gzip, gunzip, zcat - compress or expand files

SYNOPSIS
       gzip [ -acdfhklLnNrtvV19 ] [-S suffix] [ name ...  ]

DESCRIPTION
       The gzip command reduces the size of the named files using Lem\u2010
       pel-Ziv coding (LZ77).  Whenever possible,  each  file  is  re\u2010
       placed  by  one  with the extension .gz.

OPTIONS
   Handling of names
       -c --stdout --to-stdout
              Write output on standard output; keep original files un\u2010
              changed.

       -N --name
              When compressing, always save the original file name.

                                 local                         GZIP(1)
"""


def test_manual_page_headings_set_by_indentation_are_sections() -> None:
    """A rendered manual page has no blank line under its headings: "DESCRIPTION" and the
    indented subsection are sections, never quoted; an option stays with what it does."""
    spans = split_sentences(MANPAGE)
    got = [MANPAGE[s.start : s.end] for s in spans]
    assert got[0] == "gzip, gunzip, zcat - compress or expand files"
    assert got[1].strip().startswith("gzip [") and spans[1].kind == CODE
    assert spans[1].section == "SYNOPSIS"
    assert got[2] == (
        "The gzip command reduces the size of the named files using Lem\u2010\n"
        "       pel-Ziv coding (LZ77)."
    )
    assert spans[2].section == "DESCRIPTION"
    option = next(s for s in spans if MANPAGE[s.start : s.end].startswith("-c --stdout"))
    assert option.section == "Handling of names"
    assert MANPAGE[option.start : option.end].endswith("un\u2010\n              changed.")
    for heading in ("NAME", "DESCRIPTION", "OPTIONS", "Handling of names", "GZIP(1)", "local"):
        assert not any(g.lstrip().startswith(heading) for g in got), heading
    # The typesetter's hyphen at a line end: the whole word is a term, as with "-".
    assert terms("lempel")[0] in terms(got[2]) and terms("unchanged")[0] in terms(got[-2])


def test_indented_text_under_a_sentence_is_not_a_heading() -> None:
    """Only a short title-like line heads indented text: a lead-in sentence, an option and
    an indented code block after a prose line are left as they were."""
    text = (
        "The following example shows the effect of\n"
        "    the indented continuation of one sentence.\n\n"
        "TAR_VOLUME\n"
        "       Ordinal number of the volume tar is processing.\n\n"
        "Run it as\n"
        "    $ make test\n"
    )
    blocks = parse(text)
    assert not any(b.kind == HEADING for b in blocks)
