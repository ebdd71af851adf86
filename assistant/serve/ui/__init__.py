"""The Gradio chat UI: ``build_ui(get_assistant, settings) -> gr.Blocks``.

Importing this package turns Gradio's analytics off before Gradio can phone home.
"""

from __future__ import annotations

from typing import Any

from assistant import offline

offline.apply()  # before Gradio can be imported

__all__ = ["build_ui", "mount_options"]


def __getattr__(name: str) -> Any:
    # Lazy, so ``assistant.serve.ui.render`` can be used without importing Gradio.
    if name in __all__:
        from assistant.serve.ui import app

        return getattr(app, name)
    raise AttributeError(name)
