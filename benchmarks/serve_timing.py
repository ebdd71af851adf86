"""Time from ``assistant serve`` to the page, and to the first answer, on an empty data dir.

The first answer includes loading the model and indexing the bundled sample article.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, body: dict | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - loopback only
        return resp.status


def main(timeout_s: float = 120.0) -> dict:
    port = _free_port()
    env = {**os.environ, "ASSISTANT_DATA_DIR": tempfile.mkdtemp(prefix="assistant-serve-")}
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    out: dict = {}
    try:
        while "page_s" not in out:
            if time.perf_counter() - began > timeout_s or proc.poll() is not None:
                raise RuntimeError("the server did not serve the page")
            try:
                if _get(base + "/") == 200:
                    out["page_s"] = time.perf_counter() - began
            except OSError:
                time.sleep(0.05)
        question = {"question": "How many leaders attended the Coalition of the Willing meeting?"}
        _get(base + "/api/ask", question)  # waits for the model and the sample article
        out["first_answer_s"] = time.perf_counter() - began
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(f"  serve -> page {out['page_s']:.1f} s, -> first answer {out['first_answer_s']:.1f} s")
    return out
