"""A fake Slack incoming webhook that answers as Slack does."""

from __future__ import annotations

import json

from tests.fakes.base import FakeProvider, Received, Reply

# Each documented error as Slack sends it: a status and a plain-text code.
ERRORS = {
    "invalid_payload": Reply(400, "invalid_payload"),
    "action_prohibited": Reply(403, "action_prohibited"),
    "invalid_token": Reply(403, "invalid_token"),
    "channel_not_found": Reply(404, "channel_not_found"),
    "no_service": Reply(404, "no_service"),
    "no_team": Reply(404, "no_team"),
    "team_disabled": Reply(404, "team_disabled"),
    "channel_is_archived": Reply(410, "channel_is_archived"),
    "rollup_error": Reply(500, "rollup_error"),
}


class FakeSlack(FakeProvider):
    """Serves one webhook, `/services/<team>/<bot>/<token>`."""

    def __init__(
        self, path: str = "/services/T0FAKE01/B0FAKE02/fakeToken0123456789"
    ) -> None:
        super().__init__()
        self.path = path

    @property
    def webhook_url(self) -> str:
        return self.base_url + self.path

    def respond(self, received: Received) -> Reply:
        if received.method != "POST" or received.path != self.path:
            return ERRORS["no_service"]
        try:
            body = json.loads(received.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return ERRORS["invalid_payload"]
        if not isinstance(body, dict):
            return ERRORS["invalid_payload"]
        if "blocks" in body and not _blocks_ok(body["blocks"]):
            return Reply(400, "invalid_blocks")
        if not body.get("text") and not body.get("blocks"):
            return Reply(400, "no_text")
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        return Reply(200, "ok", {"Content-Type": "text/html"})


def _blocks_ok(blocks: object) -> bool:
    return (
        isinstance(blocks, list)
        and len(blocks) <= 50
        and all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks)
    )
