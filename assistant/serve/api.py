"""The JSON API: a thin shell over ``answer()``, so API, UI and widget cite identically."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import PurePath
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from assistant.errors import (
    AssistantError,
    DocumentError,
    ForbiddenError,
    InputError,
    NotFoundError,
)
from assistant.serve.origins import OriginPolicy, request_host
from assistant.serve.registry import Collections
from assistant.serve.runtime import LazyAssistant
from assistant.serve.security import scrub_paths
from assistant.serve.service import AssistantAPI
from assistant.settings import Settings
from assistant.textguard import check_question, require_valid_unicode
from assistant.types import Answer, DocumentInfo, DocumentText, Message
from index.collection_names import DEFAULT, check_name

log = logging.getLogger(__name__)
T = TypeVar("T")
_DONE = object()
MAX_HISTORY = 100

router = APIRouter()


class AskRequest(BaseModel):
    """A question and the conversation so far (oldest first)."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question, at most `answer.max_question_chars` long.")
    history: list[Message] = Field(
        default_factory=list, max_length=MAX_HISTORY, description="Earlier turns, oldest first."
    )
    collection: str | None = Field(
        None, description="The collection to answer from (default: the default collection)."
    )


class Health(BaseModel):
    """Liveness plus whether the model has loaded (the page works before it has)."""

    ok: bool
    model_loaded: bool
    documents: int | None = None
    error: str | None = None


class CollectionList(BaseModel):
    """The collections a caller may use; ``default`` is the one used when none is named."""

    collections: list[str]
    default: str = DEFAULT


class Runtime:
    """What the routes need: the lazily built assistants, settings and a concurrency cap."""

    def __init__(
        self,
        lazy: LazyAssistant,
        settings: Settings,
        collections: Collections | None = None,
        origins: OriginPolicy | None = None,
    ) -> None:
        self.lazy = lazy
        self.settings = settings
        self.collections = collections or Collections(lazy.get, lambda: [DEFAULT])
        self.origins = origins or OriginPolicy.from_settings(settings)
        self._slots = threading.BoundedSemaphore(settings.server.concurrency)

    def _limited(self, fn: Callable[..., T], *args: Any) -> T:
        with self._slots:  # bounds CPU-heavy answering, whichever route asks
            return fn(*args)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work off the event loop, at most ``server.concurrency`` at once."""
        return await anyio.to_thread.run_sync(self._limited, fn, *args)

    async def assistant(
        self, collection: str | None = None, request: Request | None = None, create: bool = False
    ) -> AssistantAPI:
        """The assistant of ``collection``, waiting (off the event loop) while it loads.

        A bad name is a 400; a page from a site that may not use the collection a 403 (before
        anything says whether it exists); an unknown collection a 404 unless ``create``.
        """
        name = check_name(collection)
        if request is not None:
            self.check_origin(request, name)
        opener = self.collections.create if create else self.collections.get
        return await anyio.to_thread.run_sync(opener, name, self.settings.server.load_timeout_s)

    def check_origin(self, request: Request, collection: str) -> None:
        """``ForbiddenError`` when the request's page may not use ``collection``."""
        host = request_host(request.headers)
        self.origins.check(request.headers.get("origin", ""), host, collection)

    def check_question(self, question: str, history: list[Message] | None = None) -> None:
        """Refuse empty, overlong or invalid-Unicode questions before any model work."""
        check_question(question, self.settings.answer.max_question_chars)
        for turn in history or []:
            require_valid_unicode(turn.content, "conversation history")


D = TypeVar("D", bound=DocumentInfo)


def public_document(doc: D) -> D:
    """The document as clients see it: its file name, never where it sits on the server."""
    return doc.model_copy(update={"path": PurePath(doc.path).name if doc.path else ""})


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


