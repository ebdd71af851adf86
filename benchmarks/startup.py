"""Start-up, whole process: our CLI and server against LangChain's tutorial pipeline.

``python -m benchmarks.startup [--runs N] [--ours-only]`` (``make startup``; part of
``make bench``). Each
command is a fresh process, run N times (default 5) over an index of the bundled sample
article; reported: median and fastest wall time, median CPU time (user + sys, which a busy
machine inflates far less than wall time) and peak memory (max RSS). The load average
before and after is printed and recorded: on a machine shared with other work, wall times
are upper bounds. ``serve`` is timed from the start of ``assistant serve`` on an empty data
dir to the first answer of ``POST /api/ask`` (model load and sample ingest included).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from benchmarks.common import ARTICLE, ROOT, machine

QUESTION = "How many leaders attended the Coalition of the Willing meeting?"
TARGETS = {"documents": 1.0, "ask": 2.5, "reingest": 1.5, "serve": 5.0}  # issue 13, seconds


def _run(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall time, CPU time and peak RSS of one child process."""
    began = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} failed ({proc.returncode}): {stderr[-2000:]}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }


def _summary(samples: list[dict[str, float]]) -> dict[str, float]:
    """Median and best wall time, median CPU and the largest peak RSS of repeated runs."""
    walls = [s["wall_s"] for s in samples]
    return {
        "median_s": statistics.median(walls),
        "min_s": min(walls),
        "cpu_median_s": statistics.median(s["cpu_s"] for s in samples),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in samples),
        "runs": len(samples),
    }


def _repeat(argv: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    return _summary([_run(argv, env) for _ in range(runs)])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_once(env: dict[str, str], timeout_s: float = 120.0) -> dict[str, float]:
    """``assistant serve`` on an empty data dir: seconds to the first answer, and peak RSS."""
    port = _free_port()
    env = {**env, "ASSISTANT_DATA_DIR": tempfile.mkdtemp(prefix="assistant-serve-")}
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    body = json.dumps({"question": QUESTION}).encode()
    url = f"http://127.0.0.1:{port}/api/ask"
    try:
        while True:
            if time.perf_counter() - began > timeout_s or proc.poll() is not None:
                raise RuntimeError("the server gave no answer")
            req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310
                    if resp.status == 200 and json.loads(resp.read())["citations"]:
                        break
            except OSError:
                time.sleep(0.05)
        first = time.perf_counter() - began
    finally:
        proc.terminate()
        _, _, usage = os.wait4(proc.pid, 0)
    return {
        "wall_s": first,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }


def _serve(env: dict[str, str], runs: int) -> dict[str, float]:
    return _summary([_serve_once(env) for _ in range(runs)])


def main(runs: int = 5, tutorial: bool = True) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    env.pop("ASSISTANT_DATA_DIR", None)
    ours_dir, tut_dir = tempfile.mkdtemp(prefix="su-ours-"), tempfile.mkdtemp(prefix="su-tut-")
    cli = [sys.executable, "-m", "assistant"]
    tut = [sys.executable, "-m", "benchmarks.tutorial_cli"]
    load_before = os.getloadavg()
    results: dict = {"machine": machine(), "load_before": load_before, "ours": {}, "tutorial": {}}
    results["ours"]["first_ingest"] = _run(
        [*cli, "ingest", str(ARTICLE), "--data-dir", ours_dir], env
    )
    if tutorial:
        results["tutorial"]["first_ingest"] = _run([*tut, "ingest", tut_dir, str(ARTICLE)], env)
    commands = {
        "documents": ([*cli, "documents", "--data-dir", ours_dir], [*tut, "documents", tut_dir]),
        "ask": ([*cli, "ask", QUESTION, "--data-dir", ours_dir], [*tut, "ask", tut_dir, QUESTION]),
        "reingest": (
            [*cli, "ingest", str(ARTICLE), "--data-dir", ours_dir],
            [*tut, "ingest", tut_dir, str(ARTICLE)],
        ),
    }
    for name, (ours, theirs) in commands.items():
        results["ours"][name] = _repeat(ours, env, runs)
        results["tutorial"][name] = _repeat(theirs, env, runs) if tutorial else None
    results["ours"]["serve"] = _serve(env, max(1, runs // 2))
    results["tutorial"]["serve"] = None  # the tutorial pipeline has no server
    results["load_after"] = os.getloadavg()
    _print(results)
    return results


def _print(results: dict) -> None:
    print(
        f"  {results['machine']}; load average {results['load_before'][0]:.1f} before, "
        f"{results['load_after'][0]:.1f} after"
    )
    head = ("ours: median / min / cpu / peak", "tutorial: median / cpu / peak")
    print(f"  {'':10s} {head[0]:>40s}   {head[1]:>34s}")
    for name in ("documents", "ask", "reingest", "serve"):
        o, t = results["ours"][name], results["tutorial"][name]
        target = TARGETS[name]
        mark = "ok" if o["median_s"] <= target else f"over {target:.1f} s"
        ours = (
            f"{o['median_s']:6.2f} s / {o['min_s']:5.2f} s / {o['cpu_median_s']:5.2f} s / "
            f"{o['peak_rss_mb']:5.0f} MB"
        )
        tut = (
            f"{t['median_s']:6.2f} s / {t['cpu_median_s']:5.2f} s / {t['peak_rss_mb']:5.0f} MB"
            if t
            else f"{'n/a (not run)' if name != 'serve' else 'n/a (no server)':>30s}"
        )
        print(f"  {name:10s} {ours:>40s}   {tut:>34s}   {mark}")


if __name__ == "__main__":
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
    out = main(runs, tutorial="--ours-only" not in sys.argv)
    path = ROOT / "docs" / ("startup-ours.json" if "--ours-only" in sys.argv else "startup.json")
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")
