"""A fake WeCom group robot that checks requests as WeCom does."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.base import FakeProvider, Received, Reply

MAX_CONTENT_BYTES = {"text": 2048, "markdown": 4096}
MESSAGE_TYPES = ("text", "markdown", "image", "news", "file", "voice", "template_card")
# The documented errcodes, with errmsg in WeCom's wording.
CODES = {
    93000: "invalid webhook url, hint: [1700000000_93000_fake], more info at "
    "https://open.work.weixin.qq.com/devtool/query?e=93000",
    45009: "api freq out of limit, hint: [1700000000_45009_fake], more info at "
    "https://open.work.weixin.qq.com/devtool/query?e=45009",
    40008: "invalid message type, hint: [1700000000_40008_fake], more info at "
    "https://open.work.weixin.qq.com/devtool/query?e=40008",
    -1: "system busy",
}
# What WeCom answers to a malformed or over-long body is not in
# shared/providers.md; the fake uses "invalid parameter" (40058) for both,
# and the adapter must not depend on it (it refuses those before sending).
BAD_BODY = 40058


def wecom_error(code: int, message: str = "") -> Reply:
    return Reply(200, {"errcode": code, "errmsg": message or CODES.get(code, "")})


class FakeWeCom(FakeProvider):
    """Serves `/cgi-bin/webhook/send?key=<key>`; `key` is the only key it knows."""

    def __init__(self, key: str = "wecom-key-0123456789") -> None:
        super().__init__()
        self.key = key

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/cgi-bin/webhook/send?key={self.key}"

    def respond(self, received: Received) -> Reply:
        if received.method != "POST" or received.path != "/cgi-bin/webhook/send":
            return Reply(404, "404 Not Found")
        if received.query.get("key", [""])[0] != self.key:
            return wecom_error(93000)
        try:
            body = json.loads(received.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return wecom_error(BAD_BODY, "invalid parameter: body is not JSON")
        if not isinstance(body, dict) or body.get("msgtype") not in MESSAGE_TYPES:
            return wecom_error(40008)
        problem = _shape_problem(body)
        if problem:
            return wecom_error(BAD_BODY, problem)
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        return Reply(200, {"errcode": 0, "errmsg": "ok"})


def _shape_problem(body: dict[str, Any]) -> str:
    """Why WeCom would refuse a text or markdown body, or ""."""
    kind = body["msgtype"]
    if kind not in MAX_CONTENT_BYTES:
        return ""
    fields = body.get(kind)
    if not isinstance(fields, dict) or not isinstance(fields.get("content"), str):
        return f"invalid parameter: {kind}.content missing"
    if len(fields["content"].encode()) > MAX_CONTENT_BYTES[kind]:
        return f"{kind}.content exceed max length {MAX_CONTENT_BYTES[kind]}"
    for name in ("mentioned_list", "mentioned_mobile_list"):
        value = fields.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"invalid parameter: {kind}.{name}"
    return ""