@router.post("/api/ask", response_model=Answer, summary="Answer a question with citations")
async def ask(body: AskRequest, request: Request) -> Answer:
    """The Answer JSON: text with [n] markers and exact-span citations."""
    rt = _runtime(request)
    rt.check_question(body.question, body.history)
    assistant = await rt.assistant(body.collection, request)
    return await rt.call(assistant.answer, body.question, body.history)


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post(
    "/api/ask/stream",
    summary="Answer a question, streamed as server-sent events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": '`token` events `{"text": piece}`, then one `answer` event with '
            'the full Answer JSON; an `error` event `{"error": message}` on failure.',
            "content": {"text/event-stream": {}},
        }
    },
)
async def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
    """Text pieces as they are produced, ending with the same Answer JSON as /api/ask."""
    rt = _runtime(request)
    rt.check_question(body.question, body.history)
    assistant = await rt.assistant(body.collection, request)
    pieces = await rt.call(assistant.stream, body.question, body.history)
    # Pull the first piece now, so a bad question still gets a plain JSON error response.
    first = await rt.call(next, pieces, _DONE)
    return StreamingResponse(
        _events(rt, first, pieces),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(rt: Runtime, item: object, pieces: Iterator[str | Answer]) -> AsyncIterator[str]:
    try:
        while item is not _DONE:
            if isinstance(item, Answer):
                yield _sse("answer", item.model_dump(mode="json"))
                return
            yield _sse("token", {"text": str(item)})
            item = await rt.call(next, pieces, _DONE)
        yield _sse("error", {"error": "The answer ended unexpectedly; please try again."})
    except AssistantError as exc:
        yield _sse("error", {"error": scrub_paths(str(exc))})
    except Exception:
        log.exception("Streaming an answer failed.")
        yield _sse("error", {"error": "Something went wrong; see the server log."})
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


COLLECTION_QUERY = Query(None, description="The collection (default: the default collection).")


@router.get("/api/collections", response_model=CollectionList, summary="List collections")
async def collections(request: Request) -> CollectionList:
    """The collections that exist and that the calling page may use."""
    rt = _runtime(request)
    names = await anyio.to_thread.run_sync(rt.collections.names)
    host = request_host(request.headers)
    return CollectionList(
        collections=rt.origins.visible(request.headers.get("origin", ""), host, names)
    )


@router.get("/api/documents", response_model=list[DocumentInfo], summary="List documents")
async def documents(
    request: Request, collection: str | None = COLLECTION_QUERY
) -> list[DocumentInfo]:
    """The documents of one collection, without their text."""
    rt = _runtime(request)
    assistant = await rt.assistant(collection, request)
    docs = await anyio.to_thread.run_sync(assistant.documents)
    return [public_document(d) for d in docs]


@router.get("/api/documents/{doc_id}", response_model=DocumentText, summary="One document")
async def document(
    doc_id: str, request: Request, collection: str | None = COLLECTION_QUERY
) -> DocumentText:
    """A document of one collection with its text, so citation offsets can be shown in
    context; an id from another collection is not found here."""
    rt = _runtime(request)
    assistant = await rt.assistant(collection, request)
    return public_document(await anyio.to_thread.run_sync(assistant.document, doc_id))


@router.get("/healthz", response_model=Health, summary="Health and readiness")
async def healthz(request: Request) -> JSONResponse:
    """200 while alive (model loading or loaded); 503 when the assistant failed to start."""
    lazy = _runtime(request).lazy
    if lazy.error is not None:
        error = scrub_paths(str(lazy.error))
        return JSONResponse(Health(ok=False, model_loaded=False, error=error).model_dump(), 503)
    health = Health(ok=True, model_loaded=lazy.ready)
    if lazy.ready:
        try:
            health.documents = len(await anyio.to_thread.run_sync(lazy.get().documents))
        except AssistantError as exc:
            return JSONResponse(
                Health(ok=False, model_loaded=True, error=scrub_paths(str(exc))).model_dump(), 503
            )
    return JSONResponse(health.model_dump())


@router.api_route(
    "/api/{rest:path}",
    methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def unknown_api(rest: str, request: Request) -> JSONResponse:
    """Unknown API paths and methods get the API's ``{"error"}`` JSON (405 or 404).

    Registered last among the API routes: without it the UI mounted at ``/`` answered them
    with its own ``{"detail": "Not Found"}``, which API clients and the widget do not read.
    """
    allowed = sorted(
        {
            method
            for route in router.routes
            if isinstance(route, APIRoute)
            and route.endpoint is not unknown_api
            and route.matches(request.scope)[0] == Match.PARTIAL
            for method in route.methods or ()
        }
        - {"HEAD"}
    )
    if allowed:
        message = (
            f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}."
        )
        return JSONResponse({"error": message}, 405, headers={"Allow": ", ".join(allowed)})
    return JSONResponse({"error": f"No API endpoint at {request.url.path}; see /docs."}, 404)


def status_for(exc: AssistantError) -> int:
    """Caller mistakes are 4xx; a store or configuration problem is the server's (503)."""
    if isinstance(exc, InputError):
        return 400
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ForbiddenError):
        return 403
    if isinstance(exc, DocumentError):
        return 422
    return 503


def _bad_unicode(exc: RequestValidationError) -> bool:
    """Pydantic's JSON parser refuses lone surrogates as "unable to parse ... unicode"."""
    return any("unicode string" in str(err.get("msg", "")) for err in exc.errors())


def _validation_message(exc: RequestValidationError) -> str:
    if _bad_unicode(exc):
        return (
            "The request is not valid Unicode text: it contains a lone surrogate "
            "(such as \\ud800) or bytes that are not UTF-8."
        )
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        # Field names come from the client: bounded, and safe to encode whatever they hold.
        where = where[:80].encode("utf-8", "backslashreplace").decode()
        parts.append(
            f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", "invalid")
        )
    return "Invalid request: " + "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    """Every error becomes ``{"error": message}``; tracebacks stay in the server log."""

    async def on_assistant_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AssistantError)
        return JSONResponse({"error": scrub_paths(str(exc))}, status_for(exc))

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"error": _validation_message(exc)}, 400 if _bad_unicode(exc) else 422)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse({"error": str(exc.detail)}, exc.status_code, headers=exc.headers)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette re-raises after this response, so the server log keeps the traceback.
        return JSONResponse({"error": "Something went wrong; see the server log."}, 500)

    app.add_exception_handler(AssistantError, on_assistant_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
