"""Build the `Envelope` an adapter receives, without a database."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from adapters.base import Envelope


def envelope(
    *,
    secrets: dict[str, str] | None = None,
    config: dict[str, Any] | None = None,
    body: str = "Disk almost full on db-1",
    **fields: Any,
) -> Envelope:
    """An envelope as the pipeline builds it; `fields` override the rest."""
    values: dict[str, Any] = {
        "notification_id": uuid.UUID("00000000-0000-4000-8000-000000000001"),
        "channel_slug": "ops",
        "config": config or {},
        "secrets": secrets or {},
        "recipient": "",
        "subject": "",
        "body": body,
        "created_at": datetime.datetime(2024, 5, 1, 8, 30, tzinfo=datetime.UTC),
    }
    values.update(fields)
    return Envelope(**values)
