"""Shared pieces of the security tests (tests/integration/test_security_*.py): the secret a
client must never see, the recording fake the test server runs on, and the helpers a hostile
client uses to talk to Gradio's event routes. The ``server``, ``cache_dir`` and
``secret_file`` fixtures live in tests/conftest.py.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.support.fakes import FakeAssistant

SECRET = f"TOP-SECRET-{uuid.uuid4().hex}"
FILE_DATA_META = {"_type": "gradio.FileData"}


class Recording(FakeAssistant):
    """The fake assistant, recording what it was asked to ingest."""

    def __init__(self) -> None:
        super().__init__()
        self.ingested: list[list[Path]] = []

    def ingest(self, paths):  # type: ignore[override]
        self.ingested.append(list(paths))
        return {"documents": len(paths), "errors": []}


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
