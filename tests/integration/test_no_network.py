"""Offline by default: ingest, ask, serve (API, widget, Gradio chat) and doctor make no
outbound connection, shown in subprocesses that record and refuse every non-loopback attempt.

The subprocesses get ``tests/support`` first on ``PYTHONPATH`` (its ``sitecustomize`` is the
guard) and an environment *without* the offline switches that conftest sets for this process
(HF_HUB_OFFLINE, ANONYMIZED_TELEMETRY, GRADIO_ANALYTICS_ENABLED, ...): the app must set what
it needs itself, as it does when a person runs it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from benchmarks.load import running_server
from tests.conftest import ROOT, SAMPLE
from tests.support.guarded_subprocess import attempts, guard_lines, guarded_env

pytestmark = pytest.mark.integration

LEADERS_Q = "How many leaders attended the Coalition of the Willing meeting?"


@contextmanager
def socket_on_loopback() -> Iterator[int]:
    """A bound, never-listening loopback port: connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_the_guard_refuses_and_records_outbound_attempts(tmp_path: Path) -> None:
    """The guard itself: outside hosts are refused and written down, loopback still works."""
    log = tmp_path / "attempts.jsonl"
    probe = (
        "import socket, urllib.request\n"
        "tries = [\n"
        "    lambda: socket.socket().connect(('192.0.2.1', 80)),\n"
        "    lambda: socket.create_connection(('198.51.100.7', 80), timeout=2),\n"
        "    lambda: socket.getaddrinfo('example.com', 443),\n"
        "    lambda: urllib.request.urlopen('http://example.org/', timeout=2),\n"
        "    lambda: socket.socket(socket.AF_INET6).connect(('2001:db8::1', 443)),\n"
        "]\n"
        "for attempt in tries:\n"
        "    try:\n"
        "        attempt()\n"
        "        print('ALLOWED')\n"
        "    except OSError as exc:\n"
        "        print('refused', type(exc).__name__)\n"
        "srv = socket.socket()\n"
        "srv.bind(('127.0.0.1', 0))\n"
        "srv.listen()\n"
        "socket.create_connection(srv.getsockname(), timeout=2).close()\n"
        "socket.create_connection(('localhost', srv.getsockname()[1]), timeout=2).close()\n"
        "print('loopback ok')\n"
    )
    result = run(["-c", probe], guarded_env(log, tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("refused") == 5 and "ALLOWED" not in result.stdout
    assert "loopback ok" in result.stdout
    kinds = [(e["kind"], e["target"]) for e in guard_lines(log)]
    assert kinds[0] == ("armed", "None")
    assert ("connect", "('192.0.2.1', 80)") in kinds
    assert ("resolve", "'198.51.100.7'") in kinds  # create_connection resolves first
    assert ("resolve", "'example.com'") in kinds
    assert ("resolve", "'example.org'") in kinds
    assert any(k == "connect" and "2001:db8::1" in t for k, t in kinds)
    assert len(attempts(log)) == 5


def test_ingest_ask_serve_and_doctor_never_call_out(tmp_path: Path) -> None:
    log = tmp_path / "attempts.jsonl"
    data = tmp_path / "data"
    env = guarded_env(log, data)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text("# Notes\n\nThe archive opens at nine. It closes at five.\n")

    ingest = run(["-m", "assistant", "ingest", str(SAMPLE), str(docs)], env)
    assert ingest.returncode == 0, ingest.stderr
    assert "2 documents indexed" in ingest.stdout
    ask = run(["-m", "assistant", "ask", LEADERS_Q, "--json"], env)
    assert ask.returncode == 0, ask.stderr
    assert "30" in json.loads(ask.stdout)["answer"]
    doctor = run(["-m", "assistant.ops.doctor", "--json"], env)
    assert doctor.returncode == 0, doctor.stderr
    assert json.loads(doctor.stdout)["contacts"] == []

    with running_server(data, env=env, log_path=tmp_path / "server.log") as (url, proc):
        with httpx.Client(base_url=url, timeout=60) as http:
            answer = http.post("/api/ask", json={"question": LEADERS_Q}).json()
            assert "30" in answer["answer"]
            streamed = http.post("/api/ask/stream", json={"question": LEADERS_Q})
            assert "event: answer" in streamed.text
            assert len(http.get("/api/documents").json()) == 2
            for page in ("/", "/widget", "/widget.js", "/embed.js", "/docs", "/healthz"):
                assert http.get(page).status_code == 200, page
        from gradio_client import Client

        chat = Client(url + "/", verbose=False, analytics_enabled=False)
        try:
            text, sources = chat.predict(LEADERS_Q, api_name="/chat")
        finally:
            chat.close()
        assert "30" in text and sources
        server_pid = proc.pid

    armed = {e["pid"] for e in guard_lines(log) if e["kind"] == "armed"}
    assert server_pid in armed, "the guard must have been active in the server"
    assert len(armed) >= 4, "ingest, ask, doctor and serve each run under the guard"
    assert attempts(log) == [], "\n".join(attempts(log))


def test_doctor_names_every_endpoint_it_would_contact(tmp_path: Path) -> None:
    from assistant.ops.doctor import format_doctor, run_doctor
    from assistant.settings import Settings

    with socket_on_loopback() as port:  # a port that refuses: the server is "down"
        settings = Settings(
            data_dir=tmp_path / "data",
            chroma_url=f"http://127.0.0.1:{port}",
            llm="openai:gpt-4o-mini",
        )
        report = run_doctor(settings)
    assert [(c.service, c.url, c.local) for c in report.contacts] == [
        ("Chroma server", f"http://127.0.0.1:{port}", True),
        ("LLM (openai:gpt-4o-mini)", "https://api.openai.com/v1", False),
    ]
    assert report.problems and "cannot be read" in report.problems[0]
    local = run_doctor(Settings(data_dir=tmp_path / "data", llm="ollama:llama3.2"))
    assert [(c.url, c.local) for c in local.contacts] == [("http://localhost:11434", True)]
    assert local.model.offline and local.model.source == "package"
    assert not (tmp_path / "data").exists(), "the doctor must not create the data dir"
    text = format_doctor(local)
    assert "LLM (ollama:llama3.2): http://localhost:11434 (this machine" in text


def test_doctor_reports_counts_and_the_orphans_repair_would_remove(tmp_path: Path) -> None:
    """An interrupted write (parts without their committing record) shows up as orphans."""
    from assistant.core import Assistant
    from assistant.ops.doctor import format_doctor, run_doctor
    from assistant.settings import Settings
    from tests.support.fakes import HashEmbeddings

    settings = Settings(data_dir=tmp_path / "data", embedding_model="hash-test")
    assistant = Assistant(settings, embedder=HashEmbeddings())
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Alpha is red. It has two moons.\n\nIt is cold.")
    (docs / "b.txt").write_text("Beta has rings. Its rings are ice. Nobody lives there.")
    assistant.ingest([docs])
    store = assistant.store
    uncommitted = next(i for i, m in store.committed().items() if m["source"] == "b.txt")
    chunks_of_b = store.committed()[uncommitted]["chunks"]
    store.docs.delete(ids=[uncommitted])  # as if killed before the record was written

    report = run_doctor(settings)
    [current] = [i for i in report.store.indexes if i.current]
    metas_of_b = store.chunks.get(where={"doc_id": uncommitted}, include=["metadatas"])
    units_of_b = sum(len(json.loads(m["units"])) for m in metas_of_b["metadatas"])
    assert (current.documents, current.orphan_chunks) == (1, chunks_of_b)
    assert current.orphan_units == units_of_b > 0
    assert current.chunks == store.chunks.count() and current.units == store.unit_count() > 0
    assert any("interrupted ingest" in n for n in report.notes)
    assert f"{chunks_of_b} orphan chunks" in format_doctor(report)
    assert store.repair() == chunks_of_b
    assert [(i.orphan_chunks, i.orphan_units) for i in run_doctor(settings).store.indexes] == [
        (0, 0)
    ]
