"""The package's public names: ``from assistant import Assistant, Answer, Citation, Settings``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_the_public_names_are_the_real_classes() -> None:
    from assistant import Answer, Assistant, Citation, Settings
    from assistant.core import Assistant as CoreAssistant
    from assistant.settings import Settings as RealSettings
    from assistant.types import Answer as RealAnswer
    from assistant.types import Citation as RealCitation

    assert (Assistant, Settings, Answer, Citation) == (
        CoreAssistant,
        RealSettings,
        RealAnswer,
        RealCitation,
    )


def test_an_unknown_name_is_an_attribute_error() -> None:
    import assistant

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        assistant.Nope  # noqa: B018


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = (
        "import sys, assistant; "
        "print(sorted(m for m in sys.modules if m in "
        "{'assistant.core', 'chromadb', 'langchain_core', 'numpy', 'torch'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def _imports(folder: Path) -> list[tuple[str, str]]:
    """(file, imported module) for every import statement under ``folder``, lazy ones too."""
    import ast

    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path.name, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.append((path.name, node.module))
    return found


def test_the_index_side_imports_nothing_from_the_assistant() -> None:
    """Data flows one way (index -> store <- assistant): ``index`` never imports ``assistant``."""
    offenders = [f"{f}: {m}" for f, m in _imports(ROOT / "index") if m.split(".")[0] == "assistant"]
    assert offenders == []


def test_answering_imports_nothing_from_the_shells() -> None:
    """``assistant.answer`` knows nothing of the web server, the UI or the operations tools."""
    shells = ("assistant.serve", "assistant.ops", "assistant.cli")
    found = _imports(ROOT / "assistant" / "answer")
    assert found, "assistant/answer has no imports: the layout changed"
    assert [f"{f}: {m}" for f, m in found if m.startswith(shells)] == []


def test_assistant_errors_are_the_index_errors() -> None:
    from assistant.errors import AssistantError, DocumentError, StoreError
    from index.errors import DocumentError as IndexDocumentError
    from index.errors import UserFacingError

    assert AssistantError is UserFacingError and DocumentError is IndexDocumentError
    assert issubclass(StoreError, AssistantError)


def test_settings_never_show_their_secrets() -> None:
    from assistant import Settings

    s = Settings(admin_token="adm-s3cret", api_keys="k-one,k-two")
    shown = repr(s) + str(s) + s.model_dump_json()
    assert "adm-s3cret" not in shown and "k-one" not in shown
    assert s.admin_token is not None and s.admin_token.get_secret_value() == "adm-s3cret"
    assert not Settings().admin_token and not Settings().api_keys  # unset: falsy
