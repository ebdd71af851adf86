"""Scale: a store of N chunks, then a real ``assistant serve`` on it, measured from outside.

``python -m benchmarks.scale --chunks N [--json]`` builds the store in a fresh process
(``benchmarks.scale_corpus``: SQuAD ingested for real, filler up to N), starts ``assistant
serve`` on it in another, and measures over HTTP: cold start (spawn to first answer),
answer latency over distinct SQuAD questions (sequential, client-side wall time of
``POST /api/ask``; the server's own ``timing_ms.total`` beside it), the serving process's
peak and final RSS, the time until a new document is answerable (uploaded to the running
server; and ingested by a separate ``assistant ingest`` process), and the data dir's size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, SQUAD_JSON, machine

TOKEN = "scale-benchmark-token"


def new_docs() -> dict[str, tuple[str, str]]:
    """Two documents with facts found nowhere else, new on every run (so a kept store can be
    measured again): file name -> (text, question that only it answers)."""
    tag = "".join(random.choice("bcdfghjklmnpqrstvwxz") for _ in range(6))
    return {
        f"bridge-{tag}.txt": (
            f"The Zorblat{tag} bridge over the river Quenfor was opened in 1931 by mayor Elsa "
            "Trintwhistle. It carries two tracks of the valley railway and a footpath. "
            "Its central span is 212 metres long.",
            f"Who opened the Zorblat{tag} bridge?",
        ),
        f"lighthouse-{tag}.txt": (
            f"The Vashkir{tag} lighthouse was first lit in 1887 by keeper Orrin Maldeveque. "
            "Its lamp burned whale oil until 1921. The tower is painted in red and white bands.",
            f"Who first lit the Vashkir{tag} lighthouse?",
        ),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def proc_memory(pid: int) -> dict[str, float]:
    """VmHWM (peak) and VmRSS of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            found[key] = int(value.split()[0]) / 1024
    return found


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def ask(client: Any, url: str, question: str) -> tuple[float, dict]:
    began = time.perf_counter()
    r = client.post(f"{url}/api/ask", json={"question": question})
    ms = (time.perf_counter() - began) * 1000
    return ms, (r.json() if r.status_code == 200 else {"status": r.status_code})


def until_cited(client: Any, url: str, question: str, source: str, limit_s: float) -> float:
    """Seconds until an answer to ``question`` cites ``source`` (or ``limit_s`` passes)."""
    began = time.perf_counter()
    while time.perf_counter() - began < limit_s:
        _, body = ask(client, url, question)
        if any(c.get("source") == source for c in body.get("citations", [])):
            return time.perf_counter() - began
        time.sleep(0.02)
    return float("inf")


def serve_env(data: Path, code: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(code),
        "ASSISTANT_DATA_DIR": str(data),
        "ASSISTANT_ADMIN_TOKEN": TOKEN,
        "ASSISTANT_SERVER__RATE_LIMIT_PER_MINUTE": "1000000",
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }


def measure(data: Path, questions: list[Any], code: Path, work: Path) -> dict:
    """Start ``assistant serve`` on ``data`` and measure it (module docstring)."""
    import httpx

    from assistant.ops.evalsets import keywords_match

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = serve_env(data, code)
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
        env=env,
        cwd=code,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "serve.log", "w"),  # noqa: SIM115 - closed with the process
    )
    out: dict[str, Any] = {}
    try:
        with httpx.Client(timeout=120) as client:
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"serve exited; see {work / 'serve.log'}")
                try:
                    if "answer" in ask(client, url, "Is the server ready?")[1]:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            out["cold_start_s"] = round(time.perf_counter() - began, 2)
            out["rss_after_start_mb"] = round(proc_memory(proc.pid)["VmRSS"], 1)
            wall, server, matched, answerable = [], [], 0, 0
            for item in questions:
                ms, body = ask(client, url, item.question)
                wall.append(ms)
                server.append(body.get("timing_ms", {}).get("total", ms))
                if item.answerable:
                    answerable += 1
                    matched += keywords_match(body.get("answer", ""), item.keywords)
            mem = proc_memory(proc.pid)
            out.update(
                questions=len(questions),
                answer_p50_ms=round(percentile(wall, 0.5), 1),
                answer_p95_ms=round(percentile(wall, 0.95), 1),
                server_p50_ms=round(percentile(server, 0.5), 1),
                server_p95_ms=round(percentile(server, 0.95), 1),
                squad_answer_match=round(matched / max(answerable, 1), 3),
                rss_mb=round(mem["VmHWM"], 1),
                rss_final_mb=round(mem["VmRSS"], 1),
            )
            try:
                out.update(new_documents(client, url, data, code, work))
            except (AssertionError, subprocess.CalledProcessError) as exc:
                out["new_document_error"] = str(exc)[-300:]  # reported, not hidden
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return out


