"""The generative answerer: an LLM writes the answer, then every sentence's citations are checked.

The LLM sees only the retrieved passages, numbered and fenced in ``<source>`` tags, under a
system prompt that treats their content as data. Whatever it writes is split into sentences;
each ``[n]`` marker is resolved to passage n and replaced by an exact span of it (the passage
sentence that best supports the claim), marked supported or not. An answer with no supported
sentence becomes an abstention, unless the passage sentence closest to what it said, among
those that answer the question, passes the check (``assistant.answer.reground``). Any LLM
failure falls back to the extractive answer, with a note.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant.answer.citations import make_citation
from assistant.answer.condense import condense as heuristic_condense
from assistant.answer.extractive import ABSTAIN_TEXT, ExtractiveAnswerer
from assistant.answer.llm import describe, failure_kind, failure_note
from assistant.answer.prompts import Prompts
from assistant.answer.reground import NOTE, UNSURE_PREFIX, candidates, closest
from assistant.answer.retrieval import Found, Passage
from assistant.answer.support import ABSTAIN_PHRASE, Evidence, SupportScorer, is_claim, split_answer
from assistant.types import Answer, Citation, Message

log = logging.getLogger(__name__)
NOT_SHOWN = "The language model's answer was not supported by the documents, so it is not shown."
_TAG = re.compile(r"<(/?)(source)", re.I)
_MARKER = re.compile(r"(\s*)\[(\d+)\]")


def format_sources(passages: Sequence[Passage]) -> str:
    """The passages as numbered ``<source>`` blocks; tags inside a document are defused."""
    blocks = []
    for n, p in enumerate(passages, 1):
        c = p.chunk
        attrs = f'n="{n}" document="{html.escape(c.source)}"'
        if c.title:
            attrs += f' title="{html.escape(c.title)}"'
        if c.date:
            attrs += f' date="{html.escape(c.date)}"'
        body = _TAG.sub(r"&lt;\1\2", c.text)
        blocks.append(f"<source {attrs}>\n{body}\n</source>")
    return "\n\n".join(blocks)


def format_history(history: Sequence[Message | dict], limit: int = 6) -> str:
    """The last turns as ``User:``/``Assistant:`` lines, markers dropped, long turns cut."""
    lines = []
    for item in list(history)[-limit:]:
        m = item if isinstance(item, Message) else Message.model_validate(item)
        text = re.sub(r"\s*\[\d+\]", "", m.content).strip()
        text = text if len(text) <= 600 else text[:600] + "…"
        lines.append(f"{'User' if m.role == 'user' else 'Assistant'}: {text}")
    return "\n".join(lines)


def message_text(content: Any) -> str:
    """Text of a message's content, whether a string or a list of content blocks."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


