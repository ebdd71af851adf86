"""Load: many people asking at once, through the JSON API and the Gradio chat, on the real server.

``python -m benchmarks.load`` starts ``assistant serve`` on a free loopback port with a fresh
data dir (the bundled sample article), asks every question once alone for reference answers,
then runs ``--clients`` workers for ``--seconds``: half call ``POST /api/ask``, half the Gradio
``/chat`` endpoint, each question in a fresh session so no history changes it. It reports
throughput and latency percentiles, counts errors and answers that differ from the reference,
writes ``docs/load.json`` and exits non-zero unless both counts are zero.

The server runs under the network guard of ``tests/support`` when present, so the load run
also counts outbound connection attempts (there must be none).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "load.json"
QUESTIONS = ROOT / "tests" / "data" / "article-dev.jsonl"
ARTICLE = ROOT / "assistant" / "data" / "coalition-of-the-willing.txt"
SQUAD_JSON = ROOT / "benchmarks" / "data" / "squad2" / "squad2-dev-public.json"
SQUAD_CORPUS = ROOT / "benchmarks" / "data" / "squad2" / "corpus"
NETGUARD = ROOT / "tests" / "support"
REQUEST_TIMEOUT_S = 120.0
MAX_REQUESTS_PER_CLIENT = 100_000  # a bound, never reached in practice


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def offline_env(**extra: str) -> dict[str, str]:
    """This process's environment with the hub switched off for gradio_client, plus ``extra``."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    env.update(extra)
    return env


