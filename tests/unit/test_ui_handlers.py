"""The UI's event handlers and upload rules, over the fake assistant: no server needed."""

from __future__ import annotations

import re

import pytest

from assistant.errors import AssistantError
from assistant.serve.ui import uploads
from assistant.serve.ui.handlers import Handlers
from assistant.settings import Settings
from tests.support.fakes import FakeAssistant
from tests.support.ui_html import OPPOSED, marks


@pytest.fixture
def fake() -> FakeAssistant:
    return FakeAssistant()


# --- upload rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("evil\x00na\x1bme\n.md", "evilname.md"),
        ("..", "upload"),
        ("...hidden..txt", "hidden.txt"),
        ("notes\u202e.txt", "notes.txt"),
        ("plain name.html", "plain name.html"),
    ],
)
def test_sanitize_filename(name: str, expected: str) -> None:
    assert uploads.sanitize_filename(name) == expected


def test_sanitize_filename_bounds_length_and_keeps_the_suffix() -> None:
    out = uploads.sanitize_filename("a" * 500 + ".pdf")
    assert len(out) <= 120 and out.endswith(".pdf")


def test_rejection_reasons() -> None:
    assert uploads.rejection("a.txt", 10, 1) is None
    assert uploads.rejection("A.PDF", 10, 1) is None
    assert ".exe" in (uploads.rejection("a.exe", 10, 1) or "")
    assert "no extension" in (uploads.rejection("README", 10, 1) or "")
    assert "2 MB upload limit" in (uploads.rejection("a.md", 3 * 1024 * 1024, 2) or "")
    assert "empty" in (uploads.rejection("a.md", 0, 2) or "")


def test_token_check_is_constant_time_over_digests() -> None:
    from assistant.serve.upload_api import token_matches

    assert token_matches("s3cret", "s3cret")
    assert not token_matches("wrong", "s3cret")
    assert not token_matches("", "s3cret")
    assert not token_matches("s3cret" + "x" * 1000, "s3cret")


# --- handlers over the fake assistant ----------------------------------------------------


def test_respond_streams_then_links_markers_and_fills_sources(fake: FakeAssistant) -> None:
    h = Handlers(lambda: fake, Settings())
    steps = list(h.respond("Which countries opposed Macron's proposal?", [], [], []))
    assert len(steps) > 3  # a first placeholder, several streamed pieces, the final answer
    partial = steps[2][0][-1]["content"]
    assert "cite-ref" not in partial and OPPOSED.startswith(partial.split()[0])
    chat, history, turns, sources = steps[-1]
    assert chat[0] == {"role": "user", "content": "Which countries opposed Macron's proposal?"}
    assert 'href="#cite-0-1"' in chat[-1]["content"]
    assert history[-1] == {"role": "assistant", "content": f"{OPPOSED} [1]"}
    assert turns[0]["answer"]["citations"][0]["text"] == OPPOSED
    assert marks(sources) == [OPPOSED]


def test_respond_passes_history_for_follow_ups(fake: FakeAssistant) -> None:
    h = Handlers(lambda: fake, Settings())
    *_, (chat, history, turns, _) = h.respond("How many leaders attended?", [], [], [])
    *_, (chat, history, turns, _) = h.respond("And Denmark?", chat, history, turns)
    assert fake.calls[-1][1][0] == {"role": "user", "content": "How many leaders attended?"}
    assert len(chat) == 4 and len(turns) == 2
    assert 'href="#cite-0-1"' in chat[1]["content"]
    assert turns[1]["question"] == "And Denmark?" and turns[1]["answer"]["abstained"]


def test_respond_shows_assistant_errors_in_the_chat() -> None:
    def broken() -> FakeAssistant:
        raise AssistantError("The index is empty: run `assistant ingest` first.")

    h = Handlers(broken, Settings())
    *_, (chat, history, turns, _) = h.respond("Anything?", [], [], [])
    assert chat[-1]["content"].startswith("**Sorry:** The index is empty")
    assert history == [] and turns == []


def test_respond_ignores_blank_questions(fake: FakeAssistant) -> None:
    assert list(Handlers(lambda: fake, Settings()).respond("   ", [], [], [])) == []
    assert fake.calls == []


def test_open_citation_selects_card_and_opens_document(fake: FakeAssistant) -> None:
    h = Handlers(lambda: fake, Settings())
    *_, (_, _, turns, _) = h.respond("Which countries opposed Macron's proposal?", [], [], [])
    shown = h.open_citation(turns, 0, 1)
    assert shown is not None
    sources, document = shown
    assert 'class="src-card selected"' in sources
    assert re.search(rf'<mark class="cited current"[^>]*>{re.escape(OPPOSED)}</mark>', document)
    assert h.open_citation(turns, 5, 1) is None and h.open_citation(turns, 0, 9) is None


def test_api_chat_returns_plain_answer_and_citations(fake: FakeAssistant) -> None:
    h = Handlers(lambda: fake, Settings())
    *_, (text, history, sources) = h.api_chat("Which countries opposed Macron's proposal?", [])
    assert text == f"{OPPOSED} [1]"
    assert sources[0]["n"] == 1 and sources[0]["text"] == OPPOSED
    assert len(history["turns"]) == 2 and history["collection"] == "default"


def test_build_ui_never_calls_get_assistant() -> None:
    from assistant.serve.ui import build_ui

    def not_yet() -> FakeAssistant:
        raise AssertionError("get_assistant was called while building the page")

    demo = build_ui(not_yet, Settings())
    names = [d.api_name for d in demo.fns.values() if d.api_visibility == "public"]
    assert names == ["chat"]


@pytest.mark.parametrize(("token", "has_upload"), [(None, False), ("tok", True)])
def test_upload_controls_only_with_an_admin_token(token: str | None, has_upload: bool) -> None:
    import gradio as gr

    from assistant.serve.ui import build_ui

    demo = build_ui(FakeAssistant, Settings(admin_token=token))
    assert not [b for b in demo.blocks.values() if isinstance(b, gr.File)]  # never Gradio's
    forms = [
        b
        for b in demo.blocks.values()
        if isinstance(b, gr.HTML) and "api/upload" in str(b.js_on_load)
    ]
    assert bool(forms) == has_upload
    notes = [b.value for b in demo.blocks.values() if isinstance(b, gr.Markdown)]
    assert any("ASSISTANT_ADMIN_TOKEN" in str(n) for n in notes) == (not has_upload)


def test_mount_options_accept_fractional_upload_limits() -> None:
    from gradio import utils

    from assistant.serve.ui import mount_options

    options = mount_options(Settings(server={"max_upload_mb": 0.5}))
    assert utils._parse_file_size(options["max_file_size"]) == 512 * 1024
    assert options["footer_links"] == ["api"]  # no links to outside sites


def test_open_citation_reports_a_missing_document(fake: FakeAssistant) -> None:
    h = Handlers(lambda: fake, Settings())
    *_, (_, _, turns, _) = h.respond("Which countries opposed Macron's proposal?", [], [], [])
    turns[0]["answer"]["citations"][0]["doc_id"] = "gone"
    shown = h.open_citation(turns, 0, 1)
    assert shown is not None
    sources, document = shown
    assert "No document with id" in document and "<mark" not in document
    assert marks(sources) == [OPPOSED]  # falls back to the cited text itself
