"""The one place that switches off what would call out or chatter: applied once, at start.

Chroma's telemetry, Gradio's analytics and the Hugging Face hub's telemetry would each
contact a server nobody asked for; progress bars and tokenizer threads only add noise. The
CLI applies these at import (before any heavy library loads), as do the web UI (before
Gradio is imported) and ``Assistant`` for library use; an explicit environment setting
wins, except Gradio analytics, which stay off.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "ANONYMIZED_TELEMETRY": "False",  # Chroma
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}
ALWAYS = {"GRADIO_ANALYTICS_ENABLED": "False"}  # Gradio would phone home at import


def apply() -> None:
    """Set the defaults the environment does not already set, and the ones that always hold."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    os.environ.update(ALWAYS)