@contextmanager
def running_server(
    data_dir: Path,
    *,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    start_timeout_s: float = 240.0,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``assistant serve`` in a subprocess on a free loopback port, ready to answer.

    Yields (base URL, process) once ``/healthz`` says the model is loaded; stops that process
    by its PID afterwards (SIGTERM, then SIGKILL after 15 s).
    """
    import httpx

    port = free_port()
    log_path = log_path or data_dir.with_name(data_dir.name + "-server.log")
    log_file = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--data-dir", str(data_dir)]
        + ["--host", "127.0.0.1", "--port", str(port)],
        env=env if env is not None else offline_env(),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}; see {log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server was not ready in {start_timeout_s:.0f} s")
            try:
                health = httpx.get(f"{url}/healthz", timeout=2).json()
                if health.get("model_loaded"):
                    break
                if health.get("error"):
                    raise RuntimeError(f"the server failed to start: {health['error']}")
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log_file.close()


def load_questions(squad: int = 0) -> list[str]:
    """Questions without history from the article dev set (answerable and not), then
    ``squad`` SQuAD 2.0 questions spread evenly over its articles."""
    items = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    questions = [i["question"] for i in items if not i.get("history")]
    if squad:
        data = json.loads(SQUAD_JSON.read_text(encoding="utf-8"))["data"]
        pool = [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]]
        step = max(1, len(pool) // squad)
        questions += pool[::step][:squad]
    return list(dict.fromkeys(q.strip() for q in questions))


def signature(answer: str, citations: list[dict[str, Any]]) -> tuple[Any, ...]:
    """What must not change under load: the text and every cited span."""
    return answer, tuple((c["source"], c["start"], c["end"], c["text"]) for c in citations)


class ApiClient:
    """``POST /api/ask`` over one keep-alive connection."""

    kind = "api"

    def __init__(self, url: str) -> None:
        import httpx

        self.http = httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S)

    def ask(self, question: str) -> tuple[Any, ...]:
        response = self.http.post("/api/ask", json={"question": question})
        body = response.json()
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {body.get('error')}")
        return signature(body["answer"], body["citations"])

    def close(self) -> None:
        self.http.close()


class ChatClient:
    """The Gradio ``/chat`` endpoint through gradio_client; a fresh session per question."""

    kind = "chat"

    def __init__(self, url: str) -> None:
        from gradio_client import Client

        self.client = Client(url + "/", verbose=False, analytics_enabled=False)

    def ask(self, question: str) -> tuple[Any, ...]:
        self.client.reset_session()  # no history: the answer must match the one asked alone
        text, citations = self.client.predict(question, api_name="/chat")
        return signature(text, citations)

    def close(self) -> None:
        self.client.close()


@dataclass
class Tally:
    """Latencies and failures of one kind of client."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def summary(self, seconds: float) -> dict[str, Any]:
        done = sorted(self.latencies)
        return {
            "requests": len(done),
            "errors": len(self.errors),
            "mismatches": len(self.mismatches),
            "throughput_per_s": round(len(done) / seconds, 2) if seconds else 0.0,
            "p50_ms": round(percentile(done, 50) * 1000, 1),
            "p95_ms": round(percentile(done, 95) * 1000, 1),
            "p99_ms": round(percentile(done, 99) * 1000, 1),
            "max_ms": round(done[-1] * 1000, 1) if done else 0.0,
            "first_errors": self.errors[:5],
            "first_mismatches": self.mismatches[:5],
        }


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values (0 when empty)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def reference_answers(
    url: str, questions: list[str], chat_checks: int = 8
) -> dict[str, tuple[Any, ...]]:
    """Each question asked alone through the API; the first ``chat_checks`` also through the
    chat, which must agree."""
    api, chat = ApiClient(url), ChatClient(url)
    try:
        expected = {}
        for i, q in enumerate(questions):
            expected[q] = api.ask(q)
            if i < chat_checks and chat.ask(q) != expected[q]:
                raise RuntimeError(f"the API and the chat answer {q!r} differently")
        return expected
    finally:
        api.close()
        chat.close()


def run_load(url: str, questions: list[str], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` workers asking for ``seconds``; returns the summary per kind and overall."""
    expected = reference_answers(url, questions)
    tallies = {"api": Tally(), "chat": Tally()}
    connected = [(ApiClient if i % 2 == 0 else ChatClient)(url) for i in range(clients)]
    began = time.monotonic()
    deadline = began + seconds

    def worker(i: int, client: ApiClient | ChatClient) -> None:
        tally = tallies[client.kind]
        offset = i * len(questions) // clients  # spread out, so they rarely ask the same thing
        for n in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline:
                break
            q = questions[(offset + n) % len(questions)]
            t0 = time.perf_counter()
            try:
                got = client.ask(q)
            except Exception as exc:  # every failure is counted, none stops the run
                with tally.lock:
                    tally.errors.append(f"{client.kind} {q!r}: {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - t0
            with tally.lock:
                tally.latencies.append(elapsed)
                if got != expected[q]:
                    tally.mismatches.append(f"{client.kind} {q!r}: {got[0][:80]!r}")

    threads = [
        threading.Thread(target=worker, args=(i, c), daemon=True) for i, c in enumerate(connected)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT_S + 30)
    elapsed = time.monotonic() - began
    hung = sum(t.is_alive() for t in threads)
    for c in connected:
        c.close()
    overall = Tally(
        latencies=[x for t in tallies.values() for x in t.latencies],
        errors=[x for t in tallies.values() for x in t.errors]
        + [f"{hung} clients did not finish"] * bool(hung),
        mismatches=[x for t in tallies.values() for x in t.mismatches],
    )
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "questions": len(questions),
        "overall": overall.summary(elapsed),
        **{kind: t.summary(elapsed) for kind, t in tallies.items()},
    }


def outbound_attempts(log: Path) -> int:
    """Refused non-loopback attempts the network guard wrote (its ``armed`` lines aside)."""
    if not log.exists():
        return 0
    return sum(json.loads(line)["kind"] != "armed" for line in log.read_text().splitlines())


def table(results: dict[str, Any]) -> str:
    """The figures as a small text table."""
    head = f"{'':8}{'requests':>9}{'errors':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    rows = [head]
    for kind in ("api", "chat", "overall"):
        r = results[kind]
        rows.append(
            f"{kind:8}{r['requests']:>9}{r['errors']:>7}{r['throughput_per_s']:>8}"
            f"{r['p50_ms']:>9}{r['p95_ms']:>9}{r['p99_ms']:>9}"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--squad",
        type=int,
        default=300,
        help="SQuAD 2.0 questions to add (their articles are indexed too); more distinct "
        "questions than the query-vector cache holds, so most questions are embedded anew",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from benchmarks.common import machine

    work = Path(tempfile.mkdtemp(prefix="assistant-load-"))
    guard_log = work / "netguard.jsonl"
    extra = {"ASSISTANT_SERVER__RATE_LIMIT_PER_MINUTE": "10000000"}
    if (NETGUARD / "sitecustomize.py").is_file():
        path = os.pathsep.join(p for p in (str(NETGUARD), os.environ.get("PYTHONPATH")) if p)
        extra.update(PYTHONPATH=path, NETGUARD_LOG=str(guard_log))
    env = offline_env(**extra)
    corpus = [ARTICLE, SQUAD_CORPUS] if args.squad else [ARTICLE]
    subprocess.run(
        [sys.executable, "-m", "assistant", "ingest", "--data-dir", str(work / "data")]
        + [str(p) for p in corpus],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=900,
    )
    questions = load_questions(args.squad)
    with running_server(work / "data", env=env) as (url, _):
        results = run_load(url, questions, args.clients, args.seconds)
    results["outbound_attempts"] = outbound_attempts(guard_log)
    results["machine"] = machine()
    results["corpus"] = [str(p.relative_to(ROOT)) for p in corpus]
    results["server"] = "assistant serve, default settings (server.concurrency=2), rate limit off"
    results["command"] = (
        f"python -m benchmarks.load --clients {args.clients} --seconds {args.seconds:g} "
        f"--squad {args.squad}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(
        f"{results['machine']}: {args.clients} clients for {results['seconds']} s, "
        f"{len(questions)} distinct questions"
    )
    print(table(results))
    o = results["overall"]
    print(
        f"mismatched answers: {o['mismatches']}, "
        f"outbound connection attempts: {results['outbound_attempts']}"
    )
    for line in o["first_errors"] + o["first_mismatches"]:
        print("  " + line)
    failed = o["errors"] or o["mismatches"] or results["outbound_attempts"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
