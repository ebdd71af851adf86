"""Hostile text: citation markers planted in a document stay inert (real model and
Chroma), and invalid Unicode is a clear 400 everywhere text comes in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.netguard import loopback_only
from tests.support.security import chat_call
from tests.support.ui_server import serve, ui_settings

pytestmark = pytest.mark.integration


# --- planted citation markers ----------------------------------------------------------


PLANTED = (
    "Officials cited three sources [1] [2] [3] for the claim that the harbour expansion "
    "will double cargo traffic."
)
PLANTED_DOC = (
    "Harbour report\n\nThe harbour authority published its annual report on Tuesday. "
    f"{PLANTED} The mayor welcomed the report and thanked the dock workers.\n"
)
PLANTED_Q = "How many sources did officials cite for the harbour expansion claim?"


@pytest.fixture(scope="module")
def planted_assistant(embedder, tmp_path_factory: pytest.TempPathFactory):
    """A real assistant (real model, Chroma, extractive answerer) over the planted document."""
    from assistant.core import Assistant
    from assistant.settings import Settings

    root = tmp_path_factory.mktemp("planted")
    doc = root / "harbour.txt"
    doc.write_text(PLANTED_DOC)
    assistant = Assistant(Settings(data_dir=root / "data"), embedder=embedder)
    assistant.ingest([doc])
    return assistant


def live_markers(answer: dict[str, Any]) -> list[str]:
    import re

    return re.findall(r"\[(\d+)\]", answer["answer"])


def test_quoted_markers_are_inert_and_spans_stay_exact(planted_assistant) -> None:
    """Finding 5 (answer level): the quote's [1] [2] [3] cannot become citation links."""
    from assistant.serve.ui.render import chat_markdown

    answer = planted_assistant.answer(PLANTED_Q)
    assert not answer.abstained
    quoted = [c for c in answer.citations if c.text == PLANTED]
    assert quoted, answer
    text = planted_assistant.document(quoted[0].doc_id).text
    assert all(text[c.start : c.end] == c.text for c in answer.citations)
    assert "［1］ ［2］ ［3］" in answer.answer
    markers = live_markers(answer.model_dump())
    assert len(markers) == len(answer.citations)  # only the answerer's own markers are live
    assert chat_markdown(answer, 0).count('class="cite-ref"') == len(markers)


def test_quoted_markers_are_inert_in_the_api_and_ui(
    planted_assistant, tmp_path: Path, cache_dir: Path
) -> None:
    """Finding 5 (server level): the API answer and the UI's chat link only real markers."""
    settings = ui_settings(tmp_path / "data")
    with loopback_only(), serve(lambda: planted_assistant, settings) as base:
        url = base.rstrip("/")
        got = httpx.post(f"{url}/api/ask", json={"question": PLANTED_Q}, timeout=60).json()
        assert PLANTED in [c["text"] for c in got["citations"]]
        assert "[1] [2] [3]" not in got["answer"]
        assert len(live_markers(got)) == len(got["citations"])
        status, text = chat_call(url, PLANTED_Q)
        assert status == 200
        final = next(
            json.loads(line.removeprefix("data: "))
            for line in reversed(text.splitlines())
            if '"process_completed"' in line
        )
        shown = final["output"]["data"][0]
        assert PLANTED not in shown and "[1] [2] [3]" not in shown
        assert len(live_markers({"answer": shown})) == len(got["citations"])


# --- bad Unicode ---------------------------------------------------------------------


BAD_TEXT = ["\ud800", "abc \udfff def", "stop \uffff here", "x\ufdd0y"]


@pytest.mark.server()
@pytest.mark.parametrize("bad", BAD_TEXT)
def test_bad_unicode_is_a_clear_400(server: dict, bad: str) -> None:
    """Finding 7: lone surrogates and non-characters are refused everywhere text comes in."""
    url = server["url"]
    bodies = [
        {"question": bad},
        {"question": "And Denmark?", "history": [{"role": "user", "content": bad}]},
    ]
    for body in bodies:
        for route in ("/api/ask", "/api/ask/stream", "/v1/chat/completions"):
            payload = (
                {
                    "messages": [
                        *body.get("history", []),
                        {"role": "user", "content": body["question"]},
                    ]
                }
                if route.startswith("/v1")
                else body
            )
            raw = json.dumps(payload).encode()  # ensure_ascii: "\ud800" travels escaped
            got = httpx.post(
                f"{url}{route}", content=raw, headers={"Content-Type": "application/json"}
            )
            if route.startswith("/v1") and got.status_code == 404:
                continue  # the OpenAI-compatible route is optional
            assert got.status_code == 400, (route, got.status_code, got.text[:200])
            error = got.json()["error"]  # /v1 answers in OpenAI's {"error": {"message"}} shape
            assert "Unicode" in (error["message"] if isinstance(error, dict) else error)
    for raw in (
        f'{{"question": "hi", "{json.dumps(bad)[1:-1]}": 1}}',
        f'{{"question": "hi", "history": [{{"role": "{json.dumps(bad)[1:-1]}", "content": "x"}}]}}',
    ):
        got = httpx.post(
            f"{url}/api/ask", content=raw.encode(), headers={"Content-Type": "application/json"}
        )
        assert got.status_code in (400, 422), (raw, got.status_code)
        assert "Traceback" not in got.text
    status, text = chat_call(url, bad)
    assert status == 200 and "Unicode" in text and "Something went wrong" not in text
    assert httpx.get(f"{url}/healthz").status_code == 200
