"""The JSON API through FastAPI's ``TestClient``: the base URL its Host check accepts
(``LOCAL``) and the settings of a test app (``make_settings``)."""

from __future__ import annotations

from pathlib import Path

from assistant.settings import ServerSettings, Settings

LOCAL = "http://localhost"  # the Host check refuses TestClient's default testserver


def make_settings(data_dir: Path, **server: object) -> Settings:
    server = {"port": 7860, "rate_limit_per_minute": 10_000, **server}
    return Settings(data_dir=data_dir, server=ServerSettings(**server))
