"""``make eval``: the quality table for the article dev set and the SQuAD 2.0 subset.

Each set runs through the real pipeline in a fresh temporary index. Results go to
``docs/quality.json``; the exit status is non-zero when a metric is below its floor in
``benchmarks/floors.json`` (the floors the README states).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.evalsets import load_items
from assistant.evaluate import METRICS, EvalResult, evaluate
from benchmarks.common import ARTICLE, ARTICLE_DEV, ROOT, SQUAD_CORPUS, SQUAD_JSON, machine

FLOORS = json.loads((Path(__file__).with_name("floors.json")).read_text(encoding="utf-8"))
RESULTS = ROOT / "docs" / "quality.json"
SETS = {"article-dev": (ARTICLE_DEV, [ARTICLE]), "squad2-subset": (SQUAD_JSON, [SQUAD_CORPUS])}


def below_floor(name: str, result: EvalResult) -> list[str]:
    """The metrics of ``result`` that miss their floor, described."""
    misses = []
    for key, (op, bound) in FLOORS[name].items():
        value = getattr(result, key)
        if (op == ">=" and value < bound) or (op == "<=" and value > bound):
            misses.append(f"{name}: {METRICS[key]} is {value:.3f}, floor {op} {bound}")
    return misses


def run(embedder=None) -> dict[str, EvalResult]:
    from benchmarks.common import temp_assistant

    results = {}
    for name, (questions, corpus) in SETS.items():
        assistant = temp_assistant(corpus, embedder)
        embedder = assistant.embedder
        results[name] = evaluate(assistant, load_items(questions), progress=sys.stderr.isatty())
    return results


def main() -> int:
    print(f"Machine: {machine()}")
    results = run()
    misses = []
    for name, result in results.items():
        print(f"\n{name}: {result.table()}")
        misses += below_floor(name, result)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps({"machine": machine(), **{n: r.as_dict() for n, r in results.items()}}, indent=2)
        + "\n",
        encoding="utf-8",
    )
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    for miss in misses:
        print(f"BELOW FLOOR: {miss}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
