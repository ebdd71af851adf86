"""The JSON API over the real assistant: exact spans."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.serve.server import create_app
from tests.support.json_api import LOCAL, make_settings


@pytest.mark.integration
def test_real_assistant_answers_with_exact_spans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real model and Chroma, built by the server's own background loader."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    with TestClient(create_app(make_settings(tmp_path / "data")), base_url=LOCAL) as c:
        response = c.post(
            "/api/ask",
            json={"question": "How many leaders attended the Coalition of the Willing meeting?"},
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert not answer["abstained"] and "30" in answer["answer"]
        assert answer["citations"]
        for citation in answer["citations"]:
            doc = c.get(f"/api/documents/{citation['doc_id']}").json()
            assert doc["text"][citation["start"] : citation["end"]] == citation["text"]
        assert any("30 leaders" in citation["text"] for citation in answer["citations"])
        health = c.get("/healthz").json()
        assert health["model_loaded"] is True and health["documents"] == 1
