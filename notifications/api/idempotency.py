"""`Idempotency-Key`: a repeated request gets the first answer, never a second send.

The key's row is inserted first, inside the transaction that creates the
notifications, and the (user, key) unique constraint does the arbitration:
of two concurrent requests with one key, the second blocks on that insert
until the first commits, then fails it and replays the stored answer. If the
first request fails validation its transaction, key row included, rolls
back, so the client may correct the request and send it again with the same
key.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from notifications.api.errors import ApiError
from notifications.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY = re.compile(KEY_PATTERN)
REPLAYED_HEADER = "Idempotent-Replayed"


def fingerprint(request: Request) -> str:
    """A hash of what was asked: method, path and the parsed body."""
    body = json.dumps(
        request.data, sort_keys=True, separators=(",", ":"), cls=JSONEncoder
    )
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def idempotent(request: Request, run: Callable[[], tuple[int, Any]]) -> Response:
    """Answer with `run()`'s (status, body), once per user and `Idempotency-Key`.

    Without the header, `run()` simply runs. With it, a repeat of the same
    request gets the stored answer with status 200; the same key with a
    different request is a 409.
    """
    key = request.headers.get(HEADER)
    if key is None:
        status, body = run()
        return Response(body, status=status)
    if not _KEY.match(key):
        raise ApiError(
            400,
            "invalid",
            f"The {HEADER} header takes 1 to 255 printable ASCII characters, "
            "without spaces.",
            {HEADER: ["Use 1 to 255 printable ASCII characters, without spaces."]},
        )

    request_hash = fingerprint(request)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=request.user, key=key, request_hash=request_hash
                )
        except IntegrityError:
            record = None
        if record is not None:
            status, body = run()
            stored = json.loads(json.dumps(body, cls=JSONEncoder))
            record.response_status = status
            record.response_body = stored
            record.save(update_fields=["response_status", "response_body"])
            return Response(stored, status=status)

    # Another request with this key committed first: its answer stands.
    return _replay(request, key, request_hash)


def _replay(request: Request, key: str, request_hash: str) -> Response:
    record = IdempotencyKey.objects.filter(user=request.user, key=key).first()
    if record is None or record.response_status is None:
        raise ApiError(
            409,
            "idempotency_key_in_use",
            f"A request with this {HEADER} is still being processed; try again "
            "in a moment.",
        )
    if record.request_hash != request_hash:
        raise ApiError(
            409,
            "idempotency_key_reused",
            f"This {HEADER} was used for a different request; use a new key for "
            "a new request.",
        )
    return Response(record.response_body, status=200, headers={REPLAYED_HEADER: "true"})
