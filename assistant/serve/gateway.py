"""The server's front door: who the client is, which Host it asked for, which routes exist.

Plain ASGI middleware, in front of both the FastAPI routes and the mounted Gradio app:

- ``ClientAddressMiddleware`` decides the client's address. ``X-Forwarded-For`` and friends
  count only when the connection comes from a proxy listed in ``server.trusted_proxies``;
  from anyone else they are removed, so neither the rate limiter nor Gradio sees them.
- ``HostCheckMiddleware`` answers 400 to a ``Host`` that is not ours: a DNS-rebinding page
  (evil.example resolving to 127.0.0.1) cannot talk to a local server.
- ``HeadMiddleware`` answers HEAD on every GET route (the Gradio mount at ``/`` would
  otherwise answer 404 for our own routes).
- ``GradioGuardMiddleware`` lets through only the Gradio routes the page and the ``/chat``
  API use; file routes, uploads, proxies and dev endpoints answer 404. Error bodies from
  Gradio are replaced by a plain ``{"error"}`` message, so no pydantic detail, path or echo
  of the request reaches the client.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.config_values import network_list, split_list
from assistant.errors import ConfigError
from assistant.serve.ratelimit import peek_body
from assistant.serve.security import send_json

log = logging.getLogger(__name__)
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDING_HEADERS = {
    b"x-forwarded-for",
    b"x-forwarded-host",
    b"x-forwarded-proto",
    b"x-forwarded-port",
    b"x-forwarded-prefix",
    b"x-real-ip",
    b"forwarded",
}


def parse_networks(value: str | Iterable[str]) -> list[IPNetwork]:
    """``"10.0.0.1, 192.168.0.0/16"`` (or a list) as networks; ``ConfigError`` names a bad
    entry (the settings check them when read; this serves direct callers too)."""
    try:
        return [ipaddress.ip_network(n) for n in network_list(value)]
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None


class ClientAddressMiddleware:
    """Sets ``scope["client"]`` to the real client; strips forwarding headers from strangers."""

    def __init__(self, app: ASGIApp, trusted: Iterable[IPNetwork]) -> None:
        self.app = app
        self.trusted = list(trusted)

    def is_trusted(self, address: str) -> bool:
        ip = _ip(address)
        return ip is not None and any(ip in net for net in self.trusted)

    def client_of(self, peer: str, forwarded_for: list[str]) -> str:
        """The rightmost address the trusted chain did not add (the standard rule)."""
        if not self.is_trusted(peer):
            return peer
        for hop in reversed(forwarded_for):
            ip = _ip(hop)
            if ip is None:
                return peer  # a malformed chain names nobody: count it as the proxy's
            if not any(ip in net for net in self.trusted):
                return str(ip)
        return peer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        peer = (scope.get("client") or ("unknown", 0))[0]
        headers = list(scope.get("headers", []))
        if self.is_trusted(peer):
            hops = [
                hop
                for name, value in headers
                if name == b"x-forwarded-for"
                for hop in value.decode("latin-1").split(",")
                if hop.strip()
            ]
            client = self.client_of(peer, hops)
            kept = [(n, v) for n, v in headers if n not in (b"x-real-ip", b"forwarded")]
        else:
            client = peer
            kept = [(n, v) for n, v in headers if n not in FORWARDING_HEADERS]
        scope = {**scope, "client": (client, 0), "headers": kept}
        await self.app(scope, receive, send)


def host_name(value: str) -> str:
    """The host part of a ``Host`` header value, lower case, without port or brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def allowed_host_names(
    bound_host: str, origins: Iterable[str], extra: str | Iterable[str]
) -> set[str]:
    """Host names this server answers to (IP literals are always accepted, see below)."""
    names = {"localhost"}
    if bound_host not in ("", "0.0.0.0", "::"):
        names.add(host_name(bound_host))
    else:  # listening on every interface: the machine's own name (no DNS lookup) too
        names.add(socket.gethostname().lower())
    for origin in origins:
        if origin != "*":
            names.add(host_name(urlsplit(origin).netloc))
    names.update(host_name(h) for h in split_list(extra))
    return names


class HostCheckMiddleware:
    """400 for a ``Host`` (or trusted ``X-Forwarded-Host``) that is not one of ours.

    An IP literal is always accepted: DNS rebinding needs a name the attacker controls, and a
    page loaded from the IP itself is already same-origin with us.
    """

    def __init__(self, app: ASGIApp, names: set[str]) -> None:
        self.app = app
        self.names = names

    def allowed(self, value: str) -> bool:
        name = host_name(value)
        if not name or not re.fullmatch(r"[a-z0-9.\-:_]+", name):
            return False
        if _ip(name) is not None:
            return True
        return name in self.names or name.rstrip(".") in self.names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        hosts = [headers.get("host", "")]
        hosts += [h for h in headers.get("x-forwarded-host", "").split(",") if h.strip()]
        if not all(self.allowed(h) for h in hosts):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            message = (
                "This server does not answer to that host name. Add it to "
                "ASSISTANT_SERVER__ALLOWED_HOSTS (or ASSISTANT_ALLOWED_ORIGINS) if it is yours."
            )
            await send_json(send, 400, {"error": message})
            return
        await self.app(scope, receive, send)


