"""Secure defaults for the server: allowed origins, CSP, rate limit and body-size limit.

Host checks, client addresses behind proxies and the Gradio route list are in ``gateway``.

Plain ASGI middleware (no ``BaseHTTPMiddleware``) so streamed answers are not buffered and
the same rules also cover the mounted Gradio app.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.errors import ConfigError
from assistant.settings import Settings

API_PREFIX = "/api/"
API_MAX_BODY_BYTES = 256 * 1024  # a question, its history and some slack
WIDGET_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'"
)


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` in lower case; raises ``ConfigError`` for anything else."""
    value = value.strip().rstrip("/")
    if value == "*":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        raise ConfigError(
            f"Allowed origin {value!r} is not an origin like https://example.com or "
            "http://localhost:8000 (scheme and host, optional port, no path)."
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins(settings: Settings) -> list[str]:
    """Origins that may frame the widget and read API responses.

    ``settings.allowed_origins`` (comma-separated) when set; otherwise only the server's own
    local origins, so nothing is exposed to other sites until the owner lists them.
    """
    if settings.allowed_origins.strip():
        items = [o for o in settings.allowed_origins.split(",") if o.strip()]
        return list(dict.fromkeys(normalize_origin(o) for o in items))
    port = settings.server.port
    origins = [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]
    host = settings.server.host
    if host not in ("0.0.0.0", "::", "", "localhost", "127.0.0.1"):
        origins.append(
            normalize_origin(f"http://{'[' + host + ']' if ':' in host else host}:{port}")
        )
    return origins


_PART = r"[^\s/\\\"'`<>|:]"
_ABS_PATH = re.compile(rf"(?<![\w.:/~-])(?:/|[A-Za-z]:\\)(?:{_PART}+[/\\])+{_PART}*")


def scrub_paths(message: str) -> str:
    """A message for clients: absolute server paths cut down to their last part.

    Errors such as "Prompt file /home/me/prompts/answer.txt ..." are meant for the owner;
    the server log keeps them whole, the client sees "answer.txt".
    """
    return _ABS_PATH.sub(lambda m: re.split(r"[/\\]", m.group(0).rstrip("/\\"))[-1], message)


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


def frame_ancestors(origins: list[str]) -> str:
    """The CSP directive that lets only these origins (and our own pages) embed us."""
    return "frame-ancestors " + ("*" if "*" in origins else " ".join(["'self'", *origins]))


async def send_json(
    send: Send, status: int, body: dict, headers: dict[str, str] | None = None
) -> None:
    """Send a complete JSON response from middleware."""
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


class SecurityHeadersMiddleware:
    """Adds ``frame-ancestors`` to every response and a strict CSP to the widget page."""

    def __init__(self, app: ASGIApp, origins: list[str], widget_paths: tuple[str, ...]) -> None:
        self.app = app
        self.ancestors = frame_ancestors(origins)
        self.widget_paths = widget_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.ancestors
        if scope["path"] in self.widget_paths:
            policy = f"{WIDGET_CSP}; {policy}"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


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


class BodyTooLarge(HTTPException):
    """Raised while reading a body that outgrows its limit (after the headers said less)."""

    def __init__(self, limit: int) -> None:
        size = f"{limit / 1024 / 1024:.1f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
        super().__init__(413, f"The request is too large: the limit is {size}.")


class BodyLimitMiddleware:
    """413 for bodies over the limit: small for the JSON API, the upload size elsewhere."""

    def __init__(
        self,
        app: ASGIApp,
        api_limit: int,
        other_limit: int,
        special: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.api_limit = api_limit
        self.other_limit = other_limit
        self.special = special or {}  # exact paths with their own limit (uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = self.api_limit if path.startswith(API_PREFIX) else self.other_limit
        limit = self.special.get(path, limit)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await send_json(send, 413, {"error": BodyTooLarge(limit).detail})
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await send_json(send, 413, {"error": exc.detail})
