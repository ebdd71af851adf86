"""The background build: a store that was down at start is retried, other failures kept."""

from __future__ import annotations

import pytest

from assistant.errors import AssistantError, ConfigError, StoreError
from assistant.serve import runtime
from tests.support.fakes import FakeAssistant


def test_store_failure_at_start_is_retried() -> None:
    attempts = []

    def build() -> FakeAssistant:
        attempts.append(1)
        if len(attempts) == 1:
            raise StoreError("Cannot open the Chroma store at http://127.0.0.1:9: refused")
        return FakeAssistant()

    lazy = runtime.LazyAssistant(build, retry_after_s=3600.0)
    with pytest.raises(StoreError):
        lazy.get(timeout=10)
    with pytest.raises(StoreError):
        lazy.get(timeout=10)  # too soon to try again
    assert len(attempts) == 1
    lazy.retry_after_s = 0.0
    assert isinstance(lazy.get(timeout=10), FakeAssistant)
    assert len(attempts) == 2


def test_other_failures_are_not_retried() -> None:
    attempts = []

    def build() -> FakeAssistant:
        attempts.append(1)
        raise ConfigError("Cannot load embedding model 'nope'")

    lazy = runtime.LazyAssistant(build, retry_after_s=0.0)
    for _ in range(3):
        with pytest.raises(AssistantError, match="nope"):
            lazy.get(timeout=10)
    assert len(attempts) == 1
