"""A fake Feishu custom bot that checks requests as Feishu does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from tests.fakes.base import FakeProvider, Received, Reply

MAX_BODY_BYTES = 20 * 1024


def feishu_error(code: int, msg: str) -> Reply:
    return Reply(200, {"code": code, "data": {}, "msg": msg})


CODES = {
    9499: "Bad Request",
    19001: "param invalid: incoming webhook access token invalid",
    19021: "sign match fail or timestamp is not within one hour from current time",
    19022: "Ip Not Allowed",
    19024: "Key Words Not Found",
    11232: "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]",
}


class FakeFeishu(FakeProvider):
    """Serves `/open-apis/bot/v2/hook/<token>`.

    `secret` turns signature checking on; `keywords` makes it demand one of
    them in the text; `token` is the only hook token it knows.
    """

    def __init__(
        self, token: str = "hook-token-1234", secret: str = "", keywords: tuple = ()
    ) -> None:
        super().__init__()
        self.token = token
        self.secret = secret
        self.keywords = keywords
        self.clock_skew = 0

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/open-apis/bot/v2/hook/{self.token}"

    def respond(self, received: Received) -> Reply:
        if received.method != "POST" or not received.path.startswith(
            "/open-apis/bot/v2/hook/"
        ):
            return Reply(404, "404 page not found")
        if received.path.rsplit("/", 1)[-1] != self.token:
            return feishu_error(19001, CODES[19001])
        if len(received.body) > MAX_BODY_BYTES:
            return feishu_error(9499, CODES[9499])
        try:
            body = json.loads(received.body)
        except ValueError:
            return feishu_error(9499, CODES[9499])
        if not isinstance(body, dict) or not _shape_ok(body):
            return feishu_error(9499, CODES[9499])
        if self.secret and not self._signature_ok(body):
            return feishu_error(19021, CODES[19021])
        if self.keywords and not any(
            k in json.dumps(body, ensure_ascii=False) for k in self.keywords
        ):
            return feishu_error(19024, CODES[19024])
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        return Reply(
            200,
            {
                "StatusCode": 0,
                "StatusMessage": "success",
                "code": 0,
                "data": {},
                "msg": "success",
            },
        )

    def _signature_ok(self, body: dict) -> bool:
        try:
            timestamp = int(body.get("timestamp"))
        except (TypeError, ValueError):
            return False
        if abs(time.time() + self.clock_skew - timestamp) > 3600:
            return False
        key = f"{timestamp}\n{self.secret}".encode()
        expected = base64.b64encode(
            hmac.new(key, b"", hashlib.sha256).digest()
        ).decode()
        return hmac.compare_digest(expected, str(body.get("sign", "")))


def _shape_ok(body: dict) -> bool:
    kind = body.get("msg_type")
    if kind == "text":
        return isinstance(body.get("content", {}).get("text"), str)
    if kind == "post":
        post = body.get("content", {}).get("post")
        return isinstance(post, dict) and all(
            isinstance(lang.get("content"), list) for lang in post.values()
        )
    if kind == "interactive":
        # The card sits at the top level; a card under "content" is refused.
        return isinstance(body.get("card"), dict)
    return False
