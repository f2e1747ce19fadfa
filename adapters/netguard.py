"""Refuse outbound requests to destinations Orion must not reach."""

from __future__ import annotations

from urllib.parse import urlsplit

from adapters.base import DeliveryError


def check_url(url: str) -> None:
    """Raise a permanent `DeliveryError` unless `url` is http(s)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryError(
            "Only http and https destinations are allowed.", permanent=True
        )
