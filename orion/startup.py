"""Refuse to serve with a configuration Orion's system checks call an error."""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def refuse_misconfiguration() -> None:
    """Run Orion's system checks; raise `ImproperlyConfigured` on any error.

    `manage.py runserver` and `qcluster` run system checks themselves; a WSGI
    or ASGI server does not, so the entry points call this.
    """
    errors = [
        message
        for message in checks.run_checks()
        if message.is_serious() and (message.id or "").startswith("notifications.")
    ]
    if errors:
        raise ImproperlyConfigured(
            "; ".join(f"{error.msg} {error.hint or ''}".strip() for error in errors)
        )
