"""Production mode refuses to start with the development secret key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start(module: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("ORION_SECRET")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="orion.settings", ORION_ENV_FILE=os.devnull, **env
    )
    return subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_wsgi_refuses_the_development_key_in_production() -> None:
    result = start("orion.wsgi", ORION_DEBUG="false")

    assert result.returncode != 0
    assert "ORION_SECRET_KEY" in result.stderr


def test_wsgi_starts_with_a_real_key_in_production() -> None:
    result = start("orion.wsgi", ORION_DEBUG="false", ORION_SECRET_KEY="k" * 60)

    assert result.returncode == 0, result.stderr


def test_qcluster_refuses_the_development_key_in_production() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("ORION_SECRET")},
            "DJANGO_SETTINGS_MODULE": "orion.settings",
            "ORION_ENV_FILE": os.devnull,
            "ORION_DEBUG": "false",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "notifications.E002" in result.stderr
