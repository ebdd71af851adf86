"""The README states the quality floors and the table make eval wrote."""

from __future__ import annotations

from benchmarks.quality import FLOORS
from tests.conftest import ROOT


def test_readme_states_the_floors() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    from assistant.ops.evaluate import METRICS

    rows = {
        line.split("|")[1].strip(): line for line in readme.splitlines() if line.startswith("| ")
    }
    for name, floors in FLOORS.items():
        for key, (op, bound) in floors.items():
            cell = f"{'≥' if op == '>=' else '≤'} {bound:.0%}"
            assert METRICS[key] in rows, f"README quality table lacks {METRICS[key]!r}"
            assert cell in rows[METRICS[key]], (name, key, cell)


def test_readme_table_is_the_one_make_eval_wrote() -> None:
    """The README's figures are docs/quality.json's (``python -m benchmarks.quality_table``)."""
    import json

    from benchmarks.quality import RESULTS
    from benchmarks.quality_table import risk_table, table

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = json.loads(RESULTS.read_text(encoding="utf-8"))
    assert table(found) in readme
    assert risk_table(found) in readme
