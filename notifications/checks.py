"""System checks that tell an operator what to set before Orion can run."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_secret_key(app_configs: Any, **kwargs: Any) -> list[Error]:
    from orion.settings import DEV_SECRET_KEY

    if settings.SECRET_KEY == DEV_SECRET_KEY or len(settings.SECRET_KEY) < 40:
        return [
            Error(
                "ORION_SECRET_KEY is the development key or too short.",
                hint="Set ORION_SECRET_KEY to a random string of 50+ characters.",
                id="notifications.E001",
            )
        ]
    return []


@register()
def check_production_key(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Refuse to start with the development key when DEBUG is off.

    Channel secrets are encrypted with a key derived from it (unless
    ORION_SECRETS_KEY is set), so a shared default key would expose them.
    """
    from orion.settings import DEV_SECRET_KEY

    if not settings.DEBUG and settings.SECRET_KEY == DEV_SECRET_KEY:
        return [
            Error(
                "Production mode (ORION_DEBUG=false) with the development secret key.",
                hint=(
                    "Set ORION_SECRET_KEY to a long random string, or set "
                    "ORION_DEBUG=true for local development."
                ),
                id="notifications.E002",
            )
        ]
    return []


@register()
def check_broker(app_configs: Any, **kwargs: Any) -> list[Error]:
    broker = settings.ORION_BROKER
    if broker != "orm" and not broker.startswith(("redis://", "rediss://", "unix://")):
        return [
            Error(
                f"ORION_BROKER={broker!r} is not a broker Orion knows.",
                hint="Set ORION_BROKER to 'orm' (the database) or a redis:// URL.",
                id="notifications.E003",
            )
        ]
    return []


@register()
def check_timeouts(app_configs: Any, **kwargs: Any) -> list[Error]:
    from adapters.http import CONNECT_TIMEOUT, READ_TIMEOUT

    longest_send = CONNECT_TIMEOUT + READ_TIMEOUT
    q = settings.Q_CLUSTER
    errors = []
    if q["timeout"] <= longest_send:
        errors.append(
            Error(
                f"ORION_SEND_TIMEOUT ({q['timeout']}s) must exceed the longest send "
                f"({longest_send:.0f}s).",
                hint="Raise ORION_SEND_TIMEOUT.",
                id="notifications.E004",
            )
        )
    if settings.ORION_LEASE_SECONDS < q["timeout"] + 30:
        errors.append(
            Error(
                f"ORION_LEASE_SECONDS ({settings.ORION_LEASE_SECONDS}s) must exceed "
                f"ORION_SEND_TIMEOUT ({q['timeout']}s) by 30s or more.",
                hint=(
                    "A send still running when its lease ends would be recovered "
                    "and possibly sent again. Raise ORION_LEASE_SECONDS."
                ),
                id="notifications.E006",
            )
        )
    if q["retry"] <= q["timeout"]:
        errors.append(
            Error(
                "django-q2's retry must be longer than its timeout.",
                hint="Leave Q_CLUSTER['retry'] at twice ORION_SEND_TIMEOUT.",
                id="notifications.E005",
            )
        )
    return errors


@register()
def check_sqlite_workers(app_configs: Any, **kwargs: Any) -> list[Warning]:
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3") and settings.Q_CLUSTER["workers"] > 8:
        return [
            Warning(
                "More than 8 workers on SQLite will mostly wait for the write lock.",
                hint="Use PostgreSQL (ORION_DATABASE_URL) to scale out.",
                id="notifications.W001",
            )
        ]
    return []
