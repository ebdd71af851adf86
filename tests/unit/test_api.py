"""The HTTP API, security middleware and widget files, against the real app with a fake."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.errors import ConfigError, StoreError
from assistant.serve.ratelimit import RateLimiter
from assistant.serve.security import allowed_origins, normalize_origin
from assistant.serve.server import STATIC, create_app, docs_html
from assistant.types import Answer
from tests.support.fakes import FakeAssistant
from tests.support.json_api import LOCAL, make_settings

OPPOSED = "Which countries opposed Macron's proposal?"
OPPOSED_SENTENCE = "Germany, Italy, Spain and Poland immediately opposed the idea."


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="module")
def fake() -> FakeAssistant:
    return FakeAssistant()


@pytest.fixture(scope="module")
def client(fake: FakeAssistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path_factory.mktemp("data")), get_assistant=lambda: fake)
    with TestClient(app, base_url=LOCAL) as c:
        yield c


def parse_sse(body: str) -> list[tuple[str, object]]:
    """(event, decoded data) pairs of a text/event-stream body."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        name = next(line[6:].strip() for line in block.splitlines() if line.startswith("event:"))
        data = "\n".join(
            line[5:].lstrip() for line in block.splitlines() if line.startswith("data:")
        )
        events.append((name, json.loads(data)))
    return events


def test_ask_returns_the_answer_json(client: TestClient, fake: FakeAssistant) -> None:
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]
    response = client.post("/api/ask", json={"question": OPPOSED, "history": history})
    assert response.status_code == 200
    body = response.json()
    assert body == fake.answer(OPPOSED).model_dump(mode="json")
    assert body["citations"][0]["text"] == OPPOSED_SENTENCE
    question, passed = fake.calls[-2]  # our direct call above is the last one
    assert question == OPPOSED
    assert [(m.role, m.content) for m in passed] == [("user", "Hi"), ("assistant", "Hello.")]


def test_stream_sends_pieces_then_the_same_answer(client: TestClient) -> None:
    with client.stream("POST", "/api/ask/stream", json={"question": OPPOSED}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(response.read().decode())
    plain = client.post("/api/ask", json={"question": OPPOSED}).json()
    names = [name for name, _ in events]
    assert names[-1] == "answer" and set(names[:-1]) == {"token"} and len(names) > 2
    assert "".join(data["text"] for name, data in events[:-1]) == plain["answer"]
    final = events[-1][1]
    assert Answer.model_validate(final).citations == Answer.model_validate(plain).citations
    assert final["citations"] == plain["citations"]


def test_stream_rejects_a_bad_question_with_plain_json(client: TestClient) -> None:
    response = client.post("/api/ask/stream", json={"question": "   "})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "Please type a question."}


def test_documents_list_and_text(client: TestClient, fake: FakeAssistant) -> None:
    listed = client.get("/api/documents").json()
    assert [d["doc_id"] for d in listed] == [fake.doc_id]
    assert "text" not in listed[0]  # the list stays small; the text is one request away
    doc = client.get(f"/api/documents/{fake.doc_id}").json()
    c = client.post("/api/ask", json={"question": OPPOSED}).json()["citations"][0]
    assert doc["text"][c["start"] : c["end"]] == c["text"]
    assert c["passage_start"] <= c["start"] < c["end"] <= c["passage_end"]


def test_missing_document_is_a_clear_404(client: TestClient) -> None:
    response = client.get("/api/documents/nope")
    assert response.status_code == 404
    assert response.json() == {"error": "No document with id 'nope'."}


def test_healthz_reports_the_loaded_model(client: TestClient) -> None:
    assert client.get("/healthz").json() == {
        "ok": True,
        "model_loaded": True,
        "documents": 1,
        "error": None,
    }


def test_healthz_answers_while_the_model_loads(tmp_path: Path) -> None:
    release = threading.Event()

    def slow_build() -> FakeAssistant:
        release.wait(10)
        return FakeAssistant()

    app = create_app(make_settings(tmp_path), get_assistant=slow_build)
    with TestClient(app, base_url=LOCAL) as c:
        loading = c.get("/healthz")
        assert loading.status_code == 200
        assert loading.json()["model_loaded"] is False
        release.set()
        assert c.post("/api/ask", json={"question": OPPOSED}).status_code == 200
        assert c.get("/healthz").json()["model_loaded"] is True


