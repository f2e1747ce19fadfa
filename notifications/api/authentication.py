"""Bearer-token authentication for API clients."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from notifications.api.tokens import TokenRejected, find_token
from notifications.models import ApiToken

MAX_TOKEN_LENGTH = 200


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>`; any other scheme is left to the others.

    Being first in the list, its `authenticate_header` makes DRF answer an
    anonymous request 401 with `WWW-Authenticate` rather than 403.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(
                "Malformed Authorization header: use 'Bearer <token>' with no "
                "spaces in the token."
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        if len(raw) > MAX_TOKEN_LENGTH:
            raise AuthenticationFailed("Invalid token.")
        try:
            token = find_token(raw)
        except TokenRejected as exc:
            raise AuthenticationFailed(str(exc)) from None
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
