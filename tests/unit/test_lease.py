"""The writer lease and the change log in the store (index/lease.py), on a real local Chroma.

Contention, takeover after expiry or a dead holder, fencing, inherited intents, and the
change log's numbering under racing writers.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from assistant.errors import StoreError
from index.chroma_client import NoEmbedding, open_client
from index.lease import ChangeLog, Lease


@pytest.fixture
def meta(tmp_path: Path):
    client = open_client(tmp_path, None)
    return client.get_or_create_collection("t-meta", embedding_function=NoEmbedding())


def guard(what, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    return fn(*args, **kwargs)


def test_one_holder_at_a_time_and_the_next_waits(meta) -> None:
    first, second = Lease(meta, guard), Lease(meta, guard)
    assert first.acquire() == ([], 0, True)
    taken = threading.Event()
    threading.Thread(target=lambda: (second.acquire(poll_s=0.05), taken.set()), daemon=True).start()
    assert not taken.wait(0.5), "the second writer must wait while the first holds the lease"
    held = first.gen
    first.release(seq=7)
    assert taken.wait(5)
    assert second.gen == held + 1
    second.check()
    second.release(seq=7)


def test_an_expired_or_dead_holder_is_taken_over_with_its_intents(meta) -> None:
    stale = Lease(meta, guard, ttl_s=0.3)
    stale.acquire()
    stale._stop.set()  # type: ignore[union-attr]  # a holder that stopped renewing (hung)
    stale.note(["doc-a", "doc-b"], seq=3)
    heir = Lease(meta, guard)
    began = time.monotonic()
    carried, hint, first = heir.acquire(poll_s=0.05)
    assert time.monotonic() - began >= 0.1, "taken only after the expiry"
    assert (carried, hint, first) == (["doc-a", "doc-b"], 3, False)
    with pytest.raises(StoreError, match="took over"):
        stale.check()  # fencing: the old holder may not commit any more
    heir.release(seq=3)

    dead = Lease(meta, guard, ttl_s=3600)
    dead.acquire()
    dead._stop.set()  # type: ignore[union-attr]
    dead.note(["doc-c"], seq=4)
    record = f"lease-{dead.gen:012d}"
    got = meta.get(ids=[record], include=["metadatas"])["metadatas"][0]
    meta.update(ids=[record], metadatas=[{**got, "pid": 2**22 + 12345}])  # no such process
    carried, _, _ = Lease(meta, guard).acquire()
    assert carried == ["doc-c"], "a dead process on this host is not waited for"


def test_finished_intents_are_not_passed_on(meta) -> None:
    lease = Lease(meta, guard)
    lease.acquire()
    lease.note(["a", "b"], seq=1)
    lease.done(["a"], seq=2)
    record = meta.get(ids=[f"lease-{lease.gen:012d}"], include=["metadatas"])["metadatas"][0]
    assert json.loads(record["pending"]) == ["b"]
    lease.release(seq=2)
    assert Lease(meta, guard).acquire()[0] == []


def test_racing_appends_get_distinct_numbers(meta) -> None:
    logs = [ChangeLog(meta, guard) for _ in range(4)]
    numbers: list[int] = []

    def write(k: int) -> None:
        for i in range(5):
            numbers.append(logs[k].append(f"w{k}", [f"d{k}-{i}"], after=0))

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(numbers) == list(range(1, 21))
    entries = logs[0].since(0)
    assert [seq for seq, _, _ in entries] == list(range(1, 21))
    assert sorted(d for _, _, ids in entries for d in ids) == sorted(
        f"d{k}-{i}" for k in range(4) for i in range(5)
    )
    assert logs[0].since(18) == entries[18:]
    assert logs[0].head() == 20
