"""Keep channel secrets out of error reports sent to Sentry."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from adapters.base import redact

FILTERED = "[Filtered]"
# Values kept under these keys are secrets whatever they look like: request
# headers (Authorization, Cookie, X-Api-Key), a channel's secrets put in
# `extra` or a context, SDK-collected settings.
SENSITIVE_KEY = re.compile(
    r"secret|passw|token|api[-_]?key|auth|cookie|credential|session|csrf|webhook",
    re.IGNORECASE,
)


def sdk_options() -> dict[str, Any]:
    """What `sentry_sdk.init` takes besides the DSN and the environment.

    sentry-sdk 2.75 deprecates `send_default_pii` for `data_collection`
    (passing both warns, and the former is then ignored), so collection is
    turned down here category by category; `include_local_variables` and
    `max_request_body_size` say the same for code that reads them. Whatever
    is still collected goes through `scrub_event`.
    """
    return {
        "data_collection": {
            "user_info": False,
            "cookies": {"mode": "off"},
            # The SDK's own denylist (auth, token, key, cookie, ...), plus the
            # headers that carry a client's address.
            "http_headers": {
                "request": {
                    "mode": "denylist",
                    "terms": ["forwarded", "-ip", "remote-", "via", "-user"],
                }
            },
            # Request bodies hold channel secrets (the channel API).
            "http_bodies": [],
            "url_query_params": {"mode": "denylist", "terms": ["sign"]},
            "graphql": {"document": False, "variables": False},
            "gen_ai": {"inputs": False, "outputs": False},
            "database_query_data": False,
            "queues": False,
            # Locals of the delivery code hold envelopes and their secrets.
            "stack_frame_variables": False,
        },
        "include_local_variables": False,
        "max_request_body_size": "never",
        "before_send": scrub_event,
        "before_send_transaction": scrub_event,
    }


def scrub_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Return `event` without local variables, bodies, cookies and secrets.

    Every string is redacted as logs are (`adapters.base.redact`): each
    provider's webhook token is masked by its URL shape, since the channel
    secrets themselves are not at hand here. Values under a sensitive key
    are replaced whole. Frame variables are dropped wherever they appear
    (exceptions, threads), and a log entry keeps only its formatted, redacted
    message, not its arguments. Used for errors and transactions alike.
    """
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        logentry.pop("params", None)
    # Package names and versions: no secret there, and "django-allauth" is
    # not a credential to filter.
    kept = {key: event.pop(key) for key in ("modules", "sdk") if key in event}
    return {**_scrubbed(event, tuple(_known_secrets())), **kept}


def _scrubbed(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list | tuple):
        return [_scrubbed(item, secrets) for item in value]
    if isinstance(value, dict):
        return {
            key: FILTERED
            if isinstance(key, str) and SENSITIVE_KEY.search(key)
            else _scrubbed(item, secrets)
            for key, item in value.items()
            # A stack frame's local variables.
            if key != "vars"
        }
    return value


def _known_secrets() -> Iterable[str]:
    """Orion's own secrets, once settings are loaded: masked wherever they show."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    names = ("SECRET_KEY", "ORION_SECRETS_KEY", "EMAIL_HOST_PASSWORD")
    try:
        values = [getattr(settings, name, "") for name in names]
    except ImproperlyConfigured:
        return ()
    return [value for value in values if isinstance(value, str) and value]
