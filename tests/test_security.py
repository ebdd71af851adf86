"""The attacks of the security review, replayed against a real server.

Each test starts the whole web app (``assistant.server.create_app`` under uvicorn, configured
like ``assistant serve``) on a loopback port and attacks it over HTTP as a hostile client
would: file paths smuggled into UI events, anonymous uploads, rate-limit dodges, planted
citation markers, path leaks, bad Unicode, foreign Host headers, and HEAD/caching.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from tests.fakes import SAMPLE, FakeAssistant  # noqa: E402
from tests.test_ui_server import loopback_only, serve, ui_settings  # noqa: E402

pytestmark = pytest.mark.integration

SECRET = f"TOP-SECRET-{uuid.uuid4().hex}"
FILE_DATA_META = {"_type": "gradio.FileData"}


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Gradio's upload/cache folder for this test, so anything copied there is seen."""
    folder = tmp_path / "gradio-cache"
    folder.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


@pytest.fixture
def secret_file() -> Iterator[Path]:
    """A file the server process can read and no client may: in the temp dir Gradio trusts."""
    path = Path("/tmp") / f"assistant-secret-{uuid.uuid4().hex}.txt"
    path.write_text(SECRET)
    yield path
    path.unlink(missing_ok=True)


class Recording(FakeAssistant):
    """The fake assistant, recording what it was asked to ingest."""

    def __init__(self) -> None:
        super().__init__()
        self.ingested: list[list[Path]] = []

    def ingest(self, paths):  # type: ignore[override]
        self.ingested.append(list(paths))
        return {"documents": len(paths), "errors": []}


@pytest.fixture
def server(tmp_path: Path, cache_dir: Path, request: pytest.FixtureRequest) -> Iterator[dict]:
    """A server over the fake; ``@pytest.mark.server(**settings)`` picks its settings."""
    marker = request.node.get_closest_marker("server")
    options = dict(marker.kwargs) if marker else {}
    fake = options.pop("fake", None) or Recording()
    settings = ui_settings(tmp_path / "data", **options)
    with loopback_only() as attempts, serve(lambda: fake, settings) as url:
        yield {"url": url.rstrip("/"), "fake": fake, "settings": settings, "tmp": tmp_path}
    assert attempts == []


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


# --- Gradio events -------------------------------------------------------------------


def gradio_config(url: str) -> dict[str, Any]:
    response = httpx.get(f"{url}/config", timeout=10)
    response.raise_for_status()
    return response.json()


def file_payload(path: str) -> dict[str, Any]:
    return {"path": path, "meta": FILE_DATA_META, "orig_name": Path(path).name}


def hostile_value(component: dict[str, Any], path: str) -> Any:
    """What a hostile client puts in an input slot to make the server read ``path``."""
    kind = component.get("type")
    if kind == "chatbot":
        return [
            {"role": "user", "content": [{"type": "file", "file": file_payload(path)}]},
            {"role": "assistant", "content": {"type": "file", "file": file_payload(path)}},
        ]
    if kind == "file":
        return [file_payload(path)]
    return file_payload(path)


def queue_event(
    url: str, fn_index: int, data: list[Any], headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """Join the queue with ``data`` and read the event stream; (join status, all text)."""
    session = uuid.uuid4().hex[:10]
    body = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None}
    with httpx.Client(timeout=15, headers=headers) as client:
        joined = client.post(
            f"{url}/gradio_api/queue/join",
            content=json.dumps(body),  # ASCII escapes, so lone surrogates can travel
            headers={"Content-Type": "application/json"},
        )
        if joined.status_code != 200:
            return joined.status_code, joined.text
        text = []
        with client.stream(
            "GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}
        ) as stream:
            for line in stream.iter_lines():
                text.append(line)
                if '"process_completed"' in line or '"close_stream"' in line:
                    break
        return 200, "\n".join(text)


