"""System checks tell an operator what to set, and stay quiet when it is set."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core import checks
from django.test import override_settings

from orion.settings import DEV_SECRET_KEY

GOOD_KEY = "k" * 50


def orion_checks(deploy: bool = False) -> dict[str, Any]:
    """Orion's check messages by id, as `manage.py check` would report them."""
    found = checks.run_checks(include_deployment_checks=deploy)
    return {m.id: m for m in found if m.id.startswith("notifications.")}


def q_cluster(**changes: Any) -> dict[str, Any]:
    return {**settings.Q_CLUSTER, **changes}


def test_the_test_configuration_passes_every_check() -> None:
    assert orion_checks(deploy=True) == {}


@pytest.mark.parametrize("key", [DEV_SECRET_KEY, "short-but-not-the-dev-key"])
def test_a_weak_secret_key_fails_the_deployment_check(key: str) -> None:
    with override_settings(SECRET_KEY=key):
        found = orion_checks(deploy=True)

    assert isinstance(found["notifications.E001"], checks.Error)
    assert "ORION_SECRET_KEY" in found["notifications.E001"].hint


@override_settings(SECRET_KEY=DEV_SECRET_KEY, DEBUG=True)
def test_the_weak_key_is_only_a_deployment_concern() -> None:
    assert "notifications.E001" not in orion_checks(deploy=False)
    assert "notifications.E002" not in orion_checks(deploy=False)


@override_settings(SECRET_KEY=DEV_SECRET_KEY, DEBUG=False)
def test_production_mode_with_the_development_key_is_refused() -> None:
    found = orion_checks()

    assert isinstance(found["notifications.E002"], checks.Error)
    assert "ORION_SECRET_KEY" in found["notifications.E002"].hint


@override_settings(SECRET_KEY=GOOD_KEY, DEBUG=False)
def test_production_mode_with_a_real_key_passes() -> None:
    assert orion_checks(deploy=True) == {}


@pytest.mark.parametrize("broker", ["amqp://rabbit:5672", "redis", "database"])
def test_an_unknown_broker_is_refused(broker: str) -> None:
    with override_settings(ORION_BROKER=broker):
        found = orion_checks()

    assert broker in found["notifications.E003"].msg
    assert "ORION_BROKER" in found["notifications.E003"].hint


@pytest.mark.parametrize(
    "broker", ["orm", "redis://cache:6379/0", "rediss://cache:6380/0", "unix:///r.sock"]
)
def test_a_known_broker_passes(broker: str) -> None:
    with override_settings(ORION_BROKER=broker):
        assert "notifications.E003" not in orion_checks()


def test_a_task_timeout_shorter_than_a_send_is_refused() -> None:
    # The longest send is a 5 s connect plus a 20 s read timeout.
    with override_settings(Q_CLUSTER=q_cluster(timeout=25, retry=60)):
        found = orion_checks()

    assert "ORION_SEND_TIMEOUT" in found["notifications.E004"].hint
    assert "notifications.E005" not in found


def test_a_retry_not_longer_than_the_timeout_is_refused() -> None:
    with override_settings(Q_CLUSTER=q_cluster(timeout=60, retry=60)):
        found = orion_checks()

    assert "notifications.E005" in found
    assert found["notifications.E005"].hint
    assert "notifications.E004" not in found


def test_a_long_enough_timeout_and_retry_pass() -> None:
    with override_settings(Q_CLUSTER=q_cluster(timeout=26, retry=27)):
        found = orion_checks()

    assert "notifications.E004" not in found
    assert "notifications.E005" not in found


@pytest.mark.parametrize(
    ("engine", "workers", "warned"),
    [
        ("django.db.backends.sqlite3", 9, True),
        ("django.db.backends.sqlite3", 8, False),
        ("django.db.backends.postgresql", 32, False),
    ],
)
def test_many_workers_on_sqlite_are_warned_about(
    monkeypatch: pytest.MonkeyPatch, engine: str, workers: int, warned: bool
) -> None:
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", engine)
    with override_settings(Q_CLUSTER=q_cluster(workers=workers)):
        found = orion_checks()

    assert ("notifications.W001" in found) is warned
    if warned:
        assert isinstance(found["notifications.W001"], checks.Warning)
        assert "ORION_DATABASE_URL" in found["notifications.W001"].hint
