"""The ``assistant`` command run as a real subprocess on a data dir, for the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(args: list[str], data: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data)}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
