"""The Gradio chat UI: ``build_ui(get_assistant, settings) -> gr.Blocks``.

Importing this package turns Gradio's analytics off before Gradio can phone home.
"""

from __future__ import annotations

import os
from typing import Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

__all__ = ["build_ui", "mount_options"]


def __getattr__(name: str) -> Any:
    # Lazy, so ``assistant.serve.ui.render`` can be used without importing Gradio.
    if name in __all__:
        from assistant.serve.ui import app

        return getattr(app, name)
    raise AttributeError(name)