class HeadMiddleware:
    """HEAD is GET without the body, on every route.

    The body is cut as soon as the headers are out, so HEAD on a stream ends at once.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        started = False

        async def bodiless(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                started = True
                await send(message)
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, bodiless)


_SEGMENT = r"[A-Za-z0-9_.\-]+"
GRADIO_GET = [
    r"/",
    r"/config/?",
    r"/theme\.css",
    r"/robots\.txt",
    r"/favicon\.ico",
    r"/manifest\.json",
    r"/(assets|svelte|static)/[A-Za-z0-9_.\-/@]+",
    r"/gradio_api/info/?",
    rf"/gradio_api/heartbeat/{_SEGMENT}",
    r"/gradio_api/queue/data",
    r"/gradio_api/startup-events",
    rf"/gradio_api/call/{_SEGMENT}/{_SEGMENT}",
]
GRADIO_POST = [
    r"/gradio_api/queue/join",
    rf"/gradio_api/call/{_SEGMENT}/?",
    rf"/gradio_api/run/{_SEGMENT}/?",
    r"/gradio_api/cancel",
    r"/gradio_api/reset/?",
]
GRADIO_EVENT_POSTS = re.compile(r"/gradio_api/(?:queue/join|(?:call|run)/[^/]+/?)")
EVENT_MAX_BYTES = 256 * 1024  # a question and its event envelope; the history stays server-side
_GET = re.compile("|".join(f"(?:{p})" for p in GRADIO_GET))
_POST = re.compile("|".join(f"(?:{p})" for p in GRADIO_POST))
SAFE_GRADIO_ERRORS = {
    400: "The request was not understood.",
    401: "Not allowed.",
    403: "Not allowed.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "The request is too large.",
    422: "The request is invalid.",
    429: "Too many requests.",
    500: "Something went wrong; see the server log.",
    503: "The server is busy; please try again.",
}


def names_a_file(value: object) -> bool:
    """Whether a decoded event body carries a Gradio file reference anywhere inside it.

    The UI has no file inputs, so any ``FileData`` (``{"path": ..., "meta": {"_type":
    "gradio.FileData"}}``) in an event is a client naming a server path.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            meta = item.get("meta")
            if isinstance(meta, dict) and "gradio." in str(meta.get("_type", "")):
                return True
            if "path" in item and ("meta" in item or "orig_name" in item or "url" in item):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def gradio_route_allowed(method: str, path: str) -> bool:
    """Whether the UI or the ``/chat`` API uses this Gradio route (everything else is 404)."""
    if ".." in path.split("/") or "\\" in path or "\x00" in path or "//" in path:
        return False
    if method == "GET":
        return _GET.fullmatch(path) is not None
    if method == "POST":
        return _POST.fullmatch(path) is not None
    return method == "OPTIONS"


def _event_refusal(body: bytes, events: set[int]) -> tuple[int, str] | None:
    """Why an event request is refused before Gradio sees it, or ``None``."""
    if len(body) > EVENT_MAX_BYTES:
        return 413, "The request is too large."
    try:
        decoded = json.loads(body)
    except ValueError:
        return 400, "The request is not valid JSON."
    if names_a_file(decoded):
        return 400, "This app takes no files in its events."
    index = decoded.get("fn_index") if isinstance(decoded, dict) else None
    if index is not None and (not isinstance(index, int) or index not in events):
        return 404, "No such event."  # Gradio itself fails with a 500 on an unknown index
    return None


class GradioGuardMiddleware:
    """Only the Gradio routes the app needs; Gradio's error bodies replaced by plain ones.

    ``ours(scope)`` tells the app's own routes (API, widget, docs) apart from the mount;
    ``events`` holds the UI's event ids, filled in once the UI is mounted.
    """

    def __init__(self, app: ASGIApp, ours: Callable[[Scope], bool], events: set[int]) -> None:
        self.app = app
        self.ours = ours
        self.events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.ours(scope):
            await self.app(scope, receive, send)
            return
        if not gradio_route_allowed(scope["method"], scope["path"]):
            log.debug("refused Gradio route %s %s", scope["method"], scope["path"])
            await send_json(send, 404, {"error": "Not found.", "detail": "Not found."})
            return
        if scope["method"] == "POST" and GRADIO_EVENT_POSTS.fullmatch(scope["path"]):
            receive, body = await peek_body(receive, EVENT_MAX_BYTES + 1)
            refusal = _event_refusal(body, self.events)
            if refusal:
                status, text = refusal
                await send_json(send, status, {"error": text, "detail": text})
                return
        replaced = False

        async def clean_errors(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] >= 400:
                replaced = True
                status = message["status"]
                text = SAFE_GRADIO_ERRORS.get(status, "The request failed.")
                body = json.dumps({"error": text, "detail": text}).encode()
                headers = [
                    (n, v)
                    for n, v in message.get("headers", [])
                    if n.lower() not in (b"content-length", b"content-type")
                ]
                headers += [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]
                await send({**message, "headers": headers})
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            if replaced:
                return
            await send(message)

        await self.app(scope, receive, clean_errors)
