"""The tests' one network guard: loopback only, and every refusal on record.

Installed in the pytest process by ``tests/conftest.py`` and in the tests' subprocesses by
``sitecustomize.py`` beside this file. Each attempt to resolve a name that is not this host,
or to connect or send to an address that is not loopback, is refused with an ``OSError``
and recorded: in ``refused`` (this process), and as one JSON line with the stack that tried
in the file ``NETGUARD_LOG`` names (subprocesses). Libraries that swallow network errors
(telemetry, update checks) would hide a refusal; the record does not, so a test fails on it
even when the code under test carried on.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
refused: list[dict[str, Any]] = []  # this process's refusals, oldest first
_log: str | None = None
_installed = False


def local_host(host: object) -> bool:
    """Loopback and unspecified (bind-all) addresses, and names that only mean this host."""
    if host is None or host in ("", b""):
        return True
    text = host.decode() if isinstance(host, bytes) else str(host)
    if text.lower() in LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(text.split("%")[0].strip("[]"))
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def _record(kind: str, target: object) -> None:
    line = {
        "kind": kind,
        "target": repr(target),
        "pid": os.getpid(),
        "argv": sys.argv[:3],
        "stack": traceback.format_stack(limit=12)[:-2],
    }
    if kind != "armed":
        refused.append(line)
    if _log:
        fd = os.open(_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (json.dumps(line) + "\n").encode())  # one write: lines never interleave
        finally:
            os.close(fd)


def _check_address(sock: socket.socket, address: Any, kind: str) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # AF_UNIX and friends stay on this machine
    host = address[0] if isinstance(address, tuple) and address else address
    if not local_host(host):
        _record(kind, address)
        raise ConnectionRefusedError(f"netguard: refused a connection to {address!r}")


def _check_name(host: Any) -> None:
    if not local_host(host):
        _record("resolve", host)
        raise socket.gaierror(socket.EAI_NONAME, f"netguard: refused to resolve {host!r}")


def install(log: str | None = None) -> None:
    """Guard this process from now on (once; a second call changes nothing but the log)."""
    global _log, _installed
    _log = log
    if _installed:
        return
    _installed = True
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo
    real_gethostbyname = socket.gethostbyname
    real_gethostbyname_ex = socket.gethostbyname_ex

    def connect(self: socket.socket, address: Any) -> None:
        _check_address(self, address, "connect")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check_address(self, address, "connect")
        return real_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        _check_address(self, args[-1], "sendto")
        return real_sendto(self, data, *args)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        _check_name(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def gethostbyname(host: str) -> str:
        _check_name(host)
        return real_gethostbyname(host)

    def gethostbyname_ex(host: str) -> Any:
        _check_name(host)
        return real_gethostbyname_ex(host)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
    _record("armed", None)


def targets(since: int = 0) -> list[str]:
    """What this process was refused, from refusal number ``since`` on."""
    return [f"{r['kind']} {r['target']}" for r in refused[since:]]


@contextmanager
def loopback_only() -> Iterator[list[str]]:
    """The attempts to leave the machine made inside the block, filled in when it ends (the
    guard refuses them; ``tests/conftest.py`` also fails the test that made them)."""
    start = len(refused)
    attempts: list[str] = []
    try:
        yield attempts
    finally:
        attempts.extend(targets(start))
