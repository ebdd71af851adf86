"""Ingest and ask against a real Chroma server (`chroma run`) on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SAMPLE
from tests.support.chroma_server import chroma_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


def test_ingest_and_ask_through_chroma_server(
    chroma_server: str,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    embedder,
) -> None:
    from assistant.core import Assistant
    from assistant.settings import Settings

    settings = Settings(data_dir=tmp_path / "local", chroma_url=chroma_server)
    assistant = Assistant(settings, embedder=embedder)
    report = assistant.ingest([SAMPLE])
    assert report.added == ["coalition-of-the-willing.txt"]
    answer = assistant.answer("How many leaders attended the Coalition of the Willing meeting?")
    assert "30" in answer.answer
    # Nothing was written locally: the server holds the index.
    assert not (tmp_path / "local" / "chroma").exists()
    # A second client (another process would be the same) sees the same index.
    again = Assistant(settings, embedder=embedder)
    assert [d.source for d in again.documents()] == ["coalition-of-the-willing.txt"]
