"""Test isolation: a temp data dir for every test, and no network beyond loopback."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# The shared helpers in tests/support assert like the tests that use them: pytest rewrites
# their asserts too (it rewrites only test modules and conftest files unless told).
pytest.register_assert_rewrite("tests.support")

from tests.support import netguard  # noqa: E402

for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ[_key] = _value

FAST = os.environ.get("ASSISTANT_TEST_FAST") == "1"  # set by `make test-fast`
ROOT = Path(__file__).resolve().parents[1]
# The ONNX encoder's graph is written once per test session, here (see index.onnx_encoder).
ENCODER_CACHE = Path(tempfile.mkdtemp(prefix="assistant-test-encoder-"))
SAMPLE = ROOT / "assistant" / "data" / "coalition-of-the-willing.txt"
netguard.install()  # loopback only, for this process and every test (tests/support/netguard.py)


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    """A test fails when anything in it tried to leave the machine, even if the code under
    test caught the refusal and carried on."""
    start = len(netguard.refused)
    yield
    assert not netguard.targets(start), f"tried to reach the network: {netguard.targets(start)}"


@pytest.fixture(scope="session", autouse=True)
def _no_network_in_fixtures() -> Iterator[None]:
    """The same for module and session fixtures (their set-up and tear-down fall outside any
    one test): any refusal in this process fails the session's last test at tear-down."""
    yield
    assert not netguard.refused, f"tried to reach the network: {netguard.targets()}"


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every on-disk path of the assistant goes under this test's tmp_path."""
    data = tmp_path / "assistant-data"
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))
    for key in list(os.environ):
        if key.startswith("ASSISTANT_") and key != "ASSISTANT_DATA_DIR":
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSISTANT_ENCODER__CACHE_DIR", str(ENCODER_CACHE))
    from assistant.settings import get_settings

    get_settings.cache_clear()
    return data


@pytest.fixture(scope="session")
def embedder():
    """The real bundled all-MiniLM-L6-v2 on the engine the product uses (ONNX Runtime once
    its check passed), loaded once for the session."""
    from assistant.settings import Settings
    from index.encoders import make_embedder

    return make_embedder(Settings(encoder={"cache_dir": ENCODER_CACHE}))


@pytest.fixture(scope="session")
def reference_embedder():
    """sentence-transformers itself: the reference the ONNX encoder is checked against."""
    from index.embeddings import SentenceEmbeddings

    return SentenceEmbeddings()


@pytest.fixture(scope="session")
def sample_assistant(embedder, tmp_path_factory: pytest.TempPathFactory):
    """A real assistant (real model, real Chroma) over the sample article."""
    from assistant.core import Assistant
    from assistant.settings import Settings

    assistant = Assistant(
        Settings(data_dir=tmp_path_factory.mktemp("sample-index")), embedder=embedder
    )
    assert assistant.ensure_sample() is True
    return assistant


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright; never a downloaded browser."""
    import shutil

    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), f"{CHROMIUM} is required for the browser tests"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


_HEAVY_FIXTURES = {
    "embedder": "integration",
    "reference_embedder": "integration",
    "sample_assistant": "integration",
    "browser": "browser",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The folder is the kind: a test under ``tests/integration`` or ``tests/browser`` carries
    that marker, so ``make test-fast`` (``-m "not integration and not browser"``) never loads a
    model or starts a browser. A test that uses the real-model, sample-index or Chromium
    fixtures is marked so too, and one of those under ``tests/unit`` is a collection error:
    the layout stays what it says."""
    misplaced = []
    for item in items:
        path = Path(str(item.path)).resolve()
        kind = (
            path.relative_to(ROOT / "tests").parts[0] if path.is_relative_to(ROOT / "tests") else ""
        )
        if kind in ("integration", "browser") and item.get_closest_marker(kind) is None:
            item.add_marker(getattr(pytest.mark, kind))
        for fixture, marker in _HEAVY_FIXTURES.items():
            if fixture in item.fixturenames and item.get_closest_marker(marker) is None:
                item.add_marker(getattr(pytest.mark, marker))
                if kind == "unit":
                    misplaced.append(f"{item.nodeid} uses {fixture}: move it to tests/{marker}")
    if misplaced:
        raise pytest.UsageError("\n".join(misplaced))


@pytest.fixture(scope="session", autouse=True)
def _fast_means_no_model() -> Iterator[None]:
    """Under ``make test-fast``, loading a model is a failure, not a slow test: an error at
    the last test's teardown, in every pytest process (the xdist workers included)."""
    import sys

    yield
    loaded = {"torch", "sentence_transformers", "onnxruntime"} & {
        m.split(".")[0] for m in sys.modules
    }
    if FAST and loaded:
        pytest.fail(f"test-fast loaded {sorted(loaded)}: mark those tests integration or browser")


# --- the security tests' server (tests/integration/test_security_*.py) ----------------------------


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Gradio's upload/cache folder for this test, so anything copied there is seen."""
    folder = tmp_path / "gradio-cache"
    folder.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


@pytest.fixture
def secret_file() -> Iterator[Path]:
    """A file the server process can read and no client may: in the temp dir Gradio trusts."""
    from tests.support.security import SECRET

    path = Path("/tmp") / f"assistant-secret-{uuid.uuid4().hex}.txt"
    path.write_text(SECRET)
    yield path
    path.unlink(missing_ok=True)


@pytest.fixture
def server(tmp_path: Path, cache_dir: Path, request: pytest.FixtureRequest) -> Iterator[dict]:
    """A real server over a recording fake; ``@pytest.mark.server(**settings)`` picks its
    settings. Imported lazily: the unit tests never load the web stack."""
    from tests.support.netguard import loopback_only
    from tests.support.security import Recording
    from tests.support.ui_server import serve, ui_settings

    marker = request.node.get_closest_marker("server")
    options = dict(marker.kwargs) if marker else {}
    fake = options.pop("fake", None) or Recording()
    settings = ui_settings(tmp_path / "data", **options)
    with loopback_only() as attempts, serve(lambda: fake, settings) as url:
        yield {"url": url.rstrip("/"), "fake": fake, "settings": settings, "tmp": tmp_path}
    assert attempts == []
