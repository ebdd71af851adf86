"""Hand-written fakes for fast unit tests: no model, no Chroma, no network."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant.errors import InputError, NotFoundError
from assistant.types import Answer, Citation, DocumentInfo, DocumentText

SAMPLE = Path(__file__).resolve().parents[2] / "assistant" / "data" / "coalition-of-the-willing.txt"


class FakeAssistant:
    """Answers from the sample article with real offsets, chosen by simple keyword rules.

    ``replies`` maps a lower-case keyword to the exact sentence to cite; a question with no
    matching keyword abstains, citing the first rule's sentence as the closest passage.
    """

    def __init__(self, replies: dict[str, str] | None = None) -> None:
        self.text = SAMPLE.read_text(encoding="utf-8")
        self.doc_id = hashlib.sha1(b"sample").hexdigest()[:16]
        self.replies = replies or {
            "opposed": "Germany, Italy, Spain and Poland immediately opposed the idea.",
            "leaders": 'He said this following a meeting of the "Coalition of the Willing", '
            "which was attended by 30 leaders.",
        }
        self.calls: list[tuple[str, list]] = []

    def _citation(self, n: int, sentence: str, supported: bool) -> Citation:
        start = self.text.index(sentence)
        para_start = self.text.rfind("\n", 0, start) + 1
        para_end = self.text.find("\n", start)
        return Citation(
            n=n,
            source=SAMPLE.name,
            text=sentence,
            start=start,
            end=start + len(sentence),
            score=0.8,
            supported=supported,
            doc_id=self.doc_id,
            title="Coalition of the Willing",
            date="2025-03-27",
            passage_start=para_start,
            passage_end=para_end if para_end != -1 else len(self.text),
        )

    def answer(self, question: str, history: Sequence | None = None) -> Answer:
        if not question.strip():
            raise InputError("Please type a question.")
        self.calls.append((question, list(history or [])))
        for key, sentence in self.replies.items():
            if key in question.lower():
                return Answer(
                    answer=f"{sentence} [1]",
                    abstained=False,
                    citations=[self._citation(1, sentence, True)],
                    timing_ms={"retrieve": 1.0, "answer": 1.0, "total": 2.0},
                )
        closest = next(iter(self.replies.values()))
        return Answer(
            answer="The documents don't say. The closest passage is listed below.",
            abstained=True,
            citations=[self._citation(1, closest, False)],
            timing_ms={"retrieve": 1.0, "answer": 1.0, "total": 2.0},
        )

    def stream(self, question: str, history: Sequence | None = None) -> Iterator[str | Answer]:
        result = self.answer(question, history)
        yield from re.findall(r"\S+\s*", result.answer)
        yield result

    def documents(self) -> list[DocumentInfo]:
        return [self.document(self.doc_id)]

    def document(self, doc_id: str) -> DocumentText:
        if doc_id != self.doc_id:
            raise NotFoundError(f"No document with id {doc_id!r}.")
        return DocumentText(
            doc_id=self.doc_id,
            source=SAMPLE.name,
            title="Coalition of the Willing",
            date="2025-03-27",
            chars=len(self.text),
            chunks=8,
            content_hash=hashlib.sha256(self.text.encode()).hexdigest(),
            indexed_at="2026-01-01T00:00:00+00:00",
            text=self.text,
        )

    def ingest(self, paths: Sequence[Path]) -> object:
        return {"documents": len(paths), "errors": []}


class HashEmbeddings:
    """A deterministic embedder: hashed word counts, unit length. Counts what it embeds."""

    identity = "hash-test:64"
    dimension = 64
    max_tokens = 254

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(re.findall(r"\w+|[^\w\s]", t)) for t in texts]

    def encode(self, texts: Sequence[str], progress: bool = False):
        import numpy as np

        self.embedded.extend(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int(hashlib.md5(word.encode()).hexdigest(), 16)
                out[i, h % self.dimension] += 1.0 if (h >> 8) & 1 else -1.0
            norm = float(np.linalg.norm(out[i])) or 1.0
            out[i] /= norm
        return out

    def encode_chunks(self, chunks: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]):
        units = [self.encode([c[s:e] for s, e in sp]) for c, sp in zip(chunks, spans, strict=True)]
        return self.encode(chunks), units

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


def record_encodes(embedder: object) -> list[str]:
    """Make ``embedder.encode`` record every text it is given; returns the record (to count
    how often a question or claim is embedded)."""
    embedded: list[str] = []
    encode = embedder.encode  # type: ignore[attr-defined]

    def recording(texts: list[str]) -> object:
        embedded.extend(texts)
        return encode(texts)

    embedder.encode = recording  # type: ignore[attr-defined]
    return embedded
