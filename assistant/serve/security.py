"""Secure defaults for the server: allowed origins, CSP, body-size limit, safe messages.

Host checks, client addresses behind proxies and the Gradio route list are in ``gateway``;
the rate limiter is in ``ratelimit``.

Plain ASGI middleware (no ``BaseHTTPMiddleware``) so streamed answers are not buffered and
the same rules also cover the mounted Gradio app.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.config_values import normalize_origin as normalize_origin  # re-exported
from assistant.settings import Settings

API_PREFIX = "/api/"
API_MAX_BODY_BYTES = 256 * 1024  # a question, its history and some slack
WIDGET_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'"
)
# The original PDFs (assistant.serve.document_file): opened directly, nothing in them may run.
FILE_CSP = "sandbox; default-src 'none'"


def allowed_origins(settings: Settings) -> list[str]:
    """Origins that may frame the widget and read API responses.

    ``settings.allowed_origins`` (checked and normalised when read) when set; otherwise only
    the server's own local origins, so nothing is exposed to other sites until the owner
    lists them.
    """
    if settings.allowed_origins:
        return list(settings.allowed_origins)
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

    def __init__(
        self,
        app: ASGIApp,
        origins: list[str],
        widget_paths: tuple[str, ...],
        widget_ancestors: Callable[[Scope], str] | None = None,
    ) -> None:
        self.app = app
        self.ancestors = frame_ancestors(origins)
        self.widget_paths = widget_paths
        self.widget_ancestors = widget_ancestors  # per collection (``assistant.serve.origins``)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.ancestors
        if scope["path"] in self.widget_paths:
            if self.widget_ancestors is not None:
                policy = self.widget_ancestors(scope)
            policy = f"{WIDGET_CSP}; {policy}"
        elif scope["path"].startswith("/api/documents/") and scope["path"].endswith("/file"):
            policy = f"{FILE_CSP}; {policy}"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
