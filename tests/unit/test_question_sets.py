"""The shape of the reader question sets (tests/data/reader, tests/data/heldout), no model.

These sets are only ever reported on, so a broken item would silently distort the figures:
an evidence string the loader no longer produces can never be cited, a keyword missing from
its evidence can never be matched, a question that copies the text measures string matching
rather than reading. Each check below names the item that breaks it.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections import Counter
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

import pytest

from assistant.ops.evalsets import fold, load_items
from index import loaders

DATA = Path(__file__).resolve().parents[1] / "data"
KINDS = {
    "who",
    "what",
    "which",
    "how-many",
    "when",
    "where",
    "why",
    "how",
    "yes-no",
    "two-part",
    "follow-up",
    "paraphrase",
    "synonym",
    "demonym",
    "restates-premise",
    "heading",
    "unanswerable",
}
_BASE_KINDS = KINDS - {"how", "where", "heading"}
# set name -> (minimum questions, minimum documents, kinds that must each appear)
SETS = {
    "reader": (100, 6, _BASE_KINDS),
    "heldout": (120, 7, _BASE_KINDS | {"heading"}),
}
FIELDS = {
    "id",
    "source",
    "question",
    "answerable",
    "answer_keywords",
    "evidence",
    "history",
    "kinds",
}
COPY_RUN = 8  # a question may not share this many consecutive words with its document
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _items(name: str) -> list[dict]:
    lines = (DATA / name / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _docx_text(path: Path) -> str:
    """Paragraph texts of a Word document, a blank line apart: what a reader sees, used while
    the project's loader has no .docx support (it then checks against the loader instead)."""
    with zipfile.ZipFile(path) as z:
        root = ElementTree.fromstring(z.read("word/document.xml"))
    paras = ("".join(t.text or "" for t in p.iter(f"{_W}t")) for p in root.iter(f"{_W}p"))
    return "\n\n".join(p for p in paras if p.strip())


@cache
def _text(name: str, source: str) -> str:
    path = DATA / name / "docs" / source
    if path.suffix == ".docx" and ".docx" not in loaders.SUPPORTED:
        return _docx_text(path)
    return loaders.load(path, max_bytes=50_000_000).text


def _readme(name: str) -> str:
    return (DATA / name / "README.md").read_text(encoding="utf-8")


def _table_rows(readme: str, header_start: str) -> list[list[str]]:
    """Cells of the Markdown table whose header row starts with ``header_start``."""
    lines = readme.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
    return rows


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


@pytest.fixture(params=sorted(SETS), scope="module")
def qset(request) -> str:
    return request.param


def test_items_are_well_formed(qset: str) -> None:
    items = _items(qset)
    ids = Counter(item["id"] for item in items)
    assert not [i for i, n in ids.items() if n > 1], "duplicate ids"
    for item in items:
        where = f"{qset}/{item['id']}"
        assert set(item) <= FIELDS, f"{where}: unknown fields {set(item) - FIELDS}"
        assert isinstance(item["question"], str) and item["question"].strip(), where
        assert Path(item["source"]).name == item["source"], f"{where}: source must be a file name"
        assert (DATA / qset / "docs" / item["source"]).is_file(), f"{where}: no such source"
        assert set(item["kinds"]) <= KINDS, f"{where}: unknown kinds"
        assert item["answerable"] is ("unanswerable" not in item["kinds"]), (
            f"{where}: the unanswerable tag and the answerable field disagree"
        )
        if item["answerable"]:
            assert item["answer_keywords"] and item["evidence"], where
            assert all(
                group and all(alt.strip() for alt in group) for group in item["answer_keywords"]
            ), where
        else:
            assert item["answer_keywords"] == [] and item["evidence"] == [], where
        history = item.get("history", [])
        assert ("follow-up" in item["kinds"]) is bool(history), f"{where}: follow-up w/o history"
        for n, turn in enumerate(history):
            assert turn["role"] == ("user", "assistant")[n % 2], where
            assert isinstance(turn["content"], str) and turn["content"].strip(), where
    # the project's own reader parses every item the same way
    assert len(load_items(DATA / qset / "questions.jsonl")) == len(items)


def test_counts_shares_and_kinds(qset: str) -> None:
    least, least_docs, kinds = SETS[qset]
    items = _items(qset)
    unanswerable = sum(not item["answerable"] for item in items)
    assert len(items) >= least
    assert len({item["source"] for item in items}) >= least_docs
    assert unanswerable / len(items) >= 0.25
    seen = Counter(k for item in items for k in item["kinds"])
    assert not kinds - set(seen), f"kinds never used: {sorted(kinds - set(seen))}"


