"""API tokens: shown once in clear, stored as a SHA-256 hash, revocable."""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets
from typing import Any

from django.utils import timezone

from notifications.models import ApiToken

logger = logging.getLogger(__name__)

# The readable start of every token, so a leaked one is easy to recognise in
# a log or a repository scan, and its prefix identifies it for revocation.
TOKEN_START = "orion_"
PREFIX_LENGTH = 12
# Writing last_used_at on every request would turn each read into a write;
# once a minute is precise enough to tell a token in use from a stale one.
LAST_USED_PRECISION = datetime.timedelta(minutes=1)


class TokenRejected(Exception):
    """The token is unknown, revoked, expired or its user is inactive."""


def hash_key(raw: str) -> str:
    """The stored form of a token: its SHA-256 hex digest."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(
    user: Any, *, name: str = "", expires_in: datetime.timedelta | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `user`; return it with the raw key, shown only now."""
    raw = TOKEN_START + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[:PREFIX_LENGTH],
        key_hash=hash_key(raw),
        expires_at=timezone.now() + expires_in if expires_in else None,
    )
    logger.info("issued API token %s for user %s", token.prefix, user.pk)
    return token, raw


def revoke_tokens(prefix: str) -> int:
    """Revoke every active token whose prefix is `prefix`; return how many."""
    count = ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    logger.info("revoked %d API token(s) with prefix %s", count, prefix)
    return count


def find_token(raw: str, now: datetime.datetime | None = None) -> ApiToken:
    """Return the live token for the raw key, its user loaded; raise `TokenRejected`.

    Marks the token used, at most once per `LAST_USED_PRECISION`.
    """
    now = now or timezone.now()
    token = (
        ApiToken.objects.select_related("user").filter(key_hash=hash_key(raw)).first()
    )
    if token is None:
        raise TokenRejected("Invalid token.")
    if token.revoked_at is not None:
        raise TokenRejected("This token has been revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRejected("This token has expired.")
    if not token.user.is_active:
        raise TokenRejected("The token's user is inactive.")

    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
