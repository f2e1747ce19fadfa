"""`serve` runs the web server and a worker cluster, and stops them together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.cluster


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True
    ).stdout
    return [int(line) for line in found.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    return state != "Z"


def test_serve_answers_http_and_sigterm_stops_both_children(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "orion.test_settings",
        "ORION_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "ORION_BROKER": "orm",
        "ORION_WORKERS": "1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--addr", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = b""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as r:
                    body = r.read()
                break
            except OSError:
                time.sleep(0.2)
        children = children_of(serve.pid)

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=40) == 0
    finally:
        if serve.poll() is None:
            serve.kill()

    assert body == b'{"status": "ok"}'
    assert len(children) == 2
    assert not any(alive(pid) for pid in children)
