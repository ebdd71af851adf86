"""The offline answerer: quote the sentences that best answer the question, never new text.

Each sentence of the retrieved passages is scored by meaning (cosine similarity of its
embedding to the question's) and by wording (the IDF-weighted share of the question's terms
it contains). Whether to answer at all is a calibrated decision, see ``calibration``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from assistant.answer.answer_types import answer_type_ok, focus_ok
from assistant.answer.calibration import QUESTION_WORDS, Calibration
from assistant.answer.citations import make_citation
from assistant.answer.lexical import terms
from assistant.answer.negation import answers_negation, asks_negated
from assistant.answer.rarity import absence_weights
from assistant.answer.retrieval import Found, Passage, Searcher
from assistant.answer.wording import (
    CAPITALISED,
    CORPUS_WORDS,
    is_label,
    novel,
    novel_share,
    options,
    question_terms,
)
from assistant.types import Answer, Citation
from index.layout import CODE, PROSE

# What both answerers say when the documents do not answer (then why, and what is listed).
ABSTAIN_TEXT = "The documents don't say. Nothing in them answers this question"

_COUNT_IN = re.compile(r"\b(two|three|four|five|six|seven|eight|nine|ten|\d)\b", re.I)
_COUNTS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}


@dataclass(slots=True)
class Candidate:
    """One sentence of a retrieved passage, with what the answer decision looks at."""

    passage: Passage
    start: int
    end: int
    text: str
    features: list[float] = field(default_factory=list)  # see calibration.SENTENCE_FEATURES
    score: float = 0.0
    chunk_lexical: float = 0.0
    oov: float = 0.0  # share of the question's terms found nowhere in the index
    missing: float = 0.0  # rarity of the rarest question term missing from the passage, 0..1
    margin: float = 0.0  # lead of this sentence's score over the runner-up
    j: int = 0  # index of the sentence in its passage
    heading: frozenset[str] = frozenset()  # terms of its section heading and label, if any
    kind: str = PROSE  # its layout kind (index.layout): code is quoted after close prose

    @property
    def type_ok(self) -> bool:
        return bool(self.features[4] and self.features[6]) if self.features else True


_BLANK_LINE = re.compile(r"\n[ \t]*\n")


class ExtractiveAnswerer:
    """Picks sentences from passages; refuses, or marks the answer uncertain, by confidence."""

    def __init__(
        self,
        searcher: Searcher,
        calibration: Calibration,
        max_sentences: int = 3,
        threshold: float | None = None,
    ) -> None:
        self.searcher = searcher
        self.calibration = calibration
        self.max_sentences = max_sentences
        self.threshold = calibration.threshold if threshold is None else threshold

    def candidates(self, found: Found) -> list[Candidate]:
        """Every sentence of the passages (pooled across passages), scored, best first;
        IDF and the question's vector come from ``found`` (the snapshot it searched)."""
        question, passages, bm25 = found.query, found.passages, found.snapshot.bm25
        if not passages:
            return []
        q_terms = question_terms(question, [p.chunk.text for p in passages])
        weights = {t: bm25.idf_of(t) for t in q_terms}
        absent = absence_weights(question, weights)
        total = sum(weights.values()) or 1.0
        # An option the question names counts as its rarest word would, when said exactly.
        asked_options = options(question)
        option_weight = max(weights.values(), default=1.0)
        total_with_options = total + option_weight * len(asked_options)
        oov = sum(t not in bm25.vocab for t in q_terms) / (len(q_terms) or 1)
        top_idf = bm25.idf_of("\x00") or 1.0  # an unseen term: the highest IDF
        ids = [p.chunk.unit_id(j) for p in passages for j in range(len(p.chunk.units))]
        vectors = self.searcher.store.unit_vectors(ids)
        qvec = found.vector
        out: list[Candidate] = []
        for p in passages:
            c = p.chunk
            chunk_terms = set(terms(c.text))
            chunk_lexical = sum(w for t, w in weights.items() if t in chunk_terms) / total
            missing = max((w for t, w in absent.items() if t not in chunk_terms), default=0.0)
            prev_dense = prev_lexical = 0.0
            prev_present: set[str] = set()
            label: frozenset[str] = frozenset()
            labelled = False  # the paragraph after the label has begun
            prev_end = c.start
            heading_terms: dict[str, frozenset[str]] = {}
            for j, (s, e) in enumerate(c.units):
                text = c.text[s - c.start : e - c.start]
                gap_start, prev_end = prev_end, e
                kind = c.kinds[j] if j < len(c.kinds) else PROSE
                # A label names one paragraph: a blank line after it has begun ends it.
                if labelled and _BLANK_LINE.search(c.text, gap_start - c.start, s - c.start):
                    label, labelled = frozenset(), False
                vec = vectors.get(c.unit_id(j))
                dense = float(np.dot(vec, qvec)) if vec is not None else 0.0
                # The heading a sentence sits under is part of what it says ("Remove a single
                # stash entry" under "drop [<stash>]::"): its terms count as the sentence's.
                section = c.sections[j] if j < len(c.sections) else ""
                if section not in heading_terms:
                    heading_terms[section] = frozenset(terms(section))
                # A lone word on its own line ("operator", "www-data" in an HTML definition
                # list) labels what follows, like a heading; it is not itself an answer.
                if kind != CODE and is_label(text):
                    label, labelled = frozenset(terms(text)), False
                    prev_present = set(label)
                    continue
                labelled = labelled or bool(label)
                present = set(terms(text)) | heading_terms[section] | label
                lexical = sum(w for t, w in weights.items() if t in present) / total
                if asked_options:
                    said = len(asked_options & (options(text) | options(section)))
                    lexical = (lexical * total + option_weight * said) / total_with_options
                # A sentence that refers back ("Romania and Bulgaria rejected the plan") is
                # about what the one before it names: what the pair adds over the sentence.
                pair = present | prev_present
                pair_gain = sum(w for t, w in weights.items() if t in pair) / total - lexical
                feats = [
                    dense,
                    lexical,
                    prev_dense,
                    prev_lexical,
                    float(answer_type_ok(question, text)),
                    float(novel(question, text)),
                    float(focus_ok(question, present)),
                    pair_gain,
                ]
                out.append(
                    Candidate(
                        p,
                        s,
                        e,
                        text,
                        feats,
                        0.0,
                        chunk_lexical,
                        oov,
                        missing / top_idf,
                        j=j,
                        heading=heading_terms[section] | label,
                        kind=kind,
                    )
                )
                prev_dense, prev_lexical, prev_present = dense, lexical, present
        if not out:  # only labels: nothing to quote
            return []
        # How each sentence compares with the best one for this question: a sentence is the
        # answer relative to the others, whatever the document's overall similarity level.
        best_dense = max(c.features[0] for c in out)
        best_lexical = max(c.features[1] for c in out)
        for cand in out:
            cand.features += [cand.features[0] - best_dense, cand.features[1] - best_lexical]
        self.rescore(out)
        return out

    def rescore(self, ranked: list[Candidate], calibration: Calibration | None = None) -> None:
        """Score and sort candidates with ``calibration`` (the fitted one by default)."""
        cal = calibration or self.calibration
        for cand in ranked:
            cand.score = cal.sentence_score(cand.features)
        ranked.sort(key=lambda x: x.score, reverse=True)
        for cand in ranked:
            cand.margin = 0.0
        if len(ranked) > 1:
            ranked[0].margin = ranked[0].score - ranked[1].score

    def answer_features(self, found: Found, ranked: list[Candidate]) -> list[float]:
        """Features of the answerability model (calibration.ANSWER_FEATURES)."""
        question = found.query
        best = ranked[0]
        dense, lexical, _, _, type_ok = best.features[:5]
        chunk = best.passage.chunk
        chunks = {c.passage.chunk.chunk_id: c.passage.chunk.text for c in ranked}
        q_terms = question_terms(question, list(chunks.values()))
        bm25 = found.snapshot.bm25
        names = [terms(w) for w in CAPITALISED.findall(question)[1:]]
        present = set(terms(chunk.text))
        named_missing = sum(bool(t) and t[0] not in present for t in names) / (len(names) or 1)
        # SQuAD 2.0's unanswerable questions often add a "not" the passage never says.
        negated = asks_negated(question)
        negation = negated and not answers_negation(question, best.text)
        window = [
            c
            for c in ranked
            if c.passage.chunk.chunk_id == chunk.chunk_id and abs(c.j - best.j) <= 1
        ]
        window_text = " ".join(c.text for c in window)
        window_terms = set(terms(window_text)) | best.heading
        sentence_terms = set(terms(best.text)) | best.heading
        cover = sum(t in window_terms for t in q_terms) / (len(q_terms) or 1)
        window_named_missing = sum(bool(t) and t[0] not in window_terms for t in names)
        numbers = re.findall(r"\d+", question)
        number_missing = any(n not in window_text for n in numbers)
        top_idf = bm25.idf_of("\x00") or 1.0
        absent = absence_weights(question, {t: bm25.idf_of(t) for t in q_terms})
        w_miss = [w / top_idf for t, w in absent.items() if t not in window_terms]
        s_miss = [w / top_idf for t, w in absent.items() if t not in sentence_terms]
        share = novel_share(q_terms, best.text)
        opening = question.lower().split()[:3]
        runner_up_same = len(ranked) > 1 and ranked[1].passage.chunk.chunk_id == chunk.chunk_id
        return [
            dense,
            lexical,
            type_ok,
            best.score,
            best.chunk_lexical,
            best.oov,
            best.missing,
            min(best.margin, 5.0),
            type_ok * dense,
            named_missing,
            float(negation),
            share,
            lexical * (1 - share),
            len(q_terms) / 10,
            cover,
            min(window_named_missing, 2) / 2,
            float(number_missing),
            max(c.features[0] for c in ranked),
            float(runner_up_same),
            best.passage.rank / 4,
            *(float(w in opening) for w in QUESTION_WORDS),
            max(w_miss, default=0.0),
            min(len(w_miss), 4) / 4,
            max(s_miss, default=0.0),
            min(len(s_miss), 4) / 4,
            float(negated),
        ]

    def answer(self, found: Found) -> Answer:
        return self.answer_ranked(found, self.candidates(found))

    def answer_ranked(self, found: Found, ranked: list[Candidate]) -> Answer:
        """The answer from already scored candidates (``candidates``), so an evaluation
        that has them can decide again under another calibration without searching again."""
        question = found.query
        # A question none of whose terms occurs in the passages ("Hello", "What now?") has
        # nothing to match; quoting the nearest text would answer a question nobody asked.
        if not ranked or not self._has_subject(question, ranked):
            return self._abstain(question, ranked, 0.0)
        features = self.answer_features(found, ranked)
        confidence = self.calibration.probability(features)
        # Refuse only when the documents lack what is asked; a best sentence that is merely
        # worded unlike the question is given, marked uncertain.
        if self.calibration.presence(features) < self.threshold:
            return self._abstain(question, ranked, confidence)
        picked = self.pick(found, ranked)
        lead_doc = picked[0].passage.chunk.doc_id
        # Readable order: the best sentence first (it is the answer: "Which Australian leader"
        # must not open with the Irish sentence before it), then the best document's other
        # sentences in text order (a restated premise before the sentence that answers it).
        best = picked[0]
        picked.sort(
            key=lambda c: (
                c is not best,
                c.passage.chunk.doc_id != lead_doc,
                c.passage.rank,
                c.start,
            )
        )
        citations = [_citation(n, c, True) for n, c in enumerate(picked, 1)]
        text = " ".join(f"{c.text} [{n}]" for n, c in enumerate(picked, 1))
        uncertain = confidence < self.calibration.uncertain_below
        if uncertain:
            text = f"The closest the documents come is: {text}"
        return Answer(
            answer=text,
            abstained=False,
            citations=citations,
            confidence=round(confidence, 4),
            uncertain=uncertain,
        )

    @staticmethod
    def _has_subject(question: str, ranked: list[Candidate]) -> bool:
        """Whether some term of the question, other than words for the corpus itself
        ("the documents", "the article"), occurs in the passages."""
        subject = set(terms(question)) - CORPUS_WORDS
        chunks = {c.passage.chunk.chunk_id: c.passage.chunk.text for c in ranked}
        return any(t in subject for text in chunks.values() for t in terms(text))

    def pick(
        self, found: Found, ranked: list[Candidate], calibration: Calibration | None = None
    ) -> list[Candidate]:
        """The sentences to quote: the best, those close to it, and the sentence after a
        best one that only restates the question ("X proposed Y." -> "Z opposed the idea.")."""
        cal = calibration or self.calibration
        question = found.query
        ranked = prose_first(ranked, cal.keep_margin)
        best = ranked[0]
        picked = [best]
        if best.text.rstrip().endswith(":"):
            picked.extend(self._list_items(found, best))
            return picked[: self.max_sentences + 3]
        for cand in ranked[1:]:
            if len(picked) >= self.max_sentences:
                break
            if cand.score >= best.score - cal.keep_margin and cand.type_ok:
                picked.append(cand)
        if novel_share(set(terms(question)), best.text) < cal.restate_below:
            chunk_id = best.passage.chunk.chunk_id
            nxt = [c for c in ranked if c.passage.chunk.chunk_id == chunk_id and c.j == best.j + 1]
            if nxt and nxt[0] not in picked:
                picked.append(nxt[0])
        return picked

    def _list_items(self, found: Found, lead: Candidate) -> list[Candidate]:
        """The items a sentence ending in a colon introduces: the first sentence of each of
        the following lines, as many as the sentence announces ("three pillars:"), else 3.
        Read from the snapshot the question searched, so the items belong with the lead."""
        m = _COUNT_IN.search(lead.text)
        want = (_COUNTS.get(m.group(1).lower()) or int(m.group(1))) if m else 3
        doc = self.searcher.store.document(lead.passage.chunk.doc_id)
        i = found.snapshot.row_of(lead.passage.chunk.chunk_id)
        if doc is None or i is None:
            return []
        text, chunks = doc[0], self.searcher.rows(found.snapshot)
        items: list[Candidate] = []
        prev_end = lead.end
        while i < len(chunks) and chunks[i].doc_id == lead.passage.chunk.doc_id:
            c = chunks[i]
            for s, e in c.units:
                if s <= lead.start:
                    continue
                if len(items) == want:
                    return items
                if "\n" in text[prev_end:s]:
                    passage = Passage(c, lead.passage.score, lead.passage.fused, lead.passage.rank)
                    items.append(Candidate(passage, s, e, text[s:e], lead.features, lead.score))
                prev_end = e
            i += 1
        return items

    def _abstain(self, question: str, ranked: list[Candidate], confidence: float) -> Answer:
        closest: list[Candidate] = []
        for cand in ranked:
            if all(cand.passage.chunk.chunk_id != c.passage.chunk.chunk_id for c in closest):
                closest.append(cand)
            if len(closest) == 3:
                break
        text = ABSTAIN_TEXT + ("; the closest passages are listed as sources." if closest else ".")
        return Answer(
            answer=text,
            abstained=True,
            citations=[_citation(n, c, False) for n, c in enumerate(closest, 1)],
            confidence=round(confidence, 4),
        )


def prose_first(ranked: list[Candidate], margin: float) -> list[Candidate]:
    """``ranked`` (best first) with the prose within ``margin`` of the best score moved
    before everything else. A code block (a synopsis, a shell session) is what the prose
    around it explains, not an answer on its own: it is quoted after the sentences that
    are, when room is left, and leads only when no prose comes close. Only the quoting
    order changes: whether to answer is decided on the best candidate of any kind."""
    if not ranked:
        return ranked
    floor = ranked[0].score - margin
    return sorted(ranked, key=lambda c: not (c.kind != CODE and c.score >= floor))


def _citation(n: int, cand: Candidate, supported: bool) -> Citation:
    score = round(max(0.0, min(1.0, cand.features[0])), 4)  # cosine to the question
    return make_citation(n, cand.passage.chunk, cand.start, cand.end, cand.text, score, supported)
