"""How a line of text reads: as prose or as code, and whether it ends like a sentence.

Shared by the layout reader (``index.layout``) to tell a paragraph from a code block, a
title line from a lead-in, without knowing the document's format.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_CODE_START = re.compile(r"^\s*(?:>>>|\$ |% |#!|[{}]\s*$)")
SYMBOLS = frozenset("{}[]()<>=;|\\$@&^%~*/_`#")
SENTENCE_END = re.compile(r"[.!?:;,…][\"'”’)\]]*$")

_INLINE_CODE = re.compile(r"`[^`\n]*`|'[^'\n]*'|\"[^\"\n]*\"")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*\)")  # Markdown [text](target)
_URL = re.compile(r"\b(?:https?|ftp)://\S+|\b[\w.+-]+@[\w-]+\.[\w.-]+")
_EMPHASIS = re.compile(r"(?<![\w*])[*_]{1,3}(?=\w)|(?<=[\w.:!?])[*_]{1,3}(?![\w*])")
_WORDS = re.compile(r"[A-Za-z][a-z]+(?:[-'][a-z]+)*")
INNER_STOP = re.compile(r"[.!?][\"')\]]*\s+[A-Z]")  # two sentences: not a title line
# Reference and citation markers ("[12]", "[3][1]", "[a]") are prose furniture, not code.
REFERENCE = re.compile(r"\[(?:\d{1,4}|[a-z]|citation needed)(?:[,–-]\s?\d{1,4})*\]")


def looks_like_code(lines: Sequence[str]) -> bool:
    """Whether indented or unmarked lines are code or grammar rather than prose.

    Prose reads as words and ends like a sentence, even when it quotes inline code
    (``refs/stash``); code, grammar and command synopses are dense in brackets, operators
    and sigils, or open with a prompt.
    """
    present = [line for line in lines if line.strip()]
    if not present:
        return False
    body = " ".join(line.strip() for line in present)
    if "::=" in body or _CODE_START.match(present[0]):
        return True
    plain = _URL.sub(
        " link ", _LINK.sub(r"\1", _EMPHASIS.sub("", _INLINE_CODE.sub(" code ", body)))
    )
    plain = REFERENCE.sub("", plain)
    tokens = plain.split()
    words = sum(bool(_WORDS.fullmatch(t.strip(".,;:!?()\"'"))) for t in tokens)
    wordy = words / (len(tokens) or 1)
    squeezed = plain.replace(" ", "")
    symbols = sum(c in SYMBOLS for c in squeezed) / (len(squeezed) or 1)
    ends = bool(SENTENCE_END.search(present[-1].rstrip()))
    if ends and wordy >= 0.6 and symbols < 0.08:
        return False
    indents = {len(line) - len(line.lstrip()) for line in present}
    if symbols > 0.08 or wordy < 0.4:
        return True
    return len(indents) > 1 and not ends and len(present) > 1


# Words a heading does not end with, though a line leading into what follows does.
TRAILING_WORDS = frozenset(
    """
    a an the to of and or is are was were be as for with by in on at that which from into
    than then if when where whose this these its their
    """.split()  # noqa: SIM905 - a word list reads better as text
)
