"""A 300-page PDF through ``assistant ingest``: time, peak memory, and the page a citation opens.

The report is generated here (reportlab, offline, deterministic): every page holds a heading
and three paragraphs, and one sentence per page states a fact found nowhere else, about a
harbour whose made-up name only that page uses ("The harbour of Brenvik handled 8,029 ships
in district 217."), so a question about that harbour must be cited on that page.
``assistant ingest`` runs as a fresh process on a fresh data dir; its peak resident memory
(``ru_maxrss`` of that process) is what ``make bench`` reports, beside the same command on a
one-page and a 100-page PDF, so what the pages add is visible. A first, discarded ingest
warms the encoder cache, so no run pays for writing the ONNX graph.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGES = 300
_WORDS = (  # noqa: SIM905 - a word list reads better as text
    "annual budget committee harbour river council survey freight tonnage pier dredging "
    "storage warehouse rail road tariff customs inspection ledger audit port authority "
    "investment maintenance schedule capacity growth decline season winter summer cargo "
    "container vessel crane berth channel depth tide lock bridge terminal transit"
).split()


_SYLLABLES = ["bren", "kas", "tor", "vel", "mar", "dun", "hal", "sket", "lor"]
_SYLLABLES += ["fen", "gry", "mok", "tav", "sel", "vik", "rund", "ost", "pel"]
_ENDINGS = ["vik", "holt", "mouth", "stad", "by", "havn", "ness", "wick"]


def harbour(page: int) -> str:
    """A made-up harbour name that only ``page`` uses (deterministic, distinct per page)."""
    a, rest = divmod(page - 1, len(_SYLLABLES) * len(_ENDINGS))
    b, c = divmod(rest, len(_ENDINGS))
    first = _SYLLABLES[(page * 7) % len(_SYLLABLES)] + _SYLLABLES[b]
    return (first + ("a" * a) + _ENDINGS[c]).capitalize()


def fact(page: int) -> tuple[str, str]:
    """The one sentence only ``page`` states, and the question it answers."""
    ships = 1000 + (page * 7919) % 9000
    return (
        f"The harbour of {harbour(page)} handled {ships:,} ships in district {page}.",
        f"How many ships did the harbour of {harbour(page)} handle?",
    )


def _paragraph(rng: random.Random, sentences: int) -> str:
    out = []
    for _ in range(sentences):
        words = rng.sample(_WORDS, rng.randint(9, 15))
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def _wrap(text: str, width: int = 92) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def make_report(path: Path, pages: int = PAGES, seed: int = 14) -> Path:
    """Write the ``pages``-page report to ``path``; returns it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    rng = random.Random(seed)
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    pdf.setTitle(f"Harbour survey: {pages} districts")
    width, height = A4
    for page in range(1, pages + 1):
        y = height - 60
        heading = f"District {page}: harbour and freight"
        pdf.setFont("Helvetica-Bold", 13)
        pdf.drawString(56, y, heading)
        pdf.bookmarkPage(f"p{page}")
        pdf.addOutlineEntry(heading, f"p{page}", level=0)
        y -= 26
        pdf.setFont("Helvetica", 10)
        paragraphs = [_paragraph(rng, 4), fact(page)[0] + " " + _paragraph(rng, 3)]
        paragraphs.append(_paragraph(rng, 4))
        for text in paragraphs:
            for line in _wrap(text):
                pdf.drawString(56, y, line)
                y -= 13
            y -= 9
        pdf.setFont("Helvetica", 8)
        pdf.drawCentredString(width / 2, 30, f"Harbour survey - page {page}")
        pdf.showPage()
    pdf.save()
    return path


def ingest_process(pdf: Path, data_dir: Path) -> dict:
    """``assistant ingest PDF`` as a fresh process: seconds, peak RSS, its summary line."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    code = (
        "import resource, sys\n"
        "from assistant.cli import main\n"
        "rc = main(['ingest', sys.argv[1]])\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print('PEAK_RSS_MB', peak)\n"
        "sys.exit(rc)\n"
    )
    began = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, str(pdf)], capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - began
    if out.returncode != 0:
        raise SystemExit(f"ingest of {pdf.name} failed:\n{out.stdout}\n{out.stderr}")
    lines = out.stdout.strip().splitlines()
    peak = float(next(x for x in lines if x.startswith("PEAK_RSS_MB")).split()[1])
    summary = next((x for x in lines if "documents indexed" in x), "")
    return {"seconds": seconds, "peak_rss_mb": peak, "summary": summary}


def ask_page(data_dir: Path, page: int) -> dict:
    """Ask the question only ``page`` answers; returns the first citation's page and text."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", fact(page)[1], "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    first = answer["citations"][0] if answer["citations"] else {}
    return {"asked_page": page, "cited_page": first.get("page"), "text": first.get("text", "")}


def main(pages: int = PAGES, probe_pages: tuple[int, ...] = (3, 150, 297)) -> dict:
    """Ingest 1-, 100- and ``pages``-page PDFs, each in a fresh process; ask about pages."""
    tmp = Path(tempfile.mkdtemp(prefix="assistant-large-pdf-"))
    began = time.perf_counter()
    big = make_report(tmp / "harbour-survey.pdf", pages)
    made = time.perf_counter() - began
    ingest_process(make_report(tmp / "warm-up.pdf", 1), tmp / "data-warm-up")
    runs = {}
    for n in sorted({1, min(100, pages), pages}):
        pdf = big if n == pages else make_report(tmp / f"report-{n}.pdf", n)
        runs[n] = ingest_process(pdf, tmp / f"data-{n}")
        runs[n]["file_mb"] = pdf.stat().st_size / 1e6
    probes = [ask_page(tmp / f"data-{pages}", p) for p in probe_pages if p <= pages]
    large, one = runs[pages], runs[1]
    result = {
        "pages": pages,
        "file_mb": big.stat().st_size / 1e6,
        "generate_s": made,
        "runs": {str(n): r for n, r in runs.items()},
        "peak_rss_mb": large["peak_rss_mb"],
        "extra_rss_mb": large["peak_rss_mb"] - one["peak_rss_mb"],
        "probes": probes,
        "pages_right": sum(p["cited_page"] == p["asked_page"] for p in probes),
    }
    for n, r in runs.items():
        print(
            f"  {n:>4}-page PDF ({r['file_mb']:.2f} MB): ingest {r['seconds']:5.1f} s, "
            f"peak RSS {r['peak_rss_mb']:.0f} MB"
        )
    print(
        f"  the {pages} pages add {result['extra_rss_mb']:+.0f} MB over one page; citations "
        f"on the asked page: {result['pages_right']}/{len(probes)}"
    )
    return result


if __name__ == "__main__":
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else PAGES
    print(json.dumps(main(pages), indent=2))
