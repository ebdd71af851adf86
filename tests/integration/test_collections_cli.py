"""Collections through the command line, with the real model and a real Chroma: two
collections never leak into each other, readers never create one, deleting asks first."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import cli
from tests.support.chroma_server import chroma_server  # noqa: F401, F811 - a fixture
from tests.support.collection_docs import (
    FAQ_Q,
    HANDBOOK_Q,
    HANDBOOK_SECRET,
    clean_env,
    sources,
    write_docs,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assistant" / "data" / "coalition-of-the-willing.txt"


@pytest.fixture(scope="module")
def data(embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir with the sample in the default collection, a FAQ and a staff handbook."""
    root = tmp_path_factory.mktemp("collections-cli")
    docs = write_docs(root)
    data_dir = root / "data"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in clean_env(data_dir).items():
            mp.setenv(key, value)
        assert cli.main(["ingest", str(SAMPLE)]) == 0
        assert cli.main(["ingest", str(docs["faq"]), "--collection", "faq"]) == 0
        assert cli.main(["ingest", str(docs["handbook"]), "--collection", "handbook"]) == 0
        yield data_dir


@pytest.fixture
def run(data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """``assistant ARGS...`` in this process (the model stays loaded): (status, out, err)."""
    for key, value in clean_env(data).items():
        monkeypatch.setenv(key, value)

    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = cli.main(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    return invoke


def _ask(run, question: str, *extra: str) -> dict:
    status, out, err = run("ask", question, "--json", *extra)
    assert status == 0, err
    return json.loads(out)


def test_each_collection_lists_and_answers_from_its_own_documents(run) -> None:
    status, out, _ = run("collections", "--json")
    rows = {r["name"]: r["documents"] for r in json.loads(out)}
    assert status == 0 and rows == {"default": 1, "faq": 1, "handbook": 1}

    for name, source in (("faq", "faq.md"), ("handbook", "handbook.md"), (None, SAMPLE.name)):
        extra = ("--collection", name) if name else ()
        status, out, _ = run("documents", "--json", *extra)
        assert [d["source"] for d in json.loads(out)] == [source]

    own = _ask(run, HANDBOOK_Q, "--collection", "handbook")
    assert sources(own) == {"handbook.md"} and "25 vacation days" in own["answer"]
    for leak in (_ask(run, HANDBOOK_Q, "--collection", "faq"), _ask(run, HANDBOOK_Q)):
        assert "handbook.md" not in sources(leak)
        assert "vacation" not in leak["answer"] and HANDBOOK_SECRET not in json.dumps(leak)
    faq = _ask(run, FAQ_Q, "--collection", "faq")
    assert sources(faq) == {"faq.md"} and "30 days" in faq["answer"]
    assert "faq.md" not in sources(_ask(run, FAQ_Q, "--collection", "handbook"))


def test_jsonl_and_remove_stay_in_their_collection(
    run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"question": HANDBOOK_Q}) + "\n"))
    status, out, _ = run("ask", "--jsonl", "--collection", "faq")
    assert status == 0 and "handbook.md" not in sources(json.loads(out))

    status, _, err = run("remove", "handbook.md", "--collection", "faq")
    assert status == 1 and "handbook.md: not in the index" in err
    status, out, _ = run("documents", "--json", "--collection", "handbook")
    assert [d["source"] for d in json.loads(out)] == ["handbook.md"]  # untouched


@pytest.mark.parametrize("command", [["ask", "Who?"], ["documents"], ["remove", "x.md"]])
def test_readers_refuse_unknown_and_bad_names_and_create_nothing(run, command) -> None:
    status, _, err = run(*command, "--collection", "nope")
    assert status == 2 and "No collection 'nope'" in err and "ingest --collection nope" in err
    status, _, err = run(*command, "--collection", "../etc")
    assert status == 2 and "lower-case letters, digits" in err
    status, out, _ = run("collections", "--json")
    assert [r["name"] for r in json.loads(out)] == ["default", "faq", "handbook"]


def test_delete_asks_first_and_refuses_without_a_terminal(
    run, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "scratch.md"
    doc.write_text("# Scratch\n\nThe scratch collection holds one sentence about owls.\n")
    assert run("ingest", str(doc), "--collection", "scratch")[0] == 0
    uploads = data / "uploads" / "scratch"
    uploads.mkdir(parents=True)
    (uploads / "kept-until-deleted.md").write_text("x")

    # A script without --yes: refused, nothing deleted (a real process, stdin not a TTY).
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "collections", "delete", "scratch"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=clean_env(data),
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2 and "stdin is not a terminal" in proc.stderr
    assert "--yes" in proc.stderr
    assert "scratch" in run("collections")[1]

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    answers = iter(["yes", "scratch"])
    prompts: list[str] = []
    monkeypatch.setattr("builtins.input", lambda p: prompts.append(p) or next(answers))
    status, _, err = run("collections", "delete", "scratch")
    assert status == 1 and "Not deleted" in err and "scratch" in run("collections")[1]
    assert "1 documents" in prompts[0] and "Type the name" in prompts[0]
    status, out, _ = run("collections", "delete", "scratch")
    assert status == 0 and "deleted collection scratch" in out
    assert "scratch" not in run("collections")[1] and not uploads.exists()
    assert run("ask", "owls?", "--collection", "scratch")[0] == 2  # gone, and not re-created

    assert run("ingest", str(doc), "--collection", "scratch2")[0] == 0
    assert run("collections", "delete", "scratch2", "--yes")[0] == 0
    assert "scratch2" not in run("collections")[1]
    status, _, err = run("collections", "delete", "default", "--yes")
    assert status == 2 and "cannot be deleted" in err
    assert run("documents", "--json")[0] == 0  # the default collection is still there


def test_collections_live_in_a_chroma_server_too(
    chroma_server: str,  # noqa: F811 - the fixture imported above
    run,
    tmp_path: Path,
) -> None:
    docs = write_docs(tmp_path / "docs")
    server = ("--chroma-url", chroma_server, "--data-dir", str(tmp_path / "local"))
    for name in ("faq", "handbook"):
        assert run("ingest", str(docs[name]), "--collection", name, *server)[0] == 0
    status, out, _ = run("collections", "--json", *server)
    assert {r["name"]: r["documents"] for r in json.loads(out)} == {
        "default": 0,
        "faq": 1,
        "handbook": 1,
    }
    leak = _ask(run, HANDBOOK_Q, "--collection", "faq", *server)
    assert "handbook.md" not in sources(leak)
    assert sources(_ask(run, HANDBOOK_Q, "--collection", "handbook", *server)) == {"handbook.md"}
    assert run("collections", "delete", "faq", "--yes", *server)[0] == 0
    assert "faq" not in run("collections", *server)[1]
    assert not (tmp_path / "local" / "chroma").exists()  # all of it is on the server
