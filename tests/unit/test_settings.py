"""Settings are checked when read: a bad value names its env var, a typo'd name is reported."""

from __future__ import annotations

import logging

import pytest

from assistant.cli import _settings, build_parser
from assistant.errors import ConfigError
from assistant.settings import Settings, env_names


def test_origins_proxies_and_hosts_are_validated_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ASSISTANT_ALLOWED_ORIGINS", "https://News.example/, http://blog.example:8080"
    )
    monkeypatch.setenv("ASSISTANT_SERVER__TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16")
    monkeypatch.setenv("ASSISTANT_SERVER__ALLOWED_HOSTS", "Chat.Example.org")
    settings = Settings()
    assert settings.allowed_origins == ["https://news.example", "http://blog.example:8080"]
    assert settings.server.trusted_proxies == ["10.0.0.1/32", "192.168.0.0/16"]
    assert settings.server.allowed_hosts == ["chat.example.org"]


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("ASSISTANT_ALLOWED_ORIGINS", "https://a.example/path", "is not an origin"),
        ("ASSISTANT_SERVER__TRUSTED_PROXIES", "proxy.example", "is not an IP address"),
        ("ASSISTANT_SERVER__ALLOWED_HOSTS", "https://chat.example", "is not a host name"),
        ("ASSISTANT_SERVER__PORT", "eighty", "valid integer"),
        ("ASSISTANT_COLLECTION_ORIGINS", "faq", "NAME=ORIGIN"),
    ],
)
def test_a_bad_value_is_a_config_error_naming_the_env_var(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        Settings()
    assert f"{name}: " in str(caught.value) and named in str(caught.value)


def test_assignment_is_checked_too() -> None:
    settings = Settings()
    settings.allowed_origins = "https://a.example/, https://b.example"  # type: ignore[assignment]
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]
    with pytest.raises(ValueError, match="is not an origin"):
        settings.allowed_origins = ["ftp://a.example"]


def test_a_misspelt_setting_is_reported_with_the_likely_name(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ASSISTANT_ALLOWED_ORIGIN", "https://a.example")
    with caplog.at_level(logging.WARNING, logger="assistant.settings"):
        settings = Settings()
    assert settings.allowed_origins == []  # ignored, not guessed
    assert "ASSISTANT_ALLOWED_ORIGIN (did you mean ASSISTANT_ALLOWED_ORIGINS?)" in caplog.text
    assert {"ASSISTANT_LLM", "ASSISTANT_SERVER__PORT", "ASSISTANT_API_KEYS"} <= set(env_names())


def test_cli_flags_override_the_env_without_dropping_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ASSISTANT_SERVER__PORT", "9000")
    monkeypatch.setenv("ASSISTANT_SERVER__CONCURRENCY", "3")
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0"])
    settings = _settings(args)
    assert (settings.server.host, settings.server.port, settings.server.concurrency) == (
        "0.0.0.0",
        9000,
        3,
    )
    args = build_parser().parse_args(["serve", "--port", "0"])
    assert _settings(args).server.port == 0
    with pytest.raises(ConfigError, match="ASSISTANT_SERVER__PORT"):
        _settings(build_parser().parse_args(["serve", "--port", "70000"]))
