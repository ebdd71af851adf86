"""``POST /api/upload`` in-process (TestClient over the fake): token first, caps, reports."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from assistant.errors import DocumentError
from assistant.serve.server import create_app
from assistant.settings import ServerSettings, Settings
from index.ingest import IngestReport
from tests.support.fakes import FakeAssistant

LOCAL = "http://localhost"
AUTH = {"Authorization": "Bearer tok"}


class Recording(FakeAssistant):
    def __init__(self) -> None:
        super().__init__()
        self.ingested: list[list[Path]] = []

    def ingest(self, paths):  # type: ignore[override]
        self.ingested.append(list(paths))
        error = DocumentError(str(paths[0].parent / "bad.pdf"), "no text layer")
        return IngestReport(added=[p.name for p in paths], errors=[error], chunks=1)


def client(tmp_path: Path, fake: FakeAssistant, token: str | None = "tok") -> TestClient:
    settings = Settings(
        data_dir=tmp_path / "data",
        admin_token=token,
        server=ServerSettings(rate_limit_per_minute=100_000),
    )
    return TestClient(create_app(settings, get_assistant=lambda: fake), base_url=LOCAL)


def test_no_route_without_a_token(tmp_path: Path) -> None:
    with client(tmp_path, FakeAssistant(), token=None) as c:
        got = c.post("/api/upload", files=[("files", ("a.txt", b"hi"))], headers=AUTH)
    assert got.status_code == 404 and "No API endpoint" in got.json()["error"]
    assert not (tmp_path / "data" / "uploads").exists()


def test_wrong_token_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    fake = Recording()
    with client(tmp_path, fake) as c:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic tok"}):
            got = c.post("/api/upload", files=[("files", ("a.txt", b"hi"))], headers=headers)
            assert got.status_code == 401 and "admin token" in got.json()["error"]
    assert fake.ingested == [] and not (tmp_path / "data" / "uploads").exists()


def test_foreign_origin_is_refused(tmp_path: Path) -> None:
    with client(tmp_path, Recording()) as c:
        got = c.post(
            "/api/upload",
            files=[("files", ("a.txt", b"hi"))],
            headers={**AUTH, "Origin": "https://evil.example"},
        )
    assert got.status_code == 403


def test_stores_accepted_files_and_explains_refusals(tmp_path: Path) -> None:
    fake = Recording()
    with client(tmp_path, fake) as c:
        got = c.post(
            "/api/upload",
            files=[("files", ("notes.md", b"# notes")), ("files", ("tool.exe", b"MZ"))],
            headers=AUTH,
        )
    body = got.json()
    uploads = tmp_path / "data" / "uploads"
    assert got.status_code == 200
    assert body["added"] == ["notes.md"]
    reason = ".exe files are not accepted (only .txt .md .html .htm .pdf .docx)"
    assert body["refused"] == [{"name": "tool.exe", "reason": reason}]
    assert body["errors"] == ["bad.pdf: no text layer"]  # no server path
    assert "1 documents indexed" in body["summary"]
    assert fake.ingested == [[uploads / "notes.md"]]
    assert (uploads / "notes.md").read_text() == "# notes"
    assert [p.name for p in uploads.iterdir()] == ["notes.md"]  # no temp files left


def test_hostile_upload_names_stay_inside_the_upload_folder(tmp_path: Path) -> None:
    names = [
        "..\\..\\escape.txt",
        "../../escape2.txt",
        "...hidden.md",
        "bell\x07\x1b[31mred\n.txt",
        "rtl\u202etxt.exe.md",
        "zero\u200bwidth.html",
        "-rf .txt",
        ".." + "\u2024" * 3 + ".txt",
    ]
    fake = Recording()
    with client(tmp_path, fake) as c:
        got = c.post(
            "/api/upload",
            files=[("files", (n, f"Upload {i} says hello.".encode())) for i, n in enumerate(names)],
            headers=AUTH,
        )
    assert got.status_code == 200, got.text
    dest = (tmp_path / "data" / "uploads").resolve()
    stored = sorted(dest.iterdir())
    assert stored and all(p.parent == dest for p in stored)
    for p in stored:
        assert not re.search(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e/\\]", p.name), p.name
        assert ".." not in p.name and not p.name.startswith((".", " "))
    assert not list(tmp_path.rglob("escape*.txt")) or all(
        p.parent == dest for p in tmp_path.rglob("escape*.txt")
    )
    assert "\x1b" not in got.text and "\x07" not in got.text
