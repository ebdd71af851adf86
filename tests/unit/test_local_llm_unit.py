"""The local model's wiring, without loading it."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_tests.unit_tests import ChatModelUnitTests

from assistant.answer.llm import is_local, make_chat_model, model_label
from assistant.answer.local_llm import DEFAULT_FILE, LocalChatModel, find_model
from assistant.errors import ConfigError
from assistant.settings import Settings


def test_local_spec_is_recognised() -> None:
    assert is_local("local") and is_local("LOCAL:/m.gguf") and not is_local("openai:gpt-4o")


def test_missing_or_wrong_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such GGUF"):
        find_model(str(tmp_path / "nope.gguf"))
    (tmp_path / "model.bin").write_bytes(b"x")
    with pytest.raises(ConfigError, match="expected a .gguf"):
        find_model(str(tmp_path / "model.bin"))
    with pytest.raises(ConfigError, match="no such GGUF"):
        make_chat_model(Settings(data_dir=tmp_path, llm=f"local:{tmp_path / 'x.gguf'}"))


def test_the_data_dir_is_searched_first(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / DEFAULT_FILE).write_bytes(b"GGUF")
    assert find_model("", tmp_path) == (tmp_path / "models" / DEFAULT_FILE).resolve()


def test_label_names_the_file_not_its_path() -> None:
    s = Settings(llm="local:/some/where/Tiny-Model.Q8_0.gguf")
    assert model_label(s) == "local:Tiny-Model.Q8_0"
    assert model_label(Settings(llm="openai:gpt-4o-mini")) == "openai:gpt-4o-mini"


class TestLocalChatModelUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[LocalChatModel]:
        return LocalChatModel

    @property
    def chat_model_params(self) -> dict:
        return {"model_path": "/nonexistent/model.gguf"}
