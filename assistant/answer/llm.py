"""Chat models from a LangChain ``provider:model`` string, and safe descriptions of their errors.

Provider packages are optional extras, imported only when chosen; a missing one is a
``ConfigError`` that names the extra to install. API keys come from the environment only and
are scrubbed from anything this module turns into text.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import ConfigError
from assistant.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

# Providers whose integration ships as an extra of this project; others name their package.
EXTRAS = {"openai": "openai", "ollama": "ollama"}
_KEY_PATTERN = re.compile(r"\b(?:sk|pk|rk|gsk|xai|key)-[A-Za-z0-9_\-]{6,}")
_SECRET_NAME = re.compile(r"(?:API_KEY|TOKEN|SECRET|PASSWORD)$", re.I)


def parse_llm(spec: str) -> tuple[str, str]:
    """Split ``provider:model``; the model part may itself contain colons (``llama3.2:3b``)."""
    provider, sep, model = spec.strip().partition(":")
    if not sep or not provider or not model:
        raise ConfigError(
            f"ASSISTANT_LLM must be `extractive` or `provider:model` "
            f"(e.g. openai:gpt-4o-mini, ollama:llama3.2), not {spec!r}."
        )
    return provider.strip().lower().replace("-", "_"), model.strip()


def _install_hint(provider: str) -> str:
    extra = EXTRAS.get(provider)
    if extra:
        return f"pip install 'grounded-assistant[{extra}]'"
    return f"pip install langchain langchain-{provider.replace('_', '-')}"


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model ``settings.llm`` names, configured for ``settings.answer.llm_timeout_s``.

    Retries are off: a fallback answer after one timeout beats three silent waits.
    """
    if is_local(settings.llm):
        return make_local_model(settings)
    provider, model = parse_llm(settings.llm)
    timeout = settings.answer.llm_timeout_s
    kwargs: dict[str, Any] = {}
    base_url = settings.llm_base_url
    if provider == "ollama":
        kwargs["client_kwargs"] = {"timeout": timeout}
        if base_url:
            kwargs["base_url"] = base_url
    else:
        kwargs.update(timeout=timeout, max_retries=0)
        if base_url:
            kwargs["base_url"] = base_url
            if provider == "openai" and not os.environ.get("OPENAI_API_KEY"):
                # Local OpenAI-compatible servers (vLLM, llama.cpp, LM Studio) ignore the key,
                # but the client refuses to start without one.
                kwargs["api_key"] = "not-needed"
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:
        raise ConfigError(
            f"ASSISTANT_LLM={settings.llm} needs LangChain's provider support: "
            f"{_install_hint(provider)}"
        ) from exc
    try:
        return init_chat_model(model, model_provider=provider, **kwargs)
    except ImportError as exc:
        raise ConfigError(
            f"ASSISTANT_LLM={settings.llm} needs the {provider} integration: "
            f"{_install_hint(provider)}"
        ) from exc
    except ValueError as exc:
        raise ConfigError(
            f"ASSISTANT_LLM={settings.llm}: LangChain does not know the provider {provider!r}."
        ) from exc
    except Exception as exc:  # the provider's client refused its configuration
        raise ConfigError(
            f"ASSISTANT_LLM={settings.llm} could not be set up: {redact(str(exc))} "
            "(API keys are read from the environment, e.g. OPENAI_API_KEY)."
        ) from exc


def is_local(spec: str) -> bool:
    """Whether ``spec`` names the in-process llama.cpp model (``local`` or ``local:PATH``)."""
    spec = spec.strip().lower()
    return spec == "local" or spec.startswith("local:")


# A 135M model on two cores reads a 1,500-token prompt in 5-40 s (load on the machine):
# the local model gets at least this long, whatever ``llm_timeout_s`` says for remote APIs.
LOCAL_MIN_TIMEOUT_S = 120.0


def make_local_model(settings: Settings) -> BaseChatModel:
    """The GGUF model ``local[:PATH]`` names, run in this process (``answer.local_llm``)."""
    from assistant.answer.local_llm import LocalChatModel, find_model

    path = find_model(settings.llm.strip().partition(":")[2].strip(), settings.data_dir)
    return LocalChatModel(model_path=str(path), timeout=llm_timeout(settings))


def llm_timeout(settings: Settings) -> float:
    """Seconds one LLM call may take: ``llm_timeout_s``; at least LOCAL_MIN_TIMEOUT_S locally."""
    if is_local(settings.llm):
        return max(settings.answer.llm_timeout_s, LOCAL_MIN_TIMEOUT_S)
    return settings.answer.llm_timeout_s


def model_label(settings: Settings, model: BaseChatModel | None = None) -> str:
    """``provider:model`` as ``answered_by`` shows it; a local file by its name, not its path."""
    spec = settings.llm.strip()
    if is_local(spec):
        name = getattr(model, "model_name", "") or spec.partition(":")[2]
        name = Path(name).name
        name = name[:-5] if name.lower().endswith(".gguf") else name
        return f"local:{name}" if name else "local"
    if model is not None and spec.lower() == "extractive":
        return f"custom:{type(model).__name__}"
    return spec


def redact(text: str) -> str:
    """``text`` without the values of secret environment variables or key-like tokens."""
    for name, value in os.environ.items():
        if _SECRET_NAME.search(name) and len(value) >= 4:
            text = text.replace(value, "***")
    return _KEY_PATTERN.sub("***", text)


def _names(exc: BaseException) -> str:
    return " ".join(cls.__name__ for cls in type(exc).__mro__)


def failure_kind(exc: BaseException) -> str:
    """``timeout``, ``unreachable`` or ``error``: what went wrong, across providers' clients.

    Judged by class names (``ModelTimeoutError``, ``APITimeoutError``, ``httpx.ConnectError``,
    ...) so it works whichever provider package and langchain-core version raised it.
    """
    names = _names(exc)
    if isinstance(exc, TimeoutError) or "Timeout" in names:
        return "timeout"
    if isinstance(exc, ConnectionError) or "Connect" in names:
        return "unreachable"
    return "error"


def failure_note(exc: BaseException, timeout_s: float) -> str:
    """The visible note for an answer that had to fall back to quoting the documents."""
    kind = failure_kind(exc)
    if kind == "timeout":
        why = f"did not answer within {timeout_s:g} s"
    elif kind == "unreachable":
        why = "could not be reached"
    else:
        status = getattr(exc, "status_code", None) or getattr(
            getattr(exc, "response", None), "status_code", None
        )
        why = f"returned an error (HTTP {status})" if status else "returned an error"
    return f"The language model {why}, so this answer quotes the documents directly."


def describe(exc: BaseException) -> str:
    """A one-line, key-free description of an LLM failure for the log."""
    return f"{type(exc).__name__}: {redact(str(exc))[:300]}"