def test_a_failed_build_is_a_clean_error(tmp_path: Path) -> None:
    def broken() -> FakeAssistant:
        raise StoreError("Chroma at http://chroma:8000 cannot be reached.")

    app = create_app(make_settings(tmp_path), get_assistant=broken)
    with TestClient(app, base_url=LOCAL) as c:
        response = c.post("/api/ask", json={"question": OPPOSED})
        assert response.status_code == 503
        assert response.json() == {"error": "Chroma at http://chroma:8000 cannot be reached."}
        health = c.get("/healthz")
        assert health.status_code == 503 and health.json()["ok"] is False


def test_an_unexpected_error_shows_no_traceback(tmp_path: Path) -> None:
    class Exploding(FakeAssistant):
        def answer(self, question, history=None):  # type: ignore[no-untyped-def]
            raise RuntimeError("secret internals")

    app = create_app(make_settings(tmp_path), get_assistant=Exploding)
    with TestClient(app, base_url=LOCAL, raise_server_exceptions=False) as c:
        response = c.post("/api/ask", json={"question": OPPOSED})
    assert response.status_code == 500
    assert response.json() == {"error": "Something went wrong; see the server log."}
    assert "secret" not in response.text and "Traceback" not in response.text


def test_overlong_question_is_refused_before_answering(
    client: TestClient, fake: FakeAssistant
) -> None:
    calls = len(fake.calls)
    response = client.post("/api/ask", json={"question": "x" * 20_000})
    assert response.status_code == 400
    assert response.json() == {
        "error": "That question is 20,000 characters long; the limit is 2,000. Please shorten it."
    }
    assert len(fake.calls) == calls


def test_malformed_request_is_422_with_a_message(client: TestClient) -> None:
    response = client.post("/api/ask", json={"history": [{"role": "robot", "content": "x"}]})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error.startswith("Invalid request: ") and "question" in error and "role" in error


