"""OpenAI-compatible ``/v1/chat/completions`` and ``/v1/models``, so existing chat clients work.

Open WebUI, LibreChat and scripts on the official SDKs see the grounded assistant as one
model. The answer text with its ``[n]`` markers is ``choices[0].message.content``; the exact
citations travel beside it in a top-level ``citations`` field (in streaming: in the last
chunk), with ``abstained``, ``answered_by`` and the full Answer JSON under ``answer``.

Streaming sends only checked text: the deltas are the final answer, cut at its sentences and
markers, sent once the citations are verified (SSE comments keep the connection alive while
the model writes), so a client never shows a sentence the checker then removes.

Same rules as ``/api/*``: the caller's limiter (passed in), a 256 KB body limit, CORS from
the app's middleware; and, when ``ASSISTANT_API_KEYS`` is set, ``Authorization: Bearer``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import AssistantError, ForbiddenError, InputError, NotFoundError
from assistant.serve.api import MAX_HISTORY, Runtime
from assistant.serve.origins import request_host
from assistant.serve.ratelimit import RateLimiter
from assistant.serve.security import API_MAX_BODY_BYTES
from assistant.settings import Settings
from assistant.textguard import unicode_problem
from assistant.types import Answer, Message
from index.collection_names import DEFAULT, check_name

log = logging.getLogger(__name__)
MODEL_ID = "grounded-assistant"
KEEPALIVE_S = 5.0
_PIECES = re.compile(r".+?(?:\[\d+\](?!\s*\[)\s*|(?<=[.!?])\s+|$)", re.S)
_DONE = object()


class ChatMessageIn(BaseModel):
    """One message as OpenAI clients send it; content may be a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The fields of an OpenAI chat request this endpoint reads; the rest are accepted."""

    model_config = ConfigDict(extra="allow")

    model: str = MODEL_ID  # OpenAI requires it; a client that leaves it out means ours
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=MAX_HISTORY + 1)
    stream: bool = False
    collection: str | None = None  # or name it in the model: "grounded-assistant:faq"


def model_id(collection: str) -> str:
    """The model name of a collection: ``grounded-assistant`` is the default collection."""
    return MODEL_ID if collection == DEFAULT else f"{MODEL_ID}:{collection}"


def collection_of(model: str, collection: str | None = None) -> str:
    """The collection a request names, by its ``model`` or an extra ``collection`` field."""
    if model == MODEL_ID:
        named = None
    elif model.startswith(MODEL_ID + ":"):
        named = model[len(MODEL_ID) + 1 :]
    else:
        raise OpenAIError(
            404,
            f"No model {model[:80]!r}; use {MODEL_ID!r} or {MODEL_ID + ':COLLECTION'!r}.",
            code="model_not_found",
        )
    if named and collection and named != collection:
        raise OpenAIError(400, "The model and the collection field name different collections.")
    try:
        return check_name(collection or named)
    except InputError as exc:
        raise OpenAIError(400, str(exc)) from None


class OpenAIError(Exception):
    """An error in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(
        self, status: int, message: str, kind: str = "invalid_request_error", code: str = ""
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code
        self.headers: dict[str, str] = {}

    def response(self) -> JSONResponse:
        body = {"message": self.message, "type": self.kind, "param": None, "code": self.code}
        return JSONResponse({"error": body}, self.status, headers=self.headers)


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, str):
        return content
    return "".join(
        str(p.get("text", "")) for p in content or [] if p.get("type") in ("text", "input_text")
    )


def to_question(messages: list[ChatMessageIn]) -> tuple[str, list[Message]]:
    """The last user message as the question and earlier user/assistant turns as history.

    System and tool messages are not passed on: the assistant's own instructions stay in
    force, and a client's system prompt cannot widen what the documents say.
    """
    if messages[-1].role != "user":
        raise OpenAIError(400, "The last message must come from the user (the question).")
    history = [
        Message(role=m.role, content=_text(m.content))  # type: ignore[arg-type]
        for m in messages[:-1]
        if m.role in ("user", "assistant") and _text(m.content).strip()
    ]
    return _text(messages[-1].content), history


