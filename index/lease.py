"""The writer lease and the change log: records in the store, so they work across machines.

Both live in the index's ``-meta`` collection. Chroma has no transactions across records and
no compare-and-swap; what it does give (local and ``chroma run``, 1.5) is that ``add`` of an
id that exists is ignored, and that every write to a collection goes through one ordered log,
so a ``get`` after one's own ``add`` returns whichever ``add`` of that id came first. That
makes "insert a new id, then read it back" a claim that exactly one contender wins.

**Lease.** Generation ``g`` of the lease is the record ``lease-g``. To take the lease a writer
reads the highest generation; if it is released, expired, or held by a dead process on this
host, the writer adds ``lease-(g+1)`` naming itself and reads it back: whoever's ``add`` landed
first owns it. The holder renews the expiry from a background thread and records, before
writing any part of a document, that document's id (``pending``: a write-ahead intent). A
holder that dies leaves its intents; whoever takes the lease next inherits them and repairs
exactly those documents. Before every commit the holder checks that no newer generation
exists (fencing). Not guaranteed: a holder that stalls longer than the TTL (default 30 s)
without noticing may commit once after another took over; expiry compares wall clocks of
different machines, so they must agree to within a few seconds.

**Change log.** Every commit (documents written, removed, or repaired) appends ``log-n``
with the ids of the documents it touched. Readers poll the next ids (one small ``get``) and
re-read only those documents, which is how a replica sees another's ingest within a second.
An entry is a hint, not the truth: the reader re-reads the documents' records and chunks.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from index.errors import StoreError

log = logging.getLogger(__name__)
LEASE_TTL_S = 30.0
_PROBE = 64  # log ids read per poll
_ONE = [[1.0]]  # the meta collection's records carry a dummy one-dimensional vector
Guard = Callable[..., Any]


def _lease_id(gen: int) -> str:
    return f"lease-{gen:012d}"


def _log_id(seq: int) -> str:
    return f"log-{seq:012d}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, not ours to signal
        return True
    return True


class Lease:
    """One writer at a time per index, across processes and machines (module docstring)."""

    def __init__(self, collection: Any, guard: Guard, ttl_s: float = LEASE_TTL_S) -> None:
        self.collection, self._guard, self.ttl_s = collection, guard, ttl_s
        self.host = socket.gethostname()
        self.owner = f"{self.host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.gen = 0
        self._meta: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None
        self.lost = False

    def _all(self) -> dict[int, dict[str, Any]]:
        got = self._guard(
            "reading the writer lease",
            self.collection.get,
            where={"kind": "lease"},
            include=["metadatas"],
        )
        return {int(m["gen"]): dict(m) for m in got["metadatas"]}

    def _free(self, meta: dict[str, Any]) -> bool:
        if meta.get("released") or float(meta.get("expires", 0)) < time.time():
            return True
        return meta.get("host") == self.host and not _alive(int(meta.get("pid", 0)))

    def acquire(self, poll_s: float = 0.25) -> tuple[list[str], int, bool]:
        """Wait for and take the lease; returns (inherited intents, log hint, first ever)."""
        waited = False
        while True:
            leases = self._all()
            top = max(leases, default=0)
            meta = leases.get(top)
            if meta is not None and not self._free(meta):
                if not waited:
                    log.info("Waiting for the writer lease held by %s...", meta.get("owner"))
                    waited = True
                time.sleep(poll_s)
                continue
            carried = json.loads(meta["pending"]) if meta else []
            mine = {
                "kind": "lease",
                "gen": top + 1,
                "owner": self.owner,
                "host": self.host,
                "pid": os.getpid(),
                "expires": time.time() + self.ttl_s,
                "released": False,
                "pending": json.dumps(carried),
                "seq": int(meta.get("seq", 0)) if meta else 0,
            }
            lid = _lease_id(top + 1)
            self._guard(
                "taking the writer lease",
                self.collection.add,
                ids=[lid],
                embeddings=_ONE,
                metadatas=[mine],
            )
            got = self._guard(
                "taking the writer lease", self.collection.get, ids=[lid], include=["metadatas"]
            )
            if got["metadatas"] and got["metadatas"][0].get("owner") == self.owner:
                break
        self.gen, self._meta, self.lost = top + 1, mine, False
        old = [_lease_id(g) for g in leases if g < top - 2]
        if old:
            self._guard("pruning old leases", self.collection.delete, ids=old)
        self._stop = threading.Event()
        threading.Thread(target=self._renew_loop, args=(self._stop,), daemon=True).start()
        return [str(d) for d in carried], int(str(mine["seq"])), meta is None

    def _write(self, **changes: Any) -> None:
        with self._lock:
            self._meta = {**self._meta, **changes}
            self._guard(
                "renewing the writer lease",
                self.collection.update,
                ids=[_lease_id(self.gen)],
                metadatas=[self._meta],
            )

    def _renew_loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.ttl_s / 3):
            try:
                self.check()
                self._write(expires=time.time() + self.ttl_s)
            except StoreError as exc:
                log.warning("Renewing the writer lease failed: %s", exc)

    def note(self, doc_ids: Sequence[str], seq: int) -> None:
        """Record intents before writing parts of ``doc_ids``; ``seq``: the log as known."""
        pending = sorted(set(json.loads(self._meta["pending"])) | set(doc_ids))
        self._write(pending=json.dumps(pending), seq=seq, expires=time.time() + self.ttl_s)

    def done(self, doc_ids: Sequence[str], seq: int) -> None:
        """Drop the intents of ``doc_ids``: written, committed and cleaned up."""
        pending = sorted(set(json.loads(self._meta["pending"])) - set(doc_ids))
        self._write(pending=json.dumps(pending), seq=seq, expires=time.time() + self.ttl_s)

    def check(self) -> None:
        """Raise ``StoreError`` unless this process still holds the lease (fencing)."""
        if self.lost or max(self._all(), default=0) != self.gen:
            self.lost = True
            raise StoreError(
                "Another writer took over the index while this one was writing (its lease "
                "expired); nothing more was written. Run the ingest again."
            )

    def release(self, seq: int) -> None:
        """Give the lease up; every intent is done, so none is passed on."""
        if self._stop is not None:
            self._stop.set()
        if not self.gen or self.lost:
            return
        try:
            self._write(released=True, pending="[]", seq=seq)
        except StoreError as exc:  # what was written is committed; the lease just expires
            log.warning(
                "Releasing the writer lease failed (%s); it expires in %.0f s.", exc, self.ttl_s
            )
        finally:
            self.gen = 0


class ChangeLog:
    """Entries ``log-1, log-2, ...`` naming the documents each commit touched."""

    def __init__(self, collection: Any, guard: Guard) -> None:
        self.collection, self._guard = collection, guard

    def since(self, seq: int) -> list[tuple[int, str, list[str]]]:
        """Entries after ``seq``, in order, as (seq, writer, doc ids)."""
        out: list[tuple[int, str, list[str]]] = []
        while True:
            ids = [_log_id(seq + i) for i in range(1, _PROBE + 1)]
            got = self._guard(
                "reading changes", self.collection.get, ids=ids, include=["metadatas"]
            )
            found = {int(m["seq"]): m for m in got["metadatas"]}
            while seq + 1 in found:
                seq += 1
                m = found[seq]
                out.append((seq, str(m.get("owner", "")), json.loads(m["docs"])))
            if len(found) < _PROBE:
                return out

    def head(self, hint: int = 0) -> int:
        """The last entry's number, searching forward from ``hint`` (a known entry or 0)."""
        found = self.since(hint)
        return found[-1][0] if found else hint

    def hint(self) -> int:
        """A known entry to search from: what the lease records last saw."""
        got = self._guard(
            "reading changes", self.collection.get, where={"kind": "lease"}, include=["metadatas"]
        )
        return max((int(m.get("seq", 0)) for m in got["metadatas"]), default=0)

    def append(self, owner: str, doc_ids: Sequence[str], after: int) -> int:
        """Add an entry after the last one (``after``: a known entry); returns its number."""
        seq = self.head(after) + 1
        while True:
            meta = {"kind": "log", "seq": seq, "owner": owner, "docs": json.dumps(list(doc_ids))}
            meta["at"] = time.time()
            self._guard(
                "recording a change",
                self.collection.add,
                ids=[_log_id(seq)],
                embeddings=_ONE,
                metadatas=[meta],
            )
            got = self._guard(
                "recording a change", self.collection.get, ids=[_log_id(seq)], include=["metadatas"]
            )
            if got["metadatas"] and got["metadatas"][0].get("owner") == owner:
                return seq
            seq = self.head(seq) + 1  # another writer's entry took the number
