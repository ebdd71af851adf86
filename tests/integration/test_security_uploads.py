"""Uploads, against a real server: no route without the admin token, the token checked
first, caps on size and count, throttled guesses, valid Unicode names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.security import files_under

pytestmark = pytest.mark.integration


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
