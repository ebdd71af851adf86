"""One rate limiter for every request that computes an answer, keyed by client.

Plain ASGI middleware in front of the API, the Gradio ``/chat`` API and the UI's queue, so
none of them is a way around the others' limit. The client address comes from
``gateway.ClientAddressMiddleware`` (``X-Forwarded-For`` only from trusted proxies).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.serve.security import send_json


def client_key(address: str) -> str:
    """The rate-limit key of a client: its IPv4 address, or its IPv6 /64 network.

    One IPv6 host usually holds a whole /64, so keying by address would let it rotate.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class RateLimiter:
    """A sliding one-minute window of request times per key, in memory."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.window = 60.0
        self.clock = clock
        self.hits: dict[str, deque[float]] = {}
        self._last_sweep = clock()

    def check(self, key: str) -> float:
        """Record a request; 0 when allowed, else seconds until the next one is allowed."""
        now = self.clock()
        if now - self._last_sweep > self.window:
            self._sweep(now)
        times = self.hits.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.per_minute:
            return times[0] + self.window - now
        times.append(now)
        return 0.0

    def waiting(self, key: str) -> float:
        """Seconds until ``key`` may try again (0 when it may), without recording a try."""
        now = self.clock()
        times = self.hits.get(key)
        while times and times[0] <= now - self.window:
            times.popleft()
        if times is None or len(times) < self.per_minute:
            return 0.0
        return times[0] + self.window - now

    def _sweep(self, now: float) -> None:
        """Forget idle clients so memory stays bounded."""
        self._last_sweep = now
        for key in [k for k, t in self.hits.items() if not t or t[-1] <= now - self.window]:
            del self.hits[key]


ANSWER_PREFIXES = ("/api/", "/v1/")
GRADIO_ANSWER_ROUTES = re.compile(r"/gradio_api/(?:queue/join|(?:call|run|api)/[^/]+/?)")
_PEEK_BYTES = 64 * 1024


def fn_index_of(body: bytes) -> int | None:
    """The ``fn_index`` of a Gradio queue request body; ``None`` when there is none."""
    try:
        value = json.loads(body).get("fn_index")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


class RateLimitMiddleware:
    """429 with ``Retry-After`` when one client sends too many requests that compute answers.

    Counted: every ``/api/`` and ``/v1/`` request, every ``/gradio_api/call/*`` (the
    ``/chat`` API), and queue joins and direct runs of the events in ``answer_events``
    (filled in once the UI is mounted; a request whose event cannot be read counts too), so
    opening a citation or the Documents tab is free. The client is ``scope["client"]``, which
    ``gateway.ClientAddressMiddleware`` has settled.
    """

    def __init__(
        self, app: ASGIApp, limiter: RateLimiter, answer_events: set[int] | None = None
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.answer_events = answer_events if answer_events is not None else set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        counted = path.startswith(ANSWER_PREFIXES)
        if scope["method"] == "POST" and GRADIO_ANSWER_ROUTES.fullmatch(path):
            counted = True
            if not path.startswith("/gradio_api/call/"):  # queue joins and direct runs
                receive, body = await peek_body(receive, _PEEK_BYTES)
                index = fn_index_of(body)
                counted = index is None or index in self.answer_events
        if not counted:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.limiter.check(client_key(client[0]) if client else "unknown")
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            message = (
                f"Too many requests: the limit is {self.limiter.per_minute} per minute. "
                f"Please try again in {seconds} seconds."
            )
            await send_json(send, 429, {"error": message}, {"Retry-After": str(seconds)})
            return
        await self.app(scope, receive, send)


async def peek_body(receive: Receive, limit: int) -> tuple[Receive, bytes]:
    """Read a request body up to about ``limit`` bytes, and a ``receive`` that replays it."""
    messages: list[Message] = []
    body = b""
    while len(body) < limit:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay, body