def citation_fields(answer: Answer) -> dict[str, Any]:
    """What rides beside the OpenAI fields: citations, abstention, who answered, the Answer."""
    full = answer.model_dump(mode="json")
    return {
        "citations": full["citations"],
        "abstained": answer.abstained,
        "answered_by": answer.answered_by,
        "answer": full,
    }


def completion(
    answer: Answer, completion_id: str, created: int, model: str = MODEL_ID
) -> dict[str, Any]:
    """A ``chat.completion`` object for a finished answer."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.answer},
                "finish_reason": "stop",
            }
        ],
        **citation_fields(answer),
    }


def _chunk(completion_id: str, created: int, delta: dict, finish: str | None = None) -> dict:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _data(obj: dict[str, Any]) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"


def stream_events(answer: Answer, completion_id: str, created: int) -> Iterator[str]:
    """The SSE lines of a streamed completion: role, text pieces, citations, ``[DONE]``."""
    yield _data(_chunk(completion_id, created, {"role": "assistant", "content": ""}))
    for piece in _PIECES.findall(answer.answer):
        if piece:
            yield _data(_chunk(completion_id, created, {"content": piece}))
    last = _chunk(completion_id, created, {}, "stop")
    yield _data({**last, **citation_fields(answer)})
    yield "data: [DONE]\n\n"


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def build_router(
    settings: Settings,
    limiter: RateLimiter | None = None,
    runtime_of: Callable[[Request], Runtime] = lambda r: r.app.state.runtime,
) -> APIRouter:
    """The ``/v1`` routes, with the caller's runtime.

    ``limiter``: for an app without ``RateLimitMiddleware`` (which already counts ``/v1``);
    ``assistant serve`` passes none, so a request is never counted twice.
    """
    listed = settings.api_keys.get_secret_value()
    keys = [k.strip() for k in listed.split(",") if k.strip()]
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

    def guard(request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        wait = limiter.check(client) if limiter is not None else 0.0
        if limiter is not None and wait > 0:
            err = OpenAIError(
                429,
                f"Too many requests: the limit is {limiter.per_minute} per minute.",
                "rate_limit_error",
                "rate_limit_exceeded",
            )
            err.headers = {"Retry-After": str(max(1, int(wait + 0.999)))}
            raise err
        if keys:
            token = _bearer(request)
            if not any(secrets.compare_digest(token.encode(), k.encode()) for k in keys):
                err = OpenAIError(
                    401, "Missing or wrong API key (Authorization: Bearer).", "auth_error"
                )
                err.code, err.headers = "invalid_api_key", {"WWW-Authenticate": "Bearer"}
                raise err

    async def read_body(request: Request) -> ChatRequest:
        declared = request.headers.get("content-length", "")
        too_big = OpenAIError(413, f"The request is too large: the limit is "
                              f"{API_MAX_BODY_BYTES // 1024} KB.")  # fmt: skip
        if declared.isdigit() and int(declared) > API_MAX_BODY_BYTES:
            raise too_big
        raw = b""
        async for part in request.stream():
            raw += part
            if len(raw) > API_MAX_BODY_BYTES:
                raise too_big
        try:  # Python's parser keeps a lone surrogate, so it can be named below
            data = json.loads(raw)
            problems = [p for p in map(unicode_problem, _strings(data)) if p]
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise OpenAIError(400, "Invalid request: the body is not valid JSON.") from None
        if problems:
            raise OpenAIError(
                400, f"The request is not valid Unicode text: it contains {problems[0]}."
            )
        try:
            return ChatRequest.model_validate(data)
        except ValidationError as exc:
            where = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                for e in exc.errors()[:5]
            )
            raise OpenAIError(400, f"Invalid request: {where}") from None

    @router.get("/models", summary="The models this server offers (OpenAI format)")
    async def models(request: Request) -> JSONResponse:
        """One model: the grounded assistant over the indexed documents."""
        try:
            guard(request)
        except OpenAIError as exc:
            return exc.response()
        rt = runtime_of(request)
        names = await asyncio.to_thread(rt.collections.names)
        host = request_host(request.headers)
        names = rt.origins.visible(request.headers.get("origin", ""), host, names)
        return JSONResponse({"object": "list", "data": [_model_card(n) for n in names]})

    @router.get("/models/{model_id}", summary="One model (OpenAI format)")
    async def model(model_id: str, request: Request) -> JSONResponse:
        try:
            guard(request)
            name = collection_of(model_id)
            rt = runtime_of(request)
            rt.check_origin(request, name)
            if name not in await asyncio.to_thread(rt.collections.names):
                raise OpenAIError(404, f"No model {model_id[:80]!r}.", code="model_not_found")
        except OpenAIError as exc:
            return exc.response()
        except AssistantError as exc:
            return _assistant_error(exc).response()
        return JSONResponse(_model_card(name))

    @router.post(
        "/chat/completions",
        summary="Answer the last user message with citations (OpenAI chat format)",
        response_model=None,
        openapi_extra={
            "requestBody": {
                "content": {"application/json": {"schema": ChatRequest.model_json_schema()}}
            }
        },
    )
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        """``choices[0].message.content`` holds the answer; ``citations`` its exact spans."""
        try:
            guard(request)
            body = await read_body(request)
            name = collection_of(body.model, body.collection)
            question, history = to_question(body.messages)
            rt = runtime_of(request)
            rt.check_question(question)
            assistant = await rt.assistant(name, request)
        except OpenAIError as exc:
            return exc.response()
        except AssistantError as exc:
            return _assistant_error(exc).response()
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if not body.stream:
            try:
                answer = await rt.call(assistant.answer, question, history)
            except AssistantError as exc:
                return _assistant_error(exc).response()
            return JSONResponse(completion(answer, completion_id, created, model_id(name)))
        return StreamingResponse(
            _streamed(rt, assistant.answer, question, history, completion_id, created),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


def _strings(value: Any) -> Iterator[str]:
    """Every string in a parsed JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _model_card(collection: str = DEFAULT) -> dict[str, Any]:
    return {
        "id": model_id(collection),
        "object": "model",
        "created": 0,
        "owned_by": "grounded-assistant",
    }


