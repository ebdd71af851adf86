"""The chat UI served for real (``assistant.serve.server.create_app`` on a loopback port) and
driven through its Gradio API with ``gradio_client``, as an API user would.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.netguard import loopback_only

os.environ["HF_HUB_OFFLINE"] = "1"  # gradio_client asks the Hub for Spaces otherwise
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from gradio_client import Client  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from tests.support.fakes import SAMPLE, FakeAssistant  # noqa: E402
from tests.support.ui_server import serve, ui_settings  # noqa: E402

pytestmark = pytest.mark.integration

OPPOSED_Q = "Which countries opposed Macron's proposal?"
OPPOSED = "Germany, Italy, Spain and Poland immediately opposed the idea."


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def no_network() -> Iterator[list[str]]:
    with loopback_only() as attempts:
        yield attempts
    assert attempts == [], f"tried to reach outside hosts: {attempts}"


Connector = Callable[[str], Client]


@pytest.fixture
def connect() -> Iterator[Connector]:
    """Make ``gradio_client`` clients that are closed after the test (they keep a heartbeat)."""
    clients: list[Client] = []

    def make(url: str) -> Client:
        clients.append(Client(url, verbose=False))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


class ExplodingFake(FakeAssistant):
    """The fake, except that a question containing "explode" hits a bug."""

    def stream(self, question, history=None):  # type: ignore[override]
        if "explode" in question:
            raise RuntimeError("internal detail /srv/secret")
        return super().stream(question, history)


@pytest.fixture(scope="module")
def fake() -> FakeAssistant:
    return ExplodingFake()


@pytest.fixture(scope="module")
def url(fake: FakeAssistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server over the fake for the API tests of this module."""
    settings = ui_settings(tmp_path_factory.mktemp("data"))
    with loopback_only() as attempts, serve(lambda: fake, settings) as u:
        yield u
    assert attempts == [], f"tried to reach outside hosts: {attempts}"


def test_chat_api_returns_answer_text_and_citations(
    url: str, fake: FakeAssistant, connect: Connector
) -> None:
    client = connect(url)
    answer, sources = client.predict(OPPOSED_Q, api_name="/chat")
    assert answer == f"{OPPOSED} [1]"
    assert [s["n"] for s in sources] == [1]
    cited = sources[0]
    article = SAMPLE.read_text(encoding="utf-8")
    assert article[cited["start"] : cited["end"]] == cited["text"] == OPPOSED
    assert cited["source"] == "coalition-of-the-willing.txt" and cited["supported"] is True


def test_chat_api_keeps_history_per_session(
    url: str, fake: FakeAssistant, connect: Connector
) -> None:
    first = connect(url)
    first.predict("How many leaders attended the meeting?", api_name="/chat")
    first.predict("And Denmark?", api_name="/chat")
    question, history = fake.calls[-1]
    assert question == "And Denmark?"
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == "How many leaders attended the meeting?"
    assert "30 leaders" in history[1]["content"]

    connect(url).predict("And Denmark?", api_name="/chat")
    assert fake.calls[-1] == ("And Denmark?", [])  # a new session starts a new conversation


def test_chat_api_reports_abstention_and_errors_cleanly(url: str, connect: Connector) -> None:
    client = connect(url)
    answer, sources = client.predict("What is the capital of Peru?", api_name="/chat")
    assert "don't say" in answer and sources[0]["supported"] is False
    with pytest.raises(AppError, match="Please type a question."):
        client.predict("   ", api_name="/chat")
    with pytest.raises(AppError, match="Something went wrong") as bug:
        client.predict("Please explode", api_name="/chat")
    assert "secret" not in str(bug.value)


def test_chat_api_streams_the_answer(url: str, connect: Connector) -> None:
    job = connect(url).submit(OPPOSED_Q, api_name="/chat")
    partials = [answer for answer, _ in job]
    final = job.result()[0]
    assert final == f"{OPPOSED} [1]"
    assert len(set(partials)) > 2 and len(partials[0]) < len(final)
    assert all(final.startswith(p) for p in partials)


def test_only_the_chat_endpoint_is_public(url: str, connect: Connector) -> None:
    api = connect(url).view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/chat"]
    params = api["named_endpoints"]["/chat"]["parameters"]
    assert [p["parameter_name"] for p in params] == ["message", "collection"]
    assert params[1]["parameter_has_default"] and params[1]["parameter_default"] == ""


def test_page_is_served_while_the_model_loads(
    tmp_path: Path, no_network: list[str], connect: Connector
) -> None:
    ready = threading.Event()
    fake = FakeAssistant()

    def slow_assistant() -> FakeAssistant:
        ready.wait(timeout=30)
        return fake

    with serve(slow_assistant, ui_settings(tmp_path / "data")) as url:
        started = time.monotonic()
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "gradio" in page.text.lower()
        assert time.monotonic() - started < 5
        assert not ready.is_set()
        client = connect(url)
        job = client.submit(OPPOSED_Q, api_name="/chat")
        time.sleep(0.5)
        assert not job.done()  # waiting for the model, not failing
        ready.set()
        assert job.result(timeout=20)[0] == f"{OPPOSED} [1]"


def test_several_people_are_answered_at_once(
    tmp_path: Path, no_network: list[str], connect: Connector
) -> None:
    both_inside = threading.Barrier(2, timeout=15)

    class Slow(FakeAssistant):
        def stream(self, question, history=None):  # type: ignore[override]
            both_inside.wait()  # only passes when two answers run at the same time
            yield from super().stream(question, history)

    slow = Slow()
    with serve(lambda: slow, ui_settings(tmp_path / "data", concurrency=2)) as url:
        jobs = [connect(url).submit(OPPOSED_Q, api_name="/chat") for _ in "ab"]
        assert [job.result(timeout=30)[0] for job in jobs] == [f"{OPPOSED} [1]"] * 2


def test_ui_over_the_real_assistant(
    tmp_path: Path, no_network: list[str], connect: Connector
) -> None:
    """The real model and Chroma behind the UI, on the bundled sample article."""
    from assistant.core import Assistant
    from assistant.serve.ui.handlers import Handlers

    settings = ui_settings(tmp_path / "data")
    assistant = Assistant(settings)
    assert assistant.ensure_sample()
    with serve(lambda: assistant, settings) as url:
        client = connect(url)
        answer, sources = client.predict(
            "How many leaders attended the Coalition of the Willing meeting?", api_name="/chat"
        )
    assert "30" in answer and "[1]" in answer
    assert any("attended by 30 leaders" in s["text"] for s in sources)
    for s in sources:
        text = assistant.document(s["doc_id"]).text
        assert text[s["start"] : s["end"]] == s["text"]
        assert s["passage_start"] <= s["start"] < s["end"] <= s["passage_end"]

    h = Handlers(lambda: assistant, settings)
    *_, (_, _, turns, panel) = h.respond(OPPOSED_Q, [], [], [])
    assert OPPOSED in panel
    shown = h.open_citation(turns, 0, 1)
    assert shown is not None and 'class="cited current"' in shown[1]
