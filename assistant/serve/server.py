"""One server for the chat UI, the embeddable widget and the JSON API.

FastAPI owns the API, widget and security middleware; the Gradio UI is mounted at ``/``.
Everything the browser loads is served from here, so it works without internet access.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, Response
from starlette.routing import Match, Mount
from starlette.types import Scope

from assistant.serve.api import Runtime, install_error_handlers, router
from assistant.serve.document_file import install_document_file_route
from assistant.serve.gateway import (
    ClientAddressMiddleware,
    GradioGuardMiddleware,
    HeadMiddleware,
    HostCheckMiddleware,
    allowed_host_names,
    parse_networks,
)
from assistant.serve.openai_api import build_router as build_openai_router
from assistant.serve.origins import OriginPolicy, TrustedOriginMiddleware
from assistant.serve.ratelimit import RateLimiter, RateLimitMiddleware
from assistant.serve.registry import Collections
from assistant.serve.runtime import LazyAssistant, build_assistant
from assistant.serve.security import (
    API_MAX_BODY_BYTES,
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
)
from assistant.serve.service import AssistantAPI
from assistant.serve.static_files import conditional_file
from assistant.serve.upload_api import install_upload_route, upload_body_limit
from assistant.settings import Settings, get_settings

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before anything imports gradio

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
WIDGET_PATHS = ("/widget",)
# Loaded by host pages of any collection's site (a script tag, the widget's iframe and files).
OPEN_PATHS = ("/embed.js", "/widget", "/widget.js", "/widget.css", "/healthz")


def create_app(
    settings: Settings | None = None,
    get_assistant: Callable[[], AssistantAPI] | None = None,
    build_now: bool = False,
    collections: Callable[[LazyAssistant], Collections] | None = None,
) -> FastAPI:
    """The whole web app. ``get_assistant`` replaces the real assistant (tests pass a fake),
    ``collections`` the registry of the other collections (see ``assistant.serve.registry``).

    The factory runs once in a background thread, so pages load at once and only the first
    question waits for the model: from the app's startup, or at once with ``build_now``.
    Other collections are opened when a request first names one.
    """
    settings = settings or get_settings()
    policy = OriginPolicy.from_settings(settings)
    origins = policy.trusted
    lazy = LazyAssistant(
        get_assistant or partial(build_assistant, settings), settings.server.start_retry_s
    )
    registry = collections(lazy) if collections else Collections.for_settings(settings, lazy.get)
    if build_now:  # ``serve``: the model and index load while Gradio imports and builds the UI
        lazy.start()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lazy.start()
        yield

    app = FastAPI(
        title="Document assistant",
        summary="Answers questions about your documents, with exact citations.",
        docs_url=None,  # FastAPI's Swagger UI loads from a CDN; /docs below is offline
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = Runtime(lazy, settings, registry, policy)
    install_error_handlers(app)
    install_upload_route(app, settings, origins)  # before the router's /api/ catch-all
    install_document_file_route(app)
    app.include_router(router)
    limiter = RateLimiter(settings.server.rate_limit_per_minute)
    # RateLimitMiddleware below counts /v1 like /api: the router must not count it twice.
    app.include_router(build_openai_router(settings))
    _add_static_routes(app)
    events: set[int] = set()  # the UI's events, and those that answer: known once mounted
    answer_events: set[int] = set()
    # Innermost first: each add_middleware wraps everything added before it.
    app.add_middleware(GradioGuardMiddleware, ours=partial(_own_route, app), events=events)
    app.add_middleware(HeadMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        api_limit=API_MAX_BODY_BYTES,
        other_limit=int(settings.server.max_upload_mb * 1024 * 1024) + 64 * 1024,
        special={"/api/upload": upload_body_limit(settings)},
    )
    app.add_middleware(
        RateLimitMiddleware,
        limiter=limiter,
        answer_events=answer_events,
    )
    # Inside the client-address middleware: it sees only forwarding headers a trusted proxy set.
    app.add_middleware(TrustedOriginMiddleware, policy=policy, open_paths=OPEN_PATHS)
    hosts = allowed_host_names(settings.server.host, origins, settings.server.allowed_hosts)
    app.add_middleware(HostCheckMiddleware, names=hosts)
    app.add_middleware(
        ClientAddressMiddleware, trusted=parse_networks(settings.server.trusted_proxies)
    )
    app.add_middleware(
        SecurityHeadersMiddleware,
        origins=origins,
        widget_paths=WIDGET_PATHS,
        widget_ancestors=policy.widget_ancestors,
    )
    # Must be Starlette's own class: Gradio then leaves CORS to us instead of echoing origins.
    # Every collection's sites pass here; the API routes check the collection asked for.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=policy.cors(),
        allow_methods=["GET", "HEAD", "POST"],
        allow_headers=["*"],  # no credentials are ever accepted, so this exposes nothing
        max_age=600,
    )
    if not _mount_ui(app, lazy, settings, events, answer_events, registry):
        app.add_api_route("/", _fallback_home, methods=["GET"], include_in_schema=False)
    return app


def _own_route(app: FastAPI, scope: Scope) -> bool:
    """Whether a route of ours (not the Gradio mount) handles this request."""
    return any(
        route.matches(scope)[0] == Match.FULL
        for route in app.router.routes
        if not isinstance(route, Mount)
    )


def _static(name: str, media_type: str) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return conditional_file(request, STATIC / name, media_type)

    return endpoint


def _add_static_routes(app: FastAPI) -> None:
    """The widget files, and an OpenAPI page that needs no CDN."""
    routes = {
        "/embed.js": ("embed.js", "text/javascript"),
        "/widget": ("widget.html", "text/html"),
        "/widget.js": ("widget.js", "text/javascript"),
        "/widget.css": ("widget.css", "text/css"),
        # The PDF page view (UI and widget): our module and the vendored pdf.js build.
        "/pdfview.js": ("pdfview.js", "text/javascript"),
        "/pdfjs/pdf.min.mjs": ("pdfjs/pdf.min.mjs", "text/javascript"),
        "/pdfjs/pdf.worker.min.mjs": ("pdfjs/pdf.worker.min.mjs", "text/javascript"),
    }
    for path, (name, media_type) in routes.items():
        app.add_api_route(path, _static(name, media_type), methods=["GET"], include_in_schema=False)

    async def docs() -> HTMLResponse:
        return HTMLResponse(docs_html(app.openapi()))

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)


def _mount_ui(
    app: FastAPI,
    lazy: LazyAssistant,
    settings: Settings,
    events: set[int],
    answer_events: set[int],
    registry: Collections,
) -> bool:
    """Mount the Gradio UI at ``/`` and serve Gradio's web-component loader locally.

    Mounting (unlike ``launch()``) leaves the Blocks marked as never launched, and Gradio then
    skips its own file-path checks; we set the flag, allow no paths and block the whole
    file system, so no event can copy a server file into Gradio's cache. The UI has no file
    component: uploads go to ``POST /api/upload`` with the admin token.
    """
    try:
        from assistant.serve.ui import app as ui
    except ModuleNotFoundError as exc:
        if exc.name not in ("assistant.serve.ui", "assistant.serve.ui.app"):
            raise
        log.warning(
            "The chat UI (assistant.serve.ui.app) is not installed; serving API and widget only."
        )
        return False
    import gradio as gr

    blocks = ui.build_ui(lazy.get, settings, registry)
    gradio_js = Path(gr.__file__).parent / "templates" / "frontend" / "gradio.js"
    if gradio_js.is_file():  # it imports ./assets/..., which the mounted app serves

        async def loader(request: Request) -> Response:
            return conditional_file(request, gradio_js, "text/javascript")

        app.add_api_route("/gradio.js", loader, methods=["GET"], include_in_schema=False)
    options: dict[str, Any] = {
        "server_name": settings.server.host,
        "server_port": settings.server.port,
        "max_file_size": int(settings.server.max_upload_mb * 1024 * 1024),
        "footer_links": ["api"],
        "run_history": False,  # its page offers uploading runs to a remote bucket
        "show_error": False,  # only our gr.Error messages reach clients, not Gradio internals
        "allowed_paths": [],
        "blocked_paths": [os.path.abspath(os.sep), str(Path(settings.data_dir).resolve())],
    }
    # Gradio 6 takes styling at mount time; keep what build_ui may have given gr.Blocks().
    for name in ("theme", "css", "css_paths", "js", "head", "head_paths"):
        value = getattr(blocks, f"_deprecated_{name}", None)
        if value is not None:
            options[name] = value
    if hasattr(ui, "mount_options"):
        options.update(ui.mount_options(settings))
    gr.mount_gradio_app(app, blocks, path="/", **options)
    blocks.has_launched = True  # what launch() sets: Gradio's _check_allowed now applies
    events.update(blocks.fns)
    answer_events.update(i for i, fn in blocks.fns.items() if fn.concurrency_id == "answer")
    return True


async def _fallback_home() -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><title>Document assistant</title><h1>Document assistant</h1>"
        '<p><a href="/widget">Chat widget</a> · <a href="/docs">API docs</a></p>'
    )


def docs_html(spec: dict[str, Any]) -> str:
    """A plain, script-free rendering of the OpenAPI schema (works offline)."""
    esc = html.escape
    parts = [
        "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>",
        f"<title>{esc(spec['info']['title'])} API</title>",
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#222}code,pre{background:#f3f3f3;padding:.1em .3em;border-radius:4px}"
        "section{border-top:1px solid #ddd;padding:.5rem 0}.m{font-weight:700;color:#0b5cad}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;"
        "text-align:left;vertical-align:top}</style>",
        f"<h1>{esc(spec['info']['title'])} API</h1>",
        f"<p>{esc(spec['info'].get('summary', ''))} Machine-readable schema: "
        "<a href='/openapi.json'>/openapi.json</a>. Errors are JSON <code>{\"error\": message}"
        "</code>.</p>",
    ]
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            heading = f"<span class=m>{esc(method.upper())}</span> <code>{esc(path)}</code>"
            parts.append(f"<section><h2>{heading}</h2>")
            parts.append(
                f"<p><b>{esc(op.get('summary', ''))}</b>. {esc(op.get('description', ''))}</p>"
            )
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if body:
                parts.append(
                    f"<p>Body: <code>{esc(_schema_name(body.get('schema', {})))}</code></p>"
                )
            for code, resp in op.get("responses", {}).items():
                kinds = ", ".join(resp.get("content", {}))
                parts.append(f"<p>{esc(code)} {esc(kinds)}: {esc(resp.get('description', ''))}</p>")
            parts.append("</section>")
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        parts.append(
            f"<section><h2 id='{esc(name)}'>{esc(name)}</h2><table><tr><th>Field<th>Type<th>About"
        )
        for field, prop in schema.get("properties", {}).items():
            parts.append(
                f"<tr><td><code>{esc(field)}</code><td>{esc(_schema_name(prop))}"
                f"<td>{esc(prop.get('description', ''))}"
            )
        parts.append("</table></section>")
    return "".join(parts)


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_schema_name(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list[{_schema_name(schema.get('items', {}))}]"
    return str(schema.get("type", "object"))


def serve(settings: Settings | None = None) -> None:
    """Run the server until interrupted (what ``assistant serve`` calls)."""
    import uvicorn

    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")  # no-op if set
    app = create_app(settings, build_now=True)
    log.info("Serving on http://%s:%s", settings.server.host, settings.server.port)
    uvicorn.Server(uvicorn_config(app, settings)).run()


def uvicorn_config(app: FastAPI, settings: Settings, **overrides: Any) -> Any:
    """How ``assistant serve`` runs uvicorn (tests start their servers the same way).

    ``proxy_headers=False``: uvicorn would otherwise believe ``X-Forwarded-For`` from any
    loopback peer; ``gateway.ClientAddressMiddleware`` applies ``server.trusted_proxies``.
    """
    import uvicorn

    options: dict[str, Any] = {
        "host": settings.server.host,
        "port": settings.server.port,
        "log_level": "info",
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
        "timeout_graceful_shutdown": 5,  # open Gradio event streams would otherwise hold Ctrl+C
    }
    return uvicorn.Config(app, **{**options, **overrides})
