"""How ingest time, memory and answer latency grow with corpus size: 1x, 4x, 16x.

1x is the five SQuAD documents; larger corpora are made offline from them: each copy is a
new document (its paragraphs rotated and renamed), so nothing is skipped as unchanged. Each
pipeline runs in a fresh process per size, so peak memory is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from assistant.ops.evalsets import load_items
from benchmarks.common import SQUAD_CORPUS, SQUAD_JSON

SIZES = (1, 4, 16)


def make_corpus(factor: int, into: Path) -> Path:
    """``factor`` copies of the SQuAD documents, each a distinct document."""
    into.mkdir(parents=True, exist_ok=True)
    for doc in sorted(SQUAD_CORPUS.glob("*.txt")):
        paragraphs = doc.read_text(encoding="utf-8").split("\n\n")
        for copy in range(factor):
            shift = copy % len(paragraphs)
            rotated = paragraphs[shift:] + paragraphs[:shift]
            (into / f"{doc.stem}-{copy:02d}.txt").write_text("\n\n".join(rotated), "utf-8")
    return into


def worker(which: str, corpus: Path, questions: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", which, str(corpus), str(questions)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(sizes: tuple[int, ...] = SIZES, n_questions: int = 100) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="assistant-scale-"))
    qfile = tmp / "questions.json"
    qfile.write_text(json.dumps([i.question for i in load_items(SQUAD_JSON)][:n_questions]))
    results: dict = {}
    for factor in sizes:
        corpus = make_corpus(factor, tmp / f"x{factor}")
        row = {name: worker(name, corpus, qfile) for name in ("ours", "tutorial")}
        results[f"{factor}x"] = row
        o, t = row["ours"], row["tutorial"]
        print(
            f"  {factor:>3}x {o['chars']:>10,} chars | ours {o['seconds']:6.1f} s, "
            f"{o['chars'] / o['seconds']:>7,.0f} chars/s, peak {o['peak_rss_mb']:5.0f} MB, "
            f"p50 {o['latency']['p50_ms']:5.1f} ms | tutorial {t['seconds']:6.1f} s, "
            f"{t['chars'] / t['seconds']:>7,.0f} chars/s, peak {t['peak_rss_mb']:5.0f} MB, "
            f"search p50 {t['latency']['p50_ms']:5.1f} ms"
        )
    return results
