"""Attacks on files, replayed against a real server: server paths smuggled into UI
events, path and internals leaks, and the rules that keep Gradio from copying or serving a
server file."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.support.fakes import SAMPLE
from tests.support.netguard import loopback_only
from tests.support.security import (
    ATTACKED_PATHS,
    FILE_DATA_META,
    SECRET,
    Recording,
    chat_call,
    files_under,
    gradio_config,
    hostile_value,
    queue_event,
)
from tests.support.ui_server import serve, ui_settings

pytestmark = pytest.mark.integration


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


def test_mounted_gradio_has_its_file_checks_on_and_every_path_blocked(tmp_path: Path) -> None:
    """Defence in depth under the event filter: Gradio's own ``_check_allowed`` applies."""
    from starlette.routing import Mount

    from assistant.serve.server import create_app

    app = create_app(ui_settings(tmp_path / "data"), get_assistant=Recording)
    mount = next(r for r in app.router.routes if isinstance(r, Mount))
    blocks = mount.app.get_blocks()  # type: ignore[attr-defined]
    assert blocks.has_launched is True
    assert blocks.allowed_paths == [] and os.path.abspath(os.sep) in blocks.blocked_paths
    from gradio.utils import is_allowed_file

    for path in ("/etc/passwd", str(tmp_path / "data" / "x")):
        allowed, _ = is_allowed_file(Path(path), blocks.blocked_paths, [], [str(tmp_path)])
        assert not allowed


def test_event_bodies_naming_files_are_recognised() -> None:
    from assistant.serve.gateway import gradio_route_allowed, names_a_file

    assert names_a_file({"data": [[{"content": {"file": {"path": "/x", "meta": FILE_DATA_META}}}]]})
    assert names_a_file({"data": [{"path": "/etc/passwd", "orig_name": "p"}]})
    assert not names_a_file({"data": ["What is /etc/passwd?", None], "fn_index": 3})
    assert gradio_route_allowed("GET", "/assets/index-abc.js")
    assert not gradio_route_allowed("GET", "/assets/../../etc/passwd")
    assert not gradio_route_allowed("GET", "/gradio_api/file=/etc/passwd")
    assert not gradio_route_allowed("POST", "/gradio_api/upload")
    assert not gradio_route_allowed("GET", "/gradio_api/proxy=http://169.254.169.254/")


def test_messages_for_clients_lose_their_paths() -> None:
    from assistant.serve.security import scrub_paths
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
