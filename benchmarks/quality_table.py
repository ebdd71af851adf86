"""The README's quality table, from ``docs/quality.json`` and ``benchmarks/floors.json``.

Run ``python -m benchmarks.quality_table`` after ``make eval`` and paste its output into the
README's "Quality" section, so the figures there are the ones ``make eval`` wrote.
"""

from __future__ import annotations

import json

from assistant.ops.evaluate import METRICS
from benchmarks.quality import FLOORS, RESULTS

COLUMNS = (
    ("squad2-subset", "SQuAD 2.0, out-of-fold"),
    ("reader", "Reader set, out-of-domain"),
    ("heldout", "Held-out set, first run"),
    ("article-dev", "Article dev, out-of-domain"),
    ("issue-examples", "Issue examples"),
    ("reader-dev", "Reader dev, development"),
    ("squad2-from-article", "SQuAD, fitted on article dev"),
)


def floor_cell(name: str, key: str) -> str:
    op, bound = FLOORS.get(name, {}).get(key, (None, None))
    return "" if op is None else f"{'≥' if op == '>=' else '≤'} {bound:.0%}"


def table(results: dict) -> str:
    """Markdown: one row per metric, a figure and its floor per question set."""
    head = ["Metric"]
    for name, label in COLUMNS:
        head += [f"{label} ({results[name]['questions']:,} q)", "floor"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label in METRICS.items():
        cells = [label]
        for name, _ in COLUMNS:
            value = results[name][key]
            if key.endswith("_unanswerable") and not results[name]["unanswerable"]:
                shown = "—"
            elif key.startswith("latency"):
                shown = f"{value:.1f}" if value else "—"
            else:
                shown = f"{value:.1%}"
            cells += [shown, floor_cell(name, key)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def risk_table(results: dict) -> str:
    """Markdown: the out-of-fold SQuAD risk-coverage curve, every 0.1 of confidence."""
    lines = ["| confidence ≥ | coverage | risk |", "|---|---|---|"]
    for point in results["risk_coverage_squad2_out_of_fold"][::2]:
        at, coverage, risk = point["confidence_at_least"], point["coverage"], point["risk"]
        lines.append(f"| {at:.2f} | {coverage:.1%} | {risk:.1%} |")
    return "\n".join(lines)


if __name__ == "__main__":
    found = json.loads(RESULTS.read_text(encoding="utf-8"))
    print(table(found), risk_table(found), sep="\n\n")
