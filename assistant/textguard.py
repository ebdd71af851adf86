"""Refuse text that is not valid Unicode before it reaches the model, the store or a page.

A JSON body may carry ``"\\ud800"`` (a lone surrogate): Python decodes it, but encoding it
later fails deep inside a library (HTTP 500). Non-characters (U+FFFE, U+FFFF, U+FDD0..U+FDEF
and the last two code points of every plane) are reserved for internal use and never text.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.errors import InputError

_BAD = re.compile(
    "[\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17))
    + "]"
)


def unicode_problem(text: str) -> str | None:
    """Why ``text`` is not valid Unicode text (a short phrase), or ``None`` when it is."""
    match = _BAD.search(text)
    if match is None:
        return None
    code = ord(match.group())
    kind = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a non-character"
    return f"{kind} (U+{code:04X}) at position {match.start()}"


def require_valid_unicode(text: str, what: str) -> None:
    """Raise ``InputError`` (HTTP 400) naming ``what`` when ``text`` is not valid Unicode."""
    problem = unicode_problem(text)
    if problem:
        raise InputError(f"The {what} is not valid Unicode text: it contains {problem}.")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_question(question: Any, max_chars: int) -> str:
    """The question, cleaned of control characters; ``InputError`` if empty or too long."""
    if not isinstance(question, str):
        raise InputError("The question must be text.")
    require_valid_unicode(question, "question")
    question = _CONTROL.sub(" ", question).strip()
    if not question:
        raise InputError("Please type a question.")
    if len(question) > max_chars:
        raise InputError(
            f"That question is {len(question):,} characters long; the limit is {max_chars:,}. "
            "Please shorten it."
        )
    return question
