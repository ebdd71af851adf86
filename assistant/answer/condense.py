"""Turn a follow-up ("And Denmark?") into a standalone question, without an LLM.

An elliptical follow-up names a new subject for the previous question: the subject replaces
the previous question's last named entity. A short follow-up with a pronoun borrows the
previous question's content. Anything else is already standalone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer.lexical import STOPWORDS
from assistant.types import Message

_ELLIPSIS = re.compile(
    r"^\s*(?:and|but|also|what about|how about|and what about|what of|and for)\s+(?:the\s+)?"
    r"(?P<subject>[^?]+?)\s*\??\s*$",
    re.I,
)
_PRONOUN = re.compile(
    r"\b(he|she|it|they|them|his|her|its|their|this|that|these|those|there)\b", re.I
)
# A run of capitalised words, allowing joiners such as "of the" inside ("Coalition of the Willing").
_ENTITY = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:of\s+the\s+|of\s+|the\s+)?[A-Z][\w'’-]*)*")


def _as_messages(history: Sequence[Message | dict]) -> list[Message]:
    return [h if isinstance(h, Message) else Message.model_validate(h) for h in history]


def _entities(text: str) -> list[tuple[int, int]]:
    """Spans of named entities; a capitalised question word ("Is", "Who") is not one."""
    spans = []
    for match in _ENTITY.finditer(text):
        start, words = match.start(), match.group().split()
        while words and words[0].lower() in STOPWORDS:
            start = text.index(words[1], start) if len(words) > 1 else match.end()
            words = words[1:]
        if words:
            spans.append((start, match.end()))
    return spans


def condense(question: str, history: Sequence[Message | dict] | None) -> str:
    """The question as it should be searched for, given the conversation so far."""
    question = question.strip()
    previous = [m.content for m in _as_messages(history or []) if m.role == "user"]
    if not previous:
        return question
    last = previous[-1].strip()
    if (m := _ELLIPSIS.match(question)) is not None:
        subject = m.group("subject").strip()
        entities = list(_entities(last))
        if entities:
            start, end = entities[-1]
            return f"{last[:start]}{subject}{last[end:]}"
        return f"{last.rstrip('?')} {subject}?"
    words = [w for w in re.findall(r"\w+", question.lower()) if w not in STOPWORDS]
    if len(words) <= 4 and _PRONOUN.search(question):
        return f"{question} ({last})"
    return question
