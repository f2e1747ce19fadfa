"""Run the web server and a worker cluster together, stopped together."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Start Orion's web server and a django-q2 worker cluster as two child "
        "processes. Ctrl-C (or SIGTERM) stops both; if either exits, the other "
        "is stopped too and the exit status is non-zero. For development and "
        "small installs; in production run a WSGI server and `qcluster` under a "
        "process supervisor."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addr",
            default="127.0.0.1:8000",
            help="Address and port of the web server (default: 127.0.0.1:8000).",
        )

    def handle(self, *args: Any, addr: str, **options: Any) -> None:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children = {
            "web server": subprocess.Popen([*manage, "runserver", addr, "--noreload"]),
            "worker cluster": subprocess.Popen([*manage, "qcluster"]),
        }
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"Orion runs on http://{addr}/admin/ (Ctrl-C stops it).")

        exited = None
        while not stopping and exited is None:
            time.sleep(0.5)
            exited = next(
                (name for name, p in children.items() if p.poll() is not None), None
            )

        for process in children.values():
            if process.poll() is None:
                process.terminate()
        for process in children.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if exited is not None:
            self.stderr.write(f"The {exited} stopped; stopped the rest.")
            sys.exit(1)
        self.stdout.write("Orion stopped.")
