"""A chat assistant grounded in documents: answers quote exact, checked spans of the sources.

The public Python API::

    from assistant import Assistant, Answer, Citation, Settings

    bot = Assistant(Settings(data_dir="data"))
    bot.ingest([Path("docs/")])
    answer: Answer = bot.answer("Who attended?")

Names are imported on first use (PEP 562), so ``import assistant`` stays cheap for the CLI.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.core import Assistant
    from assistant.settings import Settings
    from assistant.types import Answer, Citation, DocumentInfo, Message

__all__ = ["Answer", "Assistant", "Citation", "DocumentInfo", "Message", "Settings"]

_WHERE = {
    "Assistant": "assistant.core",
    "Settings": "assistant.settings",
    "Answer": "assistant.types",
    "Citation": "assistant.types",
    "DocumentInfo": "assistant.types",
    "Message": "assistant.types",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