def new_documents(client: Any, url: str, data: Path, code: Path, work: Path) -> dict:
    """Time until a new document is answerable: uploaded, then ingested by another process."""
    (name, (text, question)), (name2, (text2, question2)) = new_docs().items()
    began = time.perf_counter()
    r = client.post(
        f"{url}/api/upload",
        headers={"Authorization": f"Bearer {TOKEN}"},
        files={"files": (name, text.encode(), "text/plain")},
    )
    assert r.status_code == 200 and r.json()["added"] == [name], r.text
    upload_s = time.perf_counter() - began
    answered = until_cited(client, url, question, name, 30) + upload_s
    path = work / name2
    path.write_text(text2, encoding="utf-8")
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "assistant", "ingest", str(path)],
        env=serve_env(data, code),
        cwd=code,
        check=True,
        capture_output=True,
    )
    ingest_s = time.perf_counter() - began
    external = until_cited(client, url, question2, name2, 120)
    return {
        "upload_one_doc_s": round(upload_s, 3),
        "refresh_one_doc_s": round(answered, 3),
        "external_ingest_s": round(ingest_s, 2),
        "refresh_external_s": round(external, 3),
    }


def build_in_process(data: Path, n: int, cache: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", "--build-only", str(n), str(data), str(cache)],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"},
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"building the store failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(n: int, n_questions: int, cache: Path, code: Path, keep: Path | None) -> dict:
    from assistant.ops.evalsets import load_items

    work = Path(tempfile.mkdtemp(prefix="assistant-scale-"))
    data = keep or work / "data"
    items = list({i.question: i for i in load_items(SQUAD_JSON)}.values())[:n_questions]
    result: dict[str, Any] = {"chunks": n, "machine": machine()}
    result["load_avg_before"] = round(os.getloadavg()[0], 2)
    if not (data / "chroma").exists():
        result.update(build_in_process(data, n, cache))
    result.update(measure(data, items, code, work))
    result["disk_mb"] = round(disk_mb(data), 1)
    result["load_avg_after"] = round(os.getloadavg()[0], 2)
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--build-only"]:
        from benchmarks.scale_corpus import build

        n, data, cache = int(argv[1]), Path(argv[2]), Path(argv[3])
        print(json.dumps(build(data, n, cache)))
        return 0
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    p.add_argument("--chunks", type=int, required=True, help="chunks in the store")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--questions", type=int, default=200, help="distinct SQuAD questions")
    p.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "assistant-bench",
        help="where the filler's word vectors are cached",
    )
    p.add_argument("--data", type=Path, help="keep the store here (reused when it exists)")
    p.add_argument("--code", type=Path, default=ROOT, help="the source tree `serve` runs from")
    p.add_argument("--out", type=Path, help="add the result to this JSON file (by chunks)")
    p.add_argument("--plot", type=Path, help="draw --out's results into this PNG")
    args = p.parse_args(argv)
    result = run(args.chunks, args.questions, args.cache, args.code.resolve(), args.data)
    if args.out:
        saved = json.loads(args.out.read_text()) if args.out.exists() else {}
        saved[str(args.chunks)] = result
        args.out.write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
        if args.plot:
            from benchmarks.plots import plot_scale

            plot_scale(saved, args.plot)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
