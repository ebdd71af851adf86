"""Crash safety: ``assistant ingest`` killed with SIGKILL at random points leaves a consistent
index, and the next run completes it.

Each round changes, adds and deletes a few files, starts the real CLI ingest (with ``--sync``)
in a subprocess and kills it at a random moment after a random one of its store writes; a
wrapper only makes groups small (more commit points) and prints a marker before each write
so the kills land among writes rather than in model loading. After every kill the committed
view must be whole; after the final, uninterrupted run nothing may be left over at all.
Set CRASH_SEED to replay a run.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

KILLS = 5
MODEL_IDENTITY = "all-MiniLM-L6-v2:384"  # what the CLI's default embedder records
WRAPPER = """
import os
import sys
import time
import index.ingest
from index.store import Store

index.ingest._GROUP_UNITS = 120  # several groups, so several commits, per run
HOLD = os.environ.get("CRASH_HOLD") == "1"


def marked(name):
    real = getattr(Store, name)

    def wrapper(self, *args, **kwargs):
        what = args[0] if args and isinstance(args[0], str) else ""
        print("WRITE", name, what, flush=True)
        result = real(self, *args, **kwargs)
        if HOLD and what == "writing chunks":  # parts written, not committed: wait for the kill
            print("HELD", flush=True)
            time.sleep(60)
        return result

    setattr(Store, name, wrapper)


for name in ("_upsert", "_delete_parts", "delete_document", "repair"):
    marked(name)
from assistant.cli import main

sys.exit(main(["ingest", "--sync", *sys.argv[1:]]))
"""
TOPICS = ["river", "harbour", "orchard", "glacier", "market", "library", "canyon", "forge"]


def write_doc(folder: Path, k: int, version: int, rng: random.Random) -> None:
    """A document of a few thousand characters, different for each (k, version)."""
    topic = TOPICS[k % len(TOPICS)]
    lines = [f"Field notes {k}, revision {version}", ""]
    for para in range(rng.randint(3, 6)):
        sentences = [
            f"The {topic} survey {k}.{para}.{s} counted {rng.randint(2, 999)} "
            f"{rng.choice(['boats', 'trees', 'stones', 'stalls', 'books', 'birds'])} "
            f"near marker {rng.randint(1, 99)} in version {version}."
            for s in range(rng.randint(5, 9))
        ]
        lines += [" ".join(sentences), ""]
    (folder / f"notes-{k:03d}.txt").write_text("\n".join(lines), encoding="utf-8")


def mutate(folder: Path, rng: random.Random, round_: int) -> None:
    """Change three documents, add three, delete one: updates, additions and removals."""
    existing = sorted(folder.glob("*.txt"))
    for path in rng.sample(existing, 3):
        write_doc(folder, int(path.stem.split("-")[1]), round_, rng)
    top = max(int(p.stem.split("-")[1]) for p in existing)
    for k in range(top + 1, top + 4):
        write_doc(folder, k, round_, rng)
    rng.choice(existing).unlink(missing_ok=True)


def reader(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line)
    lines.put(None)


def killed_run(
    folder: Path, env: dict[str, str], rng: random.Random, hold: bool = False
) -> tuple[bool, list[str]]:
    """Start the ingest, SIGKILL it after a random write plus a random delay; with ``hold``,
    the moment after it wrote a group's chunks and before it commits them (a random delay
    lands there only by chance, so a run might never test it).

    Returns whether it was killed (it may finish first) and the markers it printed.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, str(folder)],
        env={**env, "CRASH_HOLD": "1" if hold else "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=reader, args=(proc, lines), daemon=True).start()
    target = rng.randint(1, 12)  # the repair marker is first; then the writes
    seen: list[str] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            if hold and line.startswith("HELD"):
                seen.append(line.strip())
                break
            if not hold and line.startswith("WRITE"):
                seen.append(line.strip())
                if len(seen) == target:
                    time.sleep(rng.uniform(0.0, 0.25))
                    break
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return proc.returncode == -signal.SIGKILL, seen
        return False, seen
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def open_store(data: Path):
    """The index the CLI built, read afresh from disk (``Store.reload``)."""
    from assistant.settings import Settings
    from index.store import Store

    idx = Settings().index
    store = Store(data, MODEL_IDENTITY, idx.chunk_tokens, idx.unit_tokens)
    store.reload()  # this process may hold a view from before the last run
    return store


def problems(store, strict: bool) -> list[str]:
    """Everything inconsistent in the raw collections; ``strict`` also forbids leftovers."""
    docs = store.docs.get(include=["metadatas", "documents"])
    chunks = store.chunks.get(include=["metadatas", "documents"])
    found: list[str] = []
    committed = {}
    for doc_id, meta, text in zip(docs["ids"], docs["metadatas"], docs["documents"], strict=True):
        committed[doc_id] = (meta, text)
        if hashlib.sha256(text.encode()).hexdigest() != meta["content_hash"]:
            found.append(f"{meta['source']}: stored text does not match its content hash")
    owned: dict[str, list[tuple[str, dict, str]]] = {}
    for cid, meta, text in zip(
        chunks["ids"], chunks["metadatas"], chunks["documents"], strict=True
    ):
        doc = committed.get(meta["doc_id"])
        if doc is None or doc[0]["content_hash"] != meta["doc_hash"]:
            if strict:
                found.append(f"chunk {cid} belongs to no committed document")
            continue
        owned.setdefault(meta["doc_id"], []).append((cid, meta, text))
    chunk_spans = {}
    for doc_id, (meta, text) in committed.items():
        parts = owned.get(doc_id, [])
        ords = sorted(m["ord"] for _, m, _ in parts)
        if ords != list(range(meta["chunks"])):
            found.append(f"{meta['source']}: chunks {ords} but the record says {meta['chunks']}")
        for cid, m, chunk_text in parts:
            if not 0 <= m["start"] < m["end"] <= len(text):
                found.append(f"{cid}: offsets {m['start']}-{m['end']} outside {len(text)} chars")
            elif text[m["start"] : m["end"]] != chunk_text:
                found.append(f"{cid}: text differs from the document at its offsets")
            chunk_spans[cid] = (json.loads(m["units"]), text)
    from index.sentence_vectors import decode

    for cid, meta in zip(chunks["ids"], chunks["metadatas"], strict=True):
        if cid in chunk_spans and len(decode(meta)) != len(chunk_spans[cid][0]):
            found.append(f"chunk {cid}: {len(decode(meta))} sentence vectors, not one per sentence")
    dim = int(next((m["unit_dim"] for m in chunks["metadatas"] if m.get("unit_dim")), 384))
    hits = store.query_units(np.ones(dim, dtype=np.float32) / np.sqrt(dim), 50)
    stored = {
        f"{cid}/{j}"
        for cid, m in zip(chunks["ids"], chunks["metadatas"], strict=True)
        for j in range(len(json.loads(m["units"])))
    }
    found += [f"search returned {uid}, which is not stored" for uid, _ in hits if uid not in stored]
    return found


def test_sigkill_during_ingest_leaves_a_consistent_index(tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", time.time_ns() % 2**32))
    print("CRASH_SEED", seed)  # shown with the output of a failed run
    rng = random.Random(seed)
    folder = tmp_path / "corpus"
    folder.mkdir()
    for k in range(24):
        write_doc(folder, k, 0, rng)
    data = tmp_path / "data"
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)}

    kills, rounds, half_written, log = 0, 0, 0, []
    while (kills < KILLS or not half_written) and rounds < 3 * KILLS:
        rounds += 1
        if rounds > 1:
            mutate(folder, rng, rounds)
        # Every third round, until one has, kills between writing parts and committing them.
        killed, seen = killed_run(folder, env, rng, hold=not half_written and rounds % 3 == 0)
        kills += killed
        if data.exists():
            store = open_store(data)
            orphans = len(store.orphans())  # document versions with parts left over
            half_written += orphans > 0
            log.append(f"round {rounds}: killed={killed} after {seen[-1:]}, {orphans} orphaned")
            found = problems(store, strict=False)
            assert not found, f"seed {seed}, {log[-1]}: {found[:5]}"
    assert kills >= KILLS, f"seed {seed}: only {kills} kills in {rounds} rounds: {log}"
    assert half_written, f"seed {seed}: no kill landed between writing parts and committing: {log}"

    final = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert final.returncode == 0, final.stderr[-2000:]
    store = open_store(data)
    found = problems(store, strict=True)
    assert not found, f"seed {seed}, after the final run: {found[:5]} ({log})"
    from index.loaders import load

    expected = {p.name: load(p, 10**8).content_hash for p in folder.glob("*.txt")}
    indexed = {m["source"]: m["content_hash"] for m in store.committed().values()}
    assert indexed == expected, f"seed {seed}: the index does not match the files ({log})"
    assert store.orphans() == {}


