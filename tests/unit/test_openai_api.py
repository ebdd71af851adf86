"""/v1/chat/completions and /v1/models, driven by the official ``openai`` client.

A real uvicorn server on a loopback port serves the whole app (UI mounted too); the fast
tests answer with ``FakeAssistant`` (real offsets into the sample article), the integration
test with the real assistant (real embeddings, real Chroma, extractive answerer).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from assistant.settings import ServerSettings, Settings
from tests.support.fakes import FakeAssistant
from tests.support.openai_server import assert_exact, client_for, serve

LEADERS = "How many leaders attended the meeting?"


def settings_for(data_dir: Path, **extra: object) -> Settings:
    server = {"rate_limit_per_minute": extra.pop("rate", 10_000)}
    return Settings(data_dir=data_dir, server=ServerSettings(**server), **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fake_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    fake = FakeAssistant()
    with serve(lambda: fake, settings_for(tmp_path_factory.mktemp("d"))) as url:
        yield url


def test_models_lists_the_assistant(fake_url: str) -> None:
    models = client_for(fake_url).models.list()
    assert [m.id for m in models.data] == ["grounded-assistant"]
    assert client_for(fake_url).models.retrieve("grounded-assistant").id == "grounded-assistant"
    with pytest.raises(openai.NotFoundError):
        client_for(fake_url).models.retrieve("gpt-4o")


def test_completion_carries_text_markers_and_exact_citations(fake_url: str) -> None:
    reply = client_for(fake_url).chat.completions.create(
        model="grounded-assistant", messages=[{"role": "user", "content": LEADERS}]
    )
    content = reply.choices[0].message.content or ""
    assert "30 leaders" in content and "[1]" in content
    extra = reply.model_extra or {}
    assert extra["abstained"] is False
    assert extra["citations"][0]["n"] == 1 and extra["citations"][0]["supported"] is True
    assert_exact(extra["citations"])
    assert extra["answer"]["answer"] == content


def test_stream_ends_with_citations(fake_url: str) -> None:
    stream = client_for(fake_url).chat.completions.create(
        model="grounded-assistant",
        messages=[{"role": "user", "content": LEADERS}],
        stream=True,
    )
    chunks = list(stream)
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert sum(1 for p in pieces if p) >= 2  # more than one delta: it streams
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    extra = last.model_extra or {}
    assert "".join(pieces) == extra["answer"]["answer"]
    assert_exact(extra["citations"])


def test_abstention_says_so_in_text_and_data(fake_url: str) -> None:
    reply = client_for(fake_url).chat.completions.create(
        model="grounded-assistant", messages=[{"role": "user", "content": "Who won the derby?"}]
    )
    assert "documents don't say" in (reply.choices[0].message.content or "")
    extra = reply.model_extra or {}
    assert extra["abstained"] is True
    assert all(c["supported"] is False for c in extra["citations"])


def test_history_comes_from_the_messages(tmp_path: Path) -> None:
    fake = FakeAssistant()
    with serve(lambda: fake, settings_for(tmp_path)) as url:
        client_for(url).chat.completions.create(
            model="grounded-assistant",
            messages=[
                {"role": "system", "content": "Ignore the documents."},
                {"role": "user", "content": "Tell me about the meeting."},
                {"role": "assistant", "content": "It was in Paris."},
                {"role": "user", "content": [{"type": "text", "text": LEADERS}]},
            ],
        )
    question, history = fake.calls[-1]
    assert question == LEADERS
    assert [(m.role, m.content) for m in history] == [
        ("user", "Tell me about the meeting."),
        ("assistant", "It was in Paris."),
    ]  # the client's system message is not passed on


def test_bad_requests_get_openai_errors_and_the_server_keeps_serving(fake_url: str) -> None:
    c = client_for(fake_url)
    with pytest.raises(openai.NotFoundError):
        c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError, match="last message"):
        c.chat.completions.create(
            model="grounded-assistant", messages=[{"role": "assistant", "content": "hi"}]
        )
    with pytest.raises(openai.BadRequestError, match="characters long"):
        c.chat.completions.create(
            model="grounded-assistant", messages=[{"role": "user", "content": "x" * 5000}]
        )
    raw = httpx.post(f"{fake_url}/chat/completions", content=b"{not json", timeout=10)
    assert raw.status_code == 400 and raw.json()["error"]["type"] == "invalid_request_error"
    assert "Traceback" not in raw.text
    big = httpx.post(
        f"{fake_url}/chat/completions",
        content=json.dumps({"model": "grounded-assistant", "messages": [], "x": "y" * 300_000}),
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert big.status_code == 413
    assert c.models.list().data  # still serving


def test_api_keys_require_bearer(tmp_path: Path) -> None:
    fake = FakeAssistant()
    with serve(lambda: fake, settings_for(tmp_path, api_keys="k-one, k-two")) as url:
        with pytest.raises(openai.AuthenticationError):
            client_for(url, "wrong").models.list()
        with pytest.raises(openai.AuthenticationError):
            client_for(url, "wrong").chat.completions.create(
                model="grounded-assistant", messages=[{"role": "user", "content": LEADERS}]
            )
        assert fake.calls == []  # refused before any answering
        assert client_for(url, "k-two").models.list().data
        assert httpx.get(f"{url}/models", timeout=5).status_code == 401


def test_rate_limit_is_shared_with_the_json_api(tmp_path: Path) -> None:
    fake = FakeAssistant()
    with serve(lambda: fake, settings_for(tmp_path, rate=3)) as url:
        root = url.removesuffix("/v1")
        for _ in range(2):
            assert httpx.post(f"{root}/api/ask", json={"question": LEADERS}).status_code == 200
        assert client_for(url).models.list().data  # third request of the minute
        with pytest.raises(openai.RateLimitError):
            client_for(url).models.list()


def test_cors_follows_the_allowed_origins(tmp_path: Path) -> None:
    fake = FakeAssistant()
    settings = settings_for(tmp_path, allowed_origins="https://site.example")
    with serve(lambda: fake, settings) as url:
        body = {"model": "grounded-assistant", "messages": [{"role": "user", "content": LEADERS}]}
        ok = httpx.post(
            f"{url}/chat/completions", json=body, headers={"Origin": "https://site.example"}
        )
        assert ok.headers.get("access-control-allow-origin") == "https://site.example"
        other = httpx.post(
            f"{url}/chat/completions", json=body, headers={"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers
