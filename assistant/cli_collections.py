"""``--collection NAME`` on the commands, and ``assistant collections [list | delete NAME]``.

Only ``ingest`` creates a collection; every other command refuses a name that does not
exist (exit status 2), so a typo never starts an empty collection. Deleting asks first and,
without a terminal to ask on, refuses unless ``--yes`` says so.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from typing import Any

from assistant.cli_index import committed, open_store
from assistant.errors import InputError
from assistant.serve.registry import base_prefix, not_found
from index.collection_names import DEFAULT, NAME_RULE, check_name, existing, upload_dir


def add_collection_option(parser: argparse.ArgumentParser, creates: bool = False) -> None:
    what = "index into this collection (created if new)" if creates else "use this collection"
    parser.add_argument(
        "--collection", metavar="NAME", help=f"{what}; default: the default collection"
    )


def collection_of(args: argparse.Namespace) -> str:
    """The checked ``--collection`` of a command (``default`` when not given)."""
    return check_name(getattr(args, "collection", None))


def require(settings: Any, name: str) -> str:
    """``name`` if that collection exists; ``NotFoundError`` (exit status 2) otherwise."""
    if name != DEFAULT and name not in existing(
        settings.data_dir,
        settings.chroma_url,
        base_prefix(settings),
        settings.index.chroma_timeout_s,
    ):
        raise not_found(name)
    return name


def _counts(settings: Any, name: str) -> tuple[int, int]:
    """Documents and chunks of a collection, read without a model where the store allows."""
    records = committed(settings, name)
    return len(records), sum(int(m.get("chunks", 0)) for m in records.values())


def cmd_collections(args: argparse.Namespace, settings: Any) -> int:
    if args.action == "delete":
        return _delete(args, settings)
    if args.name:
        raise InputError("Only `assistant collections delete NAME` takes a name.")
    rows = []
    timeout = settings.index.chroma_timeout_s
    for name in existing(settings.data_dir, settings.chroma_url, base_prefix(settings), timeout):
        docs, chunks = _counts(settings, name)
        rows.append({"name": name, "documents": docs, "chunks": chunks})
    if args.json:
        print(json.dumps(rows))
        return 0
    for row in rows:
        print(f"{row['name']}\t{row['documents']} documents\t{row['chunks']} chunks")
    return 0


def _delete(args: argparse.Namespace, settings: Any) -> int:
    if not args.name:
        raise InputError("Name the collection to delete: assistant collections delete NAME.")
    name = check_name(args.name)
    if name == DEFAULT:
        raise InputError(
            "The default collection cannot be deleted; remove its documents with "
            "`assistant remove NAME...` instead."
        )
    require(settings, name)
    docs, _ = _counts(settings, name)
    uploads = upload_dir(settings.data_dir, name)
    if not args.yes:
        if not sys.stdin.isatty():
            raise InputError(
                f"Refusing to delete collection {name!r} without confirmation: stdin is not "
                "a terminal. Pass --yes to delete it from a script."
            )
        extra = f" and its uploaded files ({uploads.name}/)" if uploads.is_dir() else ""
        prompt = (
            f"Delete collection {name!r} with its {docs} documents{extra}? "
            f"This cannot be undone. Type the name to confirm: "
        )
        if input(prompt).strip() != name:
            print("Not deleted.", file=sys.stderr)
            return 1
    open_store(settings, name).drop()
    if uploads.is_dir():
        shutil.rmtree(uploads)
    print(f"deleted collection {name} ({docs} documents)")
    return 0


def add_collections_parser(sub: Any, common: argparse.ArgumentParser, func: Any) -> None:
    p = sub.add_parser(
        "collections",
        parents=[common],
        help="list the collections, or delete one",
        description=f"Collection names: {NAME_RULE}.",
    )
    p.add_argument("action", nargs="?", choices=["list", "delete"], default="list")
    p.add_argument("name", nargs="?", help="the collection to delete")
    p.add_argument("--yes", action="store_true", help="delete without asking (for scripts)")
    p.add_argument("--json", action="store_true", help="list as JSON")
    p.set_defaults(func=func)
