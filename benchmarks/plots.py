"""PNG plots of the benchmark results, for the README (docs/*.png)."""

from __future__ import annotations

from pathlib import Path


def plot(results: dict, out_dir: Path) -> list[Path]:
    """Draw ingest throughput and the 1x/4x/16x scaling; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    ingest = results["ingest"]
    names = ["ours", "ours (float32)", "tutorial"]
    values = [
        ingest["ours"]["chars_per_s"],
        ingest["ours_float32"]["chars_per_s"],
        ingest["tutorial"]["chars_per_s"],
    ]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar(names, values, color=["#0f766e", "#5eaaa0", "#9ca3af"])
    ax.set_ylabel("characters / second")
    ax.set_title("Ingest throughput, SQuAD 2.0 documents")
    for i, v in enumerate(values):
        ax.text(i, v, f"{v:,.0f}", ha="center", va="bottom")
    fig.tight_layout()
    path = out_dir / "bench-ingest.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    scaling = results.get("scaling")
    if scaling:
        sizes = list(scaling)
        chars = [scaling[s]["ours"]["chars"] for s in sizes]
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
        for who, colour in (("ours", "#0f766e"), ("tutorial", "#9ca3af")):
            a1.plot(
                chars, [scaling[s][who]["seconds"] for s in sizes], "o-", color=colour, label=who
            )
            a2.plot(
                chars,
                [scaling[s][who]["latency"]["p50_ms"] for s in sizes],
                "o-",
                color=colour,
                label=f"{who} ({'answer' if who == 'ours' else 'search only'})",
            )
        a1.set(xlabel="corpus characters", ylabel="ingest seconds", title="Ingest time")
        a2.set(xlabel="corpus characters", ylabel="p50 ms", title="Warm latency")
        for ax in (a1, a2):
            ax.set_xscale("log")
            ax.legend()
        fig.tight_layout()
        path = out_dir / "bench-scaling.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_risk_coverage(points: list[dict[str, float]], path: Path) -> Path:
    """Risk (share of given answers that are wrong) against coverage, by confidence cut-off."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot([p["coverage"] for p in points], [p["risk"] for p in points], "o-", color="#0f766e")
    for p in points[::4]:
        ax.annotate(f"≥{p['confidence_at_least']:.2f}", (p["coverage"], p["risk"]), fontsize=7)
    ax.set_xlabel("coverage (share of questions answered)")
    ax.set_ylabel("risk (share of answers wrong)")
    ax.set_title("SQuAD 2.0 subset, out-of-fold confidence")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 0.6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_scale(results: dict, out: Path) -> Path:
    """Answer latency and serving memory against the number of chunks (benchmarks.scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(results.values(), key=lambda r: r["chunks"])
    n = [r["chunks"] for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    a1.plot(n, [r["answer_p50_ms"] for r in rows], "o-", color="#0f766e", label="p50")
    a1.plot(n, [r["answer_p95_ms"] for r in rows], "s--", color="#0f766e", label="p95")
    a1.set_ylabel("answer latency, ms (HTTP)")
    a2.plot(n, [r["rss_mb"] for r in rows], "o-", color="#b45309", label="peak RSS")
    a2.plot(n, [r["rss_final_mb"] for r in rows], "s--", color="#b45309", label="after answering")
    a2.set_ylabel("serving process, MB")
    for ax in (a1, a2):
        ax.set_xscale("log")
        ax.set_xlabel("chunks in the index")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("assistant serve against index size (benchmarks.scale)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
