"""Concurrency: the real server under a short burst of load, and ingest while answering.

The long run with 32 clients is ``python -m benchmarks.load`` (docs/load.json); this is the
same code for a few seconds with a few clients, so a regression fails the suite.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.load import load_questions, offline_env, run_load, running_server
from tests.conftest import SAMPLE

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict]]:
    """``assistant serve`` on the sample article: (URL, data dir, environment)."""
    data = tmp_path_factory.mktemp("served") / "data"
    env = offline_env(ASSISTANT_SERVER__RATE_LIMIT_PER_MINUTE="1000000")
    with running_server(data, env=env) as (url, _):
        yield url, data, env


def test_short_load_no_errors_and_same_answers_as_alone(server: tuple[str, Path, dict]) -> None:
    """6 clients (API and chat) for 5 s: every request answered, each answer as asked alone."""
    results = run_load(server[0], load_questions()[:6], clients=6, seconds=5)
    overall = results["overall"]
    assert overall["errors"] == 0, overall["first_errors"]
    assert overall["mismatches"] == 0, overall["first_mismatches"]
    assert results["api"]["requests"] >= 6 and results["chat"]["requests"] >= 6
    assert overall["p99_ms"] > 0


def test_cli_ingest_next_to_the_running_server(
    server: tuple[str, Path, dict], tmp_path: Path
) -> None:
    """Documents added, changed and removed by the CLI are answered from without a restart.

    The server's embedded Chroma client did not see the other process's vectors: every
    question reaching the new document failed with "Error finding id" until a restart.
    """
    url, data, env = server
    doc = tmp_path / "bravo.txt"
    question = {"question": "Who keeps the green lamp at Bravo harbour?"}

    def cli(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "assistant", *args, "--data-dir", str(data)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]

    def answer_once_refreshed(expect: str | None) -> dict:
        """Ask until the answer reflects the change (the server looks every second)."""
        deadline = time.monotonic() + 15
        while True:
            response = httpx.post(f"{url}/api/ask", json=question, timeout=60)
            assert response.status_code == 200, response.text
            body = response.json()
            cited = {c["source"] for c in body["citations"] if c["supported"]}
            if expect is None and "bravo.txt" not in cited:
                return body
            if expect is not None and expect in body["answer"]:
                return body
            assert time.monotonic() < deadline, body
            time.sleep(0.5)

    for keeper in ("Orla Finch", "Ivo Stone"):
        doc.write_text(
            f"Bravo harbour notes\n\nThe green lamp at Bravo harbour is kept by {keeper}. "
            "The harbour is deep and cold.\n",
            encoding="utf-8",
        )
        cli("ingest", str(doc))
        body = answer_once_refreshed(keeper)
        for c in body["citations"]:
            text = httpx.get(f"{url}/api/documents/{c['doc_id']}", timeout=30).json()["text"]
            assert text[c["start"] : c["end"]] == c["text"]
    cli("remove", "bravo.txt")
    answer_once_refreshed(None)


def _corpus(folder: Path, n: int) -> list[Path]:
    """``n`` documents, each with one fact only it states, long enough to take real work."""
    folder.mkdir()
    paths = []
    for k in range(n):
        filler = " ".join(
            f"Survey note {j} of station {k} records routine weather and quiet seas."
            for j in range(40)
        )
        text = (
            f"Station report {k}\n\nThe lighthouse keeper of station {k} is called "
            f"Keeper{k} Marlowe. {filler}\n\nThe station {k} beacon is painted green."
        )
        path = folder / f"station-{k:02d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def test_ingest_while_answering(tmp_path: Path, embedder) -> None:
    """Answers keep coming while a batch is ingested, none from a half-written document."""
    from assistant.core import Assistant
    from assistant.settings import Settings

    assistant = Assistant(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    assistant.ingest([SAMPLE])
    docs = _corpus(tmp_path / "batch", 48)
    questions = [
        "How many leaders attended the Coalition of the Willing meeting?",
        "Who is the lighthouse keeper of station 3?",
        "Who is the lighthouse keeper of station 20?",
    ]
    alone = []
    for q in questions:
        t0 = time.perf_counter()
        assistant.answer(q)
        alone.append(time.perf_counter() - t0)

    failures: list[str] = []
    latencies: list[float] = []
    during: list[float] = []
    ingesting = threading.Event()
    done = threading.Event()
    took: list[float] = []

    def ingest() -> None:
        ingesting.set()
        try:
            report = assistant.ingest(docs)
            if report.errors or len(report.added) != len(docs):
                failures.append(f"ingest: {report.summary()} {report.errors}")
        except Exception as exc:
            failures.append(f"ingest raised {exc!r}")
        finally:
            took.append(time.monotonic() - began)
            done.set()

    writer = threading.Thread(target=ingest, daemon=True)
    began = time.monotonic()
    writer.start()
    ingesting.wait(timeout=10)
    deadline = time.monotonic() + 180
    n = 0
    while (not done.is_set() or n < 6) and time.monotonic() < deadline:
        # A new wording each time: the question must be embedded, not taken from the cache.
        q = f"{questions[n % len(questions)][:-1]}, in report {n}?"
        n += 1
        t0 = time.perf_counter()
        try:
            answer = assistant.answer(q)
        except Exception as exc:
            failures.append(f"{q!r} raised {exc!r}")
            continue
        elapsed = time.perf_counter() - t0
        latencies.append(elapsed)
        if not done.is_set():
            during.append(elapsed)
        for c in answer.citations:
            found = assistant.store.document(c.doc_id)  # committed right now, whole
            if found is None:
                failures.append(f"{q!r} cites {c.source}, which is not committed")
            elif found[0][c.start : c.end] != c.text:
                failures.append(f"{q!r}: [{c.start}:{c.end}] of {c.source} is not the cited text")
    writer.join(timeout=60)
    assert done.is_set(), "the ingest did not finish"
    assert not failures, failures[:5]
    assert len(during) >= 3, "questions must be answered while the batch is ingested"
    # Bounded: an answer may wait for one embedding slice of the ingest, never for all of it
    # (before slicing, one answer waited about 85% of the ingest time).
    assert max(latencies) < 0.5 * took[0], (max(latencies), took[0], alone)
    after = assistant.answer("Who is the lighthouse keeper of station 20?")
    assert "Keeper20 Marlowe" in after.answer
