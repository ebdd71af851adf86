"""Collections through a real server (real model, real Chroma, uvicorn): the JSON API, fetch
by document id, uploads, ``/v1`` and the UI's ``/chat`` never answer from another collection,
and a site allowed for one collection gets nothing from another."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # gradio_client asks the Hub for Spaces otherwise

from assistant import cli  # noqa: E402
from assistant.serve.server import create_app  # noqa: E402
from assistant.settings import ServerSettings, Settings  # noqa: E402
from tests.support.collection_docs import (  # noqa: E402
    FAQ_Q,
    HANDBOOK_Q,
    HANDBOOK_SECRET,
    clean_env,
    run_app,
    sources,
    write_docs,
)
from tests.support.netguard import loopback_only  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

pytestmark = pytest.mark.integration
SHOP = "http://shop.example"
TOKEN = "collections-test-token"


@dataclass
class Served:
    url: str
    app: object
    ids: dict[str, str]  # collection -> doc_id of its document
    data: Path
    loaded_at_start: list[str]  # named collections open after a question to the default one

    def ask(self, question: str, collection: str | None = None, **headers: str) -> httpx.Response:
        body = {"question": question} | ({"collection": collection} if collection else {})
        return httpx.post(f"{self.url}/api/ask", json=body, headers=headers, timeout=120)


@pytest.fixture(scope="module")
def served(embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("collections-server")
    docs = write_docs(root)
    data = root / "data"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in clean_env(data).items():
            mp.setenv(key, value)
        for name in ("faq", "handbook"):
            assert cli.main(["ingest", str(docs[name]), "--collection", name]) == 0
        settings = Settings(
            data_dir=data,
            admin_token=TOKEN,
            collection_origins=f"faq={SHOP}",
            server=ServerSettings(port=free_port(), rate_limit_per_minute=100_000),
        )
        app = create_app(settings)  # the real assistant: the default collection gets the sample
        with loopback_only() as attempts, run_app(app, settings) as url:
            httpx.post(f"{url}/api/ask", json={"question": FAQ_Q}, timeout=300)
            loaded = app.state.runtime.collections.loaded()
            listed = {}
            for name in ("faq", "handbook"):
                got = httpx.get(f"{url}/api/documents", params={"collection": name}, timeout=300)
                listed[name] = got.json()[0]["doc_id"]
            yield Served(url, app, listed, data, loaded)
        assert attempts == []


def test_collections_are_listed_and_opened_only_when_asked(served: Served) -> None:
    got = httpx.get(f"{served.url}/api/collections", timeout=30).json()
    assert got == {"collections": ["default", "faq", "handbook"], "default": "default"}
    assert served.loaded_at_start == []  # serving and the default one load no other
    registry = served.app.state.runtime.collections  # type: ignore[attr-defined]
    assert {"faq", "handbook"} <= set(registry.loaded())  # opened by the first request


def test_the_api_answers_each_collection_from_its_own_documents(served: Served) -> None:
    own = served.ask(HANDBOOK_Q, "handbook").json()
    assert sources(own) == {"handbook.md"} and "25 vacation days" in own["answer"]
    for name in ("faq", None):
        leak = served.ask(HANDBOOK_Q, name).json()
        assert "handbook.md" not in sources(leak) and HANDBOOK_SECRET not in str(leak)
    assert sources(served.ask(FAQ_Q, "faq").json()) == {"faq.md"}

    body = {"question": HANDBOOK_Q, "collection": "faq"}
    stream = httpx.post(f"{served.url}/api/ask/stream", json=body, timeout=120).text
    assert "event: answer" in stream and "handbook.md" not in stream and "vacation" not in stream


def test_documents_are_listed_and_fetched_only_within_their_collection(served: Served) -> None:
    docs = httpx.get(f"{served.url}/api/documents", params={"collection": "faq"}).json()
    assert [d["source"] for d in docs] == ["faq.md"]
    default = httpx.get(f"{served.url}/api/documents").json()
    assert "handbook.md" not in {d["source"] for d in default}

    handbook_id = served.ids["handbook"]
    for collection in ("faq", None):
        params = {"collection": collection} if collection else {}
        got = httpx.get(f"{served.url}/api/documents/{handbook_id}", params=params)
        assert got.status_code == 404 and HANDBOOK_SECRET not in got.text
    own = httpx.get(f"{served.url}/api/documents/{handbook_id}", params={"collection": "handbook"})
    assert own.status_code == 200 and HANDBOOK_SECRET in own.json()["text"]

    # The original-file route (the PDF viewer's) looks the id up in the named collection too:
    # elsewhere the document does not exist; in its own collection it exists but is no PDF.
    file_url = f"{served.url}/api/documents/{handbook_id}/file"
    for collection in ("faq", None):
        params = {"collection": collection} if collection else {}
        got = httpx.get(file_url, params=params)
        assert got.status_code == 404 and "No document with id" in got.json()["error"]
    own_file = httpx.get(file_url, params={"collection": "handbook"})
    assert own_file.status_code == 404 and "is not a PDF" in own_file.json()["error"]


def test_unknown_and_bad_names_are_clear_errors_and_create_nothing(served: Served) -> None:
    got = served.ask(HANDBOOK_Q, "nope")
    assert got.status_code == 404 and "No collection 'nope'" in got.json()["error"]
    got = httpx.get(f"{served.url}/api/documents", params={"collection": "nope"})
    assert got.status_code == 404
    for bad in ("../handbook", "Handbook", "a" * 200):
        got = served.ask(HANDBOOK_Q, bad)
        assert got.status_code == 400 and "lower-case letters, digits" in got.json()["error"]
        assert HANDBOOK_SECRET not in got.text
    names = httpx.get(f"{served.url}/api/collections").json()["collections"]
    assert names == ["default", "faq", "handbook"]
    assert not (served.data / "uploads").exists()


def test_a_collection_site_gets_nothing_from_another_collection(served: Served) -> None:
    shop = {"Origin": SHOP}
    ok = served.ask(FAQ_Q, "faq", **shop)
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == SHOP
    refused = [
        served.ask(HANDBOOK_Q, "handbook", **shop),
        served.ask(HANDBOOK_Q, None, **shop),  # the default collection is not the shop's
        httpx.post(
            f"{served.url}/api/ask/stream",
            json={"question": HANDBOOK_Q, "collection": "handbook"},
            headers=shop,
        ),
        httpx.get(f"{served.url}/api/documents", params={"collection": "handbook"}, headers=shop),
        httpx.get(
            f"{served.url}/api/documents/{served.ids['handbook']}",
            params={"collection": "handbook"},
            headers=shop,
        ),
        httpx.get(
            f"{served.url}/api/documents/{served.ids['handbook']}/file",
            params={"collection": "handbook"},
            headers=shop,
        ),
        httpx.get(f"{served.url}/config", headers=shop),  # the full UI: the owner's sites only
        httpx.post(f"{served.url}/gradio_api/call/chat", json={"data": ["x"]}, headers=shop),
    ]
    for got in refused:
        assert got.status_code == 403, (got.request.url, got.status_code)
        assert HANDBOOK_SECRET not in got.text and "vacation" not in got.text
    listed = httpx.get(f"{served.url}/api/collections", headers=shop).json()
    assert listed["collections"] == ["faq"]
    unknown = served.ask(HANDBOOK_Q, "nope", **shop)
    assert unknown.status_code == 403  # a foreign site cannot even learn what exists

    faq_widget = httpx.get(f"{served.url}/widget", params={"collection": "faq"})
    other_widget = httpx.get(f"{served.url}/widget", params={"collection": "handbook"})
    assert SHOP in faq_widget.headers["content-security-policy"]
    assert SHOP not in other_widget.headers["content-security-policy"]
    home = httpx.get(f"{served.url}/")
    assert SHOP not in home.headers["content-security-policy"]


def test_v1_chooses_the_collection_by_model_name(served: Served) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{served.url}/v1", api_key="unused", max_retries=0)
    models = [m.id for m in client.models.list()]
    assert models == ["grounded-assistant", "grounded-assistant:faq", "grounded-assistant:handbook"]
    messages = [{"role": "user", "content": HANDBOOK_Q}]
    own = client.chat.completions.create(model="grounded-assistant:handbook", messages=messages)
    assert {c["source"] for c in own.model_extra["citations"]} == {"handbook.md"}
    for model in ("grounded-assistant:faq", "grounded-assistant"):
        leak = client.chat.completions.create(model=model, messages=messages)
        assert "handbook.md" not in {c["source"] for c in leak.model_extra["citations"]}
        assert HANDBOOK_SECRET not in (leak.choices[0].message.content or "")
    via_field = client.chat.completions.create(
        model="grounded-assistant", messages=messages, extra_body={"collection": "faq"}
    )
    assert "handbook.md" not in {c["source"] for c in via_field.model_extra["citations"]}

    body = {"model": "grounded-assistant:handbook", "messages": messages}
    shop = httpx.post(f"{served.url}/v1/chat/completions", json=body, headers={"Origin": SHOP})
    assert shop.status_code == 403 and HANDBOOK_SECRET not in shop.text
    shop_models = httpx.get(f"{served.url}/v1/models", headers={"Origin": SHOP}).json()
    assert [m["id"] for m in shop_models["data"]] == ["grounded-assistant:faq"]
    missing = httpx.post(
        f"{served.url}/v1/chat/completions", json={**body, "model": "grounded-assistant:nope"}
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


def test_ui_chat_api_answers_from_the_collection_it_names(served: Served) -> None:
    from gradio_client import Client

    client = Client(f"{served.url}/", verbose=False)
    try:
        text, cited = client.predict(HANDBOOK_Q, "handbook", api_name="/chat")
        assert {c["source"] for c in cited} == {"handbook.md"} and "25 vacation days" in text
        for collection in ("faq", ""):
            text, cited = client.predict(HANDBOOK_Q, collection, api_name="/chat")
            assert "handbook.md" not in {c["source"] for c in cited}
            assert HANDBOOK_SECRET not in text
    finally:
        client.close()


def test_upload_into_a_new_collection_creates_it_and_only_it(served: Served) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    note = b"# Notes\n\nThe greenhouse is watered every Tuesday at seven in the morning.\n"
    bad = httpx.post(
        f"{served.url}/api/upload",
        files={"files": ("notes.md", note)},
        data={"collection": "../faq"},
        headers=headers,
    )
    assert bad.status_code == 400 and "lower-case letters" in bad.json()["error"]
    got = httpx.post(
        f"{served.url}/api/upload",
        files={"files": ("notes.md", note)},
        data={"collection": "garden"},
        headers=headers,
        timeout=120,
    )
    assert got.status_code == 200 and got.json()["added"] == ["notes.md"]
    assert (served.data / "uploads" / "garden" / "notes.md").is_file()
    question = "When is the greenhouse watered?"
    assert sources(served.ask(question, "garden").json()) == {"notes.md"}
    for other in ("faq", "handbook", None):
        assert "notes.md" not in sources(served.ask(question, other).json())
    names = httpx.get(f"{served.url}/api/collections").json()["collections"]
    assert "garden" in names


def test_an_ingest_by_another_process_reaches_only_its_collection(served: Served) -> None:
    import subprocess
    import sys
    import time

    doc = served.data.parent / "later" / "opening-hours.md"
    doc.parent.mkdir(exist_ok=True)
    doc.write_text("# Opening hours\n\nThe shop opens at nine and closes at six on weekdays.\n")
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "ingest", str(doc), "--collection", "faq"],
        capture_output=True,
        text=True,
        env=clean_env(served.data),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    question = "When does the shop open on weekdays?"
    deadline = time.monotonic() + 15
    while "opening-hours.md" not in sources(served.ask(question, "faq").json()):
        assert time.monotonic() < deadline, "the server did not see the new document"
        time.sleep(0.5)
    for other in ("handbook", None):
        assert "opening-hours.md" not in sources(served.ask(question, other).json())
    assert sources(served.ask(HANDBOOK_Q, "handbook").json()) == {"handbook.md"}
