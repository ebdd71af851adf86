"""The one place that switches telemetry and analytics off (``assistant.offline``)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from assistant import offline


def test_defaults_fill_gaps_and_gradio_analytics_stay_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [*offline.DEFAULTS, *offline.ALWAYS]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "true")  # a user's own choice is kept
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "True")  # never: it calls out at import
    offline.apply()
    assert os.environ["ANONYMIZED_TELEMETRY"] == "False"
    assert os.environ["HF_HUB_DISABLE_TELEMETRY"] == "1"
    assert os.environ["TOKENIZERS_PARALLELISM"] == "true"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"


def test_every_entry_point_applies_them_before_anything_else_loads() -> None:
    """The CLI and the UI package each turn them on at import, in a clean process."""
    code = (
        "import os\n"
        "for k in ('ANONYMIZED_TELEMETRY', 'GRADIO_ANALYTICS_ENABLED'): os.environ.pop(k, None)\n"
        "import assistant.cli\n"
        "assert os.environ['ANONYMIZED_TELEMETRY'] == 'False'\n"
        "os.environ.pop('ANONYMIZED_TELEMETRY')\n"
        "import assistant.serve.ui\n"
        "assert os.environ['ANONYMIZED_TELEMETRY'] == 'False'\n"
        "assert os.environ['GRADIO_ANALYTICS_ENABLED'] == 'False'\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in offline.DEFAULTS}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_library_use_applies_them_too(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.core import Assistant
    from assistant.settings import Settings
    from tests.support.fakes import HashEmbeddings

    monkeypatch.delenv("ANONYMIZED_TELEMETRY", raising=False)
    Assistant(Settings(data_dir=tmp_path), embedder=HashEmbeddings())
    assert os.environ["ANONYMIZED_TELEMETRY"] == "False"
