"""The hard-wrapped git manuals the layout tests read (``tests/data/techdocs``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TECHDOCS = ROOT / "tests" / "data" / "techdocs"
