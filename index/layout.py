"""Read a document as it is laid out: headings, paragraphs, list items, code and tables.

Hard-wrapped text (manuals, RFCs, e-mails, PDF text) breaks lines inside sentences, so a
line break cannot end a sentence. This module cuts the text into *blocks* first, using what
the layout shows: blank lines, headings (Markdown ``#``, underlined or overlined
reStructuredText/AsciiDoc headings, AsciiDoc ``term::`` labels, short title lines, headings
named by the loader for HTML and PDF outlines), list items, fenced or delimited code,
indented code or grammar, and tables. Sentence segmentation then runs inside prose blocks
only (see ``index.sentences``), with the soft line breaks read as spaces.

Every block is a span ``[start, end)`` of the original text, so offsets stay exact.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.layout_text import (
    INNER_STOP,
    REFERENCE,
    SENTENCE_END,
    SYMBOLS,
    TRAILING_WORDS,
    looks_like_code,
)

HEADING, PROSE, ITEM, CODE, TABLE = "heading", "prose", "item", "code", "table"

_UNDERLINE = re.compile(r"^([=\-~^*+#\"'`:._])\1{2,}\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_DELIMITED = re.compile(r"^(-{4,}|\.{4,}|\+{4,}|_{4,})\s*$")  # AsciiDoc listing blocks
_ATX = re.compile(r"^\s{0,3}(#{1,6}|={1,6})\s+(\S.*?)\s*[#=]*\s*$")
_BULLET = re.compile(r"^(\s*)([-*+•‣◦▪–]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)])\s+(?=\S)")
_TERM = re.compile(r"^(\S.*?)(?:::|;;|:::)\s*$")
# Lines that are markup, not text: AsciiDoc continuations, open-block and attribute lines.
_MARKUP = re.compile(
    r"^\s*(?:\+|--|\[[\w\s,.=\"'#%-]*\]|(?:ifn?def|endif|include)::.*|//.*|\.\.\s*$)\s*$"
)
_TABLE_LINE = re.compile(r"^\s*(?:\|.*\||[+|][-=+:|\s]+[+|]|=+(?:\s+=+)+)\s*$")
# A manual page's header or footer line: columns set apart by runs of spaces, the last the
# page's name and section ("GZIP(1)   General Commands Manual   GZIP(1)").
_MAN_TITLE = re.compile(r"^\S.*?\s{2,}[\w.+-]+\(\d\w{0,3}\)$")


@dataclass(frozen=True, slots=True)
class Block:
    """One layout block: ``text[start:end]``; ``section`` is the heading it sits under."""

    kind: str
    start: int
    end: int
    section: str
    paragraph: int


@dataclass(slots=True)
class _Line:
    start: int
    end: int  # without the line break
    text: str

    @property
    def indent(self) -> int:
        return len(self.text) - len(self.text.lstrip())

    @property
    def blank(self) -> bool:
        return not self.text.strip() or bool(_MARKUP.match(self.text))


def _lines(text: str, start: int) -> list[_Line]:
    out = []
    pos = start
    for raw in text[start:].split("\n"):
        out.append(_Line(pos, pos + len(raw), raw))
        pos += len(raw) + 1
    return out


def _heading_text(line: str) -> str:
    if "\n" in line:  # AsciiDoc terms of one description: "-q::\n--quiet::"
        return ", ".join(_heading_text(part) for part in line.split("\n") if part.strip())
    if m := _ATX.match(line):
        return m.group(2).strip()
    if m := _TERM.match(line.strip()):
        return m.group(1).strip()
    return line.strip()


def _is_title_line(group: list[_Line], nxt: tuple[str, list[_Line]] | None) -> bool:
    """A lone short line without closing punctuation, followed by text: an unmarked heading.

    Not a line that leads into what follows ("... is equivalent to" before a code block):
    it ends with a function word, or it is a longer line introducing code.
    """
    if len(group) != 1 or nxt is None:
        return False
    line = group[0].text.strip()
    words = line.split()
    if not words or words[-1].lower().strip("\"'“”‘’") in TRAILING_WORDS:
        return False
    kind, lines = nxt
    into_code = kind == CODE or looks_like_code([x.text for x in lines])
    return (
        0 < len(line) <= 80
        and len(words) <= (4 if into_code else 12)
        and group[0].indent == 0
        and not SENTENCE_END.search(REFERENCE.sub("", line).rstrip())
        and not INNER_STOP.search(line)
        and (line[0].isupper() or line[0].isdigit())
        and not looks_like_code([line])
    )


def _is_label(group: list[_Line], nxt: tuple[str, list[_Line]] | None) -> bool:
    """An admonition label ("Note:", "See also:") over an indented block: markup, neither a
    unit nor a section."""
    line = group[0].text.strip()
    return (
        len(group) == 1
        and nxt is not None
        and line.endswith(":")
        and len(line.split()) <= 3
        and nxt[1][0].indent > group[0].indent
    )


def _pdf_split(group: list[_Line]) -> list[tuple[str, list[_Line]]]:
    """PDF text has no blank lines between paragraphs: a short line that ends a sentence
    ends its paragraph, and a short line without punctuation between paragraphs is a
    heading."""
    width = max(len(line.text.rstrip()) for line in group)
    out: list[tuple[str, list[_Line]]] = []
    current: list[_Line] = []
    for i, line in enumerate(group):
        stripped = line.text.strip()
        short = len(stripped) < 0.7 * width
        after_end = not current
        nxt = group[i + 1].text.strip() if i + 1 < len(group) else ""
        if (
            after_end
            and short
            and nxt
            and len(stripped.split()) <= 10
            and not SENTENCE_END.search(stripped)
            and (stripped[:1].isupper() or stripped[:1].isdigit())
            and (nxt[:1].isupper() or nxt[:1].isdigit())
        ):
            out.append((HEADING, [line]))
            continue
        current.append(line)
        if len(stripped) < 0.8 * width and re.search(r"[.!?:][\"'”’)]*$", stripped):
            out.append((PROSE, current))
            current = []
    if current:
        out.append((PROSE, current))
    return out


def _term_of(line: _Line, body: _Line) -> bool:
    """Whether ``line`` is a heading set over the more indented ``body`` after it.

    Manual pages set their section and subsection headings over the text by indentation
    alone, with no blank line ("DESCRIPTION", "Handling of file attributes"). A term that
    reads as code or an option ("-c --stdout", "TAR_VOLUME") stays with its description
    instead: quoted together, the description says what it describes, and the option's
    exact spelling is what a question about it matches.
    """
    text = line.text.strip()
    words = text.split()
    return (
        body.indent > line.indent
        and 0 < len(words) <= 8
        and text[0].isupper()
        and not any(c in SYMBOLS or c == "-" for c in text)
        and not SENTENCE_END.search(text)
        and words[-1].lower() not in TRAILING_WORDS
        and not INNER_STOP.search(text)
    )


def _split_terms(group: list[_Line]) -> list[tuple[str, list[_Line]]]:
    """A blank-line-free group cut at the headings set over indented text (``_term_of``),
    each heading a group of its own. Not over code, unless the heading is a short line at
    the margin ("SYNOPSIS")."""
    out: list[tuple[str, list[_Line]]] = []
    current: list[_Line] = []
    for i, line in enumerate(group):
        opens = not current or current[-1].indent > line.indent
        if not (opens and i + 1 < len(group) and _term_of(line, group[i + 1])):
            current.append(line)
            continue
        end = i + 1  # what the heading is set over: the lines up to the next at its indent
        while end < len(group) and group[end].indent > line.indent:
            end += 1
        # It reads as code or prose at its deepest level: the options under "Handling of
        # file attributes" are set over prose descriptions. (Indexes, not slices: a group
        # of many short headings stays linear.)
        deepest = max(group[k].indent for k in range(i + 1, end))
        own = [group[k].text for k in range(i + 1, end) if group[k].indent == deepest][:8]
        margin_title = line.indent == 0 and len(line.text.split()) <= 4
        if looks_like_code(own) and not margin_title:
            current.append(line)
            continue
        if current:
            out.append((PROSE, current))
            current = []
        out.append((HEADING, [line]))
    if current:
        out.append((PROSE, current))
    return out


def _hinted_lines(lines: list[_Line], headings: Sequence[tuple[int, int]]) -> set[int]:
    """Indexes of the lines that overlap a heading span named by the loader."""
    spans = sorted(headings)
    out: set[int] = set()
    k = 0
    for i, line in enumerate(lines):
        while k < len(spans) and spans[k][1] <= line.start:
            k += 1
        if k < len(spans) and spans[k][0] < max(line.end, line.start + 1) and line.text.strip():
            out.add(i)
    return out


def _pdf_parts(kind: str, group: list[_Line]) -> list[tuple[str, list[_Line]]]:
    """A PDF group cut into paragraphs and headings; a list item (which no blank line ends
    in PDF text) keeps only its own paragraph."""
    if kind not in (PROSE, ITEM):
        return [(kind, group)]
    parts = _pdf_split(group)
    if kind == ITEM:
        parts[0] = (ITEM, parts[0][1])
    return parts


def _closing(lines: list[_Line], i: int, marker: str) -> int | None:
    """Index of the line that closes the fence or delimited block opened at ``i``."""
    for j in range(i + 1, len(lines)):
        stripped = lines[j].text.strip()
        if stripped.startswith(marker) and set(stripped) == {marker[0]}:
            return j
    return None


def _groups(lines: list[_Line], heading_lines: set[int]) -> list[tuple[str, list[_Line]]]:
    """Cut the lines into (kind, lines) groups; kinds are refined in ``parse``."""
    groups: list[tuple[str, list[_Line]]] = []
    current: list[_Line] = []

    def close(kind: str = PROSE) -> None:
        nonlocal current
        if current:
            groups.append((kind, current))
        current = []

    unclosed: set[str] = set()  # markers with no closing line left: no rescans
    i = 0
    while i < len(lines):
        line = lines[i]
        text = line.text
        opening = _FENCE.match(text) or (_DELIMITED.match(text) if not current else None)
        if opening and opening.group(1) not in unclosed:
            end = _closing(lines, i, opening.group(1))
            if end is None:
                unclosed.add(opening.group(1))  # a stray fence is text, not the rest as code
            else:
                close()
                body = lines[i + 1 : end]
                if any(b.text.strip() for b in body):
                    groups.append((CODE, body))
                i = end + 1
                continue
        if line.blank:
            close()
            i += 1
            continue
        nxt = lines[i + 1].text if i + 1 < len(lines) else ""
        if i in heading_lines or _ATX.match(text):
            close()
            groups.append((HEADING, [line]))
            i += 1
            continue
        underline = _UNDERLINE.match(nxt)
        if underline and not _UNDERLINE.match(text) and len(nxt.strip()) >= 0.5 * len(text.strip()):
            close()
            groups.append((HEADING, [line]))
            i += 2
            continue
        if _UNDERLINE.match(text) and i + 2 < len(lines) and lines[i + 2].text == text:
            close()  # overline, title, underline
            groups.append((HEADING, [lines[i + 1]]))
            i += 3
            continue
        if _UNDERLINE.match(text) and not current:
            i += 1  # a rule between blocks
            continue
        if not current and line.indent == 0 and _TERM.match(text):
            j = i
            while j < len(lines) and lines[j].indent == 0 and _TERM.match(lines[j].text):
                j += 1
            groups.append((HEADING, lines[i:j]))
            i = j
            continue
        bullet = _BULLET.match(text)
        numbered = bullet is not None and bullet.group(2)[0] not in "-*+•‣◦▪–"
        if bullet and (not numbered or not current or _BULLET.match(current[0].text)):
            close()
            current = [line]
            groups.append((ITEM, current))
            current = []
            # the item's continuation lines: until a blank line or the next marker
            j = i + 1
            while (
                j < len(lines)
                and not lines[j].blank
                and not _BULLET.match(lines[j].text)
                and j not in heading_lines
            ):
                groups[-1][1].append(lines[j])
                j += 1
            i = j
            continue
        if current and line.indent != current[-1].indent and _TABLE_LINE.match(text):
            close()
        current.append(line)
        i += 1
    close()
    return groups


def parse(
    text: str, start: int = 0, fmt: str = "text", headings: Sequence[tuple[int, int]] = ()
) -> list[Block]:
    """Blocks of ``text[start:]`` in order; ``fmt`` is the loader's format ("pdf" enables
    paragraph and heading detection inside blank-line-free text); ``headings`` are spans
    the loader knows to be headings (HTML ``h1``-``h6``, PDF outline entries)."""
    lines = _lines(text, start)
    hinted = _hinted_lines(lines, headings)
    raw = [
        part
        for kind, group in _groups(lines, hinted)
        for part in (_split_terms(group) if kind == PROSE and fmt != "pdf" else [(kind, group)])
    ]
    if fmt == "pdf":
        raw = [part for kind, g in raw for part in _pdf_parts(kind, g)]
    blocks: list[Block] = []
    section = ""
    for n, (kind, group) in enumerate(raw):
        group = [g for g in group if g.text.strip()] or group
        texts = [g.text for g in group]
        nxt = raw[n + 1] if n + 1 < len(raw) else None
        if kind == PROSE and len(group) == 1 and _MAN_TITLE.match(texts[0].strip()):
            kind = HEADING
        if kind == PROSE:
            if all(_TABLE_LINE.match(t) for t in texts) and len(texts) > 1:
                kind = TABLE
            elif len(group) == 1 and _TERM.match(texts[0].strip()) and group[0].indent == 0:
                kind = HEADING
            elif looks_like_code(texts):
                kind = CODE
            elif _is_title_line(group, nxt):
                kind = HEADING
            elif _is_label(group, nxt):
                continue
        a = group[0].start + group[0].indent
        b = group[-1].end - (len(group[-1].text) - len(group[-1].text.rstrip()))
        if kind == ITEM and (m := _BULLET.match(group[0].text)):
            a = group[0].start + m.end()
        if kind == CODE:
            a = group[0].start  # code keeps its indentation
        if a >= b:
            continue
        if kind == HEADING:
            section = _heading_text(text[a:b])
        blocks.append(Block(kind, a, b, section, n))
    return blocks


def reflow(text: str) -> str:
    """The text as segmentation reads it: soft line breaks (and tabs) become spaces.

    Same length as ``text``, so an offset into one is the same offset into the other.
    """
    return text.replace("\n", " ").replace("\t", " ").replace("\r", " ")
