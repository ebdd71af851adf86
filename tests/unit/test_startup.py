"""Start-up work: commands that need no vectors never load a model, Chroma or LangChain,
and the Chroma-free reads agree with Chroma's own answers. No model here (a fake embedder
under the default model's identity builds the index)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import cli_index
from assistant.settings import Settings
from index.catalog import has_orphans, read_committed
from index.encoders import DEFAULT_MODEL, LazyEmbeddings, model_identity
from index.ingest import ingest, remove
from index.store import Store
from tests.support.fakes import HashEmbeddings

HEAVY = {"torch", "sentence_transformers", "transformers", "onnxruntime", "chromadb", "langchain"}


class DefaultIdentity(HashEmbeddings):
    """Hashed vectors stored under the bundled model's identity, as the CLI expects."""

    identity = f"{DEFAULT_MODEL}:384"
    dimension = 384


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "alpha.txt").write_text("Alpha is a red planet. It has two moons.\n\nIt is cold.")
    (folder / "beta.md").write_text("# Beta\n\nBeta has rings. Its rings are made of ice.")
    return folder


def build(data: Path, corpus: Path) -> tuple[Settings, Store]:
    settings = Settings(data_dir=data)
    idx = settings.index
    store = Store(data, DefaultIdentity.identity, idx.chunk_tokens, idx.unit_tokens)
    report = ingest(
        [corpus],
        store,
        DefaultIdentity(),
        chunk_tokens=idx.chunk_tokens,
        unit_tokens=idx.unit_tokens,
        max_bytes=10**6,
    )
    assert report.ok and len(report.added) == 2
    return settings, store


def test_identity_is_known_without_loading_the_model() -> None:
    assert model_identity(DEFAULT_MODEL) == f"{DEFAULT_MODEL}:384"
    lazy = LazyEmbeddings(Settings())
    assert lazy.identity == f"{DEFAULT_MODEL}:384" and not lazy.loaded
    assert model_identity("/no/such/model") is None, "unknown: the model must be loaded"


def test_catalog_reads_what_chroma_reads(tmp_path: Path, corpus: Path) -> None:
    settings, store = build(tmp_path / "data", corpus)
    assert read_committed(settings.data_dir, store.prefix) == store.committed()
    (corpus / "alpha.txt").write_text("Alpha changed. It has three moons now.")
    ingest([corpus], store, DefaultIdentity(), chunk_tokens=200, unit_tokens=254, max_bytes=10**6)
    assert read_committed(settings.data_dir, store.prefix) == store.committed()
    remove(["beta.md"], store)
    assert read_committed(settings.data_dir, store.prefix) == store.committed()
    assert [d.source for d in cli_index.documents(settings)] == ["alpha.txt"]
    assert read_committed(settings.data_dir, "idx-000000000000") == {}, "another index: empty"
    assert read_committed(tmp_path / "never-used", store.prefix) == {}


def test_catalog_defers_to_chroma_when_unsure(tmp_path: Path, corpus: Path) -> None:
    settings, store = build(tmp_path / "data", corpus)
    db = settings.data_dir / "chroma" / "chroma.sqlite3"
    import sqlite3

    with sqlite3.connect(db) as con:  # Chroma logged a write it has not applied yet
        con.execute("UPDATE max_seq_id SET seq_id = 0")
    assert read_committed(settings.data_dir, store.prefix) is None
    listed = [d.source for d in cli_index.documents(settings)]
    assert listed == ["alpha.txt", "beta.md"], "via Chroma"
    db.write_bytes(b"not a database")
    assert read_committed(settings.data_dir, store.prefix) is None


def test_unchanged_ingest_is_decided_without_chroma(tmp_path: Path, corpus: Path) -> None:
    settings, store = build(tmp_path / "data", corpus)
    report = cli_index.unchanged(settings, [corpus])
    assert report is not None and sorted(report.unchanged) == ["alpha.txt", "beta.md"]
    (corpus / "gamma.txt").write_text("Gamma is new. It is blue.")
    assert cli_index.unchanged(settings, [corpus]) is None, "a new file needs the full ingest"
    (corpus / "gamma.txt").unlink()
    (corpus / "alpha.txt").write_text("Alpha changed.")
    assert cli_index.unchanged(settings, [corpus]) is None, "a changed file needs the full ingest"
    assert cli_index.unchanged(settings, [corpus / "beta.md"]) is not None
    assert cli_index.unchanged(settings, [tmp_path / "missing.txt"]) is None, "errors are reported"


def test_a_half_written_index_is_repaired_by_the_full_ingest(tmp_path: Path, corpus: Path) -> None:
    settings, store = build(tmp_path / "data", corpus)
    committed = store.committed()
    assert has_orphans(settings.data_dir, store.prefix, committed) is False
    store.chunks.upsert(  # a crash after parts were written, before the commit
        ids=["ghost:000:0"],
        embeddings=[[0.0] * 383 + [1.0]],
        documents=["ghost"],
        metadatas=[{"doc_id": "ghost", "doc_hash": "000", "start": 0, "end": 5, "ord": 0}],
    )
    assert has_orphans(settings.data_dir, store.prefix, committed) is True
    assert cli_index.unchanged(settings, [corpus]) is None, "repair needs Chroma"


def _modules_after(args: list[str], data: Path) -> tuple[int, str, set[str]]:
    """Run the CLI in a fresh interpreter; its exit code, stdout and top-level modules."""
    code = (
        "import sys, json\n"
        "from assistant.cli import main\n"
        f"rc = main({args!r})\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
        "sys.exit(rc)\n"
    )
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    *out, modules = done.stdout.strip().splitlines()
    return done.returncode, "\n".join(out), set(json.loads(modules))


def test_commands_import_only_what_they_use(tmp_path: Path, corpus: Path) -> None:
    settings, _ = build(tmp_path / "data", corpus)
    data = settings.data_dir
    rc, out, mods = _modules_after(["documents"], data)
    assert rc == 0 and "alpha.txt" in out and "beta.md" in out
    assert not mods & HEAVY, f"documents imported {sorted(mods & HEAVY)}"
    rc, out, mods = _modules_after(["ingest", str(corpus)], data)
    assert rc == 0 and "2 unchanged" in out
    assert not mods & HEAVY, f"an unchanged ingest imported {sorted(mods & HEAVY)}"
    rc, out, mods = _modules_after(["remove", "beta.md"], data)
    assert rc == 0 and "removed beta.md" in out
    assert not mods & (HEAVY - {"chromadb"}), f"remove imported {sorted(mods & HEAVY)}"
    rc, out, mods = _modules_after(["documents", "--json"], data)
    assert [d["source"] for d in json.loads(out)] == ["alpha.txt"]
