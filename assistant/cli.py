"""Command line: ``assistant ingest | remove | documents | collections | ask | eval | doctor |
serve``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant import offline
from assistant.cli_collections import (
    add_collection_option,
    add_collections_parser,
    collection_of,
    require,
)
from assistant.cli_index import documents, open_store, unchanged
from assistant.errors import AssistantError, InputError
from assistant.types import Answer

offline.apply()  # before any heavy library is imported


def _settings(args: argparse.Namespace) -> Any:
    """The settings, with the command's flags as overrides of the env (checked alike)."""
    from assistant.settings import Settings

    overrides: dict[str, Any] = {}
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
    if getattr(args, "chroma_url", None):
        overrides["chroma_url"] = args.chroma_url
    if getattr(args, "llm", None):
        overrides["llm"] = args.llm
    server = {"host": getattr(args, "host", None), "port": getattr(args, "port", None)}
    if server := {k: v for k, v in server.items() if v is not None and v != ""}:
        overrides["server"] = server  # merged with ASSISTANT_SERVER__* by pydantic-settings
    return Settings(**overrides)


def _assistant(args: argparse.Namespace, warm: bool = False, settings: Any = None) -> Any:
    """The assistant; with ``warm``, the encoder loads on a second thread meanwhile (Chroma and
    LangChain take a second to import, the encoder's session half that, mostly off the GIL)."""
    from assistant.core import Assistant

    settings = settings or _settings(args)
    collection = require(settings, collection_of(args))  # a reader never creates one
    if not warm:
        return Assistant(settings, collection=collection)
    import threading

    from index.encoders import LazyEmbeddings

    embedder = LazyEmbeddings(settings)
    warming = threading.Thread(target=_warm, args=(embedder,), name="encoder-warm", daemon=True)
    warming.start()
    _WARMING.append(warming)
    return Assistant(settings, embedder=embedder, collection=collection)


_WARMING: list[Any] = []  # encoder loads still running; joined before the process exits


def _settle() -> None:
    """Wait for encoder loads still running: a process that exits while ONNX Runtime builds
    its session on another thread aborts in C++ ("terminate called without an active
    exception", exit -6) instead of returning its own exit code."""
    while _WARMING:
        _WARMING.pop().join(timeout=60)


def _warm(embedder: Any) -> None:
    try:
        embedder.warm()
        from assistant.answer import rarity

        rarity.warm()  # the word frequencies the answerer reads, off the main thread too
    except Exception:  # the first real call reports it, in the main thread
        logging.getLogger(__name__).debug("Warming the encoder failed.", exc_info=True)


def format_answer(answer: Answer, with_text: bool = True) -> str:
    """The answer, then its numbered sources with their offsets."""
    lines = [answer.answer, ""] if with_text else []
    if answer.citations:
        lines.append("Closest passages:" if answer.abstained else "Sources:")
        for c in answer.citations:
            page = f", page {c.page}" if c.page else ""
            where = f"{c.source}{page}, chars {c.start}-{c.end}" + (f", {c.date}" if c.date else "")
            lines.append(f"  [{c.n}] {where} (score {c.score:.2f})")
            lines.append(f"      \u201c{c.text}\u201d")
    lines.extend(
        f"Not supported by the sources: \u201c{c}\u201d" for c in answer.unsupported_claims
    )
    lines.extend(f"Note: {n}" for n in answer.notes)
    return "\n".join(lines).rstrip()


def cmd_ingest(args: argparse.Namespace) -> int:
    from index.encoders import LazyEmbeddings
    from index.ingest import ingest

    settings = _settings(args)
    embedder = LazyEmbeddings(settings)  # unchanged files load no model
    idx = settings.index
    paths = [Path(p) for p in args.paths]
    collection = collection_of(args)
    report = None if args.sync else unchanged(settings, paths, collection)
    if report is not None:
        print(report.summary())
        return 0
    report = ingest(
        paths,
        open_store(settings, collection, embedder),
        embedder,
        chunk_tokens=idx.chunk_tokens,
        unit_tokens=idx.unit_tokens,
        max_bytes=int(idx.max_file_mb * 1e6),
        sync=args.sync,
        progress=None if sys.stderr.isatty() else False,
    )
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(report.summary())
    return 1 if report.errors else 0


def cmd_remove(args: argparse.Namespace) -> int:
    from index.ingest import remove

    settings = _settings(args)
    collection = require(settings, collection_of(args))
    removed = remove(args.names, open_store(settings, collection))
    for name in removed:
        print(f"removed {name}")
    missing = set(args.names) - set(removed)
    for name in sorted(missing):
        print(f"error: {name}: not in the index", file=sys.stderr)
    return 1 if missing and not removed else 0


def cmd_documents(args: argparse.Namespace) -> int:
    settings = _settings(args)
    docs = documents(settings, require(settings, collection_of(args)))
    if args.json:
        print(json.dumps([d.model_dump() for d in docs], ensure_ascii=False))
        return 0
    for d in docs:
        print(f"{d.source}\t{d.date or '-'}\t{d.chunks} chunks\t{d.chars:,} chars\t{d.indexed_at}")
    if not docs:
        print("The index is empty: run `assistant ingest PATH`.")
    return 0


