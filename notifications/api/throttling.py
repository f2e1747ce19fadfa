"""Request rate limits per API token (or per user, for session logins)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from notifications.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """The rate in `DEFAULT_THROTTLE_RATES["token"]` (ORION_API_THROTTLE_RATE).

    Keyed by token, so one misbehaving integration cannot use up the
    allowance of another integration of the same user.
    """

    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anonymous-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
