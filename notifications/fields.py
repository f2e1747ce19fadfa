"""A JSON field stored encrypted, for channel secrets."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(key_material: str) -> Fernet:
    digest = hashlib.sha256(("orion-secrets:" + key_material).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def fernet() -> Fernet:
    """The cipher for secrets: ORION_SECRETS_KEY, else derived from SECRET_KEY."""
    return _fernet(settings.ORION_SECRETS_KEY or settings.SECRET_KEY)


class SecretsUnreadable(Exception):
    """Stored secrets cannot be decrypted: the encryption key has changed."""


class EncryptedJSONField(models.TextField):
    """A dict encrypted with Fernet at rest; plain dict in Python.

    The column holds only ciphertext, so a database dump or a query log does
    not reveal webhook tokens or signing secrets.
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value in (None, ""):
            return {}
        try:
            plain = fernet().decrypt(value.encode())
        except InvalidToken:
            raise SecretsUnreadable(
                "Channel secrets cannot be decrypted: ORION_SECRETS_KEY (or "
                "ORION_SECRET_KEY) differs from the one they were saved with."
            ) from None
        return json.loads(plain)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, dict):
            return value
        if value in (None, ""):
            return {}
        return json.loads(value)

    def get_prep_value(self, value: Any) -> str:
        plain = json.dumps(value or {}, sort_keys=True).encode()
        return fernet().encrypt(plain).decode()

    def value_to_string(self, obj: Any) -> str:
        # Fixtures and dumpdata never carry secrets in clear.
        return ""
