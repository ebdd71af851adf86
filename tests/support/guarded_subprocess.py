"""A subprocess under the tests' network guard (``netguard.py`` and ``sitecustomize.py``
beside this file): ``guarded_env`` is a person's plain environment with the guard armed and
its log at ``log``; ``guard_lines`` and ``attempts`` read that log back."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import ROOT

SUPPORT = ROOT / "tests" / "support"
OFFLINE_SWITCHES = (
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_HUB_DISABLE_TELEMETRY",
    "ANONYMIZED_TELEMETRY",
    "GRADIO_ANALYTICS_ENABLED",
)


def guarded_env(log: Path, data_dir: Path) -> dict[str, str]:
    """A person's plain environment, plus the guard; no ASSISTANT_* but the data dir."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in OFFLINE_SWITCHES and not k.startswith("ASSISTANT_")
    }
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SUPPORT), str(ROOT), os.environ.get("PYTHONPATH")) if p
    )
    env["NETGUARD_LOG"] = str(log)
    env["ASSISTANT_DATA_DIR"] = str(data_dir)
    env["ASSISTANT_SERVER__RATE_LIMIT_PER_MINUTE"] = "100000"
    return env


def guard_lines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def attempts(log: Path) -> list[str]:
    """Each refused attempt with the innermost frames that made it, for the failure message."""
    return [
        f"{e['kind']} {e['target']} by {e['argv']}:\n{''.join(e['stack'][-4:])}"
        for e in guard_lines(log)
        if e["kind"] != "armed"
    ]