class GenerativeAnswerer:
    """Answers with a chat model; checks its citations; falls back to ``fallback``."""

    def __init__(
        self,
        model: BaseChatModel,
        prompts: Prompts,
        scorer: SupportScorer,
        fallback: ExtractiveAnswerer,
        timeout_s: float = 30.0,
        max_question_chars: int = 2000,
        label: str = "llm",
        max_passages: int | None = None,
        reground: bool = True,
        cooldown_s: float = 30.0,
        history_turns: int = 6,
    ) -> None:
        self.model = model
        self.history_turns = history_turns  # earlier turns shown when condensing a follow-up
        self.cooldown_s = cooldown_s  # after a timeout or refused connection: extractive at once
        self.answered_by = label if label.startswith("llm") else f"llm:{label}"
        self.max_passages = max_passages  # a small model reads fewer passages, faster
        self.reground = reground
        self.prompts = prompts
        self.scorer = scorer
        self.fallback = fallback
        self.timeout_s = timeout_s
        self.max_question_chars = max_question_chars
        self._lock = threading.Lock()
        self._down: tuple[float, str] | None = None  # (until, note) after a timeout

    # -- failures ---------------------------------------------------------------------------
    def _unavailable(self) -> str | None:
        with self._lock:
            if self._down and time.monotonic() < self._down[0]:
                return self._down[1]
            return None

    def _failed(self, exc: Exception, what: str) -> str:
        note = failure_note(exc, self.timeout_s)
        log.warning("LLM %s failed, %s", what, describe(exc))
        if failure_kind(exc) in ("timeout", "unreachable"):
            with self._lock:
                self._down = (time.monotonic() + self.cooldown_s, note)
        return note

    def _extractive(self, found: Found, note: str) -> Answer:
        answer = self.fallback.answer(found)
        answer.notes.append(note)
        why = note.removeprefix("The language model ").split(", so ")[0]
        answer.answered_by = f"extractive (LLM failed: {why})"
        return answer

    # -- follow-ups -------------------------------------------------------------------------
    def condense(self, question: str, history: Sequence[Message | dict] | None) -> str:
        """The follow-up rewritten by the LLM as a standalone question; heuristic on failure."""
        turns = list(history or [])
        if not any((t.role if isinstance(t, Message) else t.get("role")) == "user" for t in turns):
            return question.strip()
        if self._unavailable():
            return heuristic_condense(question, turns)
        prompt = self.prompts.condense_prompt(
            format_history(turns, self.history_turns), question.strip()
        )
        try:
            reply = message_text(self.model.invoke([HumanMessage(prompt)]).content)
        except Exception as exc:  # any provider failure: the heuristic still works
            self._failed(exc, "condensing")
            return heuristic_condense(question, turns)
        line = next((x.strip() for x in reply.strip().splitlines() if x.strip()), "")
        line = re.sub(r"^(?:standalone question|question)\s*:\s*", "", line, flags=re.I)
        line = line.strip().strip("\"'“”").strip()
        if not line or len(line) > self.max_question_chars:
            return heuristic_condense(question, turns)
        return line

    # -- answers ----------------------------------------------------------------------------
    def messages(self, question: str, passages: Sequence[Passage]) -> list[BaseMessage]:
        """What the LLM sees: the system prompt, then the fenced sources and the question."""
        prompt = self.prompts.answer_prompt(format_sources(passages), question)
        return [SystemMessage(self.prompts.system), HumanMessage(prompt)]

    def answer(self, found: Found) -> Answer:
        """The checked answer in one call (the provider's non-streaming API)."""
        result: Answer | None = None
        for item in self._run(found, streaming=False):
            if isinstance(item, Answer):
                result = item
        assert result is not None  # _run always ends with an Answer
        return result

    def stream(self, found: Found) -> Iterator[str | Answer]:
        """Text pieces as the LLM writes them, then the checked ``Answer``."""
        yield from self._run(found, streaming=True)

    def _run(self, found: Found, streaming: bool) -> Iterator[str | Answer]:
        if not found.passages:
            yield self.fallback.answer(found)
            return
        if self.max_passages:
            found = found.keeping(found.passages[: self.max_passages])
        question, passages = found.query, found.passages
        note = self._unavailable()
        if note:
            yield self._extractive(found, note)
            return
        messages = self.messages(question, passages)
        pieces: list[str] = []
        try:
            if streaming:
                for chunk in self.model.stream(messages):
                    piece = message_text(chunk.content)
                    if piece:
                        pieces.append(piece)
                        yield piece
            else:
                pieces.append(message_text(self.model.invoke(messages).content))
        except Exception as exc:  # unreachable, timeout, HTTP error: quote instead
            yield self._extractive(found, self._failed(exc, "answer"))
            return
        answer = self.check("".join(pieces), question, passages)
        if answer.abstained and answer.unsupported_claims and self.reground:
            answer = self._reground(found, answer) or answer
        answer.answered_by = self.answered_by
        yield answer

    def _reground(self, found: Found, first: Answer) -> Answer | None:
        """The passage sentence the rejected answer was closest to (``answer.reground``)."""
        question, passages = found.query, found.passages
        quoted = self.fallback.answer(found)
        if quoted.abstained:
            return None
        cands = candidates(question, self.fallback.candidates(found), passages)
        if not cands:
            return None
        pick = closest(question, first.unsupported_claims, cands, self.scorer.searcher)
        if pick is None:
            return None
        answer = self.check(pick.reply, question, passages)
        if answer.abstained:
            return None
        answer.notes.append(NOTE)
        answer.unsupported_claims = list(first.unsupported_claims)
        # As sure as the extractive answerer is of the question: unsure is said, as it says it.
        answer.confidence, answer.uncertain = quoted.confidence, quoted.uncertain
        if quoted.uncertain:
            answer.answer = f"{UNSURE_PREFIX}{answer.answer}"
        return answer

    # -- citation checking ------------------------------------------------------------------
    def check(self, text: str, question: str, passages: Sequence[Passage]) -> Answer:
        """Resolve and verify the ``[n]`` markers of ``text`` (passages numbered from 1)."""
        k, text = len(passages), text.strip()
        sentences = split_answer(text)
        unknown = sorted({n for s in sentences for n in s.markers if not 1 <= n <= k})
        numbers: dict[tuple[str, int, int, bool], int] = {}
        citations: list[Citation] = []
        unsupported: list[str] = []
        claims = supported_any = matched = 0
        out, pos = [], 0
        for s in sentences:
            claims += is_claim(s)
            cited = [n for n in s.markers if 1 <= n <= k]
            vec = self.scorer.claim_vector(s.plain) if cited or is_claim(s) else None
            found = [(n, self.scorer.evidence(s.plain, passages[n - 1], vec)) for n in cited]
            inferred = None
            if not found and is_claim(s):
                inferred = self._best_source(s.plain, passages, vec)
                if inferred is not None:
                    found = [inferred]
                    matched += 1
            mapping = {n: self._number(n, e, k, numbers, citations) for n, e in found}
            written = _MARKER.sub(partial(_renumber, mapping=mapping), s.text)
            if inferred is not None:
                body = written.rstrip()
                written = f"{body} [{mapping[inferred[0]]}]{written[len(body) :]}"
            if any(e.supported for _, e in found):
                supported_any += 1
            elif is_claim(s):
                unsupported.append(written.strip())
            out.append(text[pos : s.start])
            out.append(written)
            pos = s.end
        out.append(text[pos:])
        notes = []
        if matched:
            notes.append(
                f"The language model cited no source for {matched} sentence(s); each was "
                "matched to the passage that supports it."
            )
        if unknown:
            listed = ", ".join(f"[{n}]" for n in unknown)
            notes.append(f"Removed {listed}: the answer cited a source that was not retrieved.")
        if not supported_any:
            abstain = self._closest(question, passages)
            abstain.unsupported_claims = unsupported
            abstain.notes = notes + (
                [NOT_SHOWN] if claims or not ABSTAIN_PHRASE.match(text) else []
            )
            return abstain
        citations.sort(key=lambda c: c.n)
        return Answer(
            answer="".join(out).strip(),
            abstained=False,
            citations=citations,
            notes=notes,
            unsupported_claims=unsupported,
        )

    @staticmethod
    def _number(
        n: int,
        e: Evidence,
        k: int,
        numbers: dict[tuple[str, int, int, bool], int],
        citations: list[Citation],
    ) -> int:
        """The citation number of passage n's span: n itself the first time, so the streamed
        text keeps its markers; a second, different span of the same passage gets a number
        above k, where it cannot collide with the LLM's own markers."""
        key = (e.passage.chunk.chunk_id, e.start, e.end, e.supported)
        if key not in numbers:
            used = {c.n for c in citations}
            numbers[key] = n if n not in used else max(used | {k}) + 1
            citations.append(_citation(numbers[key], e))
        return numbers[key]

    def _best_source(
        self, claim: str, passages: Sequence[Passage], vector: np.ndarray | None = None
    ) -> tuple[int, Evidence] | None:
        """The passage (numbered from 1) that supports an unmarked claim, if any does.

        Small models often drop the ``[n]`` markers; the claim is still checked, against
        every passage (the claim embedded once), and cited only where one supports it.
        """
        vector = self.scorer.claim_vector(claim) if vector is None else vector
        scored = [(n, self.scorer.evidence(claim, p, vector)) for n, p in enumerate(passages, 1)]
        n, best = max(scored, key=lambda x: x[1].score)
        return (n, best) if best.supported else None

    def _closest(self, question: str, passages: Sequence[Passage]) -> Answer:
        """An abstention citing the best-matching sentence of the top three passages."""
        vector = self.scorer.claim_vector(question)
        closest = [self.scorer.evidence(question, p, vector) for p in passages[:3]]
        citations = [
            _citation(n, e).model_copy(update={"supported": False})
            for n, e in enumerate(closest, 1)
        ]
        suffix = "; the closest passages are listed as sources." if citations else "."
        return Answer(answer=ABSTAIN_TEXT + suffix, abstained=True, citations=citations)


def _renumber(match: re.Match[str], mapping: dict[int, int]) -> str:
    n = int(match.group(2))
    return f"{match.group(1)}[{mapping[n]}]" if n in mapping else ""


def _citation(n: int, e: Evidence) -> Citation:
    return make_citation(n, e.passage.chunk, e.start, e.end, e.text, e.score, e.supported)
