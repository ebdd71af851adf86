"""``python -m benchmarks`` (``make bench``): every speed benchmark, results in docs/.

Parts: ingest and latency against the tutorial pipeline (same process, same corpus); growth
with corpus size (1x, 4x, 16x, a fresh process per pipeline and size, with peak memory);
time from ``assistant serve`` to the page and the first answer; start-up of each CLI command
against the tutorial pipeline (``benchmarks.startup``); a generated 300-page PDF through
``assistant ingest`` with its peak memory (``benchmarks.large_pdf``). ``--quick`` skips the
16x corpus.
"""

import json
import sys

from benchmarks import large_pdf, scaling, serve_timing, speed, startup
from benchmarks.common import ROOT
from benchmarks.plots import plot

quick = "--quick" in sys.argv
results = speed.main()
print("\nGrowth with corpus size (fresh process each):")
results["scaling"] = scaling.main(sizes=(1, 4) if quick else scaling.SIZES)
print("\nStart-up:")
results["serve"] = serve_timing.main()
print("\nStart-up of each command, whole process, against the tutorial pipeline:")
results["startup"] = startup.main(runs=3 if quick else 5)
print("\nA 300-page PDF through `assistant ingest` (fresh process, peak memory):")
results["large_pdf"] = large_pdf.main()
out = ROOT / "docs" / "bench.json"
out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
for path in [out, *plot(results, ROOT / "docs")]:
    print(f"wrote {path.relative_to(ROOT)}")
