"""A fake webhook receiver that verifies requests as Standard Webhooks 1.0 says."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from tests.fakes.base import FakeProvider, Received, Reply

# Receivers are told to refuse a timestamp further than this from their clock.
TOLERANCE_SECONDS = 5 * 60


def expected_signature(
    secret: str, message_id: str, timestamp: str, body: bytes
) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class FakeWebhookReceiver(FakeProvider):
    """Serves `path`; with `secret`, refuses a request not signed with it.

    `seen_ids` lists each `webhook-id` that arrived, as a receiver keeps them
    to drop duplicates.
    """

    def __init__(self, path: str = "/hooks/orion", secret: str = "") -> None:
        super().__init__()
        self.path = path
        self.secret = secret
        self.seen_ids: list[str] = []

    @property
    def url(self) -> str:
        return self.base_url + self.path

    def respond(self, received: Received) -> Reply:
        if received.method != "POST" or received.path != self.path:
            return Reply(404, "not found")
        message_id = received.headers.get("webhook-id", "")
        timestamp = received.headers.get("webhook-timestamp", "")
        if not message_id or not timestamp.isdigit():
            return Reply(400, "missing webhook-id or webhook-timestamp")
        if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return Reply(400, "timestamp too old or too new")
        if self.secret and not self._signature_ok(received, message_id, timestamp):
            return Reply(401, "invalid signature")
        try:
            json.loads(received.body)
        except ValueError:
            return Reply(400, "body is not JSON")
        self.seen_ids.append(message_id)
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        return Reply(204)

    def _signature_ok(
        self, received: Received, message_id: str, timestamp: str
    ) -> bool:
        expected = expected_signature(self.secret, message_id, timestamp, received.body)
        for candidate in received.headers.get("webhook-signature", "").split():
            version, _, signature = candidate.partition(",")
            if version == "v1" and hmac.compare_digest(signature, expected):
                return True
        return False
