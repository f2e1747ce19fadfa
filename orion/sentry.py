"""Keep channel secrets out of error reports sent to Sentry."""

from __future__ import annotations

from typing import Any

from adapters.base import redact


def scrub_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    """Drop request bodies and local variables, and mask URL tokens elsewhere.

    Channel secrets live in request bodies (the API) and in locals of the
    delivery code, so neither is ever sent; messages are redacted as logs are.
    """
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
        headers = request.get("headers") or {}
        for name in list(headers):
            if name.lower() in ("authorization", "cookie", "x-api-key"):
                headers[name] = "[Filtered]"
    for exception in (event.get("exception") or {}).get("values", []):
        if isinstance(exception.get("value"), str):
            exception["value"] = redact(exception["value"])
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    for crumb in (event.get("breadcrumbs") or {}).get("values", []):
        if isinstance(crumb.get("message"), str):
            crumb["message"] = redact(crumb["message"])
        crumb.pop("data", None)
    if isinstance(event.get("logentry"), dict):
        event["logentry"].pop("params", None)
    return event
