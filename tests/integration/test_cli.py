"""The CLI contract of DESIGN.md, run as a real subprocess with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLE
from tests.support.assistant_cli import run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli-data")
    bad = tmp_path_factory.mktemp("bad")
    (bad / "broken.txt").write_bytes(b"\x00\x01binary")
    result = run(["ingest", str(SAMPLE), str(bad)], data)
    assert result.returncode == 1, "a failed file makes the exit status non-zero"
    assert "broken.txt: binary file" in result.stderr
    assert "1 documents indexed" in result.stdout
    return data


def test_ask_json_contract(indexed: Path) -> None:
    result = run(
        ["ask", "How many leaders attended the Coalition of the Willing meeting?", "--json"],
        indexed,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) >= {"answer", "abstained", "citations", "timing_ms"}
    assert "30" in answer["answer"] and answer["abstained"] is False
    text = SAMPLE.read_text(encoding="utf-8")
    for c in answer["citations"]:
        assert set(c) >= {"n", "source", "text", "start", "end", "score", "supported"}
        assert text[c["start"] : c["end"]] == c["text"]
    assert "which was attended by 30 leaders" in answer["citations"][0]["text"]
    assert set(answer["timing_ms"]) >= {"retrieve", "answer", "total"}


def test_ask_plain_lists_sources(indexed: Path) -> None:
    result = run(["ask", "Which countries opposed Macron's proposal?"], indexed)
    assert result.returncode == 0
    assert "Sources:" in result.stdout and "[1] coalition-of-the-willing.txt" in result.stdout


def test_ask_jsonl_one_response_per_line(indexed: Path) -> None:
    requests = [
        {"question": "Is Australia ready to send peacekeepers?"},
        {
            "question": "And Denmark?",
            "history": [
                {"role": "user", "content": "Is Australia ready to send peacekeepers?"},
                {"role": "assistant", "content": "Yes."},
            ],
        },
        "not json",
        {"question": ""},
    ]
    stdin = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in requests) + "\n"
    result = run(["ask", "--jsonl"], indexed, stdin)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4
    assert "Denmark" in lines[1]["answer"]
    assert "not valid JSON" in lines[2]["error"]
    assert "Please type a question" in lines[3]["error"]


def test_bad_questions_are_clear_errors(indexed: Path) -> None:
    empty = run(["ask", "   "], indexed)
    assert empty.returncode == 2 and "Please type a question" in empty.stderr
    huge = run(["ask", "why " * 600], indexed)
    assert huge.returncode == 2 and "limit is 2,000" in huge.stderr
    assert "Traceback" not in empty.stderr + huge.stderr


def test_reingest_is_a_no_op_and_documents_lists(indexed: Path) -> None:
    again = run(["ingest", str(SAMPLE)], indexed)
    assert again.returncode == 0 and "1 unchanged" in again.stdout
    listed = run(["documents", "--json"], indexed)
    docs = json.loads(listed.stdout)
    assert [(d["source"], d["date"]) for d in docs] == [
        ("coalition-of-the-willing.txt", "2025-03-27")
    ]


def test_data_dir_flag_overrides_env(tmp_path: Path) -> None:
    target = tmp_path / "flagged"
    result = run(["--help"], tmp_path)
    assert result.returncode == 0
    result = run(["documents", "--data-dir", str(target)], tmp_path / "unused")
    assert result.returncode == 0 and "The index is empty" in result.stdout
    assert not target.exists(), "listing an empty index writes nothing"
    result = run(["remove", "nothing.txt", "--data-dir", str(target)], tmp_path / "unused")
    assert result.returncode == 1 and "nothing.txt: not in the index" in result.stderr
    assert (target / "chroma").exists() and not (tmp_path / "unused").exists()


def test_doctor_reports_no_contacts_and_offline_model(indexed: Path) -> None:
    result = run(["doctor", "--json"], indexed)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["contacts"] == []
    assert report["model"]["offline"] is True
    assert report["store"]["exists"] is True
