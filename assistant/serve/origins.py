"""Which sites may reach which collection: the browser boundary between collections.

``ASSISTANT_ALLOWED_ORIGINS`` names the owner's own sites: they may embed the full UI and
reach every collection. ``ASSISTANT_COLLECTION_ORIGINS`` names sites that may reach one
collection only (``faq=https://shop.example,https://help.example;handbook=https://intranet.example``),
so a customer FAQ widget on shop.example can never answer from the staff handbook: not by
framing the widget of another collection (CSP ``frame-ancestors`` follows the widget's
``collection``), not by framing the UI (only the owner's sites may), and not by sending
another ``"collection"`` in a request (the ``Origin`` is checked against the collection it
asks for). Requests without an ``Origin`` (scripts, ``curl``) are not a browser's and pass:
this is not access control for clients outside a browser (see the README).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.errors import ConfigError, ForbiddenError, InputError
from assistant.serve.security import allowed_origins, frame_ancestors, normalize_origin, send_json
from assistant.settings import Settings
from index.collection_names import DEFAULT, check_name

FOREIGN = "This collection cannot be used from that site."


def parse_collection_origins(value: str) -> dict[str, list[str]]:
    """``"faq=https://a,https://b; hr=https://c"`` as ``{"faq": [...], "hr": [...]}``."""
    found: dict[str, list[str]] = {}
    for entry in (e.strip() for e in value.split(";")):
        if not entry:
            continue
        name, eq, origins = entry.partition("=")
        try:
            name = check_name(name.strip())
        except InputError as exc:
            raise ConfigError(f"ASSISTANT_COLLECTION_ORIGINS: {exc}") from None
        items = [o for o in origins.split(",") if o.strip()]
        if not eq or not items:
            raise ConfigError(
                f"ASSISTANT_COLLECTION_ORIGINS entry {entry[:60]!r} needs the form "
                "NAME=ORIGIN[,ORIGIN...]; entries are separated by ';'."
            )
        found.setdefault(name, []).extend(normalize_origin(o) for o in items)
    return {k: list(dict.fromkeys(v)) for k, v in found.items()}


def origin_allowed(origin: str, host: str, origins: list[str]) -> bool:
    """True without an ``Origin`` (not a browser), for our own pages, or a listed origin.

    ``host``: the request's ``Host``, and the ``X-Forwarded-Host`` a trusted proxy passed
    (comma-separated; ``gateway`` has checked both and dropped the latter from strangers).
    """
    origin = origin.lower()
    if not origin or "*" in origins or origin in origins:
        return True
    own = urlsplit(origin)
    hosts = {h.strip().lower() for h in host.split(",") if h.strip()}
    return own.scheme in ("http", "https") and own.netloc in hosts


def request_host(headers: Headers) -> str:
    """The host names a request was sent to, for ``origin_allowed``."""
    return ",".join(h for h in (headers.get("host"), headers.get("x-forwarded-host")) if h)


class OriginPolicy:
    """The owner's sites (``trusted``) and the sites of each collection (``per_collection``)."""

    def __init__(self, trusted: list[str], per_collection: dict[str, list[str]]) -> None:
        self.trusted = trusted
        self.per_collection = per_collection

    @classmethod
    def from_settings(cls, settings: Settings) -> OriginPolicy:
        return cls(allowed_origins(settings), parse_collection_origins(settings.collection_origins))

    def for_collection(self, name: str) -> list[str]:
        """Origins allowed for collection ``name``: the owner's sites and its own."""
        return list(dict.fromkeys([*self.trusted, *self.per_collection.get(name, [])]))

    def cors(self) -> list[str]:
        """Every origin some route accepts (CORS); each route then checks its collection."""
        extra = [o for v in self.per_collection.values() for o in v]
        return list(dict.fromkeys([*self.trusted, *extra]))

    def check(self, origin: str, host: str, name: str) -> None:
        """``ForbiddenError`` when a browser page on ``origin`` may not use collection ``name``."""
        if not origin_allowed(origin, host, self.for_collection(name)):
            raise ForbiddenError(FOREIGN)

    def visible(self, origin: str, host: str, names: list[str]) -> list[str]:
        """The collections a page on ``origin`` may see (listing them tells nothing more)."""
        return [n for n in names if origin_allowed(origin, host, self.for_collection(n))]

    def widget_ancestors(self, scope: Scope) -> str:
        """``frame-ancestors`` of ``/widget?collection=NAME``: the sites of that collection."""
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        try:
            name = check_name((query.get("collection") or [DEFAULT])[0])
        except InputError:
            return frame_ancestors([])  # our own pages only; the widget will show the error
        return frame_ancestors(self.for_collection(name))


class TrustedOriginMiddleware:
    """403 for a request from a foreign page to anything but the API and the widget files.

    CORS must admit every collection's sites for ``/api`` and ``/v1``, which check the
    collection themselves; the UI (Gradio's routes) can reach every collection, so only
    the owner's sites may call it from their pages.
    """

    def __init__(self, app: ASGIApp, policy: OriginPolicy, open_paths: tuple[str, ...]) -> None:
        self.app = app
        self.policy = policy
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(("/api/", "/v1/")) or path in self.open_paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not origin_allowed(
            headers.get("origin", ""), request_host(headers), self.policy.trusted
        ):
            await send_json(send, 403, {"error": FOREIGN.replace("This collection", "This page")})
            return
        await self.app(scope, receive, send)