def _jsonl(assistant: Any) -> int:
    """One JSON request per input line, one JSON response per output line."""
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise InputError("each line must be a JSON object")
            out: dict[str, Any] = assistant.answer(
                request.get("question", ""), request.get("history")
            ).model_dump()
        except json.JSONDecodeError as exc:
            out = {"error": f"line {n}: not valid JSON ({exc.msg})"}
        except AssistantError as exc:
            out = {"error": f"line {n}: {exc}"}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    if args.jsonl:
        return _jsonl(_assistant(args, warm=True))
    if args.question is None:
        raise InputError('Give a question, e.g. assistant ask "Who attended?", or use --jsonl.')
    from assistant.textguard import check_question

    settings = _settings(args)
    check_question(args.question, settings.answer.max_question_chars)  # before any load
    assistant = _assistant(args, warm=True, settings=settings)
    if not args.json and getattr(assistant, "generative", None) is not None:
        return _ask_streaming(assistant, args.question)
    answer = assistant.answer(args.question)
    if args.json:
        print(json.dumps(answer.model_dump(), ensure_ascii=False))
    else:
        print(format_answer(answer))
    return 0


def _ask_streaming(assistant: Any, question: str) -> int:
    """Print the LLM's tokens as they arrive, then the checked answer if it differs."""
    streamed = ""
    for item in assistant.stream(question):
        if isinstance(item, Answer):
            if not streamed:
                print(format_answer(item))
            elif item.answer.strip() == streamed.strip():
                print("\n\n" + format_answer(item, with_text=False))
            else:
                print("\n\nChecked answer:\n" + format_answer(item))
            return 0
        streamed += item
        print(item, end="", flush=True)
    return 1


def cmd_eval(args: argparse.Namespace) -> int:
    import tempfile

    from assistant.core import Assistant
    from assistant.ops.evalsets import load_items
    from assistant.ops.evaluate import evaluate

    items = load_items(Path(args.dataset))
    settings = _settings(args)
    collection = None if args.corpus else require(settings, collection_of(args))
    if args.corpus:
        settings = settings.model_copy(
            update={
                "data_dir": Path(tempfile.mkdtemp(prefix="assistant-eval-")),
                "chroma_url": None,
            }
        )
    assistant = Assistant(settings, collection=collection)
    if args.corpus:
        report = assistant.ingest([Path(p) for p in args.corpus], progress=False)
        for error in report.errors:
            print(f"error: {error}", file=sys.stderr)
    result = evaluate(assistant, items, progress=sys.stderr.isatty())
    print(json.dumps(result.as_dict()) if args.json else result.table())
    return 0


def cmd_collections(args: argparse.Namespace) -> int:
    from assistant.cli_collections import cmd_collections as run

    return run(args, _settings(args))


def cmd_doctor(args: argparse.Namespace) -> int:
    import dataclasses

    from assistant.ops.doctor import format_doctor, run_doctor

    report = run_doctor(_settings(args))
    if args.json:
        print(json.dumps(dataclasses.asdict(report), default=str, ensure_ascii=False))
    else:
        print(format_doctor(report))
    return 1 if report.problems else 0


def cmd_serve(args: argparse.Namespace) -> int:
    import threading

    from assistant.serve.server import serve

    settings = _settings(args)
    # The assistant is built once the server runs, after the UI; load what it needs
    # meanwhile (the encoder's session and Chroma's native start-up run off the GIL).
    threading.Thread(target=_preload, args=(settings,), name="preload", daemon=True).start()
    serve(settings)
    return 0


def _preload(settings: Any) -> None:
    try:
        from index.encoders import make_embedder

        make_embedder(settings).encode(["warm up"])
        from index.chroma_client import import_chromadb

        import_chromadb()  # a leaf for the UI's imports: no import cycle across threads
    except Exception:  # the real build reports any failure
        logging.getLogger(__name__).debug("Preloading failed.", exc_info=True)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", help="index location (default: $ASSISTANT_DATA_DIR or a per-user data folder)"
    )
    common.add_argument("--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8000")
    common.add_argument(
        "--llm",
        help="`extractive` (default) or a LangChain provider:model, "
        "e.g. openai:gpt-4o-mini, ollama:llama3.2 (default: $ASSISTANT_LLM)",
    )
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", parents=[common], help="index files and folders")
    p.add_argument("paths", nargs="+", help=".txt .md .html .htm .pdf files or folders")
    p.add_argument("--sync", action="store_true", help="also drop documents whose file is gone")
    add_collection_option(p, creates=True)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("remove", parents=[common], help="drop documents from the index")
    p.add_argument("names", nargs="+", help="file names, paths or document ids")
    add_collection_option(p)
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("documents", parents=[common], help="list the indexed documents")
    p.add_argument("--json", action="store_true")
    add_collection_option(p)
    p.set_defaults(func=cmd_documents)

    add_collections_parser(sub, common, cmd_collections)

    p = sub.add_parser("ask", parents=[common], help="answer a question with citations")
    p.add_argument("question", nargs="?")
    add_collection_option(p)
    p.add_argument("--json", action="store_true", help="print the Answer JSON")
    p.add_argument(
        "--jsonl",
        action="store_true",
        help="read JSON requests from stdin, one per line; write one JSON response per line",
    )
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", parents=[common], help="measure answers, citations, abstention")
    p.add_argument("dataset", help="our .jsonl question set or a SQuAD 2.0 .json file")
    p.add_argument(
        "--corpus",
        nargs="+",
        help="index these files/folders into a temporary "
        "index first (default: ask the configured index)",
    )
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    add_collection_option(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "doctor", parents=[common], help="what would be contacted, model and data dir state"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("serve", parents=[common], help="start the chat UI, widget and API")
    p.add_argument("--host", help="interface (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 7860)")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.command in ("serve", "ingest") else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "chromadb", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        _settle()


if __name__ == "__main__":
    sys.exit(main())
