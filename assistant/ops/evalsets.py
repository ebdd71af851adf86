"""Read question sets: our JSONL format (DESIGN.md) and SQuAD 2.0's JSON."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import InputError


@dataclass(frozen=True)
class EvalItem:
    """One question with what a right answer must contain."""

    id: str
    question: str
    answerable: bool
    history: list[dict] = field(default_factory=list)
    keywords: list[list[str]] = field(default_factory=list)  # every group must match
    evidence: list[str] = field(default_factory=list)  # a right citation contains one


def load_items(path: Path) -> list[EvalItem]:
    """Items from a ``.jsonl`` file of ours or a SQuAD 2.0 ``.json`` file."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    if path.suffix == ".jsonl":
        items = []
        for n, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                items.append(
                    EvalItem(
                        id=str(d.get("id", n)),
                        question=d["question"],
                        answerable=d["answerable"],
                        history=d.get("history", []),
                        keywords=d.get("answer_keywords", []),
                        evidence=d.get("evidence", []),
                    )
                )
            except (ValueError, KeyError) as exc:
                raise InputError(f"{path.name} line {n}: not a valid item ({exc})") from exc
        return items
    try:
        data = json.loads(raw)["data"]
    except (ValueError, KeyError) as exc:
        raise InputError(f"{path.name}: not SQuAD 2.0 JSON ({exc})") from exc
    items = []
    for article in data:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                golds = list(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                items.append(
                    EvalItem(
                        id=qa["id"],
                        question=qa["question"],
                        answerable=not qa.get("is_impossible"),
                        keywords=[golds] if golds else [],
                        evidence=golds,
                    )
                )
    return items


def fold(text: str) -> str:
    """Case- and accent-insensitive form for keyword matching."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def keywords_match(answer: str, groups: list[list[str]]) -> bool:
    """True when every group has an alternative in the answer."""
    folded = fold(answer)
    return all(any(fold(alt) in folded for alt in group) for group in groups)


def cites_evidence(citation_texts: list[str], evidence: list[str]) -> bool:
    """True when some citation contains some evidence string."""
    return any(fold(e) in fold(t) for t in citation_texts for e in evidence)