def test_readme_counts_match_the_items(qset: str) -> None:
    """The counts the README publishes are the counts of the file."""
    items = _items(qset)
    rows = _table_rows(_readme(qset), "| document | questions")
    stated = {
        r[0].strip("*`"): [int(re.sub(r"\D.*", "", c.strip("*"))) for c in r[1:4]] for r in rows
    }
    total = stated.pop("total")
    actual = {}
    for item in items:
        counts = actual.setdefault(item["source"], [0, 0, 0])
        counts[0] += 1
        counts[1 if item["answerable"] else 2] += 1
    assert stated == actual
    assert total == [
        len(items),
        sum(c[1] for c in actual.values()),
        sum(c[2] for c in actual.values()),
    ]


def test_readme_kind_counts_match_the_items(qset: str) -> None:
    """The README's "Kinds" line states how often each tag is used."""
    line = re.search(r"Kinds \(an item has several tags\): (.*?)\.\n", _readme(qset), re.S)
    assert line, f"{qset}/README.md has no Kinds line"
    stated = {k: int(n) for k, n in re.findall(r"\b([a-z][a-z-]*) (\d+)", line.group(1))}
    actual = Counter(k for item in _items(qset) for k in item["kinds"])
    assert {k: actual[k] for k in stated} == stated
    assert set(actual) - {"unanswerable"} <= set(stated), "kinds the README does not count"


def test_every_document_is_listed_with_its_licence(qset: str) -> None:
    folder = DATA / qset
    readme = _readme(qset)
    rows = _table_rows(readme, "| file |")
    header = [c.strip() for c in readme.split("| file |", 1)[1].split("\n", 1)[0].split("|")]
    licence_col = 1 + header.index("licence")
    listed = {r[0].strip("`"): r[licence_col] for r in rows}
    on_disk = {p.name for p in (folder / "docs").iterdir()}
    assert set(listed) == on_disk
    licence_words = re.compile(r"licen[cs]e|public domain|CC BY|GPL|MIT|BSD", re.I)
    assert all(licence_words.search(licence) for licence in listed.values()), listed
    for ref in re.findall(r"`(licenses/[^`]+)`", readme):
        assert (folder / ref).is_file(), f"{qset}/README.md names missing {ref}"
    questioned = {item["source"] for item in _items(qset)}
    assert on_disk == questioned, "a document without questions, or questions without one"


def test_evidence_is_verbatim_in_the_loaded_document(qset: str) -> None:
    bad = []
    for item in _items(qset):
        text = _text(qset, item["source"])
        for ev in item["evidence"]:
            if ev not in text or "\n" in ev:
                bad.append((item["id"], ev))
    assert not bad, f"evidence not found on one line of the loaded text: {bad}"


def test_every_keyword_group_is_in_some_evidence(qset: str) -> None:
    bad = []
    for item in _items(qset):
        evidence = [fold(e) for e in item["evidence"]]
        for group in item["answer_keywords"]:
            if not any(fold(alt) in e for alt in group for e in evidence):
                bad.append((item["id"], group))
    assert not bad, f"keyword groups that no evidence string contains: {bad}"


def test_no_question_copies_its_document(qset: str) -> None:
    runs: dict[str, set[tuple[str, ...]]] = {}
    bad = []
    for item in _items(qset):
        if item["source"] not in runs:
            words = _words(_text(qset, item["source"]))
            runs[item["source"]] = {
                tuple(words[i : i + COPY_RUN]) for i in range(len(words) - COPY_RUN + 1)
            }
        q = _words(item["question"])
        copied = [q[i : i + COPY_RUN] for i in range(len(q) - COPY_RUN + 1)]
        if any(tuple(run) in runs[item["source"]] for run in copied):
            bad.append(item["id"])
    assert not bad, f"questions sharing {COPY_RUN}+ consecutive words with the text: {bad}"


def test_the_copy_check_can_fail() -> None:
    """The eight-word check above flags a question lifted from the text, and only that."""
    text = _text("heldout", "bzip2-manual.txt")
    doc = _words(text)
    doc_runs = {tuple(doc[i : i + COPY_RUN]) for i in range(len(doc) - COPY_RUN + 1)}
    lifted = _words(
        "Is it true that bzip2 and bunzip2 will by default not overwrite existing files?"
    )
    own = _words("Will bzip2 overwrite a file that is already there unless I force it?")
    assert any(tuple(lifted[i : i + COPY_RUN]) in doc_runs for i in range(len(lifted)))
    assert not any(tuple(own[i : i + COPY_RUN]) in doc_runs for i in range(len(own)))


def test_docx_fallback_reads_paragraphs() -> None:
    """The .docx reader the check falls back on sees the document's paragraphs."""
    text = _docx_text(DATA / "heldout" / "docs" / "news-cairo-summit-eastmed.docx")
    assert text.startswith("Cairo summit denounces Turkish-Libyan maritime border agreement\n\n")
    assert "The foreign ministers agreed to a future meet on Crete." in text.split("\n\n")