def test_large_bodies_are_413(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": "x", "history": [], "pad": "y" * 300_000})
    assert response.status_code == 413
    assert response.json() == {"error": "The request is too large: the limit is 256 KB."}

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
        yield b'{"question": "'
        for _ in range(40):
            yield b"x" * 10_000
        yield b'"}'

    chunked = client.post(
        "/api/ask", content=chunks(), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413


def test_cors_allows_only_the_configured_origins(client: TestClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    good = client.options("/api/ask", headers={"Origin": "http://localhost:7860", **preflight})
    assert good.status_code == 200
    assert good.headers["access-control-allow-origin"] == "http://localhost:7860"
    bad = client.options("/api/ask", headers={"Origin": "http://evil.example", **preflight})
    assert bad.status_code == 400
    assert "access-control-allow-origin" not in bad.headers
    simple = client.get("/api/documents", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in simple.headers
    # Gradio alone would echo any origin for a non-localhost Host; ours decides for it too.
    ui = client.get("/", headers={"Origin": "http://evil.example", "Host": "example.org"})
    assert "access-control-allow-origin" not in ui.headers


def test_configured_origins_replace_the_local_defaults(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.allowed_origins = "https://news.example/, http://blog.example:8080"
    assert allowed_origins(settings) == ["https://news.example", "http://blog.example:8080"]
    with TestClient(create_app(settings, get_assistant=FakeAssistant), base_url=LOCAL) as c:
        ok = c.get("/api/documents", headers={"Origin": "https://news.example"})
        assert ok.headers["access-control-allow-origin"] == "https://news.example"
        local = c.get("/api/documents", headers={"Origin": "http://localhost:7860"})
        assert "access-control-allow-origin" not in local.headers
        csp = c.get("/widget").headers["content-security-policy"]
        assert "frame-ancestors 'self' https://news.example http://blog.example:8080" in csp


def test_origins_must_be_origins() -> None:
    assert normalize_origin("HTTPS://Example.COM/") == "https://example.com"
    for bad in ("example.com", "https://example.com/path", "javascript:alert(1)"):
        with pytest.raises(ConfigError):
            normalize_origin(bad)
    settings = make_settings(Path("."), host="192.168.1.5", port=8000)
    assert allowed_origins(settings) == [
        "http://localhost:8000",
        "http://127.0.0.1:8000",
        "http://192.168.1.5:8000",
    ]


def test_csp_limits_who_may_frame_the_widget_and_ui(client: TestClient) -> None:
    widget = client.get("/widget")
    assert widget.status_code == 200
    csp = widget.headers["content-security-policy"]
    assert "frame-ancestors 'self' http://localhost:7860 http://127.0.0.1:7860" in csp
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    ui = client.get("/")
    assert ui.status_code == 200 and "text/html" in ui.headers["content-type"]
    assert ui.headers["content-security-policy"].startswith("frame-ancestors 'self' ")


def test_rate_limit_per_client(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, rate_limit_per_minute=3), get_assistant=FakeAssistant)
    with TestClient(app, base_url=LOCAL) as c:
        assert [c.get("/api/documents").status_code for _ in range(3)] == [200, 200, 200]
        limited = c.get("/api/documents", headers={"Origin": "http://localhost:7860"})
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["error"].startswith("Too many requests: the limit is 3 per minute.")
        assert limited.headers["access-control-allow-origin"] == "http://localhost:7860"
        assert c.get("/healthz").status_code == 200  # only /api/ is limited
        assert c.get("/widget").status_code == 200


def test_rate_limiter_window_slides() -> None:
    now = [1000.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.check("a") == 0 and limiter.check("a") == 0
    assert limiter.check("a") == pytest.approx(60.0)
    assert limiter.check("b") == 0  # per client
    now[0] += 30
    assert limiter.check("a") == pytest.approx(30.0)
    now[0] += 30.5
    assert limiter.check("a") == 0
    now[0] += 200
    limiter.check("c")
    assert set(limiter.hits) == {"c"}  # idle clients are forgotten


def test_widget_files_are_served(client: TestClient) -> None:
    for path, kind in [
        ("/embed.js", "javascript"),
        ("/widget.js", "javascript"),
        ("/widget.css", "text/css"),
        ("/widget", "text/html"),
    ]:
        response = client.get(path)
        assert response.status_code == 200 and kind in response.headers["content-type"], path


def test_widget_code_never_parses_text_as_html() -> None:
    for name in ("widget.js", "embed.js"):
        code = (STATIC / name).read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in code, f"{name} uses {sink}"
    assert "textContent" in (STATIC / "widget.js").read_text(encoding="utf-8")


def test_widget_loads_nothing_from_other_hosts() -> None:
    html = (STATIC / "widget.html").read_text(encoding="utf-8")
    assert re.findall(r'(?:src|href)="([^"]+)"', html) == ["widget.css", "widget.js"]
    code = (STATIC / "widget.js").read_text(encoding="utf-8")
    assert re.findall(r"https?://", code) == []


def test_reflected_input_is_json_not_html(client: TestClient) -> None:
    response = client.get("/api/documents/<script>alert(1)<%2Fscript>")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_docs_work_offline_and_escape(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/api/ask/stream" in page.text and "Answer" in page.text
    assert "<script" not in page.text and "cdn" not in page.text.lower()
    assert client.get("/openapi.json").json()["paths"]["/api/ask"]["post"]
    spec = {"info": {"title": "<b>x</b>"}, "paths": {"/p": {"get": {"summary": "<script>"}}}}
    assert "<script>" not in docs_html(spec) and "&lt;script&gt;" in docs_html(spec)


def test_gradio_web_component_loader_is_served_locally(client: TestClient) -> None:
    loader = client.get("/gradio.js")
    assert loader.status_code == 200
    imported = re.findall(r"""import\(["']\./([^"']+)["']\)""", loader.text)
    assert imported, loader.text
    for path in imported:
        assert client.get("/" + path).status_code == 200