def test_two_ingests_at_once_never_lose_each_others_chunks(tmp_path: Path) -> None:
    """A second writer's repair must not delete the first one's stored, uncommitted parts.

    Before the writer lock, the second ingest's repair deleted them and the first then
    committed its documents without chunks. Two stores on one data dir stand for two
    processes (the server ingesting an upload, the CLI ingesting a folder).
    """
    from assistant.settings import Settings
    from index.ingest import ingest
    from index.store import Store
    from tests.support.fakes import HashEmbeddings

    rng = random.Random(7)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for k in range(4):
        write_doc(first, k, 0, rng)
    write_doc(second, 99, 0, rng)
    idx = Settings().index
    fake = HashEmbeddings()
    data = tmp_path / "data"
    store_a = Store(data, fake.identity, idx.chunk_tokens, idx.unit_tokens)
    store_b = Store(data, fake.identity, idx.chunk_tokens, idx.unit_tokens)
    in_window, b_done = threading.Event(), threading.Event()
    real_upsert = store_a._upsert

    def upsert(what, collection, batch):  # type: ignore[no-untyped-def]
        if what == "committing documents":  # parts stored, record not yet: the window
            in_window.set()
            b_done.wait(timeout=1.5)  # without the lock, B's repair runs right here
        return real_upsert(what, collection, batch)

    store_a._upsert = upsert  # type: ignore[method-assign]
    opts = {"chunk_tokens": idx.chunk_tokens, "unit_tokens": idx.unit_tokens, "max_bytes": 10**7}
    a = threading.Thread(target=ingest, args=([first], store_a, fake), kwargs=opts, daemon=True)
    a.start()
    assert in_window.wait(timeout=30)
    b = threading.Thread(
        target=lambda: (ingest([second], store_b, HashEmbeddings(), **opts), b_done.set()),
        daemon=True,
    )
    b.start()
    a.join(timeout=30)
    b.join(timeout=30)
    assert not a.is_alive() and not b.is_alive()
    found = problems(store_b, strict=True)
    assert not found, found[:5]
    assert sorted(m["source"] for m in store_b.committed().values()) == [
        "notes-000.txt",
        "notes-001.txt",
        "notes-002.txt",
        "notes-003.txt",
        "notes-099.txt",
    ]