def chat_call(url: str, question: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """The UI's ``/chat`` API event through the queue, as the Gradio client sends it."""
    chat = next(d for d in gradio_config(url)["dependencies"] if d.get("api_name") == "chat")
    data = [question] + [None] * (len(chat["inputs"]) - 1)
    return queue_event(url, chat["id"], data, headers)


ATTACKED_PATHS = ["/etc/passwd", "/proc/self/environ"]


@pytest.mark.parametrize("admin_token", [None, "s3cret-token"])
def test_no_ui_event_copies_or_returns_a_client_named_file(
    tmp_path: Path, cache_dir: Path, secret_file: Path, admin_token: str | None
) -> None:
    """Finding 1 and 2: every event of the UI, every input slot, naming server files."""
    fake = Recording()
    settings = ui_settings(tmp_path / "data", admin_token=admin_token)
    with loopback_only(), serve(lambda: fake, settings) as base:
        url = base.rstrip("/")
        config = gradio_config(url)
        components = {c["id"]: c for c in config["components"]}
        dependencies = config["dependencies"]
        assert dependencies, "the UI has events"
        before = set(files_under(cache_dir))
        for path in [*ATTACKED_PATHS, str(secret_file), str(settings.data_dir)]:
            for dep in dependencies:
                data = [hostile_value(components.get(i, {}), path) for i in dep["inputs"]]
                _, text = queue_event(url, dep["id"], data)
                assert "root:x:0:0" not in text and SECRET not in text
                assert "ASSISTANT_" not in text
                assert "file=" not in text, f"event {dep['id']} returned a file URL"
                assert path not in text, f"event {dep['id']} echoed {path}"
        copied = set(files_under(cache_dir)) - before
        assert not copied, f"copied into Gradio's cache: {sorted(copied)}"
        assert fake.ingested == []
        for path in [*ATTACKED_PATHS, str(secret_file)]:
            for route in (f"/gradio_api/file={path}", f"/file={path}", f"/gradio_api/file/{path}"):
                got = httpx.get(f"{url}{route}", timeout=10)
                assert got.status_code == 404, route
                assert "root:x:0:0" not in got.text and SECRET not in got.text


@pytest.mark.server()
def test_chat_still_works_after_the_attacks(server: dict) -> None:
    """The legitimate chat event answers; its history lives on the server."""
    status, text = chat_call(server["url"], "Which countries opposed it?")
    assert status == 200
    assert "Germany, Italy, Spain and Poland" in text


# --- uploads -------------------------------------------------------------------------


def multipart(names: list[str], content: bytes = b"Some notes about the meeting.") -> list:
    return [("files", (name, content, "text/plain")) for name in names]


@pytest.mark.server()
def test_without_a_token_there_is_no_upload_route(server: dict, cache_dir: Path) -> None:
    """Finding 3: anonymous uploads, from any origin, are refused before anything is written."""
    url, data_dir = server["url"], server["settings"].data_dir
    for route in ("/gradio_api/upload", "/upload", "/api/upload"):
        got = httpx.post(
            f"{url}{route}",
            files=multipart(["a.txt"]),
            headers={"Origin": "http://evil.example"},
            timeout=10,
        )
        assert got.status_code in (403, 404), route
        assert "Traceback" not in got.text
    assert files_under(cache_dir) == []
    assert not (data_dir / "uploads").exists()


@pytest.mark.server(admin_token="s3cret-token", max_upload_mb=0.05, max_upload_files=3)
def test_uploads_need_the_token_first_and_are_capped(server: dict, cache_dir: Path) -> None:
    """Findings 2 and 3: token checked before the body is read; size and count caps; no
    orphans; Gradio's own upload route stays closed."""
    url, fake, data_dir = server["url"], server["fake"], server["settings"].data_dir
    uploads, staging = data_dir / "uploads", data_dir / "uploads" / ".incoming"

    got = httpx.post(f"{url}/gradio_api/upload", files=multipart(["a.txt"]), timeout=10)
    assert got.status_code == 404
    assert files_under(cache_dir) == []

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
        got = httpx.post(f"{url}/api/upload", files=multipart(["a.txt"]), headers=headers)
        assert got.status_code in (401, 403), headers
        assert "token" in got.json()["error"]
    assert files_under(data_dir) == [] or not uploads.exists() or files_under(uploads) == []

    auth = {"Authorization": "Bearer s3cret-token"}
    got = httpx.post(f"{url}/api/upload", files=multipart(["a.txt"] * 4), headers=auth)
    assert got.status_code == 413 and "at most 3 files" in got.json()["error"]

    def big() -> Iterator[bytes]:  # chunked: no Content-Length to refuse it early
        yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n\r\n'
        for _ in range(300):
            yield b"x" * 1024
        yield b"\r\n--b--\r\n"

    got = httpx.post(
        f"{url}/api/upload",
        content=big(),
        headers={**auth, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert got.status_code == 413
    assert not staging.exists() or files_under(staging) == []
    assert files_under(cache_dir) == []

    got = httpx.post(
        f"{url}/api/upload",
        files=[
            *multipart(["notes.txt"]),
            ("files", ("tool.exe", b"MZ", "application/x")),
            ("files", ("huge.md", b"y" * 60_000, "text/markdown")),
        ],
        headers=auth,
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["added"] == ["notes.txt"]
    assert [r["name"] for r in body["refused"]] == ["tool.exe", "huge.md"]
    assert "0.05 MB upload limit" in body["refused"][1]["reason"]
    assert str(data_dir) not in got.text and "/tmp" not in got.text
    assert fake.ingested == [[uploads / "notes.txt"]]
    assert not staging.exists() or files_under(staging) == []
    assert files_under(cache_dir) == []


@pytest.mark.server(admin_token="s3cret-token", rate_limit_per_minute=1000)
def test_token_guesses_are_throttled(server: dict) -> None:
    """Finding 4: guessing the admin token is rate-limited even under a generous limit."""
    codes = [
        httpx.post(
            f"{server['url']}/api/upload",
            files=multipart(["a.txt"]),
            headers={"Authorization": f"Bearer guess-{i}"},
        ).status_code
        for i in range(12)
    ]
    assert codes.count(429) >= 5, codes
    assert set(codes) <= {401, 403, 429}


# --- rate limit ----------------------------------------------------------------------


@pytest.mark.server(rate_limit_per_minute=6)
def test_forwarded_for_does_not_dodge_the_rate_limit(server: dict) -> None:
    """Finding 4: ten requests with rotating X-Forwarded-For at 6/min get >= three 429s."""
    codes = [
        httpx.post(
            f"{server['url']}/api/ask",
            json={"question": "Which countries opposed it?"},
            headers={"X-Forwarded-For": f"203.0.113.{i}", "X-Real-IP": f"198.51.100.{i}"},
            timeout=10,
        ).status_code
        for i in range(10)
    ]
    assert codes.count(429) >= 3, codes
    assert codes[:6] == [200] * 6


@pytest.mark.server(rate_limit_per_minute=6)
def test_gradio_chat_routes_count_against_the_same_limit(server: dict) -> None:
    """Finding 4: /gradio_api/call/chat and the queue are behind the one limiter."""
    url = server["url"]
    codes = []
    for i in range(4):
        codes.append(httpx.post(f"{url}/api/ask", json={"question": "Opposed?"}).status_code)
        got = httpx.post(
            f"{url}/gradio_api/call/chat",
            json={"data": ["Which countries opposed it?"]},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        )
        codes.append(got.status_code)
    status, _ = chat_call(url, "Which countries opposed it?")
    codes.append(status)
    assert codes[:6] == [200] * 6, codes
    assert codes[6:] == [429] * 3, codes


@pytest.mark.server(rate_limit_per_minute=6, trusted_proxies="127.0.0.1")
def test_a_trusted_proxy_names_the_client(server: dict) -> None:
    """From a listed proxy, X-Forwarded-For separates clients (and still limits each one)."""
    url = server["url"]

    def ask(client_ip: str) -> int:
        return httpx.post(
            f"{url}/api/ask",
            json={"question": "Opposed?"},
            headers={"X-Forwarded-For": f"{client_ip}, 127.0.0.1"},
        ).status_code

    assert [ask(f"203.0.113.{i}") for i in range(10)] == [200] * 10
    assert [ask("198.51.100.7") for _ in range(8)].count(429) == 2


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
    from assistant.ui.render import chat_markdown

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


# --- leaks ---------------------------------------------------------------------------


class PathFake(Recording):
    """Documents that know where they sit on the server; a store error that names a path."""

    def document(self, doc_id):  # type: ignore[no-untyped-def]
        doc = super().document(doc_id)
        return doc.model_copy(update={"path": f"/srv/secret-place/docs/{doc.source}"})

    def answer(self, question, history=None):  # type: ignore[no-untyped-def]
        if "store" in question:
            from assistant.errors import StoreError

            raise StoreError("Cannot open the index at /srv/secret-place/data/chroma: denied.")
        return super().answer(question, history)


@pytest.mark.server(fake=PathFake())
def test_no_server_paths_or_internals_reach_clients(server: dict) -> None:
    """Finding 6: documents list names, errors carry no paths, tracebacks or pydantic."""
    url = server["url"]
    listed = httpx.get(f"{url}/api/documents").json()
    assert listed and [d["path"] for d in listed] == ["coalition-of-the-willing.txt"]
    one = httpx.get(f"{url}/api/documents/{listed[0]['doc_id']}").json()
    assert one["path"] == "coalition-of-the-willing.txt"
    broken = httpx.post(f"{url}/api/ask", json={"question": "Is the store there?"})
    assert broken.status_code == 503 and "chroma" in broken.json()["error"]
    status, text = chat_call(url, "Is the store there?")
    assert status == 200 and "chroma" in text
    assert "secret-place" not in broken.text + text

    probes = [
        httpx.post(f"{url}/api/ask", json={"question": 42}),
        httpx.post(f"{url}/api/ask", content=b"{bad json"),
        httpx.post(f"{url}/gradio_api/queue/join", json={"data": 5}),
        httpx.post(f"{url}/gradio_api/queue/join", content=b"{bad"),
        httpx.post(f"{url}/gradio_api/call/chat", json={"data": "x"}),
        httpx.get(f"{url}/gradio_api/file=/etc/passwd"),
        httpx.get(f"{url}/gradio_api/file={SAMPLE}"),
        httpx.get(f"{url}/static/../../../../etc/passwd"),
        httpx.get(f"{url}/assets/..%2f..%2f..%2fetc%2fpasswd"),
        httpx.get(f"{url}/svelte/%2e%2e/%2e%2e/%2e%2e/etc/passwd"),
    ]
    for got in probes:
        assert got.status_code >= 400, got.request.url
        leaks = ("pydantic", "Traceback", "site-packages", "/etc/", str(SAMPLE.parent), "secret")
        for leak in leaks:
            assert leak not in got.text, (got.request.url, got.text[:300])
        assert "root:x:0:0" not in got.text
        assert "input_value" not in got.text and '"loc"' not in got.text

    for headers in ({"X-Forwarded-Host": "evil.example"}, {"Forwarded": "host=evil.example"}):
        for route in ("/config", "/"):
            got = httpx.get(f"{url}{route}", headers=headers)
            assert got.status_code == 200 and "evil.example" not in got.text


@pytest.mark.server()
def test_foreign_host_headers_are_refused(server: dict) -> None:
    """DNS rebinding: a page on another name that resolves here gets 400."""
    url = server["url"]
    for route in ("/", "/config", "/api/documents", "/widget", "/gradio_api/info"):
        got = httpx.get(f"{url}{route}", headers={"Host": "rebind.evil.example:7860"})
        assert got.status_code == 400, route
        assert "evil" not in got.text
    status, _ = chat_call(url, "Opposed?", headers={"Host": "evil.example"})
    assert status == 400
    for host in ("localhost", f"127.0.0.1:{server['settings'].server.port}", "[::1]:80"):
        assert httpx.get(f"{url}/healthz", headers={"Host": host}).status_code == 200, host


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


@pytest.mark.server(admin_token="s3cret-token")
def test_bad_unicode_in_an_upload_name_is_a_400(server: dict) -> None:
    auth = {"Authorization": "Bearer s3cret-token"}
    body = (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="bad\xed\xa0\x80.txt"'
        b"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"
    )
    got = httpx.post(
        f"{server['url']}/api/upload",
        content=body,
        headers={**auth, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert got.status_code == 400 and "name" in got.json()["error"]
    assert server["fake"].ingested == []


# --- HEAD and caching ----------------------------------------------------------------


@pytest.mark.server()
def test_head_answers_on_every_get_route(server: dict) -> None:
    """Finding 8: HEAD gets the GET status and headers, with no body."""
    url = server["url"]
    for route in (
        "/embed.js",
        "/widget",
        "/widget.js",
        "/widget.css",
        "/healthz",
        "/docs",
        "/gradio.js",
        "/",
        "/api/documents",
        "/openapi.json",
        "/config",
    ):
        got = httpx.head(f"{url}{route}")
        assert got.status_code == 200, route
        assert got.content == b"", route
        assert got.headers.get("content-type"), route


@pytest.mark.server()
def test_static_assets_revalidate_with_304(server: dict) -> None:
    url = server["url"]
    for route in ("/embed.js", "/widget", "/widget.js", "/widget.css", "/gradio.js"):
        first = httpx.get(f"{url}{route}")
        etag, modified = first.headers.get("etag"), first.headers.get("last-modified")
        assert etag and modified, route
        assert (
            "no-cache" in first.headers["cache-control"]
            or "max-age" in first.headers["cache-control"]
        )
        again = httpx.get(f"{url}{route}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"", route
        assert httpx.head(f"{url}{route}", headers={"If-None-Match": etag}).status_code == 304
        since = httpx.get(f"{url}{route}", headers={"If-Modified-Since": modified})
        assert since.status_code == 304, route
        changed = httpx.get(f"{url}{route}", headers={"If-None-Match": '"other"'})
        assert changed.status_code == 200 and changed.content, route


def test_server_runs_uvicorn_without_trusting_proxy_headers() -> None:
    """The root of the X-Forwarded-For bypass: uvicorn must not rewrite the client address."""
    from assistant.server import uvicorn_config
    from assistant.settings import Settings

    config = uvicorn_config(object(), Settings())  # type: ignore[arg-type]
    assert config.proxy_headers is False and config.server_header is False


# --- the rules, unit by unit -----------------------------------------------------------


def test_mounted_gradio_has_its_file_checks_on_and_every_path_blocked(tmp_path: Path) -> None:
    """Defence in depth under the event filter: Gradio's own ``_check_allowed`` applies."""
    from starlette.routing import Mount

    from assistant.server import create_app

    app = create_app(ui_settings(tmp_path / "data"), get_assistant=Recording)
    mount = next(r for r in app.router.routes if isinstance(r, Mount))
    blocks = mount.app.get_blocks()  # type: ignore[attr-defined]
    assert blocks.has_launched is True
    assert blocks.allowed_paths == [] and os.path.abspath(os.sep) in blocks.blocked_paths
    from gradio.utils import is_allowed_file

    for path in ("/etc/passwd", str(tmp_path / "data" / "x")):
        allowed, _ = is_allowed_file(Path(path), blocks.blocked_paths, [], [str(tmp_path)])
        assert not allowed


def test_client_address_rules() -> None:
    from assistant.gateway import ClientAddressMiddleware, parse_networks
    from assistant.ratelimit import client_key

    mw = ClientAddressMiddleware(None, parse_networks("127.0.0.1, 10.0.0.0/8"))  # type: ignore[arg-type]
    assert mw.client_of("203.0.113.9", ["1.2.3.4"]) == "203.0.113.9"  # untrusted peer
    assert mw.client_of("127.0.0.1", ["1.2.3.4", "198.51.100.1", "10.1.1.1"]) == "198.51.100.1"
    assert mw.client_of("127.0.0.1", ["10.0.0.2"]) == "127.0.0.1"  # only proxies
    assert mw.client_of("127.0.0.1", ["not-an-ip"]) == "127.0.0.1"
    assert (
        client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    )
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError, match="not an IP address"):
        parse_networks("10.0.0.1, proxy.example")


def test_host_rules() -> None:
    from assistant.gateway import HostCheckMiddleware, allowed_host_names

    names = allowed_host_names("127.0.0.1", ["https://news.example"], "chat.example.org")
    check = HostCheckMiddleware(None, names)  # type: ignore[arg-type]
    for ok in ("localhost:7860", "127.0.0.1", "[::1]:7860", "news.example", "chat.example.org"):
        assert check.allowed(ok), ok
    for bad in ("evil.example", "localhost.evil.example", "", "a b", "news.example.evil"):
        assert not check.allowed(bad), bad
    import socket

    assert socket.gethostname().lower() in allowed_host_names("0.0.0.0", [], "")
    assert socket.gethostname().lower() not in allowed_host_names("127.0.0.1", [], "") or (
        socket.gethostname().lower() == "localhost"
    )


def test_event_bodies_naming_files_are_recognised() -> None:
    from assistant.gateway import gradio_route_allowed, names_a_file

    assert names_a_file({"data": [[{"content": {"file": {"path": "/x", "meta": FILE_DATA_META}}}]]})
    assert names_a_file({"data": [{"path": "/etc/passwd", "orig_name": "p"}]})
    assert not names_a_file({"data": ["What is /etc/passwd?", None], "fn_index": 3})
    assert gradio_route_allowed("GET", "/assets/index-abc.js")
    assert not gradio_route_allowed("GET", "/assets/../../etc/passwd")
    assert not gradio_route_allowed("GET", "/gradio_api/file=/etc/passwd")
    assert not gradio_route_allowed("POST", "/gradio_api/upload")
    assert not gradio_route_allowed("GET", "/gradio_api/proxy=http://169.254.169.254/")


def test_messages_for_clients_lose_their_paths() -> None:
    from assistant.security import scrub_paths
    from assistant.textguard import unicode_problem

    assert scrub_paths("Prompt file /home/me/p/answer.txt: bad") == "Prompt file answer.txt: bad"
    assert scrub_paths(r"C:\Users\me\x.txt is gone") == "x.txt is gone"
    assert scrub_paths("see http://example.com/a/b") == "see http://example.com/a/b"
    assert unicode_problem("ok \u00e9\u4e2d\U0001f642") is None
    assert "lone surrogate (U+D800)" in (unicode_problem("a\ud800") or "")
    assert "non-character (U+10FFFF)" in (unicode_problem("a\U0010ffff") or "")


@pytest.mark.server()
def test_gradio_internal_errors_stay_in_the_log(server: dict) -> None:
    """A malformed event (wrong number of inputs) gets no Gradio internals back."""
    url = server["url"]
    chat = next(d for d in gradio_config(url)["dependencies"] if d.get("api_name") == "chat")
    status, text = queue_event(url, chat["id"], ["only one of two inputs"])
    assert status == 200 and "process_completed" in text
    assert "needed" not in text and "only one of two inputs" not in text
    assert "gradio.components" not in text and "Traceback" not in text
    status, text = queue_event(url, 9999, ["no such event"])
    assert status == 404 and "Traceback" not in text
    status, text = chat_call(url, "   ")
    assert "Please type a question." in text  # our own messages still arrive