def _assistant_error(exc: AssistantError) -> OpenAIError:
    if isinstance(exc, InputError):
        return OpenAIError(400, str(exc))
    if isinstance(exc, ForbiddenError):
        return OpenAIError(403, str(exc), "permission_error", "forbidden_origin")
    if isinstance(exc, NotFoundError):
        return OpenAIError(404, str(exc), code="model_not_found")
    return OpenAIError(503, str(exc), "server_error", "unavailable")


async def _streamed(
    rt: Runtime,
    answer_fn: Callable[..., Answer],
    question: str,
    history: list[Message],
    completion_id: str,
    created: int,
) -> AsyncIterator[str]:
    """Keep-alive comments while the answer is written and checked, then its events."""
    task = asyncio.ensure_future(rt.call(answer_fn, question, history))
    result: dict[str, Any] = {}
    try:
        while not task.done():
            done, _ = await asyncio.wait({task}, timeout=KEEPALIVE_S)
            if not done:
                yield ": checking citations\n\n"
        try:
            result["answer"] = task.result()
        except Exception as exc:  # reported in-band: the headers are already sent
            result["error"] = exc
    finally:
        task.cancel()  # the client went away; the worker thread finishes on its own
    if "error" in result:
        failure = result["error"]
        if not isinstance(failure, AssistantError):
            log.error("Streaming an OpenAI-style answer failed: %r", failure)
        message = str(failure) if isinstance(failure, AssistantError) else "Something went wrong."
        yield _data({"error": {"message": message, "type": "server_error", "code": None}})
        yield "data: [DONE]\n\n"
        return
    for line in stream_events(result["answer"], completion_id, created):
        yield line
