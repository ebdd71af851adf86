"""Shared set-up for benchmarks: the eval data, and assistants over temporary indexes."""

from __future__ import annotations

import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from assistant import offline

offline.apply()
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # benchmarks use the bundled model only

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SQUAD_JSON = DATA / "squad2" / "squad2-dev-public.json"
SQUAD_CORPUS = DATA / "squad2" / "corpus"
ARTICLE_DEV = ROOT / "tests" / "data" / "article-dev.jsonl"
ARTICLE = ROOT / "assistant" / "data" / "coalition-of-the-willing.txt"


def machine() -> str:
    """Where the figures come from: cores, memory, Python, date."""
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = 0.0
    return (
        f"{os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}, "
        f"{datetime.now(UTC).date().isoformat()}"
    )


def temp_assistant(corpus: list[Path], embedder=None, **settings):
    """An ``Assistant`` over a fresh temporary index of ``corpus``."""
    from assistant.core import Assistant
    from assistant.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    assistant = Assistant(Settings(data_dir=tmp, **settings), embedder=embedder)
    report = assistant.ingest(corpus, progress=False)
    if report.errors:
        raise SystemExit(f"ingest failed: {report.errors}")
    return assistant


def squad_articles() -> dict[str, str]:
    """The SQuAD article title of every question id: the folds of leave-one-article-out."""
    import json

    data = json.loads(SQUAD_JSON.read_text(encoding="utf-8"))["data"]
    return {qa["id"]: a["title"] for a in data for p in a["paragraphs"] for qa in p["qas"]}
