"""LangChain's tutorial pipeline as one-shot commands, the baseline of ``benchmarks.startup``.

``python -m benchmarks.tutorial_cli ingest|documents|ask DIR [PATH|QUESTION]``: the code a
tutorial reader writes (RecursiveCharacterTextSplitter(1000, 200) + HuggingFaceEmbeddings +
Chroma with a persist directory + similarity_search(k=4)), one process per command, as
``benchmarks.worker`` runs it in-process. It has no change detection, so its re-ingest embeds
everything again; it has no server.
"""

from __future__ import annotations

import sys
from pathlib import Path

import benchmarks.common  # noqa: F401 - offline environment first


def _store(folder: Path):
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings

    from index.encoders import resolve_model

    emb = HuggingFaceEmbeddings(
        model_name=resolve_model("all-MiniLM-L6-v2"), model_kwargs={"device": "cpu"}
    )
    return Chroma(collection_name="tutorial", embedding_function=emb, persist_directory=str(folder))


def main(argv: list[str]) -> int:
    command, folder = argv[0], Path(argv[1])
    store = _store(folder)
    if command == "ingest":
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        path = Path(argv[2])
        doc = Document(
            page_content=path.read_text(encoding="utf-8"), metadata={"source": path.name}
        )
        splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(
            [doc]
        )
        store.add_documents(splits)
        print(f"{len(splits)} chunks added")
    elif command == "documents":
        metadatas = store.get(include=["metadatas"])["metadatas"]
        for source in sorted({m.get("source", "?") for m in metadatas}):
            print(source)
    elif command == "ask":
        for d in store.similarity_search(argv[2], k=4):
            print(d.metadata.get("source"), d.page_content[:100].replace("\n", " "))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
