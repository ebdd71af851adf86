"""Two `assistant serve` replicas on one real `chroma run`: freshness and safe ingest.

Each replica is its own process with its own data dir (as on two machines); they share
only the Chroma server. A document uploaded to one must be answered by the other within
2 s, and uploads to both at the same moment must both be indexed whole (the writer lease
in the store serialises them; index/lease.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.support.chroma_server import chroma_server  # noqa: F401 - the fixture
from tests.support.ports import free_port

pytestmark = pytest.mark.integration
TOKEN = "replica-test-token"
DOCS = {
    "zorblat-bridge.txt": (
        "The Zorblat bridge over the river Quenfor was opened in 1931 by mayor Elsa "
        "Trintwhistle. It carries two tracks of the valley railway.",
        "Who opened the Zorblat bridge?",
    ),
    "vashkir-lighthouse.txt": (
        "The Vashkir lighthouse was first lit in 1887 by keeper Orrin Maldeveque. Its lamp "
        "burned whale oil until 1921.",
        "Who first lit the Vashkir lighthouse?",
    ),
    "quillon-orchard.txt": (
        "The Quillon orchard was planted in 1902 by the gardener Ysolde Parramore. It grows "
        "forty kinds of pear.",
        "Who planted the Quillon orchard?",
    ),
}


def start_replica(chroma_url: str, data: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_DATA_DIR": str(data),
        "ASSISTANT_CHROMA_URL": chroma_url,
        "ASSISTANT_ADMIN_TOKEN": TOKEN,
        "ASSISTANT_SERVER__RATE_LIMIT_PER_MINUTE": "100000",
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    return proc, f"http://127.0.0.1:{port}"


def cites(client: httpx.Client, url: str, question: str, source: str) -> bool:
    r = client.post(f"{url}/api/ask", json={"question": question})
    return r.status_code == 200 and any(c["source"] == source for c in r.json()["citations"])


def wait_ready(client: httpx.Client, url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            q = "How many leaders attended the Coalition of the Willing meeting?"
            if cites(client, url, q, "coalition-of-the-willing.txt"):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"replica at {url} never answered: {log.read_text()[-3000:]}")


def upload(client: httpx.Client, url: str, name: str) -> None:
    r = client.post(
        f"{url}/api/upload",
        headers={"Authorization": f"Bearer {TOKEN}"},
        files={"files": (name, DOCS[name][0].encode(), "text/plain")},
    )
    assert r.status_code == 200 and r.json()["added"] == [name], r.text
    assert not r.json()["errors"], r.text


def test_two_replicas_see_each_others_documents_and_ingest_safely(
    chroma_server: str,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    # Both start on an empty index at once: both try to ingest the sample article.
    replicas = [start_replica(chroma_server, tmp_path / "ab"[i], logs[i]) for i in range(2)]
    (proc_a, a), (proc_b, b) = replicas
    try:
        with httpx.Client(timeout=60) as client:
            for (proc, url), log in zip(replicas, logs, strict=True):
                wait_ready(client, url, proc, log)

            upload(client, a, "zorblat-bridge.txt")
            committed = time.monotonic()
            question = DOCS["zorblat-bridge.txt"][1]
            while not cites(client, b, question, "zorblat-bridge.txt"):
                assert time.monotonic() - committed < 2.0, "replica b did not see the upload"
                time.sleep(0.05)

            # Uploads to both replicas at the same moment: the lease serialises them.
            names = {"vashkir-lighthouse.txt": a, "quillon-orchard.txt": b}
            threads = [
                threading.Thread(target=upload, args=(httpx.Client(timeout=60), url, name))
                for name, url in names.items()
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            deadline = time.monotonic() + 2.0
            for name in names:
                for url in (a, b):
                    while not cites(client, url, DOCS[name][1], name):
                        assert time.monotonic() < deadline, f"{url} does not answer from {name}"
                        time.sleep(0.05)
            for url in (a, b):
                listed = sorted(d["source"] for d in client.get(f"{url}/api/documents").json())
                assert listed == sorted(["coalition-of-the-willing.txt", *DOCS])
    finally:
        for proc, _ in replicas:
            proc.terminate()
        for proc, _ in replicas:
            proc.wait(timeout=30)

    from assistant.settings import Settings
    from index.encoders import model_identity
    from index.store import Store

    settings = Settings()
    identity = model_identity(settings.embedding_model)
    idx = settings.index
    store = Store(tmp_path / "c", identity, idx.chunk_tokens, idx.unit_tokens, chroma_server)
    assert store.orphans() == {}, "nothing half-written is left on the server"
    chunks = store.all_chunks()
    for doc_id, meta in store.committed().items():
        assert sum(c.doc_id == doc_id for c in chunks) == meta["chunks"], meta["source"]
