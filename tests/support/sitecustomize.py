"""A network guard for the subprocesses of the tests (CLI, server): loopback only, on record.

Python imports ``sitecustomize`` at start-up from the first folder on ``PYTHONPATH`` that has
one, so a test puts this folder first and sets ``NETGUARD_LOG`` to a file. Every attempt to
resolve a non-local host name or to connect (or send) to a non-loopback address is then
refused with an ``OSError`` and written to that file as one JSON line, with the stack that
tried. Libraries that swallow network errors (telemetry, update checks) would hide a refusal;
the file does not. On start-up the guard writes an ``armed`` line, so a test can also prove
the guard was active in the process it judges. Without ``NETGUARD_LOG`` this does nothing.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
import traceback
from typing import Any

_LOG = os.environ.get("NETGUARD_LOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _local_host(host: object) -> bool:
    """Loopback and unspecified (bind-all) addresses, and names that only mean this host."""
    if host is None or host in ("", b""):
        return True
    text = host.decode() if isinstance(host, bytes) else str(host)
    if text.lower() in _LOCAL_NAMES:
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
    assert _LOG is not None
    fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(line) + "\n").encode())  # one write: lines never interleave
    finally:
        os.close(fd)


def _check_address(sock: socket.socket, address: Any, kind: str) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # AF_UNIX and friends stay on this machine
    host = address[0] if isinstance(address, tuple) and address else address
    if not _local_host(host):
        _record(kind, address)
        raise ConnectionRefusedError(f"netguard: refused a connection to {address!r}")


def _install() -> None:
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
        if not _local_host(host):
            _record("resolve", host)
            raise socket.gaierror(socket.EAI_NONAME, f"netguard: refused to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def gethostbyname(host: str) -> str:
        if not _local_host(host):
            _record("resolve", host)
            raise socket.gaierror(socket.EAI_NONAME, f"netguard: refused to resolve {host!r}")
        return real_gethostbyname(host)

    def gethostbyname_ex(host: str) -> Any:
        if not _local_host(host):
            _record("resolve", host)
            raise socket.gaierror(socket.EAI_NONAME, f"netguard: refused to resolve {host!r}")
        return real_gethostbyname_ex(host)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
    _record("armed", None)


if _LOG:
    _install()
